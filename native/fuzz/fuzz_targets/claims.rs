//! The head of a link's claims (`claims.rs`) over any CBOR payload: never a panic, only the
//! registry codes of the claim and key steps (spec 5.5, 3.3 to 3.5), and a deferral only for
//! map keys the strict decoder does not produce. Where `plain_link` reads the same payload
//! from its bytes, it reads what the decoded reading reads, and so does `plain_link_at` over
//! the map's entries `validate_map` found.
#![no_main]
#![forbid(unsafe_code)]

use agentchain_core::cbor::{decode, validate_map, Limits};
use agentchain_core::claims::{
    decode_link_head, plain_link, plain_link_at, plain_parts, ClaimLimits, Decoded,
};
use libfuzzer_sys::fuzz_target;

const CODES: &[&str] = &[
    "schema_invalid",
    "unknown_field",
    "version_unsupported",
    "limit_exceeded",
    "key_invalid",
    "alg_not_allowed",
];

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = decode(data, &Limits::default()) else {
        return;
    };
    let limits = ClaimLimits {
        max_capabilities: 32,
        max_caveats: 32,
    };
    // the map's entries found in the strict pass: plain_link_at reads what plain_link reads
    if let Ok(Some(entries)) = validate_map(data, &Limits::default()) {
        let (walked, at) = (
            plain_link(data, &limits),
            plain_link_at(data, &entries, &limits),
        );
        assert_eq!(walked.is_some(), at.is_some(), "plain_link_at disagrees");
        if let (Some((w, wp)), Some((a, ap))) = (&walked, &at) {
            assert_eq!(wp, ap);
            assert_eq!((w.issuer, w.parent), (a.issuer, a.parent));
            assert_eq!((w.iat, w.nbf, w.exp, w.depth), (a.iat, a.nbf, a.exp, a.depth));
            assert_eq!(
                (w.holder_alg.name, &w.holder_raw),
                (a.holder_alg.name, &a.holder_raw)
            );
            assert_eq!(w.capabilities, a.capabilities);
        }
    }
    match decode_link_head(&payload, &limits) {
        Ok(Decoded::Head(head)) => {
            assert!(head.issuer.is_some() != head.parent.is_some() && head.depth <= 255);
            if let Some((fast, parts)) = plain_link(data, &limits) {
                assert_eq!(Some(parts), plain_parts(data));
                let (f, h) = (&fast, &head);
                assert_eq!((f.issuer, f.parent), (h.issuer, h.parent));
                assert_eq!(
                    (f.iat, f.nbf, f.exp, f.depth),
                    (h.iat, h.nbf, h.exp, h.depth)
                );
                assert_eq!(
                    (f.holder_alg.name, &f.holder_raw),
                    (h.holder_alg.name, &h.holder_raw)
                );
                assert_eq!(f.capabilities, h.capabilities);
            }
        }
        Ok(Decoded::Defer) => panic!("the strict decoder produced a key claims.rs defers"),
        Err(e) => {
            assert!(CODES.contains(&e.code), "{}", e.code);
            assert!(
                plain_link(data, &limits).is_none(),
                "plain_link read a refused payload"
            );
        }
    }
});
