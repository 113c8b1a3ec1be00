//! Strict unpadded base64url (spec/jose.md J.2, RFC 4648 section 5): one spelling per byte
//! string, as `agentchain.wire.jws.b64decode` accepts it.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The one unpadded base64url spelling of `data`.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn invalid() -> Error {
    Error::decode("base64_invalid", "not unpadded base64url")
}

/// The bytes `text` spells, or `base64_invalid`: only the url alphabet, no padding, a length
/// that is not 1 mod 4, and zero unused low bits in the last character.
pub fn decode(text: &[u8]) -> Result<Vec<u8>> {
    if text.len() % 4 == 1 {
        return Err(invalid());
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut last = 0u8;
    for &c in text {
        let v = value(c).ok_or_else(invalid)?;
        last = v;
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // the unused low bits of the last character when len % 4 is 2 or 3
    let mask = match text.len() % 4 {
        2 => 0x0F,
        3 => 0x03,
        _ => 0,
    };
    if last & mask != 0 {
        return Err(Error::decode(
            "base64_invalid",
            "base64url has non-zero trailing bits",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn rfc4648_vectors_unpadded() {
        for (text, data) in [
            ("", ""),
            ("Zg", "f"),
            ("Zm8", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(decode(text.as_bytes()).unwrap(), data.as_bytes());
            assert_eq!(encode(data.as_bytes()), text);
        }
        assert_eq!(decode(b"-_8").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn refusals() {
        for text in [
            "Zg==", "Z", "Zh", "Zm9", "Zm+v", "Zm/v", "Zm v", "Zm9v\n", "é",
        ] {
            assert_eq!(
                decode(text.as_bytes()).unwrap_err().code,
                "base64_invalid",
                "{text}"
            );
        }
    }
}
