//! COSE_Sign1 and the one-call open of a link on any bytes: never a panic, only registry
//! codes of the decode steps (spec 5.4), and an accepted object's parts re-assemble to it.
#![no_main]
#![forbid(unsafe_code)]

use agentchain_core::cbor::{encode, Limits, Value};
use agentchain_core::cose::decode_sign1;
use agentchain_core::link::{open, ObjectLimits};
use libfuzzer_sys::fuzz_target;

const CODES: &[&str] = &[
    "schema_invalid",
    "unknown_field",
    "type_mismatch",
    "alg_not_allowed",
];

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_depth: 16,
        max_items: 2048,
        max_string_bytes: 16_384,
    };
    match decode_sign1(data, &limits) {
        Ok(s) => {
            let again = encode(&Value::Array(vec![
                Value::Bytes(s.protected),
                Value::Map(vec![]),
                Value::Bytes(s.payload),
                Value::Bytes(s.signature),
            ]));
            assert_eq!(again, data);
        }
        Err(e) => assert!(
            e.code.starts_with("cbor_") || e.code == "limit_exceeded" || CODES.contains(&e.code)
        ),
    }
    let object = ObjectLimits {
        max_object_bytes: 16_384,
        cbor: Limits::default(),
    };
    if let Err(e) = open(data, 1, &object) {
        assert!(
            e.code.starts_with("cbor_") || e.code == "limit_exceeded" || CODES.contains(&e.code)
        );
    }
});
