//! JWS compact splitting and strict base64url on any bytes: never a panic, and every
//! accepted base64url text is the one spelling of its bytes.
#![no_main]
#![forbid(unsafe_code)]

use agentchain_core::{b64, jws};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = b64::decode(data) {
        assert_eq!(
            b64::encode(&decoded).as_bytes(),
            data,
            "two spellings of one byte string"
        );
    }
    if let Ok(parts) = jws::split(data, 16_384) {
        if let Ok((payload, signature)) = jws::decode_parts(&parts) {
            assert_eq!(b64::encode(&payload).as_bytes(), parts.payload);
            assert_eq!(b64::encode(&signature).as_bytes(), parts.signature);
        }
    }
});
