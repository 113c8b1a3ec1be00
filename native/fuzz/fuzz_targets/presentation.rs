//! The plain shape of a CBOR presentation (`presentation.rs`) over any bytes: never a panic,
//! and an answer only for a canonical container of the shape, every object in it a
//! non-empty byte string that is not a JWS compact, within the limits.
#![no_main]
#![forbid(unsafe_code)]

use agentchain_core::cbor::{decode, Limits};
use agentchain_core::presentation::{plain_items, ContainerLimits};
use libfuzzer_sys::fuzz_target;

const LIMITS: ContainerLimits = ContainerLimits {
    max_presentation_bytes: 65_536,
    max_object_bytes: 16_384,
    max_links: 16,
    max_attachments: 8,
};

fuzz_target!(|data: &[u8]| {
    let Some(items) = plain_items(data, &LIMITS) else {
        return;
    };
    let strict = Limits {
        max_depth: 3,
        max_items: 16 + 2 * 8 + 8,
        max_string_bytes: LIMITS.max_object_bytes,
    };
    assert!(decode(data, &strict).is_ok(), "an answer for a container the decoder refuses");
    assert!(!items.links.is_empty() && items.links.len() <= 16);
    assert!(items.attestations.len() <= 8 && items.approvals.len() <= 8);
    let attached = !items.attestations.is_empty() || !items.approvals.is_empty();
    assert!(!attached || items.invocation.is_some());
    let objects = items
        .links
        .iter()
        .chain(items.invocation.iter())
        .chain(items.attestations.iter())
        .chain(items.approvals.iter());
    for object in objects {
        let first = object[0];
        assert!(!(first.is_ascii_alphanumeric() || first == b'-' || first == b'_'));
    }
});
