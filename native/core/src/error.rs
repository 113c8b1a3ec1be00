//! Errors that carry a code of agentchain's one registry (`agentchain/errors.py`).

use std::fmt;

/// Which `agentchain.errors` exception type a failure is raised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `DecodeError`: the bytes are not a well-formed object (wire, schema, limits).
    Decode,
    /// `InvalidKey`: a key is malformed or not allowed.
    Key,
    /// `SignatureError`: a signature is malformed or does not verify.
    Signature,
}

/// A refusal: the exception kind, the registry code, and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    /// a key of `agentchain.errors.REGISTRY`, e.g. `cbor_noncanonical`
    pub code: &'static str,
    pub message: String,
}

impl Error {
    pub fn decode(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Decode,
            code,
            message: message.into(),
        }
    }

    pub fn key(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Key,
            code,
            message: message.into(),
        }
    }

    pub fn signature(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Signature,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
