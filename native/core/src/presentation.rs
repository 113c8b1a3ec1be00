//! The container of a CBOR presentation (spec 5.8) in its plain shape: the signed objects
//! it holds, found in one pass, for the verifier to open in the same call.
//!
//! Only the shape every well-formed presentation has is recognised here: a CBOR map of
//! version 2 with the links (a non-empty array of at most `max_links` byte strings), at
//! most one invocation, and attachment arrays (non-empty, at most `max_attachments` each)
//! only beside an invocation, every object a non-empty byte string that is not a JWS
//! compact. Anything else, refused or not, is not this module's to judge: [`plain_items`]
//! answers `None` and the reference (`codec.decode_presentation_unverified`) reads the
//! bytes and raises what it raises, in its order. So this fast path can only ever agree.
#![forbid(unsafe_code)]

use crate::cbor::{self, Limits, Value};

/// The limits of `Limits` that bound a container (spec 5.6).
#[derive(Clone, Copy, Debug)]
pub struct ContainerLimits {
    pub max_presentation_bytes: i128,
    pub max_object_bytes: i128,
    pub max_links: i128,
    pub max_attachments: i128,
}

/// The signed objects of a presentation, as slices of its bytes, in container order.
#[derive(Debug, Default)]
pub struct Items<'a> {
    pub links: Vec<&'a [u8]>,
    pub invocation: Option<&'a [u8]>,
    pub attestations: Vec<&'a [u8]>,
    pub approvals: Vec<&'a [u8]>,
}

/// spec 5.8's container keys
const VERSION: u64 = 1;
const LINKS: u64 = 2;
const INVOCATION: u64 = 3;
const ATTESTATIONS: u64 = 4;
const APPROVALS: u64 = 5;
/// the protocol version this core reads (spec 5.5)
const PROTOCOL_VERSION: u64 = 2;

/// spec/jose.md J.1: an object whose first byte is a base64url character is a JWS compact.
fn is_jws(first: u8) -> bool {
    first.is_ascii_alphanumeric() || first == b'-' || first == b'_'
}

/// A signed object of a CBOR container: a non-empty byte string, not a JWS compact.
fn object<'a>(value: &Value<'a>) -> Option<&'a [u8]> {
    match value {
        Value::Bytes(b) if !b.is_empty() && !is_jws(b[0]) => Some(b),
        _ => None,
    }
}

/// An array of 1 to `most` signed objects.
fn objects<'a>(value: &Value<'a>, most: i128) -> Option<Vec<&'a [u8]>> {
    match value {
        Value::Array(items) if !items.is_empty() && items.len() as i128 <= most => {
            items.iter().map(object).collect()
        }
        _ => None,
    }
}

/// The objects of a CBOR container of the plain shape, or None (see the module's comment).
pub fn plain_items<'a>(data: &'a [u8], limits: &ContainerLimits) -> Option<Items<'a>> {
    if data.len() as i128 > limits.max_presentation_bytes || data.first()? & 0xe0 != 0xa0 {
        return None; // too long, or not a map: the reference says which error
    }
    // the reference's container limits (codec.decode_presentation_unverified)
    let decoded = cbor::decode(
        data,
        &Limits {
            max_depth: 3,
            max_items: limits
                .max_links
                .saturating_add(limits.max_attachments.saturating_mul(2))
                .saturating_add(8),
            max_string_bytes: limits.max_object_bytes,
        },
    )
    .ok()?;
    let Value::Map(entries) = &decoded else {
        return None;
    };
    let mut items = Items::default();
    let mut version = None;
    for (key, value) in entries {
        let Value::Uint(key) = key else {
            return None;
        };
        match *key {
            VERSION => match value {
                Value::Uint(v) => version = Some(*v),
                _ => return None,
            },
            LINKS => items.links = objects(value, limits.max_links)?,
            INVOCATION => items.invocation = Some(object(value)?),
            ATTESTATIONS => items.attestations = objects(value, limits.max_attachments)?,
            APPROVALS => items.approvals = objects(value, limits.max_attachments)?,
            _ => return None,
        }
    }
    let attached = !items.attestations.is_empty() || !items.approvals.is_empty();
    if version != Some(PROTOCOL_VERSION)
        || items.links.is_empty()
        || (attached && items.invocation.is_none())
    {
        return None;
    }
    Some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ContainerLimits = ContainerLimits {
        max_presentation_bytes: 65_536,
        max_object_bytes: 16_384,
        max_links: 16,
        max_attachments: 8,
    };

    #[test]
    fn the_plain_shape() {
        // {1: 2, 2: [h'84'], 3: h'84', 4: [h'84']}
        let data = [
            0xa4, 0x01, 0x02, 0x02, 0x81, 0x41, 0x84, 0x03, 0x41, 0x84, 0x04, 0x81, 0x41, 0x84,
        ];
        let items = plain_items(&data, &LIMITS).unwrap();
        assert_eq!(items.links, vec![&[0x84u8][..]]);
        assert_eq!(items.invocation, Some(&[0x84u8][..]));
        assert_eq!(items.attestations.len(), 1);
        assert!(items.approvals.is_empty());
    }

    #[test]
    fn anything_else_is_left_to_the_reference() {
        let cases: &[&[u8]] = &[
            &[],
            &[0x80],                                                 // not a map
            &[0xa1, 0x01, 0x02],                                     // no links
            &[0xa2, 0x01, 0x03, 0x02, 0x81, 0x41, 0x84],             // version 3
            &[0xa2, 0x01, 0x02, 0x02, 0x80],                         // no link
            &[0xa2, 0x01, 0x02, 0x02, 0x81, 0x40],                   // an empty object
            &[0xa2, 0x01, 0x02, 0x02, 0x81, 0x41, 0x61],             // 'a': a JWS compact
            &[0xa2, 0x01, 0x02, 0x02, 0x81, 0x61, 0x84],             // text, not bytes
            &[0xa3, 0x01, 0x02, 0x02, 0x81, 0x41, 0x84, 0x06, 0x00], // key 6
            &[0xa3, 0x01, 0x02, 0x02, 0x81, 0x41, 0x84, 0x03, 0xf6], // null invocation
            // an attestation without an invocation
            &[
                0xa3, 0x01, 0x02, 0x02, 0x81, 0x41, 0x84, 0x04, 0x81, 0x41, 0x84,
            ],
            // non-canonical: the version as a two-byte integer
            &[0xa2, 0x01, 0x18, 0x02, 0x02, 0x81, 0x41, 0x84],
        ];
        for case in cases {
            assert!(plain_items(case, &LIMITS).is_none(), "{case:02x?}");
        }
        let mut many = vec![0xa2, 0x01, 0x02, 0x02, 0x91];
        for _ in 0..17 {
            many.extend([0x41, 0x84]);
        }
        assert!(plain_items(&many, &LIMITS).is_none(), "17 links");
    }
}
