"""The JOSE encoding (spec/jose.md): round trips, the strict profile, RFC 8725 attacks, mixing.

Every hostile token is built by hand (tests.helpers.raw_jws) and checked for its exact code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentchain import (
    AgentchainError,
    IssueError,
    Outcome,
    Presentation,
    Request,
    attest,
    codec,
    decode_presentation_unverified,
    delegate,
    invoke,
    issue,
)
from agentchain.codec import JWT_TYP_INVOCATION, JWT_TYP_LINK, decode_unverified, request_digest
from agentchain.errors import DecodeError
from agentchain.issuer import approve
from agentchain.limits import Limits
from agentchain.model import ApprovalClaims, AttestationClaims, InvocationClaims, LinkClaims
from agentchain.wire import cbor, jws
from tests.helpers import (
    AGENT,
    ALICE,
    AUD,
    CAL,
    ES256,
    MALLORY,
    NOW,
    REQUEST,
    ROOT_CAPS,
    SUB,
    Rng,
    jose_container,
    jose_payload,
    jose_present,
    key,
    make_verifier,
    raw_jws,
    standard_presentation,
    standard_token,
)
from tests.test_cli import API, T0, T1, Env, ok, run
from tests.test_crypto import SMALL_ORDER, L

HEADER = {"alg": "Ed25519", "typ": JWT_TYP_LINK}


def code_of(fn: Callable[..., object]) -> str:
    with pytest.raises(AgentchainError) as info:
        fn()
    return info.value.code


def root_payload(**changes: object) -> dict[str, Any]:
    """The JSON claims of an honest JOSE root link alice -> agent, with ``changes``."""
    token = issue(
        ALICE,
        AGENT.public_key,
        capabilities=ROOT_CAPS,
        ttl=3600,
        now=NOW,
        rng=Rng("jose-root"),
        encoding="jose",
    )
    payload = jose_payload(token.links[0])
    payload.update(changes)
    return payload


def verify_root(link: bytes, signer_of_invocation: Any = AGENT) -> str:
    """Verify a presentation made of ``link`` (as root) and an invocation; outcome or code."""
    data = jose_present([link], signer_of_invocation)
    try:
        decision = make_verifier().verify(data, REQUEST)
    except AgentchainError as exc:
        return exc.code
    return decision.outcome.value if decision.outcome is Outcome.ALLOW else decision.reasons[0].code


# ---------------------------------------------------------------------------
# round trips and the claim mapping


def test_honest_hand_built_root_is_allowed() -> None:
    # the baseline every hostile variant below departs from
    assert verify_root(raw_jws(HEADER, root_payload(), ALICE)) == "allow"


@pytest.mark.parametrize("alg", ["Ed25519", ES256])
def test_every_kind_round_trips_and_verifies(alg: str) -> None:
    # R-J.1-1
    root, agent, sub = key("jr", alg), key("ja", alg), key("js", alg)
    token = standard_token(root=root, agent=agent, sub=sub, encoding="jose")
    att = attest(root, sub.public_key, code={"sha256": b"\x01" * 32}, now=NOW, encoding="jose")
    digest = request_digest(token.chain_digest, AUD, REQUEST.action, REQUEST.resource, {})
    apv = approve(root, digest, now=NOW, encoding="jose")
    p = invoke(
        token,
        sub,
        audience=AUD,
        action=REQUEST.action,
        resource=REQUEST.resource,
        attestations=[att],
        approvals=[apv],
        now=NOW,
        rng=Rng("rt"),
    )
    assert p.encoding == "jose"
    for link in p.links:
        assert link.encoded.count(b".") == 2 and link.encoding == "jose"
        assert decode_unverified(LinkClaims, link.encoded) == link
    assert p.invocation is not None
    assert decode_unverified(InvocationClaims, p.invocation.encoded) == p.invocation
    assert decode_unverified(AttestationClaims, att.encoded) == att
    assert decode_unverified(ApprovalClaims, apv.encoded) == apv
    for form in (p.to_bytes(), p.to_text()):
        again = decode_presentation_unverified(form)
        assert again == p and again.to_bytes() == p.to_bytes()
    assert p.to_text().startswith("ac2j.")
    assert json.loads(p.to_bytes())["ver"] == 2
    decision = make_verifier(root.public_key).verify(p.to_text(), REQUEST)
    assert decision.outcome is Outcome.ALLOW


def test_the_same_claims_in_both_encodings() -> None:
    # R-J.1-1: one semantic model; only the envelope differs
    cbor_p = standard_presentation(standard_token())
    jose_p = standard_presentation(standard_token(encoding="jose"))
    for a, b in zip(cbor_p.links, jose_p.links, strict=True):
        assert a.claims.holder == b.claims.holder and a.claims.window == b.claims.window
        assert a.claims.capabilities == b.claims.capabilities
        assert a.claims.descriptor == b.claims.descriptor
    assert cbor_p.invocation is not None and jose_p.invocation is not None
    assert cbor_p.invocation.claims.nonce == jose_p.invocation.claims.nonce
    assert cbor_p.links[0].envelope.encoding == "cbor"


def test_link_claim_names_and_header() -> None:
    # R-J.5-1: registered names where they fit, cnf per RFC 7800
    token = standard_token(encoding="jose")
    root, sub = token.links
    assert json.loads(root.envelope.protected) == {"alg": "Ed25519", "typ": "ac-link+jwt"}
    payload = jose_payload(sub)
    assert set(payload) == {"ver", "cnf", "prt", "iat", "nbf", "exp"} | {
        "cap",
        "cav",
        "dep",
        "dsc",
    }
    assert payload["cnf"] == {"jwk": codec.public_key_jwk(SUB.public_key)}
    # R-5.5-10: the issuer only at the root, the parent only below it
    assert jose_payload(root)["iss"] == jws.b64encode(ALICE.public_key.thumbprint)
    assert "prt" not in jose_payload(root) and "pur" in jose_payload(root)


def test_link_digest_is_over_the_compact_text() -> None:
    # R-J.6-1
    root, sub = standard_token(encoding="jose").links
    assert root.digest == hashlib.sha256(root.encoded).digest()
    assert sub.claims.parent == root.digest
    assert jose_payload(sub)["prt"] == jws.b64encode(root.digest)


def test_unknown_claim_is_refused() -> None:
    # R-J.5-1
    link = raw_jws(HEADER, root_payload(admin=True), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "unknown_field"
    # R-3.3-5: alg, kid in the holder's JWK: key_invalid, as an extra COSE_Key label is
    link = raw_jws(HEADER, root_payload(cnf={"jwk": ALICE.public_key.to_jwk()}), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "key_invalid"
    link = raw_jws(HEADER, root_payload(cnf={"kid": "x"}), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "schema_invalid"
    # a member of cnf besides jwk is a member outside the tables
    jwk = {k: v for k, v in ALICE.public_key.to_jwk().items() if k in ("kty", "crv", "x")}
    link = raw_jws(HEADER, root_payload(cnf={"jwk": jwk, "kid": "x"}), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "unknown_field"
    link = raw_jws(HEADER, root_payload(exp="soon"), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "schema_invalid"


def test_bytes_cannot_be_expressed_in_jose() -> None:
    # R-J.5-2
    token = standard_token(encoding="jose")
    with pytest.raises(IssueError) as info:
        standard_presentation(token, args={"blob": b"\x00"})
    assert info.value.code == "schema_invalid"
    with pytest.raises(IssueError) as info:
        issue(
            ALICE,
            AGENT.public_key,
            capabilities=ROOT_CAPS,
            caveats=[["==", ".x", b"\x01"]],
            now=NOW,
            encoding="jose",
        )
    assert info.value.code == "schema_invalid"
    for args in ({"m": {1: "one"}}, {"big": 2**53}):  # json would re-spell or round these
        with pytest.raises(IssueError) as info:
            standard_presentation(token, args=args)
        assert info.value.code == "schema_invalid"
    # the same args are fine in CBOR
    assert standard_presentation(standard_token(), args={"blob": b"\x00"}).encoding == "cbor"


def test_json_args_keep_their_meaning() -> None:
    args = {"n": 3, "ok": True, "none": None, "list": [1, "a", {"k": -(2**53 - 1)}]}
    p = standard_presentation(standard_token(encoding="jose"), args=args)
    decision = make_verifier().verify(p.to_bytes(), Request(REQUEST.action, REQUEST.resource, args))
    assert decision.outcome is Outcome.ALLOW
    # type-strict: True is not 1 across the JSON mapping either
    other = {**args, "ok": 1}
    decision = make_verifier().verify(
        p.to_bytes(), Request(REQUEST.action, REQUEST.resource, other)
    )
    assert decision.reasons[0].code == "request_mismatch"


# ---------------------------------------------------------------------------
# RFC 8725: algorithms


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "HS512", "RS256", "PS256", "ES384", ""])
def test_algorithms_outside_the_allowlist(alg: str) -> None:
    # R-J.4-1
    link = raw_jws({"alg": alg, "typ": JWT_TYP_LINK}, root_payload(), None, signature=b"")
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "alg_not_allowed"


def test_alg_none_with_empty_signature_is_refused_in_a_presentation() -> None:
    # R-J.4-1: the classic: strip the signature, say "none"
    link = raw_jws({"alg": "none", "typ": JWT_TYP_LINK}, root_payload(), None, signature=b"")
    assert link.endswith(b".")
    assert verify_root(link) == "alg_not_allowed"


def test_hmac_keyed_with_the_public_key_is_refused() -> None:
    # R-J.4-1: RFC 8725 2.2, the public key used as an HMAC secret
    header = {"alg": "HS256", "typ": JWT_TYP_LINK}
    h, p = json.dumps(header).encode(), json.dumps(root_payload()).encode()
    secret = json.dumps(ALICE.public_key.to_jwk()).encode()
    mac = hmac.new(secret, jws.signing_input(h, p), hashlib.sha256).digest()
    assert verify_root(raw_jws(h, p, None, signature=mac)) == "alg_not_allowed"
    mac = hmac.new(ALICE.public_key.raw(), jws.signing_input(h, p), hashlib.sha256).digest()
    assert verify_root(raw_jws(h, p, None, signature=mac)) == "alg_not_allowed"


def test_alg_is_bound_to_the_key_type() -> None:
    # R-J.4-2: an ES256 header over the Ed25519 anchor's link, and the reverse
    link = raw_jws({"alg": ES256, "typ": JWT_TYP_LINK}, root_payload(), ALICE)
    assert verify_root(link) == "alg_not_allowed"
    es_anchor = key("es-anchor", ES256)
    payload = root_payload(iss=jws.b64encode(es_anchor.public_key.thumbprint))
    link = raw_jws(HEADER, payload, es_anchor)
    data = jose_present([link], AGENT)
    assert code_of(lambda: make_verifier(es_anchor.public_key).verify(data, REQUEST)) == (
        "alg_not_allowed"
    )


def test_strict_ed25519_applies_to_jose() -> None:
    # R-J.4-3: non-canonical S (S + L) and small-order R are malformed, not "valid elsewhere"
    honest = raw_jws(HEADER, root_payload(), ALICE)
    signature = jws.b64decode(honest.rsplit(b".", 1)[1].decode())
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + L).to_bytes(32, "little")
    h_p = honest.rsplit(b".", 1)[0]
    assert verify_root(h_p + b"." + jws.b64encode(malleated).encode()) == "signature_malformed"
    small_r = SMALL_ORDER[0] + (1).to_bytes(32, "little")
    assert verify_root(h_p + b"." + jws.b64encode(small_r).encode()) == "signature_malformed"


def test_small_order_holder_key_in_cnf_is_refused() -> None:
    # R-J.4-3
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": jws.b64encode(SMALL_ORDER[1])}
    link = raw_jws(HEADER, root_payload(cnf={"jwk": jwk}), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "key_invalid"


def test_wrong_signer_is_refused() -> None:
    assert verify_root(raw_jws(HEADER, root_payload(), MALLORY)) == "signature_invalid"


# ---------------------------------------------------------------------------
# RFC 8725: headers


@pytest.mark.parametrize(
    "member",
    ["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "b64", "cty", "zip", "enc", "x-custom"],
)
def test_forbidden_header_members(member: str) -> None:
    # R-J.3-4
    value: object = {"kty": "OKP"} if member == "jwk" else ["x"] if member == "x5c" else "x"
    link = raw_jws({**HEADER, member: value}, root_payload(), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "jose_header_forbidden"


def test_embedded_jwk_of_the_attacker_is_never_trusted() -> None:
    # R-J.3-4: mallory signs and ships her own key in the header (CVE-2018-0114 style)
    header = {**HEADER, "jwk": MALLORY.public_key.to_jwk()}
    assert verify_root(raw_jws(header, root_payload(), MALLORY)) == "jose_header_forbidden"
    header = {**HEADER, "jku": "https://mallory.example/keys.json"}
    assert verify_root(raw_jws(header, root_payload(), MALLORY)) == "jose_header_forbidden"


def test_crit_is_refused() -> None:
    # R-J.3-3
    for crit in (["exp"], [], ["b64"]):
        header = {**HEADER, "crit": crit}
        assert verify_root(raw_jws(header, root_payload(), ALICE)) == "jose_crit_unsupported"


def test_kid_is_only_a_hint() -> None:
    # R-J.3-5: a kid naming another key changes nothing; a kid naming the anchor helps no forger
    header: dict[str, object] = {**HEADER, "kid": MALLORY.public_key.kid}
    assert verify_root(raw_jws(header, root_payload(), ALICE)) == "allow"
    header = {**HEADER, "kid": ALICE.public_key.kid}
    assert verify_root(raw_jws(header, root_payload(), MALLORY)) == "signature_invalid"
    header = {**HEADER, "kid": 7}
    assert code_of(
        lambda: decode_unverified(LinkClaims, raw_jws(header, root_payload(), ALICE))
    ) == ("schema_invalid")


@pytest.mark.parametrize(
    "typ",
    [
        "JWT",
        "jwt",
        JWT_TYP_INVOCATION,
        "ac-approval+JWT",
        "agentchain-approval+jwt",
        "application/agentchain-link+cbor",
    ],
)
def test_explicit_typ(typ: str) -> None:
    # R-J.3-6
    link = raw_jws({"alg": "Ed25519", "typ": typ}, root_payload(), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "type_mismatch"


def test_a_link_cannot_stand_in_for_an_invocation() -> None:
    # R-J.3-6: cross-JWT confusion between kinds
    link = raw_jws(HEADER, root_payload(), ALICE)
    data = jose_container([link], link)
    assert code_of(lambda: decode_presentation_unverified(data)) == "type_mismatch"


def test_header_must_name_alg_and_typ() -> None:
    for header in ({"alg": "Ed25519"}, {"typ": JWT_TYP_LINK}, {"alg": 1, "typ": JWT_TYP_LINK}):
        link = raw_jws(header, root_payload(), ALICE)
        assert code_of(lambda link=link: decode_unverified(LinkClaims, link)) == "schema_invalid"
    link = raw_jws(b"[]", json.dumps(root_payload()).encode(), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "schema_invalid"


# ---------------------------------------------------------------------------
# strict JSON


def test_duplicate_member_names() -> None:
    # R-J.2-1: in the payload, in the header, in the container
    body = json.dumps(root_payload())
    dup_payload = body[:-1] + ',"exp":99999999999}'
    link = raw_jws(HEADER, dup_payload.encode(), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "json_duplicate_key"
    dup_header = b'{"alg":"Ed25519","typ":"ac-link+jwt","alg":"none"}'
    link = raw_jws(dup_header, body.encode(), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "json_duplicate_key"
    good = raw_jws(HEADER, root_payload(), ALICE).decode()
    container = f'{{"ver":1,"links":["{good}"],"links":["{good}"]}}'.encode()
    assert code_of(lambda: decode_presentation_unverified(container)) == "json_duplicate_key"


def test_the_first_member_repeated_is_named_and_the_integer_range_is_exact() -> None:
    # R-J.2-1: the message names the first member spelt twice, in the text's order;
    # R-J.2-2: integers within -(2^53-1)..2^53-1 only, whatever their spelling's length
    from agentchain.wire import jws

    limits = {"max_bytes": 4096, "max_depth": 8, "max_items": 64, "max_string_bytes": 256}
    with pytest.raises(DecodeError) as caught:
        jws.loads(b'{"a":1,"b":2,"b":3,"a":4}', **limits)
    assert (caught.value.code, caught.value.message) == (
        "json_duplicate_key",
        "JSON object repeats member 'b'",
    )
    assert jws.loads(b'{"a":{"b":1},"c":{"b":2}}', **limits) == {"a": {"b": 1}, "c": {"b": 2}}
    for text, value in (("9007199254740991", 2**53 - 1), ("-9007199254740991", -(2**53 - 1))):
        assert jws.loads(text.encode(), **limits) == value
    assert jws.loads(b"-0", **limits) == 0
    for text in ("9007199254740992", "-9007199254740992", "10000000000000000", "-" + "9" * 17):
        with pytest.raises(DecodeError) as caught:
            jws.loads(text.encode(), **limits)
        assert caught.value.code == "json_invalid"


@pytest.mark.parametrize(
    "number", ["1.0", "1e3", "NaN", "Infinity", "-Infinity", "9007199254740992", "1" * 400]
)
def test_floats_and_big_integers(number: str) -> None:
    # R-J.2-2
    body = json.dumps(root_payload(dep=0)).replace('"dep": 0', f'"dep": {number}')
    assert number in body
    link = raw_jws(HEADER, body.encode(), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "json_invalid"


def test_malformed_json_and_encodings() -> None:
    for body in (b"{", b'{"a":1}x', b"\xff\xfe", b'\xef\xbb\xbf{"ver":1}', b'{"a":"\\ud800"}'):
        link = raw_jws(HEADER, body, ALICE)
        assert code_of(lambda link=link: decode_unverified(LinkClaims, link)) == "json_invalid"


def test_nesting_is_capped_before_parsing() -> None:
    # R-J.2-3: unbalanced and far too deep: the scan answers before json could
    body = b"[" * 100_000
    link = raw_jws(HEADER, body, ALICE)
    assert code_of(
        lambda: decode_unverified(LinkClaims, link, Limits(max_object_bytes=200_000))
    ) == ("limit_exceeded")
    deep = json.dumps(root_payload(pur=None)).replace("null", "[" * 20 + "]" * 20)
    link = raw_jws(HEADER, deep.encode(), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "limit_exceeded"
    # brackets inside strings do not count
    fine = root_payload(pur='[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"')
    assert decode_unverified(LinkClaims, raw_jws(HEADER, fine, ALICE)).claims.purpose is not None


# ---------------------------------------------------------------------------
# strict base64url and size caps


def _parts(link: bytes) -> list[str]:
    return link.decode().split(".")


@pytest.mark.parametrize("part", [0, 1, 2])
@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "=" * (-len(t) % 4 or 4),  # padding
        lambda t: t[:-1] + chr(ord(t[-1]) + 1),  # stray bits (or an off-alphabet char)
        lambda t: t[:4] + " " + t[4:],  # whitespace
        lambda t: t[:4] + "\n" + t[4:],
        lambda t: t.replace("_", "/").replace("-", "+") + "+/",  # the other alphabet
        lambda t: t + "A" * ((1 - len(t)) % 4 or 4),  # a length that is 1 modulo 4
    ],
)
def test_noncanonical_base64url(part: int, mangle: Callable[[str], str]) -> None:
    # R-J.3-2
    parts = _parts(raw_jws(HEADER, root_payload(), ALICE))
    parts[part] = mangle(parts[part])
    link = ".".join(parts).encode()
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "base64_invalid"


def test_stray_bits_in_the_signature() -> None:
    # R-J.3-2: 64 bytes end on 2 unused bits; setting them spells the same bytes twice
    parts = _parts(raw_jws(HEADER, root_payload(), ALICE))
    last = parts[2][-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    parts[2] = parts[2][:-1] + alphabet[alphabet.index(last) | 1]
    assert parts[2] != _parts(raw_jws(HEADER, root_payload(), ALICE))[2]
    assert base64.urlsafe_b64decode(parts[2] + "==")  # lenient decoders accept it
    link = ".".join(parts).encode()
    assert code_of(lambda: decode_unverified(LinkClaims, link)) == "base64_invalid"


def test_not_three_parts() -> None:
    link = raw_jws(HEADER, root_payload(), ALICE)
    for bad in (link + b".", link.rsplit(b".", 1)[0], link + b".AAAA.AAAA"):
        assert code_of(lambda bad=bad: decode_unverified(LinkClaims, bad)) == "schema_invalid"


def test_size_cap_is_checked_before_parsing() -> None:
    # R-J.3-1: an oversized object is refused whatever it holds (here: not even base64)
    junk = b"e" + b"!" * 20_000
    assert code_of(lambda: decode_unverified(LinkClaims, junk)) == "limit_exceeded"
    link = raw_jws(HEADER, root_payload(pur="x" * 3000), ALICE)
    assert code_of(lambda: decode_unverified(LinkClaims, link, Limits(max_object_bytes=2000))) == (
        "limit_exceeded"
    )
    huge = jose_container([link] * 40)
    assert code_of(lambda: decode_presentation_unverified(huge)) == "limit_exceeded"


# ---------------------------------------------------------------------------
# one chain, one encoding


def test_jose_link_in_a_cbor_container() -> None:
    # R-J.1-2
    cbor_token = standard_token()
    jose_token = standard_token(encoding="jose")
    mixed = cbor.encode({1: 2, 2: [cbor_token.links[0].encoded, jose_token.links[1].encoded]})
    assert code_of(lambda: decode_presentation_unverified(mixed)) == "encoding_mixed"
    as_text = cbor.encode({1: 2, 2: [jose_token.links[0].encoded.decode()]})
    assert code_of(lambda: decode_presentation_unverified(as_text)) == "encoding_mixed"


def test_a_malformed_jws_in_a_cbor_container_is_mixed_not_parsed() -> None:
    # R-J.1-2: by J.1's detection rule a byte string starting with a base64url character is a
    # JWS compact; the CBOR container refuses it as mixed instead of running the JOSE parser
    # on it (which answered base64_invalid or schema_invalid from inside a CBOR container)
    cbor_token = standard_token()
    jose_link = standard_token(encoding="jose").links[1].encoded
    for bad in (jose_link + b"\n", jose_link + b"==", jose_link + b".x", b"e30"):
        mixed = cbor.encode({1: 2, 2: [cbor_token.links[0].encoded, bad]})
        assert code_of(lambda mixed=mixed: decode_presentation_unverified(mixed)) == (
            "encoding_mixed"
        )


def test_cose_link_in_a_json_container() -> None:
    # R-J.1-2
    cose = standard_token().links[0].encoded
    jose_links = standard_token(encoding="jose").links
    for item in (jws.b64encode(cose), "ac2c." + jws.b64encode(cose)):
        data = json.dumps({"ver": 2, "links": [jose_links[0].encoded.decode(), item]}).encode()
        assert code_of(lambda data=data: decode_presentation_unverified(data)) == "encoding_mixed"
    data = json.dumps({"ver": 2, "links": [7]}).encode()
    assert code_of(lambda: decode_presentation_unverified(data)) == "schema_invalid"


def test_attachments_in_another_encoding() -> None:
    # R-J.1-2, R-J.1-3
    jose_p = standard_presentation(standard_token(encoding="jose"))
    cbor_att = attest(ALICE, SUB.public_key, model="m", now=NOW)
    jose_att = attest(ALICE, SUB.public_key, model="m", now=NOW, encoding="jose")
    assert jose_p.invocation is not None
    data = jose_container(
        [link.encoded for link in jose_p.links],
        jose_p.invocation.encoded,
        extra={"attestations": [jws.b64encode(cbor_att.encoded)]},
    )
    assert code_of(lambda: decode_presentation_unverified(data)) == "encoding_mixed"
    with pytest.raises(IssueError) as info:
        invoke(
            standard_token(encoding="jose"),
            SUB,
            audience=AUD,
            action=REQUEST.action,
            resource=REQUEST.resource,
            attestations=[cbor_att],
            now=NOW,
        )
    assert info.value.code == "encoding_mixed"
    digest = request_digest(jose_p.chain_digest, AUD, REQUEST.action, REQUEST.resource, {})
    with pytest.raises(IssueError) as info:
        invoke(
            standard_token(),
            SUB,
            audience=AUD,
            action=REQUEST.action,
            resource=REQUEST.resource,
            attestations=[jose_att],
            approvals=[approve(ALICE, digest, now=NOW, encoding="jose")],
            now=NOW,
        )
    assert info.value.code == "encoding_mixed"


def test_a_mixed_presentation_object_cannot_be_built() -> None:
    # R-J.1-2: also for callers that hand the verifier a Presentation object
    cbor_links = standard_token().links
    jose_links = standard_token(encoding="jose").links
    with pytest.raises(DecodeError) as info:
        Presentation((cbor_links[0], jose_links[1]))
    assert info.value.code == "encoding_mixed"


def test_delegate_follows_the_token_encoding() -> None:
    # R-J.1-3
    token = issue(
        ALICE, AGENT.public_key, capabilities=ROOT_CAPS, depth=1, now=NOW, encoding="jose"
    )
    longer = delegate(token, AGENT, SUB.public_key, capabilities=ROOT_CAPS[:1], now=NOW)
    assert [link.encoding for link in longer.links] == ["jose", "jose"]


def test_text_prefix_must_match_the_container() -> None:
    # R-J.6-2
    jose_bytes = standard_token(encoding="jose").to_bytes()
    cbor_bytes = standard_token().to_bytes()
    for text in ("ac2c." + jws.b64encode(jose_bytes), "ac2j." + jws.b64encode(cbor_bytes)):
        assert code_of(lambda text=text: decode_presentation_unverified(text)) == (
            "encoding_unknown"
        )
    assert decode_presentation_unverified("ac2j." + jws.b64encode(jose_bytes)).encoding == "jose"


def test_jose_attachment_text_is_the_compact_form() -> None:
    att = attest(ALICE, SUB.public_key, model="m", now=NOW, encoding="jose")
    text = codec.attachment_to_text(att.encoded)
    assert text == att.encoded.decode() and text.startswith("eyJ")
    assert codec.attachment_from_text(f"  {text}\n") == att.encoded
    cbor_att = attest(ALICE, SUB.public_key, model="m", now=NOW)
    assert codec.attachment_from_text(codec.attachment_to_text(cbor_att.encoded)) == (
        cbor_att.encoded
    )
    assert code_of(lambda: codec.attachment_from_text("%%%")) == "encoding_unknown"


def test_unknown_encoding_is_refused_by_the_issuer() -> None:
    with pytest.raises(AgentchainError) as info:
        issue(ALICE, AGENT.public_key, capabilities=ROOT_CAPS, encoding="xml")  # type: ignore[arg-type]
    assert info.value.code == "usage"


# ---------------------------------------------------------------------------
# the CLI


def test_cli_format_jose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = Env(tmp_path, capsys)
    token = env.issue("--format", "jose")
    assert token.read_text().startswith("ac2j.")
    sub = env.delegate(token)  # follows the token
    assert sub.read_text().startswith("ac2j.")
    code, _, err = run(
        capsys,
        "delegate",
        "--token",
        token,
        "--key",
        env.key("agent"),
        "--to",
        env.pub("sub"),
        "--cap",
        "flights/search",
        f"{API}/flights/*",
        "--at",
        T0,
        "--format",
        "cbor",
    )
    assert code != 0 and "one chain, one encoding" in err
    att = env.file(
        "att",
        ok(
            capsys,
            "attest",
            "--key",
            env.key("builder"),
            "--subject",
            env.pub("sub"),
            "--model",
            "m1",
            "--at",
            T0,
            "--format",
            "jose",
        ),
    )
    assert att.read_text().startswith("eyJ")
    pres = env.file(
        "pres",
        ok(
            capsys,
            "invoke",
            "--token",
            sub,
            "--key",
            env.key("sub"),
            "--aud",
            API,
            "--action",
            "flights/search",
            "--resource",
            f"{API}/flights/x",
            "--attestation",
            att,
            "--at",
            T1,
        ),
    )
    assert pres.read_text().startswith("ac2j.")
    described = json.loads(ok(capsys, "inspect", pres, "--json"))
    assert described["encoding"] == "jose" and len(described["attestations"]) == 1
    assert "encoding: jose" in ok(capsys, "inspect", pres)
    out = ok(
        capsys,
        "verify",
        "--presentation",
        pres,
        "--trust",
        env.pub("alice"),
        "--aud",
        API,
        "--action",
        "flights/search",
        "--resource",
        f"{API}/flights/x",
        "--at",
        T1,
        "--json",
    )
    data = json.loads(out)
    assert data["outcome"] == "allow" and data["encoding"] == "jose"
    # a cbor attestation on a jose chain is refused
    cbor_att = env.file(
        "att2",
        ok(
            capsys,
            "attest",
            "--key",
            env.key("builder"),
            "--subject",
            env.pub("sub"),
            "--model",
            "m",
        ),
    )
    code, _, err = run(
        capsys,
        "invoke",
        "--token",
        sub,
        "--key",
        env.key("sub"),
        "--aud",
        API,
        "--action",
        "flights/search",
        "--resource",
        f"{API}/flights/x",
        "--attestation",
        cbor_att,
        "--at",
        T1,
    )
    assert code != 0 and "encoding_mixed" in err


def test_cli_approve_format_jose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = Env(tmp_path, capsys)
    digest = request_digest(b"\x01" * 32, AUD, "a/b", CAL, {})
    request = {
        "digest": digest.hex(),
        "chain": (b"\x01" * 32).hex(),
        "audience": AUD,
        "action": "a/b",
        "resource": CAL,
        "args_cbor": jws.b64encode(bytes([0xA0])),
    }
    req = env.file("request.json", json.dumps(request))
    out = ok(capsys, "approve", "--key", env.key("alice"), "--request", req, "--format", "jose")
    approval = decode_unverified(ApprovalClaims, codec.attachment_from_text(out))
    assert approval.envelope.encoding == "jose" and approval.claims.request == digest


def test_trailing_bits_check_matches_reencoding() -> None:
    # R-J.3-2: for every last character, b64decode accepts exactly the spellings that
    # re-encode to themselves (one spelling per byte string)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for stem in ("", "QU", "QUJD", "QUJDRA"):
        for extra in ("A", "AA"):
            for last in alphabet:
                text = stem + extra + last
                if len(text) % 4 == 1:
                    continue
                canonical = jws.b64encode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
                if canonical == text:
                    assert jws.b64encode(jws.b64decode(text)) == text
                else:
                    assert code_of(lambda t=text: jws.b64decode(t)) == "base64_invalid"


@pytest.mark.parametrize(
    ("body", "caps"),
    [
        (b'["abcd"]', {"max_items": 64, "max_string_bytes": 3}),  # a string over the cap
        (b'{"abcd":1}', {"max_items": 64, "max_string_bytes": 3}),  # a key over the cap
        (b"[1,2,3]", {"max_items": 3, "max_string_bytes": 64}),  # four items
        (b'{"a":[]}', {"max_items": 2, "max_string_bytes": 64}),  # key, value, the map
    ],
)
def test_item_and_string_caps_hold_at_the_edge(body: bytes, caps: dict[str, int]) -> None:
    # the value walk is skipped only for texts too short to break a cap: these are not
    assert code_of(lambda: jws.loads(body, max_bytes=1000, max_depth=4, **caps)) == (
        "limit_exceeded"
    )
    roomier = {name: value + 1 for name, value in caps.items()}
    assert jws.loads(body, max_bytes=1000, max_depth=4, **roomier) is not None
