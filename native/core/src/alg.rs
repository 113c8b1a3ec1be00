//! The algorithm allowlist: one row per algorithm, its COSE id and JOSE name (spec 3.1).
//!
//! Protocol 0.2 adds the fully-specified ids of RFC 9864 (COSE -19, JOSE "Ed25519") as
//! another row bound to the same verifier; nothing else here changes.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};

/// The signature scheme a key is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// strict cofactorless Ed25519 (spec 3.4)
    Ed25519,
    /// ECDSA P-256 / SHA-256, low S (spec 3.5)
    Es256,
}

/// One allowed algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Algorithm {
    /// the library's name for it (`agentchain.crypto.ALGORITHMS`)
    pub name: &'static str,
    pub cose: i64,
    pub jose: &'static str,
    pub scheme: Scheme,
}

/// The allowlist of protocol 0.1 (RFC 9053 sections 2.1, 2.2; RFC 7518 3.4, RFC 8037).
pub const ALGORITHMS: &[Algorithm] = &[
    Algorithm {
        name: "EdDSA",
        cose: -8,
        jose: "EdDSA",
        scheme: Scheme::Ed25519,
    },
    Algorithm {
        name: "ES256",
        cose: -7,
        jose: "ES256",
        scheme: Scheme::Es256,
    },
];

/// The algorithm of a COSE alg id, or `alg_not_allowed` (as `codec.alg_name` raises it).
pub fn by_cose(id: i128) -> Result<&'static Algorithm> {
    ALGORITHMS
        .iter()
        .find(|a| i128::from(a.cose) == id)
        .ok_or_else(|| {
            Error::key(
                "alg_not_allowed",
                format!("COSE algorithm {id} is not allowed"),
            )
        })
}

/// The algorithm of a library name, or `alg_not_allowed`.
pub fn by_name(name: &str) -> Result<&'static Algorithm> {
    ALGORITHMS.iter().find(|a| a.name == name).ok_or_else(|| {
        Error::key(
            "alg_not_allowed",
            "algorithm is not allowed (only EdDSA and ES256)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(by_cose(-8).unwrap().scheme, Scheme::Ed25519);
        assert_eq!(by_cose(-7).unwrap().name, "ES256");
        assert_eq!(by_cose(-19).unwrap_err().code, "alg_not_allowed");
        assert_eq!(by_name("none").unwrap_err().code, "alg_not_allowed");
    }
}
