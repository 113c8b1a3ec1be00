"""The bug classes vector cases probe, each documented once (vectors/v1/flags.json)."""

from __future__ import annotations

from typing import Final

#: flag -> (what it is, why it matters, spec section)
FLAGS: Final[dict[str, tuple[str, str, str]]] = {
    "valid": (
        "an honest presentation that must be accepted",
        "a verifier that rejects honest chains is useless and gets bypassed",
        "7, 8",
    ),
    "text-form": (
        "the ac1c. prefix, strict unpadded base64url, surrounding whitespace",
        "two spellings of one token split caches and audit trails",
        "5.1",
    ),
    "cbor-canonical": (
        "non-minimal integers and lengths, unsorted map keys",
        "a second encoding of a signed object re-spells digests and revocation ids",
        "5.2",
    ),
    "cbor-duplicate-key": (
        "a map repeating a key",
        "parsers that keep the first or the last value read different claims",
        "5.2",
    ),
    "cbor-indefinite": (
        "indefinite-length strings, arrays and maps",
        "chunked items give one value several encodings and stream-parsing differentials",
        "5.2",
    ),
    "cbor-tag": (
        "a CBOR tag anywhere, the COSE_Sign1 tag included",
        "tags change how some decoders interpret values (dates, bignums)",
        "5.2, 5.4",
    ),
    "cbor-trailing": (
        "bytes after the top-level item",
        "smuggled data that one parser ignores and another reads",
        "5.2",
    ),
    "cbor-unsupported": (
        "floats and simple values outside false/true/null",
        "floats compare inexactly and differ between languages",
        "5.2",
    ),
    "cbor-malformed": (
        "truncation, reserved encodings, invalid UTF-8",
        "a lenient decoder invents values the signer never wrote",
        "5.2",
    ),
    "cose-profile": (
        "the COSE_Sign1 shape and its exact header sets",
        "unauthenticated headers (kid, x5chain) and crit are classic confusion vectors",
        "5.4",
    ),
    "type-confusion": (
        "a signed object of one kind where another is expected",
        "a link accepted as an invocation hands out authority nobody signed for",
        "5.3",
    ),
    "alg-confusion": (
        "an algorithm not allowed, or not the key's",
        "algorithm substitution is the oldest JOSE/COSE attack",
        "3.1",
    ),
    "key-validation": (
        "malformed, non-canonical, off-curve or small-order public keys",
        "weak keys let anyone sign for them",
        "3.3, 3.4",
    ),
    "ed25519-strict": (
        "the fixed Ed25519 rule: S < L, canonical and non-small-order A and R",
        "libraries disagree on these edge cases; a differential is a forgery somewhere",
        "3.4",
    ),
    "ecdsa-malleability": (
        "ES256 r and s ranges and the low-S rule",
        "a second valid signature re-spells digests and nonces",
        "3.5",
    ),
    "signature-length": (
        "signatures that are not exactly 64 bytes (DER included)",
        "length confusion reaches code paths nobody tested",
        "3.4, 3.5",
    ),
    "signature-forgery": (
        "a signature that does not verify under the expected key",
        "the basic guarantee: no authority without the signer's key",
        "3.4, 7.1",
    ),
    "claims-schema": (
        "missing, mistyped, out-of-range or unknown claims; versions",
        "every parser must read the same claims from the same bytes",
        "5.5, 5.7, 5.8, 9.1, 9.2",
    ),
    "trust-anchor": (
        "a root link signed by a key the verifier does not trust",
        "anyone can sign a root link; only anchors make it count",
        "7.1",
    ),
    "chain-splice": (
        "reordered, truncated or spliced chains, a link moved from another chain",
        "links of different chains must never combine into authority",
        "7.1, 7.2",
    ),
    "holder-binding": (
        "an invocation not signed by the last holder, or bound to another chain",
        "a stolen token must be useless without the holder's private key",
        "7.2",
    ),
    "attenuation": (
        "a link that widens capabilities, its window or its depth",
        "authority only narrows; widening is privilege escalation",
        "4.3, 4.4, 4.5",
    ),
    "capability-match": (
        "action segment prefixes and resource patterns at their boundaries",
        "off-by-one matching (calendar/eventsX, /a vs /a/) grants what was not granted",
        "4.1, 4.2, 4.3",
    ),
    "time-boundary": (
        "nbf, exp, skew and invocation freshness exactly at their edges",
        "off-by-one errors on windows are the most common verifier bug",
        "4.4, 8.2",
    ),
    "audience": (
        "an invocation for another service",
        "confused deputy: a presentation made for one service replayed at another",
        "8.2",
    ),
    "request-binding": (
        "a request that differs from what the invocation signed",
        "the verifier must act only on what the holder signed",
        "8.2",
    ),
    "replay": (
        "a nonce or approval used twice",
        "a captured presentation must not authorize twice",
        "8.2, 9.2",
    ),
    "revocation": (
        "a revoked link anywhere in the chain",
        "revoking a parent must kill every chain under it",
        "8.2",
    ),
    "caveat-semantics": (
        "evaluation of every policy operator, TRUE, FALSE and ERROR",
        "caveats are the fine-grained limits people rely on",
        "6.2",
    ),
    "caveat-syntax": (
        "ill-formed statements, selectors and patterns",
        "a caveat one implementation cannot parse must not be skipped by another",
        "6.1",
    ),
    "type-strictness": (
        "values of different types (true vs 1, bytes vs text) never compare equal",
        "loose comparisons let a mistyped argument through",
        "6.2, 8.2",
    ),
    "missing-selector": (
        "a selector that does not resolve, under every combinator",
        "absence must never turn into permission (not of missing is not true)",
        "6.2",
    ),
    "empty-connective": (
        "and/or/all/any over empty lists",
        "identities differ between languages; the spec fixes them",
        "6.2",
    ),
    "non-ascii": (
        "non-ASCII text in selectors, patterns and values",
        "code points versus bytes versus UTF-16 units",
        "6.1, 6.2",
    ),
    "attestation": (
        "trusted attestations, their windows, subjects and contradictions",
        "declared code is a claim; only attestations prove it",
        "9.1",
    ),
    "approval": (
        "human approvals: required, bound to one request, current, once",
        "the oversight factor must not be laundered or replayed",
        "9.2",
    ),
    "behaviour": (
        "usage limits (rate and spend, fixed windows) and departures from a link's history",
        "an agent within its grant can still spend too much or reach somewhere new",
        "9.5",
    ),
    "limits": (
        "every size, count, depth and step limit at and beyond its value",
        "unbounded inputs are denial of service",
        "5.1, 5.2, 5.6, 6.3",
    ),
    "precedence": (
        "which code wins when several checks fail",
        "errors before denials: a policy outcome must never mask a forgery",
        "8.2",
    ),
    "jose-alg-confusion": (
        "alg none, HMAC keyed with the public key, RSA, names outside the profile, an alg "
        "header naming another key type than the signer's",
        "the RFC 8725 attacks: a verifier that lets the token pick the algorithm verifies nothing",
        "J.4",
    ),
    "jose-header": (
        "key-carrying or key-locating headers (jku, jwk, x5u, x5c, x5t), crit, unknown "
        "members, kid as a hint only",
        "keys come from the trust policy and the chain, never from the object being verified",
        "J.3",
    ),
    "jose-compact": (
        "the JWS compact shape: exactly three strict unpadded base64url parts, no padding, "
        "whitespace, stray bits or standard alphabet",
        "a second spelling of a signed object re-spells its digest; lenient splitting is a "
        "parser differential",
        "J.3",
    ),
    "json-strictness": (
        "duplicate member names, NaN, Infinity, fractions, exponents, integers beyond 2^53-1, "
        "lone surrogates, byte order marks, trailing data, nesting past the limit",
        "JSON parsers disagree on all of these; a disagreement is two readings of one token",
        "J.2",
    ),
    "encoding-mixing": (
        "a JWS inside a CBOR container, a COSE object inside a JSON container, a text prefix "
        "naming the other encoding",
        "one chain, one encoding: a mixed container is read differently by each half",
        "J.1, J.6",
    ),
}
