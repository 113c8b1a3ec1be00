//! The claims of a link (spec 5.5, protocol 0.2), decoded from the payload `Value` check for
//! check in the order of `codec.decode_link_claims`, with its codes: the map and its version
//! (R-5.5-3), unknown keys, the capability and caveat arrays and their counts, the times and
//! the depth, the issuer or the parent (exactly one), then the holder's COSE_Key and its
//! strict import (spec 3.3, 3.4, 3.5).
//!
//! What follows the holder in that order (each capability's syntax, the caveat statements,
//! the purpose, the descriptor, approval requirements and usage limits) is judged by the
//! reference's own functions in Python, after this head has passed: those checks come later
//! in the reference's order, so the first violation is the same whichever side finds it.
//! The head is what the chain's V2 checks need (`chain.rs`).
//!
//! Claims of the common shape are also read straight from the payload's bytes, once
//! `cbor::validate` has accepted them ([`plain_link`], for the verifier's hot path): the same
//! head and parts as the decoded reading, or None, and the decoded reading then answers.
//!
//! A payload with a map key other than an integer or a text is not judged here
//! ([`Decoded::Defer`]): Python's dicts equate `true` with `1` and `1.0` with `1`, a rule of
//! the reference's host language left to the reference (the strict CBOR decoder admits no
//! such key today; the deferral keeps this module right if that changes).
#![forbid(unsafe_code)]

use crate::alg::Algorithm;
use crate::cbor::{self, Value};
use crate::error::{Error, Result};
use crate::link::PublicKey;
use sha2::Digest;

/// spec 5.3 (0.2): the COSE kind of a link
pub const LINK_TYP: i128 = 1;
/// spec 5.3 (0.2): the COSE kinds of an invocation, an attestation and an approval
pub const INVOCATION_TYP: i128 = 2;
pub const ATTESTATION_TYP: i128 = 3;
pub const APPROVAL_TYP: i128 = 4;
/// spec 5.5: the version of protocol 0.2's claims
pub const VERSION: u64 = 2;
/// spec 5.5: link claim keys (key 5, the 0.1 link id, is withdrawn)
pub const L_VERSION: u64 = 1;
pub const L_ISSUER: u64 = 2;
pub const L_HOLDER: u64 = 3;
pub const L_PARENT: u64 = 4;
pub const L_IAT: u64 = 6;
pub const L_NBF: u64 = 7;
pub const L_EXP: u64 = 8;
pub const L_CAPS: u64 = 9;
pub const L_CAVEATS: u64 = 10;
pub const L_DEPTH: u64 = 11;
const ALLOWED: [u64; 14] = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/// `codec._keys.MAX_TIME`: seconds, exact in every language
pub const MAX_TIME: u64 = (1 << 53) - 1;

/// The claim counts a policy allows (`agentchain.limits.Limits`).
#[derive(Clone, Copy, Debug)]
pub struct ClaimLimits {
    pub max_capabilities: i128,
    pub max_caveats: i128,
}

/// The head of a link's claims: what V2 needs. Strings and byte strings borrow the payload.
pub struct LinkHead<'a> {
    pub issuer: Option<&'a [u8]>,
    pub parent: Option<&'a [u8]>,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub depth: u64,
    pub holder: std::sync::Arc<PublicKey>,
    pub holder_alg: &'static Algorithm,
    pub holder_raw: Vec<u8>,
    /// the capabilities of the shape `[action, resource]` (a link with any other shape is
    /// refused by the reference's capability check before V2 runs)
    pub capabilities: Vec<(&'a str, &'a str)>,
}

/// What [`decode_link_head`] makes of a payload.
pub enum Decoded<'a> {
    Head(Box<LinkHead<'a>>),
    /// outside this decoder's profile: the reference judges the whole payload
    Defer,
}

fn schema(message: String) -> Error {
    Error::decode("schema_invalid", message)
}

/// Field access over a decoded map, as `codec._fields._Fields` reads it.
struct Fields<'v, 'a> {
    pairs: &'v [(Value<'a>, Value<'a>)],
    where_: &'static str,
}

impl<'v, 'a> Fields<'v, 'a> {
    fn get(&self, key: u64, required: bool) -> Result<Option<&'v Value<'a>>> {
        match self
            .pairs
            .iter()
            .find(|(k, _)| matches!(k, Value::Uint(n) if *n == key))
        {
            None if required => Err(schema(format!("{} lacks key {key}", self.where_))),
            None => Ok(None),
            Some((_, Value::Null)) => Err(schema(format!("{} key {key} is null", self.where_))),
            Some((_, value)) => Ok(Some(value)),
        }
    }

    fn uint(&self, key: u64, upper: u64) -> Result<u64> {
        match self.get(key, true)? {
            Some(&Value::Uint(n)) if n <= upper => Ok(n),
            _ => Err(schema(format!(
                "{} key {key} must be an int in 0..{upper}",
                self.where_
            ))),
        }
    }

    fn array(&self, key: u64) -> Result<&'v [Value<'a>]> {
        match self.get(key, true)? {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(schema(format!(
                "{} key {key} must be an array",
                self.where_
            ))),
        }
    }

    fn digest(&self, key: u64) -> Result<Option<&'a [u8]>> {
        match self.get(key, false)? {
            None => Ok(None),
            Some(&Value::Bytes(b)) if b.len() == 32 => Ok(Some(b)),
            Some(_) => Err(schema(format!(
                "{} key {key} must be 32..32 bytes",
                self.where_
            ))),
        }
    }
}

/// Decode the head of a link's claims, or refuse it with the reference's first violation.
pub fn decode_link_head<'a>(payload: &Value<'a>, limits: &ClaimLimits) -> Result<Decoded<'a>> {
    let Value::Map(pairs) = payload else {
        return Err(schema("link must be a map".into()));
    };
    if pairs.iter().any(|(k, _)| !plain_key(k)) {
        return Ok(Decoded::Defer);
    }
    let f = Fields {
        pairs,
        where_: "link",
    };
    // spec 5.5: the version first, so a later version's claims read as version_unsupported;
    // any unsigned integer other than 2 is another version (R-5.8-7)
    let version = f.uint(L_VERSION, u64::MAX)?;
    if version != VERSION {
        return Err(Error::decode(
            "version_unsupported",
            format!("link version {version} is not {VERSION}"),
        ));
    }
    let unknown: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| !matches!(k, Value::Uint(n) if ALLOWED.contains(n)))
        .map(|(k, _)| key_text(k))
        .collect();
    if !unknown.is_empty() {
        let mut sorted = unknown;
        sorted.sort();
        return Err(Error::decode(
            "unknown_field",
            format!("link has unknown key(s) {}", crate::error::py_list(&sorted)),
        ));
    }
    let caps = f.array(L_CAPS)?;
    let caveats = f.array(L_CAVEATS)?;
    if caps.is_empty() {
        return Err(schema("a link grants at least one capability".into()));
    }
    if caps.len() as i128 > limits.max_capabilities {
        return Err(Error::decode(
            "limit_exceeded",
            format!("more than {} capabilities", limits.max_capabilities),
        ));
    }
    if caveats.len() as i128 > limits.max_caveats {
        return Err(Error::decode(
            "limit_exceeded",
            format!("more than {} caveats", limits.max_caveats),
        ));
    }
    let nbf = f.uint(L_NBF, MAX_TIME)?;
    let exp = f.uint(L_EXP, MAX_TIME)?;
    let iat = f.uint(L_IAT, MAX_TIME)?;
    let depth = f.uint(L_DEPTH, 255)?;
    let issuer = f.digest(L_ISSUER)?;
    let parent = f.digest(L_PARENT)?;
    // spec 5.5 (0.2): the root names its issuer and no parent; every other link, its parent
    if issuer.is_none() == parent.is_none() {
        return Err(schema(
            "a link names an issuer (the root) or a parent, exactly one".into(),
        ));
    }
    let (holder, holder_alg, holder_raw) = match f.get(L_HOLDER, false)? {
        Some(Value::Map(key)) => cose_key(key)?,
        _ => return Err(schema("link holder must be a COSE_Key map".into())),
    };
    let capabilities = caps
        .iter()
        .filter_map(|cap| match cap {
            Value::Array(pair) => match pair.as_slice() {
                [Value::Text(action), Value::Text(resource)] => Some((*action, *resource)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    Ok(Decoded::Head(Box::new(LinkHead {
        issuer,
        parent,
        iat,
        nbf,
        exp,
        depth,
        holder,
        holder_alg,
        holder_raw,
        capabilities,
    })))
}

/// A key this decoder judges: an integer or a text (the only keys the strict decoder lets
/// through; anything else is left to the reference).
fn plain_key(key: &Value<'_>) -> bool {
    matches!(key, Value::Uint(_) | Value::Nint(_) | Value::Text(_))
}

/// `str(key)` for the keys an unknown-key message lists.
fn key_text(key: &Value<'_>) -> String {
    match key {
        Value::Text(t) => (*t).to_string(),
        other => match other.as_int() {
            Some(n) => n.to_string(),
            None => format!("{other:?}"),
        },
    }
}

/// `PublicKey.from_cose_key`, in its order of checks (spec 3.3): integer labels, kty, crv,
/// the pair of them, exactly the labels of the key type, 32-byte coordinates, then the
/// strict import of the point.
pub fn cose_key(
    pairs: &[(Value<'_>, Value<'_>)],
) -> Result<(std::sync::Arc<PublicKey>, &'static Algorithm, Vec<u8>)> {
    if pairs.iter().any(|(k, _)| k.as_int().is_none()) {
        return Err(Error::key(
            "key_invalid",
            "COSE_Key labels must be integers",
        ));
    }
    let label = |n: i128| {
        pairs
            .iter()
            .find(|(k, _)| k.as_int() == Some(n))
            .map(|(_, v)| v)
    };
    let Some(kty) = label(1).and_then(Value::as_int) else {
        return Err(Error::key(
            "key_invalid",
            "COSE_Key kty (1) is missing or not an integer",
        ));
    };
    if kty != 1 && kty != 2 {
        return Err(Error::key(
            "alg_not_allowed",
            format!("COSE_Key kty {kty} is not allowed"),
        ));
    }
    let Some(crv) = label(-1).and_then(Value::as_int) else {
        return Err(Error::key(
            "key_invalid",
            "COSE_Key crv (-1) is missing or not an integer",
        ));
    };
    // Ed25519 is OKP curve 6, P-256 is EC2 curve 1 (RFC 9053 section 7.1)
    let (name, labels): (&str, &[i128]) = match (kty, crv) {
        (1, 6) => ("Ed25519", &[-2]),
        (2, 1) => ("ES256", &[-2, -3]),
        _ => {
            return Err(Error::key(
                "alg_not_allowed",
                format!("COSE_Key kty {kty} curve {crv} is not allowed"),
            ))
        }
    };
    let expected = 2 + labels.len();
    let exact = pairs.len() == expected
        && pairs.iter().all(|(k, _)| {
            k.as_int()
                .is_some_and(|n| n == 1 || n == -1 || labels.contains(&n))
        });
    if !exact {
        let shown = if labels.len() == 2 {
            "[-3, -2, -1, 1]"
        } else {
            "[-2, -1, 1]"
        };
        return Err(Error::key(
            "key_invalid",
            format!("COSE_Key labels must be exactly {shown}"),
        ));
    }
    let mut raw = Vec::with_capacity(65);
    if labels.len() == 2 {
        raw.push(4); // SEC 1 uncompressed point: 04 || x || y
    }
    for &n in labels {
        match label(n) {
            Some(Value::Bytes(c)) if c.len() == 32 => raw.extend_from_slice(c),
            _ => {
                return Err(Error::key(
                    "key_invalid",
                    format!("COSE_Key label {n} must be 32 bytes"),
                ))
            }
        }
    }
    let (key, algorithm) = crate::link::import_cached(name, &raw)?;
    Ok((key, algorithm, raw))
}

/// spec 5.5: the purpose and descriptor claim keys, which [`plain_parts`] reads
pub const L_PURPOSE: u64 = 12;
pub const L_DESCRIPTOR: u64 = 13;

/// Where the parts of a link's claims sit in its payload bytes, for a payload whose claims
/// are in the common shape (`codec._plain`): the holder, the capabilities, the caveats and
/// the descriptor as byte spans (the reference remembers what each reads as by those
/// bytes), the purpose, and the link's id of spec 8.5.
#[derive(Debug, PartialEq, Eq)]
pub struct PlainParts<'a> {
    pub holder: (usize, usize),
    pub capabilities: (usize, usize),
    pub caveats: (usize, usize),
    pub descriptor: (usize, usize),
    pub purpose: Option<&'a str>,
    /// spec 8.5: SHA-256 of the claims map without its `parent` entry (the payload's own
    /// digest for a root)
    pub id: [u8; 32],
}

/// spec 5.7: the digest of a CBOR invocation's carried arguments (SHA-256 of their
/// deterministic encoding) read from its payload bytes, as `codec.payload_args_digest`
/// reads it: in a claims map of 1 to 23 entries, past keys 1 to 5 (one byte each) and
/// their values, key 6's value is exactly that encoding. None for another shape (arguments
/// bound by digest have no key 6); the caller then encodes the arguments.
pub fn args_digest(payload: &[u8]) -> Option<[u8; 32]> {
    let head = *payload.first()?;
    if !(0xA1..=0xB7).contains(&head) {
        return None;
    }
    let mut at = 1;
    while matches!(*payload.get(at)?, 0x01..=0x05) {
        at = item_end(payload, at + 1)?;
    }
    if *payload.get(at)? != 0x06 {
        return None;
    }
    let end = item_end(payload, at + 1)?;
    Some(crate::sha256(payload.get(at + 1..end)?))
}

/// Where the CBOR item at `at` ends, in bytes the strict decoder accepted (definite lengths,
/// no tags); None past anything else, so a caller can only fall back to the general reading.
fn item_end(data: &[u8], mut at: usize) -> Option<usize> {
    let mut pending: usize = 1;
    while pending > 0 {
        let initial = *data.get(at)?;
        let (major, info) = (initial >> 5, initial & 0x1F);
        at += 1;
        let arg: usize = match info {
            0..=23 => usize::from(info),
            24..=27 => {
                let width = 1usize << (info - 24);
                let bytes = data.get(at..at.checked_add(width)?)?;
                at += width;
                let mut n: u64 = 0;
                for b in bytes {
                    n = (n << 8) | u64::from(*b);
                }
                usize::try_from(n).ok()?
            }
            _ => return None,
        };
        pending -= 1;
        match major {
            2 | 3 => at = at.checked_add(arg)?,
            4 => pending = pending.checked_add(arg)?,
            5 => pending = pending.checked_add(arg.checked_mul(2)?)?,
            6 => return None,
            _ => {}
        }
    }
    (at <= data.len()).then_some(at)
}

/// The values of a claims map of the common shape, each as its span in the payload, by
/// key: the walk [`plain_parts`] and [`plain_link`] share. A map of at most 23 entries whose
/// keys are the link claims other than approvals and usage, each in one byte, no value null,
/// nothing after it; None otherwise. Read over bytes the strict decoder accepts (a caller
/// that has not decoded them validates them first: `cbor::validate`).
struct PlainMap {
    /// the map's head byte (0xA1 to 0xB7)
    head: u8,
    /// by key: the value's first byte and its end, and where the key's byte is
    values: [Option<(usize, usize)>; 14],
    keys: [usize; 14],
}

impl PlainMap {
    fn walk(payload: &[u8]) -> Option<PlainMap> {
        let head = *payload.first()?;
        if !(0xA1..=0xB7).contains(&head) {
            return None;
        }
        // each entry's key (one byte in the common shape) and the item after it
        let mut found = cbor::MapEntries::EMPTY;
        let mut at = 1;
        for entry in found.spans.iter_mut().take(usize::from(head - 0xA0)) {
            payload.get(at)?;
            let end = item_end(payload, at + 1)?;
            *entry = (at, at + 1, end);
            found.len += 1;
            at = end;
        }
        PlainMap::of_entries(payload, &found)
    }

    /// The map of `payload` from where its entries lie: found by the strict decoder's one
    /// pass (`cbor::validate_map` over the same payload) or by [`PlainMap::walk`].
    fn of_entries(payload: &[u8], found: &cbor::MapEntries) -> Option<PlainMap> {
        let head = *payload.first()?;
        if !(0xA1..=0xB7).contains(&head) || usize::from(head - 0xA0) != found.len {
            return None;
        }
        let mut map = PlainMap {
            head,
            values: [None; 14],
            keys: [0; 14],
        };
        let mut at = 1;
        for &(key_at, start, end) in found.entries() {
            // each entry where the last one ended, its key one byte
            if key_at != at || start != key_at + 1 || end <= start {
                return None;
            }
            let key = *payload.get(key_at)?;
            if *payload.get(start)? == 0xF6 {
                return None; // null: the general reading names it
            }
            match u64::from(key) {
                1..=4 | 6..=11 | L_PURPOSE | L_DESCRIPTOR => {}
                _ => return None,
            }
            if map.values[usize::from(key)].is_some() {
                return None; // a repeated key: no strict decoder hands one over
            }
            map.values[usize::from(key)] = Some((start, end));
            map.keys[usize::from(key)] = key_at;
            at = end;
        }
        (at == payload.len()).then_some(map)
    }

    /// The bytes of the value of `key`, if present (None for a key outside the map's range).
    fn value<'a>(&self, payload: &'a [u8], key: u64) -> Option<&'a [u8]> {
        let (start, end) = (*self.values.get(usize::try_from(key).ok()?)?)?;
        payload.get(start..end)
    }

    /// What [`plain_parts`] returns for the map (None, never a panic, for a payload other
    /// than the one walked).
    fn parts<'a>(&self, payload: &'a [u8]) -> Option<PlainParts<'a>> {
        let mut spans = [(0, 0); 4];
        for (span, key) in spans
            .iter_mut()
            .zip([L_HOLDER, L_CAPS, L_CAVEATS, L_DESCRIPTOR])
        {
            let found = self.values[key as usize]?;
            if !matches!(*payload.get(found.0)? >> 5, 4 | 5) {
                return None; // a map or an array
            }
            *span = found;
        }
        let purpose = match self.values[L_PURPOSE as usize] {
            None => None,
            Some((start, end)) => {
                let text = std::str::from_utf8(payload.get(item_end_head(payload, start)?..end)?);
                match (*payload.get(start)? >> 5, text) {
                    (3, Ok(t)) if !t.is_empty() => Some(t),
                    _ => return None,
                }
            }
        };
        let id = match self.values[L_PARENT as usize] {
            None => crate::sha256(payload),
            Some((_, to)) => {
                // spec 8.5: the claims map without its parent entry, hashed as one
                let from = self.keys[L_PARENT as usize];
                let mut hasher = sha2::Sha256::new();
                hasher.update([self.head - 1]);
                hasher.update(payload.get(1..from)?);
                hasher.update(payload.get(to..)?);
                hasher.finalize().into()
            }
        };
        let [holder, capabilities, caveats, descriptor] = spans;
        Some(PlainParts {
            holder,
            capabilities,
            caveats,
            descriptor,
            purpose,
            id,
        })
    }
}

/// The parts of a payload whose head [`decode_link_head`] accepted, when its claims are in
/// the common shape: a map of at most 23 entries whose keys are the link claims other than
/// approvals and usage, each in one byte; holder, capabilities, caveats and descriptor all
/// present as maps or arrays; a purpose, if any, non-empty text; no null. None otherwise
/// (the reference then reads the decoded payload the general way). `payload` is bytes the
/// strict decoder accepted (a repeated key, which it refuses, gives None here too).
pub fn plain_parts(payload: &[u8]) -> Option<PlainParts<'_>> {
    PlainMap::walk(payload)?.parts(payload)
}

/// A link's head and parts read from its payload's bytes, without a decoded tree: for a
/// payload `cbor::validate` accepted under the object's limits, whose claims are of the
/// common shape ([`plain_parts`]) with version 2, an issuer or a parent of 32 bytes (one
/// of them), the times and the depth in their ranges, one to `max_capabilities`
/// capabilities each a pair of texts, at most `max_caveats` caveats, and a holder whose
/// COSE_Key is in its one deterministic encoding (Ed25519 or ES256) and imports. Returns
/// what [`decode_link_head`] (its `Head`) and [`plain_parts`] return for the same payload,
/// decoded; None for anything else, which the caller reads the general way, with its first
/// violation in its order (the tests hold the two readings together).
pub fn plain_link<'a>(
    payload: &'a [u8],
    limits: &ClaimLimits,
) -> Option<(LinkHead<'a>, PlainParts<'a>)> {
    plain_link_of(payload, PlainMap::walk(payload)?, limits)
}

/// [`plain_link`] for a payload `cbor::validate_map` accepted under the object's limits,
/// given the entries it found: the same answer, the map not walked again.
pub fn plain_link_at<'a>(
    payload: &'a [u8],
    entries: &cbor::MapEntries,
    limits: &ClaimLimits,
) -> Option<(LinkHead<'a>, PlainParts<'a>)> {
    plain_link_of(payload, PlainMap::of_entries(payload, entries)?, limits)
}

fn plain_link_of<'a>(
    payload: &'a [u8],
    map: PlainMap,
    limits: &ClaimLimits,
) -> Option<(LinkHead<'a>, PlainParts<'a>)> {
    const _: () = assert!(VERSION < 24); // an unsigned integer of one byte
    let parts = map.parts(payload)?;
    let value = |key: u64| map.value(payload, key);
    if value(L_VERSION)? != [VERSION as u8] {
        return None;
    }
    let uint = |key: u64, upper: u64| {
        let item = value(key)?;
        match read_head(item, 0)? {
            (0, n, end) if end == item.len() && n <= upper => Some(n),
            _ => None,
        }
    };
    let nbf = uint(L_NBF, MAX_TIME)?;
    let exp = uint(L_EXP, MAX_TIME)?;
    let iat = uint(L_IAT, MAX_TIME)?;
    let depth = uint(L_DEPTH, 255)?;
    // a digest: a byte string of 32 bytes, whose shortest head is 0x58 0x20
    let digest = |key: u64| match value(key) {
        None => Some(None),
        Some([0x58, 0x20, rest @ ..]) if rest.len() == 32 => Some(Some(rest)),
        Some(_) => None,
    };
    let (issuer, parent) = (digest(L_ISSUER)?, digest(L_PARENT)?);
    if issuer.is_none() == parent.is_none() {
        return None;
    }
    let capabilities = plain_capabilities(value(L_CAPS)?)?;
    let caveats = match read_head(value(L_CAVEATS)?, 0)? {
        (4, n, _) => n,
        _ => return None,
    };
    if capabilities.is_empty()
        || capabilities.len() as i128 > limits.max_capabilities
        || i128::from(caveats) > limits.max_caveats
    {
        return None;
    }
    let (name, holder_raw) = plain_cose_key(value(L_HOLDER)?)?;
    let (holder, holder_alg) = crate::link::import_cached(name, &holder_raw).ok()?;
    Some((
        LinkHead {
            issuer,
            parent,
            iat,
            nbf,
            exp,
            depth,
            holder,
            holder_alg,
            holder_raw,
            capabilities,
        },
        parts,
    ))
}

/// The head of the item at `at`: `(major type, argument, where the head ends)`, for the
/// integer, string, array and map heads of bytes the strict decoder accepts.
fn read_head(data: &[u8], at: usize) -> Option<(u8, u64, usize)> {
    let initial = *data.get(at)?;
    let (major, info) = (initial >> 5, initial & 0x1F);
    match info {
        0..=23 => Some((major, u64::from(info), at + 1)),
        24..=27 => {
            let width = 1usize << (info - 24);
            let bytes = data.get(at + 1..at + 1 + width)?;
            let arg = bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
            Some((major, arg, at + 1 + width))
        }
        _ => None,
    }
}

/// The capabilities of an array whose every item is a pair of texts, in order; None for
/// any other array (the reference's capability check names what is wrong).
fn plain_capabilities(array: &[u8]) -> Option<Vec<(&str, &str)>> {
    let (major, count, mut at) = read_head(array, 0)?;
    if major != 4 {
        return None;
    }
    let mut found = Vec::with_capacity(usize::try_from(count).ok()?.min(array.len()));
    for _ in 0..count {
        if *array.get(at)? != 0x82 {
            return None;
        }
        at += 1;
        let mut pair = [""; 2];
        for text in &mut pair {
            let (major, len, start) = read_head(array, at)?;
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            if major != 3 {
                return None;
            }
            *text = std::str::from_utf8(array.get(start..end)?).ok()?;
            at = end;
        }
        found.push((pair[0], pair[1]));
    }
    (at == array.len()).then_some(found)
}

/// The key of a COSE_Key in its one deterministic encoding (spec 3.3): Ed25519 as
/// `{1: 1, -1: 6, -2: x}`, ES256 as `{1: 2, -1: 1, -2: x, -3: y}`, coordinates of 32 bytes;
/// the algorithm's name and the key's raw bytes as `cose_key` makes them (an ES256 point
/// uncompressed, SEC 1). None for any other encoding, which `cose_key` judges.
fn plain_cose_key(key: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    const ED25519: [u8; 8] = [0xA3, 0x01, 0x01, 0x20, 0x06, 0x21, 0x58, 0x20];
    const ES256: [u8; 8] = [0xA4, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20];
    match key {
        _ if key.len() == 40 && key[..8] == ED25519 => Some(("Ed25519", key[8..].to_vec())),
        _ if key.len() == 75 && key[..8] == ES256 && key[40..43] == [0x22, 0x58, 0x20] => {
            let mut raw = Vec::with_capacity(65);
            raw.push(4);
            raw.extend_from_slice(&key[8..40]);
            raw.extend_from_slice(&key[43..]);
            Some(("ES256", raw))
        }
        _ => None,
    }
}

/// Where the head of the item at `at` ends (its argument's bytes included).
fn item_end_head(data: &[u8], at: usize) -> Option<usize> {
    match *data.get(at)? & 0x1F {
        0..=23 => Some(at + 1),
        info @ 24..=27 => Some(at + 1 + (1usize << (info - 24))),
        _ => None,
    }
}

/// spec 8.5: the domain of a link's revocation target (`verifier.LINK_TARGET_DOMAIN`)
pub const LINK_TARGET_DOMAIN: &[u8] = b"agentchain/revoke-link/v1";

/// spec 8.5: a link's revocation target, SHA-256(domain || its id), as
/// `verifier.link_target` computes it.
pub fn link_target(id: &[u8; 32]) -> [u8; 32] {
    let mut hasher = sha2::Sha256::new();
    hasher.update(LINK_TARGET_DOMAIN);
    hasher.update(id);
    hasher.finalize().into()
}

/// spec 5.7: the invocation claim keys of the common shape (`I_VERSION` to `I_NONCE`)
pub const I_VERSION: u64 = 1;
pub const I_CHAIN: u64 = 2;
pub const I_AUDIENCE: u64 = 3;
pub const I_ACTION: u64 = 4;
pub const I_RESOURCE: u64 = 5;
pub const I_ARGS: u64 = 6;
pub const I_IAT: u64 = 7;
pub const I_NONCE: u64 = 8;

/// The claims of a CBOR invocation in the common shape, borrowed from its decoded payload.
#[derive(Debug, PartialEq)]
pub struct PlainInvocation<'v, 'a> {
    pub chain: &'a [u8],
    pub audience: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    /// the arguments' map, every key a text (spec 5.7)
    pub args: &'v Value<'a>,
    pub iat: u64,
    pub nonce: &'a [u8],
}

/// The claims of a decoded invocation payload in the common shape that
/// `codec._claims._plain_cbor_invocation` reads: exactly the claims `I_VERSION` to
/// `I_NONCE` (its arguments carried, no attachment named), each of its type and in its
/// range, and the arguments a map with text keys. None for anything else, where the reference
/// reads the payload and finds the first violation in its order. The action's and the
/// resource's grammar (spec 4.2) are not checked here: the caller checks them, in the
/// reference's order, before it makes the claims.
pub fn plain_invocation<'v, 'a>(payload: &'v Value<'a>) -> Option<PlainInvocation<'v, 'a>> {
    let Value::Map(pairs) = payload else {
        return None;
    };
    if pairs.len() != 8 {
        return None;
    }
    let (mut version, mut chain, mut audience, mut action) = (None, None, None, None);
    let (mut resource, mut args, mut iat, mut nonce) = (None, None, None, None);
    for (key, value) in pairs {
        // keys in the deterministic order are distinct: eight of them, each of 1..=8, are
        // exactly the eight claims
        match (key, value) {
            (Value::Uint(I_VERSION), Value::Uint(n)) if *n == VERSION => version = Some(()),
            (Value::Uint(I_CHAIN), Value::Bytes(b)) if b.len() == 32 => chain = Some(*b),
            (Value::Uint(I_AUDIENCE), Value::Text(t)) if !t.is_empty() => audience = Some(*t),
            (Value::Uint(I_ACTION), Value::Text(t)) if !t.is_empty() => action = Some(*t),
            (Value::Uint(I_RESOURCE), Value::Text(t)) if !t.is_empty() => resource = Some(*t),
            (Value::Uint(I_ARGS), Value::Map(entries))
                if entries.iter().all(|(k, _)| matches!(k, Value::Text(_))) =>
            {
                args = Some(value)
            }
            (Value::Uint(I_IAT), Value::Uint(n)) if *n <= MAX_TIME => iat = Some(*n),
            (Value::Uint(I_NONCE), Value::Bytes(b)) if (16..=64).contains(&b.len()) => {
                nonce = Some(*b)
            }
            _ => return None,
        }
    }
    version?;
    Some(PlainInvocation {
        chain: chain?,
        audience: audience?,
        action: action?,
        resource: resource?,
        args: args?,
        iat: iat?,
        nonce: nonce?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link<'a>(extra: Vec<(Value<'a>, Value<'a>)>) -> Value<'a> {
        let key = Value::Map(vec![
            (Value::Uint(1), Value::Uint(1)),
            (Value::Nint(0), Value::Uint(6)),
            (Value::Nint(1), Value::Bytes(&BASE)),
        ]);
        let mut pairs = vec![
            (Value::Uint(1), Value::Uint(2)),
            (Value::Uint(2), Value::Bytes(&[7; 32])),
            (Value::Uint(3), key),
            (Value::Uint(6), Value::Uint(10)),
            (Value::Uint(7), Value::Uint(10)),
            (Value::Uint(8), Value::Uint(20)),
            (
                Value::Uint(9),
                Value::Array(vec![Value::Array(vec![
                    Value::Text("a"),
                    Value::Text("https://x/"),
                ])]),
            ),
            (Value::Uint(10), Value::Array(vec![])),
            (Value::Uint(11), Value::Uint(3)),
        ];
        pairs.extend(extra);
        Value::Map(pairs)
    }

    /// the Ed25519 base point: a canonical key of prime order
    const BASE: [u8; 32] = {
        let mut b = [0x66u8; 32];
        b[0] = 0x58;
        b
    };

    const LIMITS: ClaimLimits = ClaimLimits {
        max_capabilities: 64,
        max_caveats: 64,
    };

    fn code(value: &Value<'_>) -> &'static str {
        match decode_link_head(value, &LIMITS) {
            Ok(_) => "ok",
            Err(e) => e.code,
        }
    }

    #[test]
    fn carried_arguments_digest() {
        // {1: 2, 2: h'07'x32, 3: "aud", 4: "act", 5: "res", 6: {"n": 1}, 7: 5}
        let mut payload = vec![0xa7, 0x01, 0x02, 0x02, 0x58, 0x20];
        payload.extend([7u8; 32]);
        payload.extend(b"\x03\x63aud\x04\x63act\x05\x63res");
        let args = [0xa1, 0x61, b'n', 0x01];
        payload.push(0x06);
        payload.extend(args);
        payload.extend([0x07, 0x05]);
        assert_eq!(args_digest(&payload), Some(crate::sha256(&args)));
        // bound by digest (key 9, no key 6), truncated, or not a map: no reading
        let mut bound = payload.clone();
        let six = bound.iter().position(|&b| b == 0x06).unwrap();
        bound[six] = 0x09;
        assert_eq!(args_digest(&bound), None);
        assert_eq!(args_digest(&payload[..six + 2]), None);
        assert_eq!(args_digest(&[0x80]), None);
        assert_eq!(args_digest(&[]), None);
    }

    #[test]
    fn head_and_its_refusals() {
        assert_eq!(code(&link(vec![])), "ok");
        assert_eq!(
            code(&link(vec![(Value::Uint(5), Value::Uint(1))])),
            "unknown_field"
        );
        assert_eq!(
            code(&link(vec![(Value::Uint(4), Value::Bytes(&[1; 32]))])),
            "schema_invalid"
        );
        assert_eq!(code(&Value::Array(vec![])), "schema_invalid");
        assert!(matches!(
            decode_link_head(&link(vec![(Value::Bool(true), Value::Uint(1))]), &LIMITS),
            Ok(Decoded::Defer)
        ));
    }

    fn link_pairs<'a>() -> Vec<(Value<'a>, Value<'a>)> {
        match &mut link(vec![]) {
            Value::Map(pairs) => std::mem::take(pairs),
            _ => unreachable!(),
        }
    }

    /// `link()` in the common shape: a parent instead of the issuer if given, a purpose if
    /// given, then a descriptor
    fn shaped<'a>(
        parent: Option<&'a [u8]>,
        purpose: Option<&'a str>,
    ) -> Vec<(Value<'a>, Value<'a>)> {
        let mut pairs = link_pairs();
        if let Some(parent) = parent {
            pairs.remove(1);
            pairs.insert(2, (Value::Uint(4), Value::Bytes(parent)));
        }
        if let Some(purpose) = purpose {
            pairs.push((Value::Uint(12), Value::Text(purpose)));
        }
        let descriptor = Value::Map(vec![(Value::Uint(1), Value::Text("agent"))]);
        pairs.push((Value::Uint(13), descriptor));
        pairs
    }

    #[test]
    fn plain_parts_of_the_common_shape() {
        let encode = |pairs| crate::cbor::encode(&Value::Map(pairs));
        let root = encode(shaped(None, None));
        let parts = plain_parts(&root).expect("the common shape");
        assert_eq!(parts.id, crate::sha256(&root)); // spec 8.5: a root's id, its digest
        assert_eq!(&root[parts.caveats.0..parts.caveats.1], &[0x80]);
        assert_eq!(root[parts.holder.0], 0xA3);
        assert_eq!(parts.purpose, None);
        // a child: its id is the digest of its claims map without the parent entry
        let child = encode(shaped(Some(&[9; 32]), Some("why")));
        let parts = plain_parts(&child).expect("the common shape");
        let mut without = shaped(Some(&[9; 32]), Some("why"));
        without.remove(2);
        assert_eq!(parts.id, crate::sha256(&encode(without)));
        assert_eq!(parts.purpose, Some("why"));
        // anything else is left to the general reading
        let mut trailing = child.clone();
        trailing.push(0);
        assert_eq!(plain_parts(&trailing), None);
        assert_eq!(plain_parts(&encode(shaped(None, Some("")))), None);
        assert_eq!(plain_parts(&encode(link_pairs())), None); // no descriptor
        let mut approvals = shaped(None, None);
        approvals.push((Value::Uint(14), Value::Array(vec![])));
        assert_eq!(plain_parts(&encode(approvals)), None);
        let mut null = shaped(None, None);
        null.push((Value::Uint(15), Value::Null));
        assert_eq!(plain_parts(&encode(null)), None);
        // a repeated key (which the strict decoder refuses) is not read either
        let mut twice = shaped(None, Some("a"));
        twice.push((Value::Uint(12), Value::Text("b")));
        twice.sort_by_key(|(k, _)| k.as_int());
        assert_eq!(plain_parts(&encode(twice)), None);
    }

    /// The general reading of a link payload: decoded, then `decode_link_head` and
    /// `plain_parts` over it, as what `plain_link` returns (None where either refuses).
    fn general(payload: &[u8]) -> Option<(LinkHead<'_>, PlainParts<'_>)> {
        let value = crate::cbor::decode(payload, &crate::cbor::Limits::default()).ok()?;
        match decode_link_head(&value, &LIMITS).ok()? {
            Decoded::Head(head) => Some((*head, plain_parts(payload)?)),
            Decoded::Defer => None,
        }
    }

    /// `plain_link` of a payload the strict decoder accepts, where it reads one; and
    /// `plain_link_at` over the entries `validate_map` found reads the same
    fn fast(payload: &[u8]) -> Option<(LinkHead<'_>, PlainParts<'_>)> {
        let entries = crate::cbor::validate_map(payload, &crate::cbor::Limits::default()).ok()?;
        let walked = plain_link(payload, &LIMITS);
        let at = entries.and_then(|e| plain_link_at(payload, &e, &LIMITS));
        match (&walked, &at) {
            (Some(a), Some(b)) => assert!(same(a, b), "plain_link_at read another head"),
            (None, None) => {}
            _ => panic!("plain_link and plain_link_at disagree on {payload:02x?}"),
        }
        walked
    }

    /// The two readings of a head and its parts are the same.
    fn same(a: &(LinkHead<'_>, PlainParts<'_>), b: &(LinkHead<'_>, PlainParts<'_>)) -> bool {
        let (x, y) = (&a.0, &b.0);
        (x.issuer, x.parent, x.iat, x.nbf, x.exp, x.depth)
            == (y.issuer, y.parent, y.iat, y.nbf, y.exp, y.depth)
            && (x.holder_alg.name, &x.holder_raw) == (y.holder_alg.name, &y.holder_raw)
            && x.capabilities == y.capabilities
            && a.1 == b.1
    }

    /// the P-256 base point, uncompressed coordinates: an ES256 key that imports
    const P256_X: [u8; 32] = [
        0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
        0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98,
        0xc2, 0x96,
    ];
    const P256_Y: [u8; 32] = [
        0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
        0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf,
        0x51, 0xf5,
    ];

    /// `pairs` with the value of `key` replaced (or added, in key order)
    fn with<'a>(
        mut pairs: Vec<(Value<'a>, Value<'a>)>,
        key: u64,
        value: Value<'a>,
    ) -> Vec<(Value<'a>, Value<'a>)> {
        match pairs
            .iter()
            .position(|(k, _)| matches!(k, Value::Uint(n) if *n >= key))
        {
            Some(at) if pairs[at].0 == Value::Uint(key) => pairs[at].1 = value,
            Some(at) => pairs.insert(at, (Value::Uint(key), value)),
            None => pairs.push((Value::Uint(key), value)),
        }
        pairs
    }

    #[test]
    fn plain_link_reads_what_the_general_reading_reads() {
        let encode = |pairs| crate::cbor::encode(&Value::Map(pairs));
        let es256 = Value::Map(vec![
            (Value::Uint(1), Value::Uint(2)),
            (Value::Nint(0), Value::Uint(1)),
            (Value::Nint(1), Value::Bytes(&P256_X)),
            (Value::Nint(2), Value::Bytes(&P256_Y)),
        ]);
        let two = Value::Array(vec![
            Value::Array(vec![Value::Text("a"), Value::Text("https://x/")]),
            Value::Array(vec![Value::Text("b/é"), Value::Text("https://y/*")]),
        ]);
        let caveat = Value::Array(vec![
            Value::Text("<="),
            Value::Text(".amount"),
            Value::Float(0.5),
        ]);
        let read = [
            encode(shaped(None, None)),
            encode(shaped(Some(&[9; 32]), Some("why"))),
            encode(with(shaped(None, None), L_HOLDER, es256)),
            encode(with(shaped(None, None), L_CAPS, two)),
            encode(with(
                shaped(None, None),
                L_CAVEATS,
                Value::Array(vec![caveat]),
            )),
            encode(with(shaped(None, None), L_NBF, Value::Uint(MAX_TIME))),
            encode(with(shaped(None, None), L_DEPTH, Value::Uint(255))),
        ];
        for payload in &read {
            let (a, b) = (fast(payload), general(payload));
            assert!(a.is_some() && b.is_some(), "{payload:02x?}");
            assert!(same(&a.unwrap(), &b.unwrap()), "{payload:02x?}");
        }
        // outside the shape (the general reading refuses these, or reads them its own way)
        let cap = |v| Value::Array(vec![v]);
        let too_many = Value::Array((0..65).map(|_| Value::Array(vec![])).collect());
        let other: Vec<(u64, Value<'static>)> = vec![
            (L_VERSION, Value::Uint(3)),
            (L_VERSION, Value::Text("2")),
            (L_CAPS, Value::Array(vec![])),
            (L_CAPS, cap(Value::Text("a"))),
            (L_CAPS, cap(Value::Array(vec![Value::Text("a")]))),
            (
                L_CAPS,
                cap(Value::Array(vec![Value::Text("a"), Value::Uint(1)])),
            ),
            (L_CAPS, Value::Map(vec![])),
            (L_CAVEATS, too_many),
            (L_CAVEATS, Value::Map(vec![])),
            (L_NBF, Value::Uint(MAX_TIME + 1)),
            (L_EXP, Value::Nint(0)),
            (L_IAT, Value::Text("now")),
            (L_DEPTH, Value::Uint(256)),
            (L_ISSUER, Value::Bytes(&[7; 31])),
            (L_ISSUER, Value::Bytes(&[7; 33])),
            (L_PARENT, Value::Bytes(&[1; 32])), // beside the issuer
            (L_PURPOSE, Value::Text("")),
            (L_HOLDER, Value::Map(vec![(Value::Uint(1), Value::Uint(1))])),
            (
                L_HOLDER,
                Value::Map(vec![
                    (Value::Uint(1), Value::Uint(1)),
                    (Value::Nint(0), Value::Uint(6)),
                    (Value::Nint(1), Value::Bytes(&[0; 32])), // small order
                ]),
            ),
            (
                L_HOLDER,
                Value::Map(vec![
                    (Value::Uint(1), Value::Uint(1)),
                    (Value::Uint(3), Value::Nint(7)), // a label too many
                    (Value::Nint(0), Value::Uint(6)),
                    (Value::Nint(1), Value::Bytes(&BASE)),
                ]),
            ),
        ];
        for (key, value) in other {
            let shown = format!("{key}: {value:?}");
            let payload = encode(with(shaped(None, None), key, value));
            assert!(fast(&payload).is_none(), "{shown}");
        }
        let mut no_issuer = shaped(None, None);
        no_issuer.retain(|(k, _)| *k != Value::Uint(L_ISSUER));
        assert!(fast(&encode(no_issuer)).is_none());
        let mut no_depth = shaped(None, None);
        no_depth.retain(|(k, _)| *k != Value::Uint(L_DEPTH));
        assert!(fast(&encode(no_depth)).is_none());
    }

    /// Every payload one byte away from two real ones (each byte flipped, zeroed, filled,
    /// bumped), cut short or lengthened: wherever `plain_link` reads one, the general
    /// reading reads the same.
    #[test]
    fn plain_link_agrees_with_the_general_reading_on_mutations() {
        let encode = |pairs| crate::cbor::encode(&Value::Map(pairs));
        let mut read = 0;
        for payload in [
            encode(shaped(None, None)),
            encode(shaped(Some(&[9; 32]), Some("why"))),
        ] {
            let mut mutants: Vec<Vec<u8>> = Vec::new();
            for at in 0..payload.len() {
                for byte in [
                    payload[at] ^ 1,
                    payload[at] ^ 0x80,
                    0,
                    0xFF,
                    payload[at].wrapping_add(1),
                ] {
                    let mut m = payload.clone();
                    m[at] = byte;
                    mutants.push(m);
                }
                mutants.push(payload[..at].to_vec());
            }
            mutants.push([payload.as_slice(), &[0]].concat());
            for m in &mutants {
                if let Some(a) = fast(m) {
                    read += 1;
                    let b = general(m).unwrap_or_else(|| panic!("only plain_link reads {m:02x?}"));
                    assert!(same(&a, &b), "{m:02x?}");
                }
            }
        }
        assert!(read > 100, "{read}"); // the time, key and capability bytes vary freely
    }

    fn invocation<'a>(changed: Option<(u64, Value<'a>)>) -> Value<'a> {
        let mut pairs = vec![
            (Value::Uint(1), Value::Uint(2)),
            (Value::Uint(2), Value::Bytes(&[7; 32])),
            (Value::Uint(3), Value::Text("https://api")),
            (Value::Uint(4), Value::Text("read")),
            (Value::Uint(5), Value::Text("https://api/x")),
            (
                Value::Uint(6),
                Value::Map(vec![(Value::Text("n"), Value::Uint(1))]),
            ),
            (Value::Uint(7), Value::Uint(10)),
            (Value::Uint(8), Value::Bytes(&[9; 16])),
        ];
        if let Some((key, value)) = changed {
            match pairs.iter_mut().find(|(k, _)| *k == Value::Uint(key)) {
                Some(pair) => pair.1 = value,
                None => pairs.push((Value::Uint(key), value)),
            }
        }
        Value::Map(pairs)
    }

    #[test]
    fn plain_invocation_reads_the_common_shape() {
        let value = invocation(None);
        let plain = plain_invocation(&value).expect("the common shape");
        assert_eq!(plain.chain, &[7; 32]);
        assert_eq!(
            (plain.audience, plain.action, plain.resource, plain.iat),
            ("https://api", "read", "https://api/x", 10)
        );
        assert_eq!(plain.nonce, &[9; 16]);
        assert!(matches!(plain.args, Value::Map(entries) if entries.len() == 1));
        // the bounds themselves are of the shape
        let widest = invocation(Some((8, Value::Bytes(&[1; 64]))));
        assert!(plain_invocation(&widest).is_some());
        let latest = invocation(Some((7, Value::Uint(MAX_TIME))));
        assert!(plain_invocation(&latest).is_some());
        let no_args = invocation(Some((6, Value::Map(vec![]))));
        assert!(plain_invocation(&no_args).is_some());
    }

    #[test]
    fn plain_invocation_leaves_everything_else_to_the_reference() {
        let other: Vec<(u64, Value<'static>)> = vec![
            (1, Value::Uint(1)),                                  // another version
            (1, Value::Bool(true)),                               // a version of another type
            (2, Value::Bytes(&[7; 31])),                          // a chain digest of 31 bytes
            (3, Value::Text("")),                                 // an empty audience
            (4, Value::Text("")),                                 // an empty action
            (4, Value::Uint(4)),                                  // an action of another type
            (5, Value::Text("")),                                 // an empty resource
            (6, Value::Array(vec![])),                            // arguments not a map
            (6, Value::Map(vec![(Value::Uint(1), Value::Null)])), // a key not a text
            (7, Value::Uint(MAX_TIME + 1)),                       // a time out of range
            (7, Value::Nint(0)),                                  // a negative time
            (8, Value::Bytes(&[9; 15])),                          // a nonce too short
            (8, Value::Bytes(&[9; 65])),                          // a nonce too long
            (9, Value::Bytes(&[1; 32])),                          // a ninth claim (args by digest)
            (10, Value::Array(vec![])),                           // attachments named
        ];
        for (key, value) in other {
            let shown = format!("{key}: {value:?}");
            assert_eq!(
                plain_invocation(&invocation(Some((key, value)))),
                None,
                "{shown}"
            );
        }
        let mut missing = invocation(None);
        if let Value::Map(pairs) = &mut missing {
            pairs.retain(|(k, _)| *k != Value::Uint(5));
            pairs.push((Value::Text("resource"), Value::Text("https://api/x")));
        }
        assert_eq!(plain_invocation(&missing), None);
        assert_eq!(plain_invocation(&Value::Array(vec![])), None);
    }
}
