//! Strict deterministic CBOR decoding (spec 5.2, RFC 8949 section 4.2.1).
//!
//! The accepted set, the limits and the order of the checks are those of the reference
//! decoder `agentchain/wire/cbor.py`, read for read: when an input breaks several rules the
//! first one met in reading order wins, and within one item the checks run in the order of
//! R-5.2-11: the initial byte (reserved: `cbor_malformed`, indefinite: `cbor_indefinite`),
//! the key type (`cbor_unsupported`), truncation of the argument (`cbor_malformed`), the
//! shortest form (`cbor_noncanonical`), the tag (`cbor_tag`), the limits (`limit_exceeded`),
//! truncation of the content (`cbor_malformed`), then UTF-8 and the key order. Messages,
//! byte positions included, are the reference's too, so the differential tests can check
//! that both paths stop at the same byte for the same reason. Floats (R-5.2-12) are those of
//! the reference too: finite, not an integer of the CBOR integer range, in the narrowest of
//! binary16, binary32 and binary64 that holds them exactly.
//!
//! The decoder is iterative (an explicit stack), checks every declared length or count against
//! the limits and the bytes left before allocating anything, and borrows strings from the
//! input instead of copying them.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};

/// A decoded item; strings borrow the input.
#[derive(Debug, PartialEq)]
// a whole word for the tag: the decoder moves values into containers one by one, and with
// a one-byte tag those moves were split into unaligned copies the next read stalled on
// (a link's payload decoded and dropped in 620 ns against 485 with this)
#[repr(u64)]
pub enum Value<'a> {
    /// major type 0
    Uint(u64),
    /// major type 1: the value is `-1 - n` for the stored `n` (RFC 8949 section 3.1)
    Nint(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Bool(bool),
    Null,
    /// major type 7, additional information 25..27 (R-5.2-12): finite, not integral, and in
    /// its shortest exact width
    Float(f64),
    Array(Vec<Value<'a>>),
    /// pairs in wire order, which is the deterministic key order
    Map(Vec<(Value<'a>, Value<'a>)>),
}

impl Value<'_> {
    /// The integer value of an integer item, widened so both major types fit.
    pub fn as_int(&self) -> Option<i128> {
        match *self {
            Value::Uint(n) => Some(i128::from(n)),
            Value::Nint(n) => Some(-1 - i128::from(n)),
            _ => None,
        }
    }
}

thread_local! {
    /// How many container drops of this thread are running inside one another (see `Drop`).
    static DROP_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Drop `value`, skipping the drop call for the variants that own nothing (they borrow the
/// input or hold a number): most items of a protocol object are such leaves.
fn release(value: Value<'_>) {
    if matches!(
        value,
        Value::Uint(_)
            | Value::Nint(_)
            | Value::Bytes(_)
            | Value::Text(_)
            | Value::Bool(_)
            | Value::Null
            | Value::Float(_)
    ) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

/// Containers nested up to this deep are dropped by plain recursion, deeper ones by one
/// explicit stack: a few kilobytes of the thread's stack at most.
const RECURSIVE_DROP_DEPTH: u32 = 32;

impl Drop for Value<'_> {
    /// Bounded: a value nested as deep as its caller's limit allows (a 64 KiB input can nest
    /// 65,536 arrays) must not overflow the stack when it is dropped. Leaves return at once.
    /// A container drops its children in place, by recursion, while fewer than
    /// [`RECURSIVE_DROP_DEPTH`] container drops run inside one another on this thread
    /// (a protocol object nests a few levels: no allocation, no scan); below that, it hands
    /// its descendants to one explicit stack.
    fn drop(&mut self) {
        if !matches!(self, Value::Array(_) | Value::Map(_)) {
            return;
        }
        let depth = DROP_DEPTH.get();
        if depth < RECURSIVE_DROP_DEPTH {
            DROP_DEPTH.set(depth + 1);
            match self {
                Value::Array(items) => items.drain(..).for_each(release),
                Value::Map(pairs) => pairs.drain(..).for_each(|(k, v)| {
                    release(k);
                    release(v);
                }),
                _ => {}
            }
            DROP_DEPTH.set(depth);
            return;
        }
        fn nested(v: &Value<'_>) -> bool {
            matches!(v, Value::Array(_) | Value::Map(_))
        }
        let mut pending: Vec<Value<'_>> = match self {
            Value::Array(items) if items.iter().any(nested) => std::mem::take(items),
            Value::Map(pairs) if pairs.iter().any(|(_, v)| nested(v)) => {
                std::mem::take(pairs).into_iter().map(|(_, v)| v).collect()
            }
            _ => return,
        };
        while let Some(mut value) = pending.pop() {
            match &mut value {
                Value::Array(items) => pending.append(items),
                Value::Map(pairs) => {
                    pending.extend(std::mem::take(pairs).into_iter().map(|(_, v)| v))
                }
                _ => {}
            }
            // `value` drops here without children
        }
    }
}

/// The three caller-given bounds of spec 5.6. Signed and wide like the reference's Python
/// ints, so that every comparison, even with a zero or negative bound, gives its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_depth: i128,
    pub max_items: i128,
    pub max_string_bytes: i128,
}

impl Default for Limits {
    /// the reference decoder's defaults
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_items: 2048,
            max_string_bytes: 4096,
        }
    }
}

// Major types (RFC 8949 section 3.1).
pub const UINT: u8 = 0;
pub const NINT: u8 = 1;
pub const BYTES: u8 = 2;
pub const TEXT: u8 = 3;
pub const ARRAY: u8 = 4;
pub const MAP: u8 = 5;
const TAG: u8 = 6;
const SIMPLE: u8 = 7;

/// Additional information 24..27: each width is the shortest form only for arguments at
/// least this large (RFC 8949 section 4.2.1).
const ARG_MIN: [u64; 4] = [24, 0x100, 0x1_0000, 0x1_0000_0000];

const FALSE: u8 = 0xF4;
const TRUE: u8 = 0xF5;
const NULL: u8 = 0xF6;

fn fail(code: &'static str, message: impl std::fmt::Display, pos: usize) -> Error {
    Error::decode(code, format!("{message} (at byte {pos})"))
}

/// 2**64: the CBOR integer range is `[-2**64, 2**64 - 1]` (no f64 is 2**64 - 1).
const TWO_64: f64 = 18_446_744_073_709_551_616.0;

/// The float of the `bytes` of a head with additional information `info` (25, 26 or 27)
/// starting at `start` (R-5.2-12), checked as the reference's `_float` checks it: finite
/// (`cbor_unsupported`), not an integer of the CBOR integer range, then in the narrowest
/// width that holds it exactly (both `cbor_noncanonical`).
fn read_float(bytes: &[u8], info: u8, start: usize) -> Result<f64> {
    let raw = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let value = match info {
        25 => half_to_f64(raw as u16),
        26 => f64::from(f32::from_bits(raw as u32)),
        _ => f64::from_bits(raw),
    };
    if !value.is_finite() {
        return Err(fail(
            "cbor_unsupported",
            "NaN or an infinity is not a protocol number",
            start,
        ));
    }
    if is_integral(value) {
        return Err(fail(
            "cbor_noncanonical",
            "an integral float must be encoded as an integer",
            start,
        ));
    }
    if shortest_info(value) != info {
        return Err(fail(
            "cbor_noncanonical",
            "float not in its shortest exact width",
            start,
        ));
    }
    Ok(value)
}

/// Whether a finite float is an integer of the CBOR integer range, which the protocol
/// spells as that integer (spec 5.2; the reference's `number`).
fn is_integral(value: f64) -> bool {
    value.trunc() == value && (-TWO_64..TWO_64).contains(&value)
}

/// IEEE 754 binary16 to binary64, exactly.
fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1F);
    let frac = f64::from(bits & 0x3FF);
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1024.0 + frac) * 2f64.powi(exp - 25),
    }
}

/// Whether a finite non-zero binary64 holds exactly in a binary format of `precision`
/// significand bits whose normal exponents are `min_exp..=max_exp`.
fn holds_in(value: f64, precision: i32, min_exp: i32, max_exp: i32) -> bool {
    let bits = value.to_bits();
    let field = ((bits >> 52) & 0x7FF) as i32;
    if field == 0 {
        return false; // a binary64 subnormal is far below either narrower format
    }
    let significand = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let exp = field - 1023; // of the leading bit
    let lowest = exp - 52 + significand.trailing_zeros() as i32; // of the lowest set bit
    exp <= max_exp && lowest >= min_exp - (precision - 1) && exp - lowest < precision
}

/// The additional information of the shortest exact encoding of a finite, non-integral
/// float: 25 (binary16), 26 (binary32) or 27 (binary64), like the reference's `float_head`.
fn shortest_info(value: f64) -> u8 {
    if holds_in(value, 11, -14, 15) {
        25
    } else if holds_in(value, 24, -126, 127) {
        26
    } else {
        27
    }
}

/// The binary16 bits of a float that holds exactly in binary16.
fn f64_to_half(value: f64) -> u16 {
    let sign: u16 = if value.is_sign_negative() { 0x8000 } else { 0 };
    let magnitude = value.abs();
    if magnitude < 2f64.powi(-14) {
        return sign | (magnitude * 2f64.powi(24)) as u16; // subnormal: exact multiple of 2**-24
    }
    let bits = magnitude.to_bits();
    let exp = ((bits >> 52) & 0x7FF) as i32 - 1023;
    let frac = ((bits >> 42) & 0x3FF) as u16;
    sign | (((exp + 15) as u16) << 10) | frac
}

/// A container being filled.
enum Frame<'a> {
    Array {
        items: Vec<Value<'a>>,
        remaining: u64,
    },
    Map {
        pairs: Vec<(Value<'a>, Value<'a>)>,
        remaining: u64,
        /// the last pair holds a key read and a placeholder for its value, not read yet
        awaiting: bool,
        /// the previous key's encoding, for the order check (never empty once set)
        prev_key: &'a [u8],
    },
}

/// The single CBOR item that is exactly `data`, strictly checked (spec 5.2).
pub fn decode<'a>(data: &'a [u8], limits: &Limits) -> Result<Value<'a>> {
    walk::<true>(data, limits)
}

/// [`decode`]'s checks without its tree: Ok exactly where [`decode`] returns a value, else
/// the same error, from the same code (one walk, built with `BUILD` false). For a caller
/// that reads the bytes itself once they are known to be strict (`claims::plain_link`):
/// no container is filled and nothing is left to drop (the walk's own stack of frames and
/// an error's message are its only allocations).
pub fn validate(data: &[u8], limits: &Limits) -> Result<()> {
    match accepts(data, limits, None) {
        Some(true) => Ok(()),
        // refused, or nested past what `accepts` reads: the walk finds the error, or accepts
        _ => walk::<false>(data, limits).map(std::mem::forget),
    }
}

/// The most entries of a map [`validate_map`] tells apart.
pub const MAX_MAP_ENTRIES: usize = 23;

/// The entries of a map, in order, each as `(key, value, end)`: where its key starts, where
/// its value starts, and where the value ends (byte offsets into the map's encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapEntries {
    pub len: usize,
    pub spans: [(usize, usize, usize); MAX_MAP_ENTRIES],
}

impl MapEntries {
    /// No entry found yet.
    pub const EMPTY: MapEntries = MapEntries {
        len: 0,
        spans: [(0, 0, 0); MAX_MAP_ENTRIES],
    };

    /// The entries found, in order.
    pub fn entries(&self) -> &[(usize, usize, usize)] {
        &self.spans[..self.len.min(MAX_MAP_ENTRIES)]
    }
}

/// [`validate`], and where it accepts a map of one to [`MAX_MAP_ENTRIES`] entries, where
/// each entry lies: found in the same pass, for a caller that reads a few of the values from
/// the bytes (`claims::plain_link_at`), without walking them again. `Ok(None)` where the
/// bytes are strict but hold another item, a map of more entries, or one nested deeper than
/// the one pass reads (then judged by the decoder's walk).
pub fn validate_map(data: &[u8], limits: &Limits) -> Result<Option<MapEntries>> {
    let mut entries = MapEntries::EMPTY;
    match accepts(data, limits, Some(&mut entries)) {
        Some(true) if entries.len > 0 => Ok(Some(entries)),
        Some(true) => Ok(None),
        _ => walk::<false>(data, limits).map(|value| {
            std::mem::forget(value);
            None
        }),
    }
}

/// A container [`accepts`] is inside of.
#[derive(Clone, Copy)]
struct Open {
    /// items still to read in it, a map's keys and values each counted (a map's next item is
    /// a key when an even number are left)
    remaining: u64,
    map: bool,
    /// in a map, the previous key's encoding as `data[key_start..key_end]` (none: 0..0)
    key_start: usize,
    key_end: usize,
}

/// The containers [`accepts`] reads nested: a protocol object nests a few levels.
const ACCEPTS_DEPTH: usize = 16;

/// Whether [`decode`] accepts `data`, by every rule and limit it applies: `Some(true)` exactly
/// where it returns a value, `Some(false)` exactly where it refuses, None where containers
/// nest deeper than [`ACCEPTS_DEPTH`] (not read here). One pass with no value built, no
/// error made and no allocation: [`validate`]'s common case, strict bytes, which the
/// verifier reads link after link. Where it refuses, the walk names the first violation.
/// The tests hold it to [`decode`] on every input they decode (`checked_decode`), as does
/// the `cbor` fuzz target. Given `entries`, where `data` is a map of one to
/// [`MAX_MAP_ENTRIES`] entries, its entries go into it ([`validate_map`]); else its `len`
/// stays 0.
fn accepts(data: &[u8], limits: &Limits, mut entries: Option<&mut MapEntries>) -> Option<bool> {
    let end = data.len();
    let mut stack = [Open {
        remaining: 0,
        map: false,
        key_start: 0,
        key_end: 0,
    }; ACCEPTS_DEPTH];
    let mut depth = 0usize;
    let mut pos = 0usize;
    let mut items: i128 = 0;
    // the entries of the top-level map are recorded (asked, and a map of a few entries)
    let mut recording = false;
    loop {
        let start = pos;
        let Some(&initial) = data.get(pos) else {
            return Some(false); // empty, or an item missing
        };
        pos += 1;
        let (major, info) = (initial >> 5, initial & 0x1F);
        if info >= 28 {
            return Some(false); // reserved, or indefinite
        }
        let is_key = depth > 0 && {
            let top = &stack[depth - 1];
            top.map && top.remaining % 2 == 0
        };
        if is_key && !matches!(major, UINT | NINT | TEXT) {
            return Some(false);
        }
        if major == SIMPLE {
            if !matches!(initial, FALSE | TRUE | NULL) {
                if info < 25 {
                    return Some(false); // another simple value
                }
                let width = 1usize << (info - 24);
                let Some(bytes) = data.get(pos..pos + width) else {
                    return Some(false);
                };
                if read_float(bytes, info, start).is_err() {
                    return Some(false);
                }
                pos += width;
            }
        } else {
            let arg: u64 = if info < 24 {
                u64::from(info)
            } else {
                let width = 1usize << (info - 24);
                let Some(bytes) = data.get(pos..pos + width) else {
                    return Some(false);
                };
                pos += width;
                let arg = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                if arg < ARG_MIN[usize::from(info - 24)] {
                    return Some(false);
                }
                arg
            };
            let left = (end - pos) as u64;
            match major {
                UINT | NINT => {}
                BYTES | TEXT => {
                    if i128::from(arg) > limits.max_string_bytes || arg > left {
                        return Some(false);
                    }
                    let content = &data[pos..pos + arg as usize];
                    if major == TEXT && !content.is_ascii() && std::str::from_utf8(content).is_err()
                    {
                        return Some(false);
                    }
                    pos += arg as usize;
                }
                ARRAY | MAP => {
                    if depth as i128 >= limits.max_depth {
                        return Some(false);
                    }
                    items += i128::from(arg);
                    let needed = if major == MAP {
                        u128::from(arg) << 1
                    } else {
                        u128::from(arg)
                    };
                    if items > limits.max_items || needed > u128::from(left) {
                        return Some(false);
                    }
                    if arg > 0 {
                        if depth == ACCEPTS_DEPTH {
                            return None;
                        }
                        if depth == 0 {
                            recording = entries.is_some()
                                && major == MAP
                                && arg as usize <= MAX_MAP_ENTRIES;
                        }
                        // at most the bytes left: a map's count doubled still fits
                        stack[depth] = Open {
                            remaining: needed as u64,
                            map: major == MAP,
                            key_start: 0,
                            key_end: 0,
                        };
                        depth += 1;
                        continue;
                    }
                }
                _ => return Some(false), // a tag
            }
        }
        if is_key {
            // strictly after the previous key, bytewise (equal: a duplicate)
            let top = &mut stack[depth - 1];
            if top.key_end != 0 {
                // most keys differ in their first byte (small integers are one byte)
                let (this, last) = (&data[start..pos], &data[top.key_start..top.key_end]);
                let after = match this[0].cmp(&last[0]) {
                    std::cmp::Ordering::Equal => this > last,
                    order => order.is_gt(),
                };
                if !after {
                    return Some(false);
                }
            }
            (top.key_start, top.key_end) = (start, pos);
            top.remaining -= 1; // a key never completes its map
            if recording && depth == 1 {
                // (at most MAX_MAP_ENTRIES keys: the map's count was checked)
                if let Some(found) = entries.as_deref_mut() {
                    if let Some(entry) = found.spans.get_mut(found.len) {
                        *entry = (start, pos, pos);
                    }
                }
            }
            continue;
        }
        // a complete item: it completes its container, and maybe the ones around it
        loop {
            if depth == 0 {
                return Some(pos == end); // nothing may follow the item
            }
            let top = &mut stack[depth - 1];
            top.remaining -= 1;
            if recording && depth == 1 {
                // the value of the top-level map's entry ends here
                if let Some(found) = entries.as_deref_mut() {
                    if let Some(entry) = found.spans.get_mut(found.len) {
                        entry.2 = pos;
                        found.len += 1;
                    }
                }
            }
            if top.remaining != 0 {
                break;
            }
            depth -= 1;
        }
    }
}

/// The decoder, with or without the tree (`BUILD`). Without it, containers stay empty
/// (`Vec::new` allocates nothing) and every check runs as with it: the stack of frames
/// keeps the counts, the nesting and the previous key's bytes either way.
fn walk<'a, const BUILD: bool>(data: &'a [u8], limits: &Limits) -> Result<Value<'a>> {
    let buf = data;
    let end = buf.len();
    if end == 0 {
        return Err(fail("cbor_malformed", "empty input", 0));
    }
    let mut pos = 0usize;
    let mut items: i128 = 0;
    let mut stack: Vec<Frame<'a>> = Vec::new();

    loop {
        // Inside a map, items alternate key, value; keys are read in place.
        let is_key = matches!(
            stack.last(),
            Some(Frame::Map {
                awaiting: false,
                ..
            })
        );
        let start = pos;
        let Some(&initial) = buf.get(pos) else {
            return Err(fail("cbor_malformed", "truncated: an item is missing", pos));
        };
        pos += 1;
        let major = initial >> 5;
        let info = initial & 0x1F;

        // -- initial byte: 28..30 reserved; 31 indefinite for major types 2..5 (RFC 8949 3.2)
        if info >= 28 {
            if info == 31 && (BYTES..=MAP).contains(&major) {
                return Err(fail("cbor_indefinite", "indefinite-length item", start));
            }
            return Err(fail(
                "cbor_malformed",
                format!("reserved initial byte 0x{initial:02x}"),
                start,
            ));
        }

        if is_key && !matches!(major, UINT | NINT | TEXT) {
            return Err(fail(
                "cbor_unsupported",
                "map key is not an integer or a text string",
                start,
            ));
        }

        let value: Value<'a>;
        if major == SIMPLE {
            // only false, true, null; anything else once its bytes are known to be present
            value = match initial {
                FALSE => Value::Bool(false),
                TRUE => Value::Bool(true),
                NULL => Value::Null,
                _ => {
                    if info >= 24 && (end - pos) < (1usize << (info - 24)) {
                        return Err(fail(
                            "cbor_malformed",
                            "truncated simple value or float",
                            start,
                        ));
                    }
                    if info < 25 {
                        return Err(fail(
                            "cbor_unsupported",
                            format!("simple value 0x{initial:02x}"),
                            start,
                        ));
                    }
                    let width = 1usize << (info - 24);
                    let float = read_float(&buf[pos..pos + width], info, start)?;
                    pos += width;
                    Value::Float(float)
                }
            };
        } else {
            // -- the argument, in its shortest form (RFC 8949 section 4.2.1)
            let arg: u64 = if info < 24 {
                u64::from(info)
            } else {
                let width = 1usize << (info - 24);
                let Some(bytes) = buf.get(pos..pos + width) else {
                    return Err(fail("cbor_malformed", "truncated head", start));
                };
                pos += width;
                let arg = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                if arg < ARG_MIN[usize::from(info - 24)] {
                    return Err(fail(
                        "cbor_noncanonical",
                        "argument not in shortest form",
                        start,
                    ));
                }
                arg
            };
            let left = (end - pos) as u64;

            match major {
                UINT => value = Value::Uint(arg),
                NINT => value = Value::Nint(arg),
                BYTES | TEXT => {
                    // limit and truncation before slicing: a head may claim 2**64 bytes
                    if i128::from(arg) > limits.max_string_bytes {
                        return Err(fail(
                            "limit_exceeded",
                            format!("string of {arg} bytes"),
                            start,
                        ));
                    }
                    if arg > left {
                        return Err(fail("cbor_malformed", "truncated string", start));
                    }
                    let content = &buf[pos..pos + arg as usize];
                    value = if major == BYTES {
                        Value::Bytes(content)
                    } else {
                        // std's UTF-8 check refuses overlong forms and surrogates (RFC 3629)
                        match std::str::from_utf8(content) {
                            Ok(text) => Value::Text(text),
                            Err(_) => {
                                return Err(fail("cbor_malformed", "invalid UTF-8 in text", start))
                            }
                        }
                    };
                    pos += arg as usize;
                }
                ARRAY | MAP => {
                    if stack.len() as i128 >= limits.max_depth {
                        return Err(fail(
                            "limit_exceeded",
                            format!("nesting deeper than {}", limits.max_depth),
                            start,
                        ));
                    }
                    items += i128::from(arg);
                    if items > limits.max_items {
                        return Err(fail(
                            "limit_exceeded",
                            format!("more than {} items", limits.max_items),
                            start,
                        ));
                    }
                    // every element takes at least one byte (a pair two): refuse a count the
                    // rest of the input cannot hold before building anything for it
                    let needed = if major == MAP {
                        u128::from(arg) << 1
                    } else {
                        u128::from(arg)
                    };
                    if needed > u128::from(left) {
                        return Err(fail("cbor_malformed", "truncated array or map", start));
                    }
                    if arg == 0 {
                        value = if major == MAP {
                            Value::Map(Vec::new())
                        } else {
                            Value::Array(Vec::new())
                        };
                    } else {
                        // arg <= bytes left, so the reservation is bounded by the input
                        let n = if BUILD { arg as usize } else { 0 };
                        stack.push(if major == MAP {
                            Frame::Map {
                                pairs: Vec::with_capacity(n),
                                remaining: arg,
                                awaiting: false,
                                prev_key: &[],
                            }
                        } else {
                            Frame::Array {
                                items: Vec::with_capacity(n),
                                remaining: arg,
                            }
                        });
                        continue;
                    }
                }
                _ => {
                    debug_assert_eq!(major, TAG);
                    return Err(fail("cbor_tag", format!("tag {arg}"), start));
                }
            }
        }

        if is_key {
            // keys strictly increasing in the bytewise order of their encodings (4.2.1);
            // equal encodings are a duplicate (3.1)
            if let Some(Frame::Map {
                pairs,
                awaiting,
                prev_key,
                ..
            }) = stack.last_mut()
            {
                let encoded_key = &buf[start..pos];
                // one comparison, and none by memcmp for a map's first key (nothing before
                // it: an item is never empty) or between one-byte keys (small integers)
                let order = match (encoded_key, *prev_key) {
                    (_, []) => std::cmp::Ordering::Greater,
                    ([this], [last]) => this.cmp(last),
                    (this, last) => this.cmp(last),
                };
                match order {
                    std::cmp::Ordering::Equal => {
                        return Err(fail("cbor_duplicate_key", "map key repeated", start));
                    }
                    std::cmp::Ordering::Less => {
                        return Err(fail(
                            "cbor_noncanonical",
                            "map keys not in bytewise order",
                            start,
                        ));
                    }
                    std::cmp::Ordering::Greater => {}
                }
                *prev_key = encoded_key;
                // the value takes the placeholder's place when it is read
                if BUILD {
                    pairs.push((value, Value::Null));
                } else {
                    std::mem::forget(value); // a key: an integer or a text, owning nothing
                }
                *awaiting = true;
            }
            continue;
        }

        // A complete item: hand it to its container, closing every container it completes.
        let mut value = value;
        loop {
            let done = match stack.last_mut() {
                None => {
                    if pos != end {
                        return Err(fail(
                            "cbor_trailing",
                            format!("{} bytes after the item", end - pos),
                            pos,
                        ));
                    }
                    return Ok(value);
                }
                Some(Frame::Array { items, remaining }) => {
                    if BUILD {
                        items.push(value);
                    } else {
                        std::mem::forget(value); // a leaf, or a container left empty
                    }
                    *remaining -= 1;
                    *remaining == 0
                }
                Some(Frame::Map {
                    pairs,
                    remaining,
                    awaiting,
                    ..
                }) => {
                    // a value is only read after its key, so its pair is there
                    if !BUILD {
                        std::mem::forget(value); // a leaf, or a container left empty
                    } else if let Some(pair) = pairs.last_mut() {
                        release(std::mem::replace(&mut pair.1, value)); // the placeholder
                    }
                    *awaiting = false;
                    *remaining -= 1;
                    *remaining == 0
                }
            };
            if !done {
                break;
            }
            value = match stack.pop() {
                Some(Frame::Array { items, .. }) => Value::Array(items),
                Some(Frame::Map { pairs, .. }) => Value::Map(pairs),
                None => Value::Null, // unreachable: the match above saw a frame
            };
        }
    }
}

/// The head of a byte string of `len` bytes, in its shortest form (RFC 8949 section 3).
pub fn bytes_head(len: usize, out: &mut Vec<u8>) {
    item_head(BYTES, len as u64, out);
}

/// [`decode`], checked against [`validate`] on every input of the tests: one answer, the
/// same error where it refuses (each test module reads it as its `decode`)
#[cfg(test)]
fn checked_decode<'a>(data: &'a [u8], limits: &Limits) -> Result<Value<'a>> {
    let built = decode(data, limits);
    let checked = validate(data, limits);
    if let Some(accepted) = accepts(data, limits, None) {
        assert_eq!(
            accepted,
            built.is_ok(),
            "accepts and decode disagree on {data:02x?}"
        );
    }
    // validate_map: validate's answer, and a map's entries where it records them
    let mapped = validate_map(data, limits);
    match (&mapped, &checked) {
        (Ok(_), Ok(())) => {}
        (Err(a), Err(b)) => assert_eq!((a.code, &a.message), (b.code, &b.message)),
        _ => panic!("validate_map and validate disagree on {data:02x?}"),
    }
    if let Ok(Some(entries)) = &mapped {
        let Ok(Value::Map(pairs)) = &built else {
            panic!("validate_map found entries outside a map: {data:02x?}");
        };
        assert_eq!(entries.len, pairs.len());
        let mut at = 1; // a map of at most 23 entries: a head of one byte
        for (&(key, value, end), (k, v)) in entries.entries().iter().zip(pairs) {
            assert_eq!(key, at);
            assert_eq!(decode(&data[key..value], limits).as_ref().ok(), Some(k));
            assert_eq!(decode(&data[value..end], limits).as_ref().ok(), Some(v));
            at = end;
        }
        assert_eq!(at, data.len());
    }
    match (&built, &checked) {
        (Ok(_), Ok(())) => {}
        (Err(a), Err(b)) => assert_eq!((a.code, &a.message), (b.code, &b.message)),
        _ => panic!("decode and validate disagree on {data:02x?}: {built:?} {checked:?}"),
    }
    built
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::checked_decode as decode;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn ok(s: &str) -> Value<'static> {
        let data: &'static [u8] = Box::leak(hex(s).into_boxed_slice());
        decode(data, &Limits::default()).unwrap()
    }

    fn code(s: &str) -> &'static str {
        decode(&hex(s), &Limits::default()).unwrap_err().code
    }

    /// spec 5.2: a protocol number's one encoding (RFC 8949 appendix A's spellings where they
    /// apply): an integral float as its integer, any other in its shortest exact width.
    #[test]
    fn numbers_encode_in_one_spelling() {
        let cases: [(f64, &str); 14] = [
            (12.0, "0c"),
            (-0.0, "00"),
            (-1.0, "20"),
            (0.5, "f93800"),
            (1.5, "f93e00"),
            (65504.5, "fa477fe080"),
            (5.960464477539063e-8, "f90001"),
            (6.103515625e-5, "f90400"),
            (0.1, "fb3fb999999999999a"),
            (1.0e300, "fb7e37e43c8800759c"),
            (18_446_744_073_709_551_616.0, "fa5f800000"),
            (-18_446_744_073_709_551_616.0, "3bffffffffffffffff"),
            (9_007_199_254_740_993.0, "1b0020000000000000"),
            (5e-324, "fb0000000000000001"),
        ];
        for (value, want) in cases {
            let mut out = Vec::new();
            assert!(encode_number(value, &mut out), "{value}");
            assert_eq!(out, hex(want), "{value}");
        }
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut out = Vec::new();
            assert!(!encode_number(value, &mut out));
            assert!(out.is_empty());
        }
        let mut heads = Vec::new();
        for arg in [
            0u64,
            23,
            24,
            255,
            256,
            65535,
            65536,
            4_294_967_295,
            4_294_967_296,
        ] {
            item_head(UINT, arg, &mut heads);
        }
        assert_eq!(
            heads,
            hex(
                "00171818 18ff 190100 19ffff 1a00010000 1affffffff 1b0000000100000000"
                    .replace(' ', "")
                    .as_str()
            )
        );
    }

    /// RFC 8949 appendix A: the examples the profile accepts decode to their values.
    #[test]
    fn rfc8949_appendix_a_accepted() {
        assert_eq!(ok("00"), Value::Uint(0));
        assert_eq!(ok("01"), Value::Uint(1));
        assert_eq!(ok("0a"), Value::Uint(10));
        assert_eq!(ok("17"), Value::Uint(23));
        assert_eq!(ok("1818"), Value::Uint(24));
        assert_eq!(ok("1819"), Value::Uint(25));
        assert_eq!(ok("1864"), Value::Uint(100));
        assert_eq!(ok("1903e8"), Value::Uint(1000));
        assert_eq!(ok("1a000f4240"), Value::Uint(1_000_000));
        assert_eq!(ok("1b000000e8d4a51000"), Value::Uint(1_000_000_000_000));
        assert_eq!(ok("1bffffffffffffffff"), Value::Uint(u64::MAX));
        assert_eq!(ok("3bffffffffffffffff").as_int(), Some(-(1i128 << 64)));
        assert_eq!(ok("20").as_int(), Some(-1));
        assert_eq!(ok("29").as_int(), Some(-10));
        assert_eq!(ok("3863").as_int(), Some(-100));
        assert_eq!(ok("3903e7").as_int(), Some(-1000));
        assert_eq!(ok("f4"), Value::Bool(false));
        assert_eq!(ok("f5"), Value::Bool(true));
        assert_eq!(ok("f6"), Value::Null);
        assert_eq!(ok("40"), Value::Bytes(b""));
        assert_eq!(ok("4401020304"), Value::Bytes(&[1, 2, 3, 4]));
        assert_eq!(ok("60"), Value::Text(""));
        assert_eq!(ok("6161"), Value::Text("a"));
        assert_eq!(ok("6449455446"), Value::Text("IETF"));
        assert_eq!(ok("62225c"), Value::Text("\"\\"));
        assert_eq!(ok("62c3bc"), Value::Text("\u{fc}"));
        assert_eq!(ok("63e6b0b4"), Value::Text("\u{6c34}"));
        assert_eq!(ok("64f0908591"), Value::Text("\u{10151}"));
        assert_eq!(ok("80"), Value::Array(vec![]));
        assert_eq!(
            ok("83010203"),
            Value::Array(vec![Value::Uint(1), Value::Uint(2), Value::Uint(3)])
        );
        assert_eq!(
            ok("8301820203820405"),
            Value::Array(vec![
                Value::Uint(1),
                Value::Array(vec![Value::Uint(2), Value::Uint(3)]),
                Value::Array(vec![Value::Uint(4), Value::Uint(5)]),
            ])
        );
        let v = ok("98190102030405060708090a0b0c0d0e0f101112131415161718181819");
        assert_eq!(v, Value::Array((1..=25).map(Value::Uint).collect()));
        assert_eq!(ok("a0"), Value::Map(vec![]));
        assert_eq!(
            ok("a201020304"),
            Value::Map(vec![
                (Value::Uint(1), Value::Uint(2)),
                (Value::Uint(3), Value::Uint(4))
            ])
        );
        assert_eq!(
            ok("a26161016162820203"),
            Value::Map(vec![
                (Value::Text("a"), Value::Uint(1)),
                (
                    Value::Text("b"),
                    Value::Array(vec![Value::Uint(2), Value::Uint(3)])
                ),
            ])
        );
        assert_eq!(
            ok("826161a161626163"),
            Value::Array(vec![
                Value::Text("a"),
                Value::Map(vec![(Value::Text("b"), Value::Text("c"))]),
            ])
        );
        assert_eq!(
            ok("a56161614161626142616361436164614461656145"),
            Value::Map(
                ["a", "b", "c", "d", "e"]
                    .iter()
                    .zip(["A", "B", "C", "D", "E"])
                    .map(|(k, v)| (Value::Text(k), Value::Text(v)))
                    .collect()
            )
        );
    }

    /// R-5.2-12: floats in their shortest exact width decode and encode back to their bytes.
    #[test]
    fn floats_in_their_shortest_width() {
        for (s, want) in [
            ("fb3ff199999999999a", 1.1),
            ("f93e00", 1.5),
            ("f9c100", -2.5),
            ("f90001", 5.960_464_477_539_063e-8), // the smallest binary16 subnormal
            ("f903ff", 6.097_555_160_522_461e-5), // the largest
            ("f93555", 0.333_251_953_125),
            ("fa33000000", 2.980_232_238_769_531_3e-8), // 2**-25: below binary16
            ("fa3eaaaaab", f64::from(1.0f32 / 3.0)),
            ("fbc010666666666666", -4.1),
            ("fa5f800000", 18_446_744_073_709_551_616.0), // 2**64: outside the integers
            ("fb7e37e43c8800759c", 1.0e300),
        ] {
            let bytes = hex(s);
            match decode(&bytes, &Limits::default()) {
                Ok(Value::Float(f)) => {
                    assert_eq!(f, want, "{s}");
                    assert_eq!(encode(&Value::Float(f)), bytes, "{s}");
                }
                other => panic!("{s}: {other:?}"),
            };
        }
        // the checks' order: truncation, then the value, then the width
        assert_eq!(code("fb3ff19999"), "cbor_malformed");
        assert_eq!(code("fa7fc00000"), "cbor_unsupported");
        assert_eq!(code("fadf800000"), "cbor_noncanonical"); // -2**64 is an integer
        assert_eq!(code("fb43f0000000000000"), "cbor_noncanonical"); // 2**64 fits binary32
        assert_eq!(code("a1fa3fc0000000"), "cbor_unsupported"); // never a map key
    }

    /// RFC 8949 appendix A: the examples outside the profile are refused with their code.
    #[test]
    fn rfc8949_appendix_a_refused() {
        // bignums are tags (R-5.2-3)
        assert_eq!(code("c249010000000000000000"), "cbor_tag");
        assert_eq!(code("c349010000000000000000"), "cbor_tag");
        assert_eq!(
            code("c074323031332d30332d32315432303a30343a30305a"),
            "cbor_tag"
        );
        assert_eq!(code("d74401020304"), "cbor_tag");
        // simple values other than false, true, null (R-5.2-2), and NaN and the infinities
        // (R-5.2-12)
        for s in [
            "f97c00",
            "f9fc00",
            "f97e00",
            "fa7f800000",
            "fb7ff8000000000000",
            "f7",
            "f0",
            "f818",
            "f8ff",
        ] {
            assert_eq!(code(s), "cbor_unsupported", "{s}");
        }
        // integral floats are the integer, and a float has one width, its shortest (R-5.2-12)
        for s in [
            "f90000",
            "f98000",
            "f93c00",
            "fa47c35000",
            "fb3ff8000000000000",
            "fa3fc00000",
            "fb3ff0000000000000",
            "fb43f0000000000000",
        ] {
            assert_eq!(code(s), "cbor_noncanonical", "{s}");
        }
        // indefinite lengths (R-5.2-4)
        for s in [
            "5f42010243030405ff",
            "7f657374726561646d696e67ff",
            "9fff",
            "bf61610161629f0203ffff",
        ] {
            assert_eq!(code(s), "cbor_indefinite", "{s}");
        }
        // maps with non-text, non-integer keys are refused where a key is read
        assert_eq!(code("a1f600"), "cbor_unsupported");
        assert_eq!(code("a14100f6"), "cbor_unsupported");
    }

    #[test]
    fn profile_rules() {
        assert_eq!(code(""), "cbor_malformed");
        assert_eq!(code("1817"), "cbor_noncanonical");
        assert_eq!(code("190017"), "cbor_noncanonical");
        assert_eq!(code("a202000100"), "cbor_noncanonical");
        assert_eq!(code("a201000100"), "cbor_duplicate_key");
        assert_eq!(code("0000"), "cbor_trailing");
        assert_eq!(code("ff"), "cbor_malformed");
        assert_eq!(code("1c"), "cbor_malformed");
        assert_eq!(code("1f"), "cbor_malformed");
        assert_eq!(code("62c328"), "cbor_malformed");
        assert_eq!(code("63eda080"), "cbor_malformed"); // a surrogate
        assert_eq!(code("62c0af"), "cbor_malformed"); // an overlong form
        assert_eq!(code("1b0000"), "cbor_malformed");
        assert_eq!(code("fa0000"), "cbor_malformed");
        assert_eq!(code("5bffffffffffffffff"), "limit_exceeded");
        assert_eq!(code("9bffffffffffffffff"), "limit_exceeded");
        assert_eq!(code("9a00010000"), "limit_exceeded");
        assert_eq!(code("8400"), "cbor_malformed");
        // the limits: depth counts containers
        let deep = hex(&"81".repeat(16).to_string());
        let mut deep_ok = deep.clone();
        deep_ok.push(0);
        assert!(decode(&deep_ok, &Limits::default()).is_ok());
        // far deeper than any stack would allow recursively: decoded and dropped iteratively
        let mut abyss = vec![0x81u8; 1 << 20];
        abyss.push(0);
        let lim = Limits {
            max_depth: 1 << 21,
            max_items: 1 << 21,
            max_string_bytes: 0,
        };
        drop(decode(&abyss, &lim).unwrap());
        let mut too_deep = hex(&"81".repeat(17));
        too_deep.push(0);
        assert_eq!(
            decode(&too_deep, &Limits::default()).unwrap_err().code,
            "limit_exceeded"
        );
        let lim = Limits {
            max_depth: 0,
            max_items: 0,
            max_string_bytes: 0,
        };
        assert_eq!(decode(&hex("80"), &lim).unwrap_err().code, "limit_exceeded");
        assert_eq!(
            decode(&hex("41ff"), &lim).unwrap_err().code,
            "limit_exceeded"
        );
        assert_eq!(decode(&hex("40"), &lim), Ok(Value::Bytes(b"")));
        let neg = Limits {
            max_depth: 1,
            max_items: -1,
            max_string_bytes: -1,
        };
        assert_eq!(decode(&hex("80"), &neg).unwrap_err().code, "limit_exceeded");
        assert_eq!(decode(&hex("40"), &neg).unwrap_err().code, "limit_exceeded");
    }

    /// Map keys are compared as encodings in every spelling the comparison has a path for: a
    /// map's first key, two one-byte keys, and longer keys, alone or beside one-byte ones.
    #[test]
    fn key_order_in_every_spelling() {
        for (map, expected) in [
            ("a10100", None),
            ("a2010002f5", None),
            ("a201000100", Some("cbor_duplicate_key")),
            ("a202000100", Some("cbor_noncanonical")),
            ("a26161006162f5", None),
            ("a26161006161f5", Some("cbor_duplicate_key")),
            ("a26162006161f5", Some("cbor_noncanonical")),
            ("a2170018180f", None), // 23 then 24: 0x17 before 0x18 0x18
            ("a2181800170f", Some("cbor_noncanonical")),
            ("a201006161f5", None), // an integer's encoding sorts before a text's
            ("a2616100010f", Some("cbor_noncanonical")),
            ("a2616100616100", Some("cbor_duplicate_key")),
            ("a32000010002f5", Some("cbor_noncanonical")), // -1 (0x20) before 1
            ("a3010002002000", None),
        ] {
            let bytes = hex(map);
            let got = decode(&bytes, &Limits::default());
            assert_eq!(got.as_ref().err().map(|e| e.code), expected, "{map}");
            if let Ok(value) = got {
                assert_eq!(encode(&value), hex(map), "{map}: pairs kept in order");
            }
        }
    }

    /// Maps and arrays nested past the depth dropped by recursion are dropped by the explicit
    /// stack: on a thread with a small stack, and with leaves and containers side by side at
    /// every level.
    #[test]
    fn deep_and_wide_values_drop_in_bounded_stack() {
        let mut nest = Vec::new();
        for _ in 0..100_000 {
            nest.extend_from_slice(&hex("a20100028200")); // {1: 0, 2: [0, ...
        }
        nest.push(0xf6);
        let lim = Limits {
            max_depth: 1 << 20,
            max_items: 1 << 22,
            max_string_bytes: 0,
        };
        let small_stack = std::thread::Builder::new().stack_size(256 * 1024);
        let handle = small_stack
            .spawn(move || {
                let value = decode(&nest, &lim).unwrap();
                let Value::Map(pairs) = &value else {
                    panic!("not a map")
                };
                assert_eq!(pairs.len(), 2);
                drop(value);
                // the thread's drop depth is back to zero: a shallow value drops by recursion
                assert_eq!(DROP_DEPTH.get(), 0);
                drop(decode(&hex("a10182a10100f6"), &Limits::default()).unwrap());
                DROP_DEPTH.get()
            })
            .unwrap();
        assert_eq!(handle.join().unwrap(), 0);
    }

    #[test]
    fn messages_name_the_byte() {
        let err = decode(&hex("a2016161006162"), &Limits::default()).unwrap_err();
        assert_eq!(err.code, "cbor_noncanonical");
        assert_eq!(err.message, "map keys not in bytewise order (at byte 4)");
        let err = decode(&hex("0102"), &Limits::default()).unwrap_err();
        assert_eq!(err.message, "1 bytes after the item (at byte 1)");
    }
}

/// The head of an item of major type `major` (0 to 7) and argument `arg`, in its shortest
/// form (RFC 8949 sections 3 and 4.2.1).
pub fn item_head(major: u8, arg: u64, out: &mut Vec<u8>) {
    let mt = major << 5;
    if arg < 24 {
        out.push(mt | arg as u8);
    } else if arg < 0x100 {
        out.extend_from_slice(&[mt | 24, arg as u8]);
    } else if arg < 0x1_0000 {
        out.push(mt | 25);
        out.extend_from_slice(&(arg as u16).to_be_bytes());
    } else if arg < 0x1_0000_0000 {
        out.push(mt | 26);
        out.extend_from_slice(&(arg as u32).to_be_bytes());
    } else {
        out.push(mt | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

/// A protocol number (spec 5.2; the reference's `number` then its encoder): a finite float
/// whose value is an integer of the CBOR range is that integer (`12.0` is `12`, `-0.0` is
/// `0`); any other finite float is written in its shortest exact width (`float_head`). False
/// for NaN and the infinities, which are no protocol value (nothing is written).
pub fn encode_number(value: f64, out: &mut Vec<u8>) -> bool {
    if !value.is_finite() {
        return false;
    }
    if is_integral(value) {
        // exact: |value| <= 2**64, which i128 holds
        let n = value as i128;
        if n >= 0 {
            item_head(UINT, n as u64, out);
        } else {
            item_head(NINT, (-1 - n) as u64, out);
        }
        return true;
    }
    match shortest_info(value) {
        25 => {
            out.push(SIMPLE << 5 | 25);
            out.extend_from_slice(&f64_to_half(value).to_be_bytes());
        }
        26 => {
            out.push(SIMPLE << 5 | 26);
            out.extend_from_slice(&(value as f32).to_bits().to_be_bytes());
        }
        _ => {
            out.push(SIMPLE << 5 | 27);
            out.extend_from_slice(&value.to_bits().to_be_bytes());
        }
    }
    true
}

/// The deterministic encoding of `value` (RFC 8949 section 4.2.1), for tests and fuzzing: the
/// decoder accepts exactly what this produces, so `encode(decode(b)) == b` whenever `decode(b)`
/// returns. Map pairs are written in their stored order (a decoded map is already sorted).
pub fn encode(value: &Value<'_>) -> Vec<u8> {
    let head = item_head;
    let mut out = Vec::new();
    let mut todo = vec![value];
    while let Some(item) = todo.pop() {
        match item {
            Value::Uint(n) => head(UINT, *n, &mut out),
            Value::Nint(n) => head(NINT, *n, &mut out),
            Value::Bytes(b) => {
                head(BYTES, b.len() as u64, &mut out);
                out.extend_from_slice(b);
            }
            Value::Text(t) => {
                head(TEXT, t.len() as u64, &mut out);
                out.extend_from_slice(t.as_bytes());
            }
            Value::Bool(false) => out.push(FALSE),
            Value::Bool(true) => out.push(TRUE),
            Value::Null => out.push(NULL),
            Value::Float(f) => {
                // a decoded float is finite and not integral: written as it was read
                encode_number(*f, &mut out);
            }
            Value::Array(items) => {
                head(ARRAY, items.len() as u64, &mut out);
                todo.extend(items.iter().rev());
            }
            Value::Map(pairs) => {
                head(MAP, pairs.len() as u64, &mut out);
                for (k, v) in pairs.iter().rev() {
                    todo.push(v);
                    todo.push(k);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    use super::checked_decode as decode;

    fn limits() -> Limits {
        Limits {
            max_depth: 64,
            max_items: 1 << 20,
            max_string_bytes: 1 << 20,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// Any bytes: a value that re-encodes to exactly those bytes (one encoding per value,
        /// spec 5.2), or a refusal with a CBOR or limit code; never a panic.
        #[test]
        fn accepted_means_canonical(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let result = decode(&data, &limits());
            match &result {
                Ok(value) => prop_assert!(encode(value) == data),
                Err(e) => prop_assert!(e.code.starts_with("cbor_") || e.code == "limit_exceeded"),
            }
        }

        /// R-5.2-12: every float the protocol carries encodes to the one width that decodes
        /// back to it, bit for bit; and any float head decodes only in that width.
        #[test]
        fn floats_round_trip(bits in any::<u64>(), info in 25u8..28) {
            let f = f64::from_bits(bits);
            if f.is_finite() && !is_integral(f) {
                let data = encode(&Value::Float(f));
                let result = decode(&data, &limits());
                match &result {
                    Ok(Value::Float(g)) => prop_assert_eq!(g.to_bits(), bits),
                    other => prop_assert!(false, "{other:?}"),
                }
            }
            let width = 1usize << (info - 24);
            let mut head = vec![SIMPLE << 5 | info];
            head.extend_from_slice(&bits.to_be_bytes()[8 - width..]);
            let result = decode(&head, &limits());
            if let Ok(value) = &result {
                prop_assert!(encode(value) == head);
            }
        }

        /// Canonical encodings with one byte changed: the same two outcomes.
        #[test]
        fn one_byte_changed(
            items in proptest::collection::vec((any::<u64>(), ".{0,8}", any::<bool>()), 1..8),
            at in any::<prop::sample::Index>(),
            to in any::<u8>(),
        ) {
            let owned: Vec<Vec<u8>> = items.iter().map(|(n, t, _)| {
                encode(&Value::Array(vec![Value::Uint(*n), Value::Text(t)]))
            }).collect();
            let mut pairs: Vec<(Value<'_>, Value<'_>)> = Vec::new();
            for (i, (n, _, b)) in items.iter().enumerate() {
                pairs.push((Value::Uint(i as u64), Value::Array(vec![
                    Value::Bytes(&owned[i]), Value::Nint(*n), Value::Bool(*b), Value::Null,
                ])));
            }
            let mut data = encode(&Value::Map(pairs));
            prop_assert!(decode(&data, &limits()).is_ok());
            let i = at.index(data.len());
            data[i] = to;
            let result = decode(&data, &limits());
            match &result {
                Ok(value) => prop_assert!(encode(value) == data),
                Err(e) => prop_assert!(e.code.starts_with("cbor_") || e.code == "limit_exceeded"),
            }
        }
    }
}
