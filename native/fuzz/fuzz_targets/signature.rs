//! Key import and strict verification on any bytes: never a panic, only the codes of spec
//! 3.4 and 3.5 with the exception kind they belong to.
#![no_main]
#![forbid(unsafe_code)]

use agentchain_core::link::PublicKey;
use agentchain_core::Kind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (alg, size) = if selector & 1 == 0 {
        ("EdDSA", 32)
    } else {
        ("ES256", 65)
    };
    let (raw, rest) = rest.split_at(size.min(rest.len()));
    let (signature, message) = rest.split_at(64.min(rest.len()));
    match PublicKey::import(alg, raw) {
        Err(e) => assert!(e.kind == Kind::Key && e.code == "key_invalid"),
        Ok((key, _)) => {
            if let Err(e) = key.verify(signature, message) {
                assert!(e.kind == Kind::Signature);
                assert!(e.code == "signature_malformed" || e.code == "signature_invalid");
            }
        }
    }
});
