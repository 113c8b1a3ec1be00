//! JWS compact serialization (RFC 7515 section 7.1) as the JOSE profile restricts it
//! (spec/jose.md), in the order of `agentchain.wire.jws.decode_compact`: the size cap on the
//! text, three parts, ASCII, then the header, then the payload and signature base64url.
//!
//! The header's JSON is judged by the caller (the reference's cached `_header`, a few
//! distinct texts per deployment): [`split`] hands back its text after the checks that
//! precede it, and [`decode_parts`] the payload and signature after it passed.
#![forbid(unsafe_code)]

use crate::b64;
use crate::error::{Error, Result};

/// The three base64url texts of a compact serialization: header, payload, signature.
pub struct Parts<'a> {
    pub header: &'a [u8],
    pub payload: &'a [u8],
    pub signature: &'a [u8],
}

/// Split `data` after the checks that precede the header's (size cap, three parts, ASCII).
pub fn split(data: &[u8], max_bytes: i128) -> Result<Parts<'_>> {
    if data.len() as i128 > max_bytes {
        return Err(Error::decode(
            "limit_exceeded",
            format!("JWS over {max_bytes} bytes"),
        ));
    }
    let mut it = data.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature), None) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(Error::decode(
            "schema_invalid",
            "JWS compact has exactly three parts",
        ));
    };
    if !data.is_ascii() {
        return Err(Error::decode(
            "base64_invalid",
            "JWS compact is not ASCII base64url",
        ));
    }
    Ok(Parts {
        header,
        payload,
        signature,
    })
}

/// The payload and signature bytes, once the header passed.
pub fn decode_parts(parts: &Parts<'_>) -> Result<(Vec<u8>, Vec<u8>)> {
    Ok((b64::decode(parts.payload)?, b64::decode(parts.signature)?))
}

/// The JWS signing input: everything before the last dot (RFC 7515 section 5.1).
pub fn signing_input(data: &[u8]) -> &[u8] {
    match data.iter().rposition(|&b| b == b'.') {
        Some(i) => &data[..i],
        None => data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_checks() {
        assert_eq!(split(b"a.b.c", 4).err().unwrap().code, "limit_exceeded");
        assert_eq!(split(b"a.b", 100).err().unwrap().code, "schema_invalid");
        assert_eq!(split(b"a.b.c.d", 100).err().unwrap().code, "schema_invalid");
        assert_eq!(
            split("é.b.c".as_bytes(), 100).err().unwrap().code,
            "base64_invalid"
        );
        let parts = split(b"e30.Zg.Zm8", 100).unwrap();
        assert_eq!(parts.header, b"e30");
        assert_eq!(
            decode_parts(&parts).unwrap(),
            (b"f".to_vec(), b"fo".to_vec())
        );
        assert_eq!(signing_input(b"e30.Zg.Zm8"), b"e30.Zg");
    }
}
