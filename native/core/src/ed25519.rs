//! Strict Ed25519 verification (spec 3.4), the rule `agentchain.crypto` applies before
//! libsodium sees the bytes, applied here before ed25519-dalek does.
//!
//! The encoding rules (R-3.4-1 to R-3.4-5) are checked here, in the reference's order and
//! with its codes (`key_invalid`, `signature_malformed`): `S < L`; `R` and `A` canonical
//! (`y < p`, no `x = 0` with the sign bit set) and not of small order; `A` on the curve
//! (checked at import: dalek's `VerifyingKey::from_bytes` alone would reduce a non-canonical
//! `y`). dalek then answers only the cofactorless equation (R-3.4-6): its `verify`
//! recomputes `R' = [S]B - [k]A` and compares the encoding of `R'` with the signature's `R`
//! bytes, as libsodium does. Its `verify_strict` would also decompress `R` and test `R` and
//! `A` for small order; after the checks here that changes no answer (a small-order `R` or
//! `A` is refused already; an `R` off the curve can never equal the encoding of a point),
//! and it costs about 14% of a verification, so it is not called. `tests/test_native.py`
//! (edge points, mixed-order keys and `R`s) and the Wycheproof cases hold the two paths to
//! the same verdicts.
#![forbid(unsafe_code)]

use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use crate::error::{Error, Result};

/// The canonical encodings (sign bit clear) of the `y` of the points of small order: 0, 1,
/// p - 1 and the two of order 8 (spec 3.4 rule 4).
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    },
    {
        let mut m = [0xffu8; 32];
        m[0] = 0xec;
        m[31] = 0x7f;
        m
    },
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
];

/// Why a point encoding is refused (spec 3.4 rules 3 and 4), in the reference's words.
pub fn encoding_problem(encoded: &[u8; 32]) -> Option<&'static str> {
    let mut y = *encoded;
    let sign = y[31] >> 7;
    y[31] &= 0x7f;
    // y >= p = 2^255 - 19: the top 254 bits all set and the low byte >= 0xed
    if y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed {
        return Some("non-canonical encoding (y >= p)");
    }
    if sign == 1 && (y == SMALL_ORDER_Y[1] || y == SMALL_ORDER_Y[2]) {
        return Some("non-canonical encoding (x = 0 with the sign bit set)");
    }
    if SMALL_ORDER_Y.contains(&y) {
        return Some("point of small order");
    }
    None
}

/// Import a raw public key `A` (spec 3.4 rules 3 to 5), or `key_invalid`.
pub fn public_key(raw: &[u8]) -> Result<VerifyingKey> {
    let Ok(bytes) = <[u8; 32]>::try_from(raw) else {
        return Err(Error::key(
            "key_invalid",
            format!("an Ed25519 public key is 32 bytes, not {}", raw.len()),
        ));
    };
    if let Some(problem) = encoding_problem(&bytes) {
        return Err(Error::key(
            "key_invalid",
            format!("Ed25519 public key: {problem}"),
        ));
    }
    if CompressedEdwardsY(bytes).decompress().is_none() {
        return Err(Error::key(
            "key_invalid",
            "Ed25519 public key: not a point on the curve",
        ));
    }
    VerifyingKey::from_bytes(&bytes).map_err(|_| {
        Error::key(
            "key_invalid",
            "Ed25519 public key: not a point on the curve",
        )
    })
}

/// Check `signature` over `message` under an imported key (spec 3.4 rules 1, 2, 3, 4, 6).
pub fn verify(key: &VerifyingKey, signature: &[u8], message: &[u8]) -> Result<()> {
    let Ok(sig) = <[u8; 64]>::try_from(signature) else {
        return Err(Error::signature(
            "signature_malformed",
            format!("a Ed25519 signature is 64 bytes, not {}", signature.len()),
        ));
    };
    let mut s = [0u8; 32];
    s.copy_from_slice(&sig[32..]);
    if bool::from(Scalar::from_canonical_bytes(s).is_none()) {
        return Err(Error::signature(
            "signature_malformed",
            "Ed25519 signature: S >= L",
        ));
    }
    let mut r = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    if let Some(problem) = encoding_problem(&r) {
        return Err(Error::signature(
            "signature_malformed",
            format!("Ed25519 signature: R is a {problem}"),
        ));
    }
    key.verify(message, &Signature::from_bytes(&sig))
        .map_err(|_| Error::signature("signature_invalid", "Ed25519 signature does not verify"))
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

    // RFC 8032 section 7.1, test 2
    const PK: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    const SIG: &str = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                       085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

    #[test]
    fn rfc8032_test2() {
        let key = public_key(&hex(PK)).unwrap();
        verify(&key, &hex(SIG), &[0x72]).unwrap();
        assert_eq!(
            verify(&key, &hex(SIG), &[0x73]).unwrap_err().code,
            "signature_invalid"
        );
    }

    #[test]
    fn strict_rules() {
        let key = public_key(&hex(PK)).unwrap();
        let sig = hex(SIG);
        assert_eq!(
            verify(&key, &sig[..63], b"r").unwrap_err().code,
            "signature_malformed"
        );
        // S + L: the malleated twin (R-3.4-2)
        let l = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        let mut twin = sig.clone();
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(twin[32 + i]) + u16::from(l[i]) + carry;
            twin[32 + i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(
            verify(&key, &twin, &[0x72]).unwrap_err().code,
            "signature_malformed"
        );
        // R of small order, or non-canonical (R-3.4-3, R-3.4-4)
        for r in SMALL_ORDER_Y {
            let mut bad = sig.clone();
            bad[..32].copy_from_slice(&r);
            assert_eq!(
                verify(&key, &bad, &[0x72]).unwrap_err().code,
                "signature_malformed"
            );
        }
        let mut bad = sig.clone();
        bad[..32].copy_from_slice(&[0xff; 32]);
        assert_eq!(
            verify(&key, &bad, &[0x72]).unwrap_err().code,
            "signature_malformed"
        );
        // keys: small order, non-canonical, off the curve (R-3.4-3 to R-3.4-5)
        for a in SMALL_ORDER_Y {
            assert_eq!(public_key(&a).unwrap_err().code, "key_invalid");
        }
        let mut one_signed = SMALL_ORDER_Y[1];
        one_signed[31] |= 0x80;
        assert!(public_key(&one_signed)
            .unwrap_err()
            .message
            .contains("sign bit"));
        // y = p + 1 (non-canonical 1): dalek's from_bytes alone would take it
        let mut p_plus_1 = [0xffu8; 32];
        p_plus_1[0] = 0xee;
        p_plus_1[31] = 0x7f;
        assert!(VerifyingKey::from_bytes(&p_plus_1).is_ok());
        assert_eq!(public_key(&p_plus_1).unwrap_err().code, "key_invalid");
        let mut off = [0u8; 32];
        off[0] = 2; // y = 2 has no x on edwards25519
        assert_eq!(
            public_key(&off).unwrap_err().message,
            "Ed25519 public key: not a point on the curve"
        );
        assert_eq!(public_key(&[0; 31]).unwrap_err().code, "key_invalid");
    }
}
