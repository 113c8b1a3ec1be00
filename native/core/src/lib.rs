//! agentchain's native verification core: the parsers of hostile bytes and the signature
//! rules, in safe Rust and without Python, so that they can be unit-tested, fuzzed with
//! `cargo fuzz` and driven from Python by the `agentchain_native` extension.
//!
//! Every refusal is an [`Error`] carrying a code of the registry in `agentchain/errors.py`,
//! the same code the pure-Python reference gives for the same first violation. Nothing here
//! panics on any input: lengths are checked before slicing, arithmetic on declared sizes is
//! widened, and recursion is replaced by explicit stacks.
#![forbid(unsafe_code)]

pub mod alg;
pub mod b64;
pub mod cbor;
pub mod chain;
pub mod claims;
pub mod cose;
pub mod ed25519;
pub mod error;
pub mod es256;
pub mod jws;
pub mod link;
pub mod presentation;

pub use error::{Error, Kind, Result};

/// SHA-256 of `data`: the digest of a signed object is that of its exact bytes (spec 5.3).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}
