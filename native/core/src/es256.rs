//! ES256 verification with the rules of spec 3.5 (r, s in [1, n-1], low S), checked here in
//! the reference's order before a library answers the equation. Keys are validated on import
//! by p256 (coordinates below p, on the curve); the equation is ring's, whose assembly costs
//! about a quarter of p256's pure Rust here (benchmarks/native_speed.py).
#![forbid(unsafe_code)]

use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

use crate::error::{Error, Result};

/// P-256 field prime and group order, big-endian (SEC 2 section 2.4.2).
const P: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
];
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// (n - 1) / 2: s is low iff s <= this
const HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// A P-256 public key that passed the import checks: the uncompressed point `04 || x || y`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey([u8; 65]);

impl VerifyingKey {
    /// The 65-byte uncompressed point.
    pub fn raw(&self) -> &[u8; 65] {
        &self.0
    }
}

/// Import the 65-byte uncompressed point `04 || x || y`, or `key_invalid`.
pub fn public_key(raw: &[u8]) -> Result<VerifyingKey> {
    if raw.len() != 65 || raw[0] != 0x04 {
        return Err(Error::key(
            "key_invalid",
            "a P-256 public key is the 65-byte uncompressed point 04||x||y",
        ));
    }
    // big-endian byte arrays of equal length compare as the integers they spell
    if raw[1..33] >= P[..] || raw[33..] >= P[..] {
        return Err(Error::key(
            "key_invalid",
            "P-256 public key: coordinate not below p",
        ));
    }
    // on the curve (SEC 1 section 3.2.2); P-256 has cofactor 1, so any such point is a key
    p256::PublicKey::from_sec1_bytes(raw)
        .map_err(|_| Error::key("key_invalid", "P-256 public key: not a point on the curve"))?;
    let mut point = [0u8; 65];
    point.copy_from_slice(raw);
    Ok(VerifyingKey(point))
}

/// Check a raw `r || s` signature over `message` (spec 3.5).
pub fn verify(key: &VerifyingKey, signature: &[u8], message: &[u8]) -> Result<()> {
    if signature.len() != 64 {
        return Err(Error::signature(
            "signature_malformed",
            format!("a ES256 signature is 64 bytes, not {}", signature.len()),
        ));
    }
    let (r, s) = signature.split_at(32);
    let zero = [0u8; 32];
    if r == zero || r >= &N[..] {
        return Err(Error::signature(
            "signature_malformed",
            "ES256 signature: r not in [1, n-1]",
        ));
    }
    if s == zero || s >= &N[..] {
        return Err(Error::signature(
            "signature_malformed",
            "ES256 signature: s not in [1, n-1]",
        ));
    }
    if s > &HALF_N[..] {
        return Err(Error::signature(
            "signature_malformed",
            "ES256 signature: s is high (> n/2)",
        ));
    }
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key.0[..])
        .verify(message, signature)
        .map_err(|_| Error::signature("signature_invalid", "ES256 signature does not verify"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{Signature, SigningKey};

    #[test]
    fn low_s_and_ranges() {
        let sk = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let raw = sk.verifying_key().to_encoded_point(false);
        let key = public_key(raw.as_bytes()).unwrap();
        let sig: Signature = sk.sign(b"m");
        let sig = sig.normalize_s().unwrap_or(sig);
        let bytes = sig.to_bytes();
        verify(&key, &bytes, b"m").unwrap();
        assert_eq!(
            verify(&key, &bytes, b"x").unwrap_err().code,
            "signature_invalid"
        );
        // (r, n - s) is the high twin: valid mathematically, refused (R-3.5-3)
        let high = Signature::from_scalars(sig.r(), -*sig.s()).unwrap();
        let err = verify(&key, &high.to_bytes(), b"m").unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            ("signature_malformed", "ES256 signature: s is high (> n/2)")
        );
        let mut zero_r = bytes.to_vec();
        zero_r[..32].fill(0);
        assert!(verify(&key, &zero_r, b"m")
            .unwrap_err()
            .message
            .contains("r not in"));
        let mut n_s = bytes.to_vec();
        n_s[32..].copy_from_slice(&N);
        assert!(verify(&key, &n_s, b"m")
            .unwrap_err()
            .message
            .contains("s not in"));
        assert_eq!(
            verify(&key, &bytes[..63], b"m").unwrap_err().code,
            "signature_malformed"
        );
        assert_eq!(
            public_key(&raw.as_bytes()[..64]).unwrap_err().code,
            "key_invalid"
        );
        let mut off = raw.as_bytes().to_vec();
        off[64] ^= 1;
        assert_eq!(
            public_key(&off).unwrap_err().message,
            "P-256 public key: not a point on the curve"
        );
    }
}
