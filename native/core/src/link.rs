//! One signed object of protocol 0.2 in one call: the CBOR branch of `codec._open` (size,
//! COSE_Sign1, typ, algorithm, payload) followed by the Sig_structure, the digest and the
//! signature. This is the per-hop hot path of the verifier, without the claims layer, which
//! the 0.2 wire format is about to change (see native/README.md).
#![forbid(unsafe_code)]

use crate::alg::{self, Algorithm, Scheme};
use crate::cbor::{self, Limits, Value};
use crate::cose::{self, Sign1};
use crate::error::{Error, Result};
use crate::{b64, ed25519, es256};

/// The limits `codec._open` applies to one signed object (spec 5.6).
#[derive(Clone, Copy, Debug)]
pub struct ObjectLimits {
    pub max_object_bytes: i128,
    pub cbor: Limits,
}

/// A decoded signed object whose signature has NOT been checked.
pub struct Opened<'a> {
    pub algorithm: &'static Algorithm,
    pub sign1: Sign1<'a>,
    pub payload: Value<'a>,
}

/// Decode a COSE signed object of type `typ` as `codec._open` does (R-5.4-5).
pub fn open<'a>(data: &'a [u8], typ: i128, limits: &ObjectLimits) -> Result<Opened<'a>> {
    let (algorithm, sign1) = open_envelope(data, typ, limits)?;
    let payload = cbor::decode(sign1.payload, &limits.cbor)?;
    Ok(Opened {
        algorithm,
        sign1,
        payload,
    })
}

/// [`open`] up to the payload, which is left undecoded: the size, the COSE_Sign1, its typ
/// and its algorithm, each refused as [`open`] refuses it, in its order.
pub fn open_envelope<'a>(
    data: &'a [u8],
    typ: i128,
    limits: &ObjectLimits,
) -> Result<(&'static Algorithm, Sign1<'a>)> {
    if data.len() as i128 > limits.max_object_bytes {
        return Err(Error::decode(
            "limit_exceeded",
            format!("signed object over {} bytes", limits.max_object_bytes),
        ));
    }
    // the payload is a byte string of the array: it may be as long as the object
    let envelope_limits = Limits {
        max_string_bytes: limits.max_object_bytes,
        ..limits.cbor
    };
    let sign1 = cose::decode_sign1(data, &envelope_limits)?;
    if sign1.typ != typ {
        return Err(Error::decode(
            "type_mismatch",
            format!("expected {typ}, found {}", sign1.typ),
        ));
    }
    Ok((alg::by_cose(sign1.alg)?, sign1))
}

/// A public key imported under the rules of its scheme (spec 3.4, 3.5).
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Es256(es256::VerifyingKey),
}

impl PublicKey {
    /// Import `raw` for the algorithm named `name` (`Ed25519` or `ES256`).
    pub fn import(name: &str, raw: &[u8]) -> Result<(PublicKey, &'static Algorithm)> {
        let algorithm = alg::by_name(name)?;
        let key = match algorithm.scheme {
            Scheme::Ed25519 => PublicKey::Ed25519(ed25519::public_key(raw)?),
            Scheme::Es256 => PublicKey::Es256(es256::public_key(raw)?),
        };
        Ok((key, algorithm))
    }

    pub fn scheme(&self) -> Scheme {
        match self {
            PublicKey::Ed25519(_) => Scheme::Ed25519,
            PublicKey::Es256(_) => Scheme::Es256,
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 of the required JWK members, sorted, no whitespace
    /// (spec 3.2: a principal's identifier, what a link's issuer names).
    pub fn thumbprint(&self) -> [u8; 32] {
        let jwk = match self {
            PublicKey::Ed25519(key) => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                b64::encode(key.as_bytes())
            ),
            PublicKey::Es256(key) => {
                let raw = key.raw();
                format!(
                    r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                    b64::encode(&raw[1..33]),
                    b64::encode(&raw[33..])
                )
            }
        };
        crate::sha256(jwk.as_bytes())
    }

    /// Check `signature` over `message` (raises the reference's codes).
    pub fn verify(&self, signature: &[u8], message: &[u8]) -> Result<()> {
        match self {
            PublicKey::Ed25519(key) => ed25519::verify(key, signature, message),
            PublicKey::Es256(key) => es256::verify(key, signature, message),
        }
    }
}

/// Open a signed object and check its signature under `key`: the object's algorithm must be
/// the key's (as the verifier's step binds them), then the signature over the Sig_structure.
/// Returns the opened object and the digest of its bytes (spec 5.3).
pub fn open_and_verify<'a>(
    data: &'a [u8],
    typ: i128,
    key: &PublicKey,
    limits: &ObjectLimits,
) -> Result<(Opened<'a>, [u8; 32])> {
    let opened = open(data, typ, limits)?;
    if opened.algorithm.scheme != key.scheme() {
        return Err(Error::key(
            "alg_not_allowed",
            format!(
                "object uses {}, but its key is another algorithm",
                opened.algorithm.name
            ),
        ));
    }
    key.verify(opened.sign1.signature, &opened.sign1.to_be_signed())?;
    Ok((opened, crate::sha256(data)))
}

/// Keys imported once per process and shared, keyed by algorithm and raw bytes: the same
/// anchors and agents sign chain after chain, and an Ed25519 import costs a point
/// decompression. Bounded: emptied when full. A refused key is not remembered.
static KEYS: std::sync::Mutex<Option<KeyCache>> = std::sync::Mutex::new(None);
const MAX_CACHED_KEYS: usize = 4096;

/// By the scheme's tag byte (its place in `alg::ALGORITHMS`) followed by the raw key.
type KeyCache = std::collections::HashMap<Vec<u8>, (std::sync::Arc<PublicKey>, &'static Algorithm)>;

/// The longest raw key looked up without an allocation (an uncompressed P-256 point).
const INLINE_KEY: usize = 65;

/// `PublicKey::import`, remembered (see [`KEYS`]).
pub fn import_cached(
    name: &str,
    raw: &[u8],
) -> Result<(std::sync::Arc<PublicKey>, &'static Algorithm)> {
    let algorithm = alg::by_name(name)?;
    let tag = alg::ALGORITHMS
        .iter()
        .position(|a| a.name == algorithm.name)
        .unwrap_or(0) as u8;
    // the lookup's bytes on the stack for a key of a known size: no allocation per link
    let mut inline = [0u8; 1 + INLINE_KEY];
    let heap;
    let lookup: &[u8] = if raw.len() <= INLINE_KEY {
        inline[0] = tag;
        inline[1..=raw.len()].copy_from_slice(raw);
        &inline[..=raw.len()]
    } else {
        heap = [&[tag][..], raw].concat();
        &heap
    };
    if let Ok(guard) = KEYS.lock() {
        if let Some(found) = guard.as_ref().and_then(|cache| cache.get(lookup)) {
            return Ok(found.clone());
        }
    }
    let (key, _) = PublicKey::import(name, raw)?;
    let entry = (std::sync::Arc::new(key), algorithm);
    if let Ok(mut guard) = KEYS.lock() {
        let cache = guard.get_or_insert_with(Default::default);
        if cache.len() >= MAX_CACHED_KEYS {
            cache.clear();
        }
        cache.insert(lookup.to_vec(), entry.clone());
    }
    Ok(entry)
}
