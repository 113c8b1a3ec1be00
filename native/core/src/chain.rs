//! V2 of spec 8.2 over a whole chain in one call: per link, in the verifier's order, the
//! algorithm bound to the signer's key (V2.2), the signature over the stored bytes (V2.3),
//! the linkage to the parent's digest (V2.4), the window (V2.5), then attenuation (V2.6:
//! capabilities, time nesting, depth; spec 4.3 to 4.5). The signer (V2.1) is the trust anchor
//! the caller resolved for the root, else the parent's holder.
//!
//! A failure names the link and the check; the caller raises it through the reference's own
//! check function (`verifier/_checks.py`), so a refusal reads the same on both paths. A
//! signature failure carries its own code (`signature_malformed`, `signature_invalid`).
#![forbid(unsafe_code)]

use std::sync::Arc;

use crate::alg::Algorithm;
use crate::error::Error;
use crate::link::PublicKey;

/// What V2 needs of one decoded link, owned.
pub struct LinkFacts {
    /// the algorithm of its protected header
    pub algorithm: &'static Algorithm,
    /// the Sig_structure its signature covers, and the signature
    pub signed: Vec<u8>,
    pub signature: Vec<u8>,
    /// SHA-256 of its exact bytes (spec 5.3)
    pub digest: [u8; 32],
    pub parent: Option<[u8; 32]>,
    pub nbf: u64,
    pub exp: u64,
    pub depth: u64,
    pub holder: Arc<PublicKey>,
    pub holder_alg: &'static Algorithm,
    pub capabilities: Vec<(String, String)>,
}

/// The check of V2 that failed, for the caller to raise with the reference's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Alg,
    Linkage,
    Window,
    Scope,
    TimeNesting,
    Depth,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::Alg => "alg",
            Check::Linkage => "linkage",
            Check::Window => "window",
            Check::Scope => "scope",
            Check::TimeNesting => "time_nesting",
            Check::Depth => "depth",
        }
    }
}

/// Why a chain failed V2: at which link (counted from the first one passed), and how.
#[derive(Debug)]
pub enum Failure {
    Check(usize, Check),
    Signature(usize, Error),
}

/// The key that signs the first link passed: a trust anchor at the root, or the holder of
/// the (already verified) link above it.
pub enum Start<'a> {
    Root(&'a PublicKey, &'static Algorithm),
    Below(&'a LinkFacts),
}

/// spec 4.1: a pattern covers itself and everything below it at a '/' boundary.
fn action_covers(pattern: &str, action: &str) -> bool {
    pattern == "*"
        || action == pattern
        || (action.len() > pattern.len()
            && action.starts_with(pattern)
            && action.as_bytes()[pattern.len()] == b'/')
}

/// spec 4.2: `P/*` covers what lies below P; anything else matches exactly.
fn resource_covers(pattern: &str, resource: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('/') => {
            resource.starts_with(prefix) && resource.len() > prefix.len()
        }
        _ => resource == pattern,
    }
}

/// spec 4.3: `Capability.covers`, patterns compared as patterns.
fn covers(parent: &(String, String), child: &(String, String)) -> bool {
    let (pa, pr) = (parent.0.as_str(), parent.1.as_str());
    let (ca, cr) = (child.0.as_str(), child.1.as_str());
    if pa != "*" && (ca == "*" || !action_covers(pa, ca)) {
        return false;
    }
    if pr == "*" {
        return true;
    }
    if cr == "*" {
        return false;
    }
    if pr.ends_with("/*") {
        return resource_covers(pr, cr);
    }
    pr == cr
}

/// V2 over `links`, the first signed as `start` says; stops at the first failure.
pub fn verify_chain(
    links: &[&LinkFacts],
    start: Start<'_>,
    allowed: &[&str],
    max_ttl: u64,
) -> Result<(), Failure> {
    let (mut signer, mut signer_alg, mut parent) = match start {
        Start::Root(key, alg) => (key, alg, None),
        Start::Below(above) => (&*above.holder, above.holder_alg, Some(above)),
    };
    for (index, link) in links.iter().enumerate() {
        // V2.2: the algorithm is allowed here and is the one the signer's key is bound to
        if !allowed.contains(&link.algorithm.name) || link.algorithm.name != signer_alg.name {
            return Err(Failure::Check(index, Check::Alg));
        }
        // V2.3: the signature over the stored bytes
        signer
            .verify(&link.signature, &link.signed)
            .map_err(|e| Failure::Signature(index, e))?;
        // V2.4: linkage to the parent's exact signed bytes (none at the root)
        if link.parent != parent.map(|p| p.digest) {
            return Err(Failure::Check(index, Check::Linkage));
        }
        // V2.5: the window is not empty and not longer than the policy's max_ttl
        if link.exp <= link.nbf || link.exp - link.nbf > max_ttl {
            return Err(Failure::Check(index, Check::Window));
        }
        // V2.6: authority only narrows
        if let Some(above) = parent {
            let widened = link
                .capabilities
                .iter()
                .any(|cap| !above.capabilities.iter().any(|p| covers(p, cap)));
            if widened {
                return Err(Failure::Check(index, Check::Scope));
            }
            if !(above.nbf <= link.nbf && link.exp <= above.exp) {
                return Err(Failure::Check(index, Check::TimeNesting));
            }
            if link.depth >= above.depth {
                return Err(Failure::Check(index, Check::Depth));
            }
        }
        signer = &link.holder;
        signer_alg = link.holder_alg;
        parent = Some(link);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(a: &str, r: &str) -> (String, String) {
        (a.to_string(), r.to_string())
    }

    #[test]
    fn coverage_is_the_reference_rule() {
        assert!(covers(&cap("mail", "*"), &cap("mail/send", "https://x/y")));
        assert!(!covers(&cap("mail", "*"), &cap("mailx", "https://x/y")));
        assert!(!covers(&cap("mail", "https://x/*"), &cap("mail", "*")));
        assert!(covers(&cap("*", "https://x/*"), &cap("a", "https://x/*")));
        assert!(covers(&cap("*", "https://x/*"), &cap("a", "https://x/y/*")));
        assert!(!covers(&cap("*", "https://x/*"), &cap("a", "https://x/")));
        assert!(!covers(&cap("a", "https://x/y"), &cap("*", "https://x/y")));
        assert!(covers(&cap("a", "https://x/y"), &cap("a/b", "https://x/y")));
    }
}
