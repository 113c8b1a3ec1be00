//! JWS compact splitting and strict base64url on any bytes: never a panic, and every
//! accepted base64url text is the one spelling of its bytes.
#![no_main]
#![forbid(unsafe_code)]

use agentchain_core::{b64, jws};
use libfuzzer_sys::fuzz_target;

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = b64::decode(data) {
        assert_eq!(encode(&decoded), data, "two spellings of one byte string");
    }
    if let Ok(parts) = jws::split(data, 16_384) {
        if let Ok((payload, signature)) = jws::decode_parts(&parts) {
            assert_eq!(encode(&payload), parts.payload);
            assert_eq!(encode(&signature), parts.signature);
        }
    }
});
