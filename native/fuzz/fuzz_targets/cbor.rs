//! Strict CBOR on any bytes under limits from the first three bytes: never a panic, a refusal
//! only with a CBOR or limit code, what it accepts re-encodes to exactly the same bytes, and
//! `validate` (the walk without the tree) gives the same answer and the same error, as does
//! `validate_map`, whose entries of a map are where the decoded map's keys and values lie.
#![no_main]
#![forbid(unsafe_code)]

use agentchain_core::cbor::{decode, encode, validate, validate_map, Limits, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((lim, input)) = data.split_first_chunk::<3>() else {
        return;
    };
    let limits = Limits {
        max_depth: i128::from(lim[0] % 40),
        max_items: i128::from(lim[1]) * 16,
        max_string_bytes: i128::from(lim[2]) * 64,
    };
    let checked = validate(input, &limits);
    let mapped = validate_map(input, &limits);
    assert_eq!(
        mapped.as_ref().err(),
        checked.as_ref().err(),
        "validate_map and validate disagree"
    );
    match decode(input, &limits) {
        Ok(value) => {
            assert_eq!(encode(&value), input, "accepted bytes are not canonical");
            assert!(checked.is_ok(), "validate refused what decode accepts");
            if let Ok(Some(entries)) = &mapped {
                let Value::Map(pairs) = &value else {
                    panic!("entries of something other than a map");
                };
                assert_eq!(entries.len, pairs.len());
                let mut at = 1;
                for (&(key, start, end), (k, v)) in entries.entries().iter().zip(pairs) {
                    assert_eq!(key, at, "an entry not where the last one ended");
                    assert_eq!(encode(k), &input[key..start]);
                    assert_eq!(encode(v), &input[start..end]);
                    at = end;
                }
                assert_eq!(at, input.len());
            }
        }
        Err(e) if checked.as_ref().err() != Some(&e) => panic!("{e} against {checked:?}"),
        Err(e) => assert!(
            e.code.starts_with("cbor_") || e.code == "limit_exceeded",
            "{e}"
        ),
    }
});
