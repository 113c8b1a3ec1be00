//! COSE_Sign1 as the profile of spec 5.4 restricts it, checked in the order of
//! `agentchain.wire.cose.decode_sign1`: the CBOR of the array, the shape, the unprotected
//! header, then the protected header. The signature is not checked here.
#![forbid(unsafe_code)]

use crate::cbor::{self, Limits, Value};
use crate::error::{Error, Result};

/// RFC 9052 header labels of the profile
pub const HEADER_ALG: u64 = 1;
/// spec 5.3, 5.4 (0.2): the object's kind as a small integer under a private-use label
/// (RFC 9052 section 3: labels below -65536), in place of 0.1's RFC 9596 typ text
pub const HEADER_KIND: i128 = -65537;

/// A structurally valid COSE_Sign1 whose signature has NOT been checked. Borrows the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sign1<'a> {
    pub alg: i128,
    /// the object kind (spec 5.3): 1 link, 2 invocation, 3 attestation, 4 approval
    pub typ: i128,
    pub protected: &'a [u8],
    pub payload: &'a [u8],
    pub signature: &'a [u8],
}

impl Sign1<'_> {
    /// The bytes the signature covers (R-5.4-4).
    pub fn to_be_signed(&self) -> Vec<u8> {
        sig_structure(self.protected, self.payload)
    }
}

/// The deterministic encoding of a 4-array and its context string "Signature1"
const SIG1_PREFIX: &[u8] = b"\x84\x6aSignature1";

/// `["Signature1", protected, h'', payload]` in deterministic CBOR (RFC 9052 section 4.4,
/// empty external_aad). Protocol 0.2 binds the parent digest as external_aad: the `h''`
/// becomes that byte string's encoding, nothing else moves.
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    sig_structure_aad(protected, b"", payload)
}

/// The Sig_structure with `external_aad` (RFC 9052 section 4.4).
pub fn sig_structure_aad(protected: &[u8], external_aad: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        SIG1_PREFIX.len() + 27 + protected.len() + external_aad.len() + payload.len(),
    );
    out.extend_from_slice(SIG1_PREFIX);
    cbor::bytes_head(protected.len(), &mut out);
    out.extend_from_slice(protected);
    cbor::bytes_head(external_aad.len(), &mut out);
    out.extend_from_slice(external_aad);
    cbor::bytes_head(payload.len(), &mut out);
    out.extend_from_slice(payload);
    out
}

fn schema(message: &str) -> Error {
    Error::decode("schema_invalid", message)
}

/// Decode one COSE_Sign1 strictly (R-5.4-1 to R-5.4-3); the payload stays bytes.
pub fn decode_sign1<'a>(data: &'a [u8], limits: &Limits) -> Result<Sign1<'a>> {
    if let Some(found) = common_sign1(data, limits) {
        return Ok(found);
    }
    decode_sign1_general(data, limits)
}

/// A byte string's head at `at` in its shortest form and its content, for
/// [`common_sign1`]: `(content, next position)`, or None for anything else.
fn shortest_bstr(data: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let initial = *data.get(at)?;
    if initial >> 5 != cbor::BYTES {
        return None;
    }
    let (len, start) = match initial & 0x1F {
        n @ 0..=23 => (usize::from(n), at + 1),
        24 => (usize::from(*data.get(at + 1)?), at + 2),
        25 => (
            usize::from(u16::from_be_bytes([*data.get(at + 1)?, *data.get(at + 2)?])),
            at + 3,
        ),
        _ => return None, // 4 GiB and up: the general decoder says what it is
    };
    let shortest = match initial & 0x1F {
        24 => len >= 24,
        25 => len >= 0x100,
        _ => true,
    };
    let end = start.checked_add(len)?;
    (shortest && end <= data.len()).then(|| (&data[start..end], end))
}

/// The common shape of a COSE_Sign1, read without building a CBOR tree: the array of four
/// `[bstr, {}, bstr, bstr]`, each head in its shortest form, nothing after it, within
/// `limits`, and a protected header of the common shape ([`common_protected`]). What it
/// accepts, [`decode_sign1_general`] accepts with the same fields (the tests hold them
/// together); anything else is None, and the general reading gives its answer or its
/// first error, in its order.
fn common_sign1<'a>(data: &'a [u8], limits: &Limits) -> Option<Sign1<'a>> {
    // an array of four items holding an empty map: the decoder counts a nesting level for
    // each container, the map's too (depth 2), and 4 items
    if *data.first()? != 0x84 || limits.max_depth < 2 || limits.max_items < 4 {
        return None;
    }
    let (protected, at) = shortest_bstr(data, 1)?;
    if *data.get(at)? != 0xA0 {
        return None;
    }
    let (payload, at) = shortest_bstr(data, at + 1)?;
    let (signature, at) = shortest_bstr(data, at)?;
    let longest = protected.len().max(payload.len()).max(signature.len());
    if at != data.len() || longest as i128 > limits.max_string_bytes {
        return None;
    }
    let (alg, typ) = common_protected(protected)?;
    Some(Sign1 {
        alg,
        typ,
        protected,
        payload,
        signature,
    })
}

/// A small integer item at `at` (major type 0 or 1, argument under 24), as an i128.
fn small_int(data: &[u8], at: usize) -> Option<i128> {
    match *data.get(at)? {
        b @ 0x00..=0x17 => Some(i128::from(b)),
        b @ 0x20..=0x37 => Some(-1 - i128::from(b - 0x20)),
        _ => None,
    }
}

/// The common shape of a protected header: `{1: alg, -65537: kind}` exactly, alg and kind
/// small integers, as [`protected_header`] reads it (no string inside, 4 items, depth 1:
/// within its limits whatever the caller's string limit); None for anything else.
fn common_protected(protected: &[u8]) -> Option<(i128, i128)> {
    // a2 | 01 alg | 3a 00 01 00 00 kind: the keys in their deterministic order
    if protected.len() != 9 || protected[..2] != [0xA2, 0x01] || protected[3..8] != KIND_LABEL {
        return None;
    }
    Some((small_int(protected, 2)?, small_int(protected, 8)?))
}

/// The encoding of the kind's label, -65537: a negative integer with a 4-byte argument
const KIND_LABEL: [u8; 5] = [0x3A, 0x00, 0x01, 0x00, 0x00];

/// [`decode_sign1`] through the strict CBOR decoder, for every input.
pub fn decode_sign1_general<'a>(data: &'a [u8], limits: &Limits) -> Result<Sign1<'a>> {
    let top = cbor::decode(data, limits)?;
    let Value::Array(items) = &top else {
        return Err(schema("COSE_Sign1 must be an array of four items"));
    };
    let [protected, unprotected, payload, signature] = items.as_slice() else {
        return Err(schema("COSE_Sign1 must be an array of four items"));
    };
    let (&Value::Bytes(protected), &Value::Bytes(payload)) = (protected, payload) else {
        return Err(schema("COSE_Sign1 protected header and payload are bstr"));
    };
    let &Value::Bytes(signature) = signature else {
        return Err(schema("COSE_Sign1 signature is a bstr"));
    };
    if !matches!(unprotected, Value::Map(pairs) if pairs.is_empty()) {
        // spec 5.4: nothing unauthenticated rides along (no kid hints, no x5chain)
        return Err(Error::decode(
            "unknown_field",
            "COSE_Sign1 unprotected header must be empty",
        ));
    }
    let (alg, typ) = protected_header(protected, limits.max_string_bytes)?;
    Ok(Sign1 {
        alg,
        typ,
        protected,
        payload,
        signature,
    })
}

/// (alg, kind) of a protected header (R-5.4-2).
pub fn protected_header(protected: &[u8], max_string_bytes: i128) -> Result<(i128, i128)> {
    if let Some(found) = common_protected(protected) {
        return Ok(found);
    }
    let header_limits = Limits {
        max_depth: 2,
        max_items: 8,
        max_string_bytes,
    };
    let header = cbor::decode(protected, &header_limits)?;
    let Value::Map(pairs) = &header else {
        return Err(schema("COSE protected header must be a map"));
    };
    let mut alg = None;
    let mut typ = None;
    let mut unknown: Vec<String> = Vec::new();
    for (label, value) in pairs {
        match (label, label.as_int()) {
            (Value::Uint(HEADER_ALG), _) => alg = Some(value),
            (_, Some(HEADER_KIND)) => typ = Some(value),
            // 'crit' (label 2) lands here too: we understand no extension header
            (other, _) => unknown.push(match other {
                Value::Text(t) => (*t).to_string(),
                int => int.as_int().map(|i| i.to_string()).unwrap_or_default(),
            }),
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        return Err(Error::decode(
            "unknown_field",
            format!(
                "unknown COSE header label(s) {}",
                crate::error::py_list(&unknown)
            ),
        ));
    }
    let Some(alg) = alg.and_then(Value::as_int) else {
        return Err(schema("COSE header alg (1) must be an int"));
    };
    let Some(typ) = typ.and_then(Value::as_int) else {
        return Err(schema("COSE header kind (-65537) must be an int"));
    };
    Ok((alg, typ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // protected {1: -19, -65537: 1} = a2 01 32 3a00010000 01
    const PROT: &str = "49a20132 3a00010000 01";

    fn sign1(prot: &str, unprot: &str) -> Vec<u8> {
        hex(&format!("84{}{}4161 4200 00", prot, unprot).replace(' ', ""))
    }

    #[test]
    fn profile() {
        let limits = Limits::default();
        let data = sign1(PROT, "a0");
        let s = decode_sign1(&data, &limits).unwrap();
        assert_eq!(
            (s.alg, s.typ, s.payload, s.signature),
            (-19, 1, &b"a"[..], &[0u8, 0][..])
        );
        let code = |d: &[u8]| decode_sign1(d, &limits).unwrap_err().code;
        assert_eq!(code(&sign1(PROT, "a10100")), "unknown_field");
        assert_eq!(code(&sign1(PROT, "80")), "unknown_field");
        assert_eq!(code(&hex("d2840000000000")), "cbor_tag");
        assert_eq!(code(&hex("83404040")), "schema_invalid");
        assert_eq!(code(&hex("8400a04040")), "schema_invalid");
        assert_eq!(code(&hex("8440a04000")), "schema_invalid");
        assert_eq!(code(&sign1("43a10132", "a0")), "schema_invalid"); // kind missing
        assert_eq!(code(&sign1("47a13a0001000001", "a0")), "schema_invalid"); // alg missing
        assert_eq!(
            code(&sign1("4ba301320200 3a00010000 01", "a0")),
            "unknown_field"
        ); // crit
           // 0.1's typ text under label 16 is an unknown label now
        assert_eq!(code(&sign1("46a201321061 74", "a0")), "unknown_field");
        // the kind is an int, never text
        assert_eq!(
            code(&sign1("4aa20132 3a00010000 6174", "a0")),
            "schema_invalid"
        );
        assert_eq!(code(&sign1("4180", "a0")), "schema_invalid");
        assert_eq!(code(&sign1("4101", "a0")), "schema_invalid");
        assert_eq!(code(&sign1("4102", "a0")), "schema_invalid");
    }

    /// what the general reading gives, to compare the common shape's with
    fn both(data: &[u8], limits: &Limits) {
        let fast = decode_sign1(data, limits).map_err(|e| (e.code, e.message));
        let general = decode_sign1_general(data, limits).map_err(|e| (e.code, e.message));
        assert_eq!(fast, general, "{data:02x?} under {limits:?}");
    }

    #[test]
    fn the_common_shape_reads_as_the_general_decoder() {
        let mut examples = Vec::new();
        for payload in [0usize, 1, 23, 24, 255, 256, 300] {
            for prot in [PROT, "49a20126 3a00010000 04", "49a20132 3a00010000 17"] {
                let head = match payload {
                    0..=23 => format!("{:02x}", 0x40 + payload),
                    24..=255 => format!("58{payload:02x}"),
                    _ => format!("59{payload:04x}"),
                };
                let hex_payload = "61".repeat(payload);
                let sig = format!("5840{}", "00".repeat(64));
                examples.push(hex(
                    &format!("84{prot}a0{head}{hex_payload}{sig}").replace(' ', "")
                ));
            }
        }
        // (max_depth, max_items, max_string_bytes): the defaults, then each bound at the
        // edge of what the common shape needs
        let limit_sets: Vec<Limits> = [
            (16, 2048, 4096),
            (16, 2048, 23),
            (16, 2048, 64),
            (16, 2048, 300),
            (16, 3, 4096),
            (16, 4, 4096),
            (0, 2048, 4096),
            (1, 2048, 4096),
            (2, 2048, 4096),
        ]
        .iter()
        .map(|&(max_depth, max_items, max_string_bytes)| Limits {
            max_depth,
            max_items,
            max_string_bytes,
        })
        .collect();
        for data in &examples {
            // the common shape is read as such (not only agreed with): the fast path is taken
            assert!(
                common_sign1(data, &Limits::default()).is_some(),
                "{data:02x?}"
            );
            for limits in &limit_sets {
                both(data, limits);
                for cut in 0..data.len() {
                    both(&data[..cut], limits);
                }
                both(&[data.as_slice(), &[0]].concat(), limits);
                for at in 0..data.len().min(40) {
                    for value in [
                        0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x20, 0x3a, 0x40, 0x58, 0x59, 0xa0,
                        0xa1, 0xff,
                    ] {
                        let mut changed = data.clone();
                        changed[at] = value;
                        both(&changed, limits);
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4096, ..Default::default() })]
        #[test]
        fn any_bytes_read_as_the_general_decoder(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48),
            prot in proptest::prelude::any::<bool>(),
        ) {
            // most inputs start as a COSE_Sign1 does, so the common shape is tried
            let start = if prot { hex("8449a201323a0001000001") } else { vec![0x84] };
            both(&[start.as_slice(), &tail].concat(), &Limits::default());
        }
    }

    #[test]
    fn sig_structure_bytes() {
        let tbs = sig_structure(&[0xa0], b"xy");
        assert_eq!(
            tbs,
            [&b"\x84\x6aSignature1"[..], &[0x41, 0xa0, 0x40, 0x42], b"xy"].concat()
        );
    }
}
