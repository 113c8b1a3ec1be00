"""The verifier's native path (V1's links, V2) against the pure-Python reference.

``Verifier(backend="native")`` decodes links with ``native/core/src/claims.rs`` and runs V2
with ``chain.rs``; ``backend="pure"`` is the reference. Every test here puts the same input
through both and requires the same answer: the same decision and reasons, or the same error
type, code and message (DESIGN.md section 8: the same first violation). Inputs: every link
of vectors/v1 and claim-level mutants of each (re-encoded, so the CBOR is canonical and the
claims layer is what is tested), every vector case, hypothesis mutations of generated
presentations, and chains that break each check of V2 in turn.

Without the native core these tests are skipped, except under ``CI=true`` (see
tests/test_native.py).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from agentchain import MemoryStore, Request, Verifier, _native, codec, testing
from agentchain._build import Rng
from agentchain.codec._keys import L_CAVEATS
from agentchain.codec._memo import clear_caches
from agentchain.codec._plain import plain_link
from agentchain.codec._text import from_text
from agentchain.errors import AgentchainError, UsageError
from agentchain.issuer import delegate, invoke, issue
from agentchain.limits import Limits
from agentchain.model import InvocationClaims, LinkClaims
from agentchain.testing import mutations, scenarios
from agentchain.vectors import runner
from agentchain.vectors.harness import run_case
from agentchain.verifier import Outcome as Outcome_
from agentchain.verifier import PrefixCache, _native_chain, _types, link_target
from agentchain.verifier._facts import chain_facts
from agentchain.verifier._native_chain import NativeChain
from agentchain.wire import cbor, cose
from tests.helpers import (
    AGENT,
    ALICE,
    AUD,
    CAL,
    MAIL,
    MALLORY,
    NOW,
    REQUEST,
    SUB,
    SUB2,
    SUB_CAPS,
    invoke_raw,
    key,
    link_claims,
    make_policy,
    resign,
    sign_link,
    standard_presentation,
    standard_token,
    vector_cbor_invocations,
)
from tests.test_cache import counting_signatures
from tests.test_native import vector_bytes

LIMITS = Limits()
Outcome = tuple[Any, ...]


def _core_or_skip() -> _native.ChainCore:
    if not _native.available():
        reason = _native.unavailable_reason()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true must run both paths, and the native core is missing: {reason}")
        pytest.skip(reason)
    chain = _native.backend("native").chain
    assert chain is not None
    return chain


@pytest.fixture(scope="module")
def core() -> _native.ChainCore:
    return _core_or_skip()


def outcome(fn: Callable[[], object]) -> Outcome:
    """("ok", value) or ("error", type, code, message); anything else propagates."""
    try:
        return ("ok", fn())
    except AgentchainError as exc:
        return ("error", type(exc).__name__, exc.code, exc.message)


# --------------------------------------------------------------------------
# selection


def test_backend_selection(monkeypatch: pytest.MonkeyPatch, core: _native.ChainCore) -> None:
    policy = make_policy()
    assert Verifier(policy, backend="native").backend_name == "native"
    assert Verifier(policy, backend="pure").backend_name == "pure"
    monkeypatch.delenv(_native.PURE_ENV, raising=False)
    assert Verifier(policy).backend_name == "native"
    monkeypatch.setenv(_native.PURE_ENV, "1")
    assert Verifier(policy).backend_name == "pure"
    # an explicit request wins over the environment
    assert Verifier(policy, backend="native").backend_name == "native"
    with pytest.raises(UsageError, match="unknown backend"):
        Verifier(policy, backend="rust")  # type: ignore[arg-type]


def test_native_without_the_core_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # where agentchain_native is not installed, "native" is a clear error and "auto" is pure
    monkeypatch.setattr(_native, "_native", None)
    monkeypatch.setattr(_native, "_native_error", "agentchain_native is not installed")
    monkeypatch.delenv(_native.PURE_ENV, raising=False)
    with pytest.raises(UsageError, match="not installed"):
        Verifier(make_policy(), backend="native")
    assert Verifier(make_policy()).backend_name == "pure"


# --------------------------------------------------------------------------
# V1: one link's claims (claims.rs), check for check against codec.decode_link_claims


def _vector_links() -> list[bytes]:
    found = []
    for data in vector_bytes()[0]:
        try:
            sign1 = cose.decode_sign1(data, max_depth=16, max_items=2048, max_string_bytes=16_384)
        except AgentchainError:
            continue
        if sign1.typ == codec.TYP_LINK:
            found.append(data)
    return found


_WRONG: tuple[object, ...] = ("x", "", -1, 2**32 + 1, b"\x07" * 32, b"\x07" * 31, [], {}, 256, 0)


def _holder_mutants(key: dict[Any, Any]) -> Iterator[object]:
    yield None
    yield [key]
    for label in list(key):
        yield {k: v for k, v in key.items() if k != label}
        for bad in (None, "x", 2, 6, b"\x00" * 32, b"\x01" + b"\x00" * 31, b"\xff" * 31 + b"\x7f"):
            yield {**key, label: bad}
    yield {**key, 3: -19}
    yield {**key, "x": 1}
    yield {**key, -3: b"\x00" * 32}


def claim_mutants(payload: dict[Any, Any]) -> Iterator[object]:
    """Claim maps near ``payload``: each key dropped, null, of each wrong type; unknown keys;
    the holder's COSE_Key broken label by label; capability and caveat counts."""
    yield payload
    yield [payload]
    for name in list(payload):
        yield {k: v for k, v in payload.items() if k != name}
        yield {**payload, name: None}
        for bad in _WRONG:
            yield {**payload, name: bad}
    for extra in (5, 16, 0, -1, "x", "y'z"):
        yield {**payload, extra: 1}
    yield {**payload, 1: 1}
    yield {**payload, 1: 3}
    yield {**payload, 2: b"\x01" * 32, 4: b"\x02" * 32}
    yield {k: v for k, v in payload.items() if k not in (2, 4)}
    caps = payload.get(9)
    if isinstance(caps, list) and caps:
        yield {**payload, 9: caps * 40}
        yield {**payload, 9: [*caps, ["a"]]}
        yield {**payload, 9: [*caps, [1, "x"]]}
        yield {**payload, 9: [["a/../b", "https://x.example/"], *caps]}
    yield {**payload, 10: [True] * 40}
    yield {**payload, 11: 255}
    yield {**payload, 8: 2**53}
    holder = payload.get(3)
    if isinstance(holder, dict):
        for changed in _holder_mutants(holder):
            yield {**payload, 3: changed}


def _resealed(link: bytes, payload: object) -> bytes:
    """``link`` with its payload replaced (signature kept: V1 does not check it)."""
    sign1 = cose.decode_sign1(link, max_depth=16, max_items=2048, max_string_bytes=16_384)
    return cose.assemble(sign1.protected, cbor.encode(payload), sign1.signature)  # type: ignore[arg-type]


def _link_view(link: codec.Link) -> tuple[object, ...]:
    return (link.claims, link.envelope, link.digest)


def same_link(core: _native.ChainCore, data: bytes) -> Outcome:
    facts: dict[bytes, _native.LinkFacts] = {}
    native = NativeChain(core, make_policy()).decoder(facts, {})
    want = outcome(lambda: _link_view(codec.decode_unverified(LinkClaims, data, LIMITS)))
    got = outcome(lambda: _link_view(native(data, LIMITS)))
    assert got == want, data.hex()
    return want


def test_vector_links_and_their_claim_mutants(core: _native.ChainCore) -> None:
    # R-5.5-3 R-5.5-4 R-3.3-5 R-5.4-5: claims.rs refuses what the reference refuses, with
    # the same code and message, and decodes what it accepts to the same link
    links = _vector_links()
    assert len(links) > 50
    accepted = refused = 0
    for index, data in enumerate(links):
        same_link(core, data)
        if index % 2:
            continue  # every link as it is, every other one mutated (CI runs this twice)
        try:
            payload = cbor.decode(
                cose.decode_sign1(data, **_SIGN1).payload, **_SIGN1 | {"max_string_bytes": 4096}
            )
        except AgentchainError:
            continue  # a vector whose payload is not canonical CBOR: nothing to mutate
        if not isinstance(payload, dict):
            continue
        for mutant in claim_mutants(payload):
            try:
                resealed = _resealed(data, mutant)
            except (AgentchainError, TypeError, ValueError):
                continue  # not encodable (a key type the encoder refuses)
            if same_link(core, resealed)[0] == "ok":
                accepted += 1
            else:
                refused += 1
    assert accepted > 25 and refused > 10_000, (accepted, refused)


def test_head_refusals_come_from_the_core(core: _native.ChainCore) -> None:
    # the core judges the head itself (not by falling back): its refusal is the reference's
    data = _vector_links()[0]
    payload: dict[Any, Any] = cbor.decode(cose.decode_sign1(data, **_SIGN1).payload)  # type: ignore[assignment]
    assert isinstance(payload, dict)
    for mutant, code in (
        ({**payload, 1: 3}, "version_unsupported"),
        ({**payload, 5: b"\x00" * 16}, "unknown_field"),
        ({**payload, 11: 256}, "schema_invalid"),
        ({**payload, 3: {**payload[3], 1: 3}}, "alg_not_allowed"),
    ):
        with pytest.raises(AgentchainError) as raised:
            core.open_link(_resealed(data, mutant), **_OPEN)
        assert raised.value.code == code
        assert same_link(core, _resealed(data, mutant))[2] == code


def test_the_core_s_parts_read_as_the_reference_reads(core: _native.ChainCore) -> None:
    # R-5.5-3 R-8.5-2: where the core finds a payload in the common shape it hands its parts
    # (scalars, the spans of the recurring values, the link's id) instead of the decoded
    # payload; the claims built from them are the reference's, from unseen bytes and from
    # remembered ones, and the id is spec 8.5's (the claims map without its parent)
    used = general = 0
    for data in _vector_links():
        try:
            opened, parts = core.open_link_parts(data, **_OPEN)
        except AgentchainError:
            continue
        raw = core.open_link(data, **_OPEN)[6]
        try:
            want = codec.decode_link_claims(raw, LIMITS, "cbor")
        except AgentchainError:  # refused by a later check: the parts never build claims
            assert parts is None or codec.parts_link(opened[3], LIMITS, parts) is None
            continue
        if parts is None:
            assert opened[6] == raw  # the decoded payload, for the general reading
            general += 1
            continue
        assert opened[6] is None
        assert parts[-1] == codec.link_id(want)
        clear_caches()
        got = codec.parts_link(opened[3], LIMITS, parts)  # every value unseen
        if got is None:  # a value too large to remember: the byte-keyed reading declines too
            assert plain_link(opened[3], LIMITS) is None
            general += 1
            continue
        assert got == want
        assert codec.parts_link(opened[3], LIMITS, parts) == want  # every value remembered
        # remembered under other limits: read again under these, which may refuse a value
        tighter = dataclasses.replace(LIMITS, max_capabilities=1)
        again = codec.parts_link(opened[3], tighter, parts)
        assert again == (want if len(want.capabilities) == 1 else None)
        used += 1
    assert used > 50 and general > 5, (used, general)


def test_parts_of_another_shape_go_the_general_way(core: _native.ChainCore) -> None:
    # R-5.5-3: a purpose that is not text, a null, approvals: no parts, the general reading
    data = _vector_links()[0]
    payload: dict[Any, Any] = cbor.decode(cose.decode_sign1(data, **_SIGN1).payload)  # type: ignore[assignment]
    assert core.open_link_parts(data, **_OPEN)[1] is not None
    for mutant in ({**payload, 12: 7}, {**payload, 12: ""}, {**payload, 12: None}):
        resealed = _resealed(data, mutant)
        assert core.open_link_parts(resealed, **_OPEN)[1] is None
        assert same_link(core, resealed)[0] == "error"
    without = {k: v for k, v in payload.items() if k != 13}
    assert core.open_link_parts(_resealed(data, without), **_OPEN)[1] is None
    same_link(core, _resealed(data, without))  # the same refusal: a descriptor is required


_SIGN1 = {"max_depth": 16, "max_items": 2048, "max_string_bytes": 16_384}
_OPEN = {
    "max_object_bytes": LIMITS.max_object_bytes,
    "max_depth": LIMITS.max_cbor_depth,
    "max_items": LIMITS.max_cbor_items,
    "max_string_bytes": LIMITS.max_string_bytes,
    "max_capabilities": LIMITS.max_capabilities,
    "max_caveats": LIMITS.max_caveats,
}


# --------------------------------------------------------------------------
# V1 of a whole presentation in one call (open_presentation, presentation.rs)


def _read_whole(core: _native.ChainCore, data: bytes, known: Any = None) -> Outcome | None:
    """What the native backend's ``open_plain`` reads ``data`` as, or None where it leaves
    the bytes to the reference."""
    open_plain = NativeChain(core, make_policy()).presentation_decoder({}, {})
    found = outcome(lambda: open_plain(data, LIMITS, known))
    return None if found == ("ok", None) else found


def _read_reference(data: bytes) -> Outcome:
    return outcome(lambda: codec.decode_presentation_unverified(data, LIMITS))


def _cbor_presentations() -> list[bytes]:
    items, _ = vector_bytes()
    return [d for d in items if codec.container_encoding(d) == "cbor" and d[:1] >= b"\xa0"]


def test_whole_presentations_read_as_the_reference_reads(core: _native.ChainCore) -> None:
    # DESIGN.md section 8: where the core reads a presentation whole, it reads what the
    # reference reads (the same objects, or the same error); elsewhere it leaves the bytes
    read = 0
    for data in _cbor_presentations():
        got = _read_whole(core, data)
        if got is not None:
            assert got == _read_reference(data), data.hex()[:80]
            read += 1
    assert read >= 300  # the plain shape is the common one: most vector presentations


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=mutations())
def test_mutated_presentations_read_whole_or_left(core: _native.ChainCore, mutation: Any) -> None:
    data = mutation.data
    if isinstance(data, str):
        try:
            data = from_text(data, LIMITS)
        except AgentchainError:
            return
    if codec.container_encoding(data) != "cbor":
        return
    got = _read_whole(core, data)
    if got is not None:
        assert got == _read_reference(data)


def test_what_the_core_leaves_to_the_reference(core: _native.ChainCore) -> None:
    # presentation.rs reads only the plain shape: every deviation is the reference's to
    # judge, with its code and message (R-5.8-1 and the container's refusals)
    good: dict[Any, Any] = cbor.decode(standard_presentation().to_bytes())  # type: ignore[assignment]
    assert _read_whole(core, cbor.encode(good)) is not None
    link: bytes = good[2][0]
    deviations: list[Any] = [
        {**good, 1: 3},  # another version
        {**good, 6: 0},  # an unknown key
        {**good, 2: []},  # no link
        {**good, 2: [link.decode("latin-1")]},  # text, not bytes
        {**good, 2: [b"eyJ" + link]},  # a JWS compact in a CBOR container
        {**good, 3: None},  # a null invocation
        {k: v for k, v in good.items() if k != 3} | {4: [link]},  # attachment, no invocation
        {**good, 2: [link[:-1]]},  # a link that does not open
        [good],  # not a map
    ]
    for value in deviations:
        data = cbor.encode(value)
        assert _read_whole(core, data) is None, value
        assert _read_reference(data)[0] == "error"
    assert _read_whole(core, b"\xa1\x01\x18\x02") is None  # not canonical


def test_the_arguments_digest_is_read_from_the_payload_as_the_reference_reads_it(
    core: _native.ChainCore,
) -> None:
    # spec 9.3: the audit record's args_digest, read by the core from every CBOR invocation
    # of the vectors and their truncations, is the reference's (or None where it has none)
    payloads = [invocation.envelope.payload for invocation in vector_cbor_invocations()]
    assert len(payloads) > 100
    carried = 0
    for payload in payloads:
        want = codec.payload_args_digest(payload)
        carried += want is not None
        assert core.payload_args_digest(payload) == want
        for cut in (1, 2, len(payload) // 2, len(payload) - 1):
            assert core.payload_args_digest(payload[:cut]) == codec.payload_args_digest(
                payload[:cut]
            )
    assert carried > 100
    assert core.payload_args_digest(b"") is None


@settings(max_examples=60, deadline=None)
@given(args=testing.arguments())
def test_the_core_reads_the_digest_of_any_carried_arguments(
    core: _native.ChainCore, args: dict[str, Any]
) -> None:
    invocation = standard_presentation(args=args, label="digest").invocation
    assert invocation is not None
    payload = invocation.envelope.payload
    want = codec.payload_args_digest(payload)
    assert core.payload_args_digest(payload) == want
    if invocation.claims.args_digest is None:  # carried, not bound by digest
        assert want == codec.args_digest(invocation.claims.args)


def test_known_links_are_not_opened_again(core: _native.ChainCore) -> None:
    # spec 8.4: a link the prefix cache holds is taken as it is, by its digest
    token = standard_token(label="known")
    data = standard_presentation(token).to_bytes()
    first = token.links[0]
    asked: list[bytes] = []

    def known(digest: bytes) -> codec.Link | None:
        asked.append(digest)
        return first if digest == first.digest else None

    found = _read_whole(core, data, known)
    assert found is not None and found[0] == "ok"
    presentation = found[1]
    assert presentation.links[0] is first
    assert asked == [link.digest for link in presentation.links]
    assert presentation == codec.decode_presentation_unverified(data, LIMITS)


def _read_counting(
    core: _native.ChainCore, data: bytes, limits: Limits, monkeypatch: pytest.MonkeyPatch
) -> tuple[codec.Presentation | None, int, dict[bytes, Any], dict[bytes, bytes]]:
    """``open_plain``'s reading of ``data``, how many links were made here (``_link``)
    rather than by the core, and the facts and ids the reading put by link digest."""
    made_here: list[int] = []
    original = NativeChain._link

    def counted(self: NativeChain, *args: Any, **kwargs: Any) -> codec.Link:
        made_here.append(1)
        return original(self, *args, **kwargs)

    facts: dict[bytes, Any] = {}
    ids: dict[bytes, bytes] = {}
    with monkeypatch.context() as patch:
        patch.setattr(NativeChain, "_link", counted)
        open_plain = NativeChain(core, make_policy()).presentation_decoder(facts, ids)
        try:
            read = open_plain(data, limits, None)
        except AgentchainError:  # an object the reference refuses (tested above)
            read = None
    return read, len(made_here), facts, ids


def test_the_core_makes_the_links_the_reference_makes(
    core: _native.ChainCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the core makes a link itself (open_presentation's build) where its four values are
    # remembered under these very limits, and the link is the one _link makes: the same
    # claims, envelope and digest, the same facts and id put by its digest
    made_by_core = 0
    for data in _cbor_presentations():
        clear_caches()  # nothing remembered: every plain link is made here, and learnt
        first = _read_counting(core, data, LIMITS, monkeypatch)
        if first[0] is None:
            continue
        again = _read_counting(core, data, LIMITS, monkeypatch)
        assert again[0] is not None
        assert again[0] == first[0] == codec.decode_presentation_unverified(data, LIMITS)
        for made, learnt in zip(again[0].links, first[0].links, strict=True):
            assert made.claims.holder is learnt.claims.holder  # the remembered value itself
        assert again[2].keys() == first[2].keys() and again[3] == first[3]
        assert first[1] == len(first[0].links)
        made_by_core += first[1] - again[1]
    assert made_by_core >= 300, made_by_core  # most vector links are of the plain shape
    # the revocation target of each link the core made is link_target of its id (spec 8.5)
    computed = 0
    for data in _cbor_presentations():
        ids: dict[bytes, bytes] = {}
        targets: dict[bytes, bytes] = {}
        open_plain = NativeChain(core, make_policy()).presentation_decoder({}, ids, targets)
        outcome(lambda: open_plain(data, LIMITS, None))  # noqa: B023 - called at once
        assert targets.keys() <= ids.keys()
        assert all(targets[d] == link_target(ids[d]) for d in targets)
        computed += len(targets)
    # (only the links of presentations read as far as their links: none of one refused)
    assert computed >= 250, computed
    # remembered under other limits: equal ones serve (as parts_link takes them), others not
    data = standard_presentation(label="other limits").to_bytes()
    for other, made_here in ((dataclasses.replace(LIMITS), 0), (Limits(max_links=9), 1)):
        clear_caches()
        _read_counting(core, data, other, monkeypatch)
        read, here, _, ids = _read_counting(core, data, LIMITS, monkeypatch)
        assert read is not None and here == made_here * len(read.links)
        assert len(ids) == len(read.links)
        assert read == codec.decode_presentation_unverified(data, LIMITS)


def test_the_core_keeps_the_values_it_found_and_forgets_them_with_the_caches(
    core: _native.ChainCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the core keeps each value it found in codec._plain's caches (its front of them, by
    # the value's bytes and under the very limits object the verifier passes), and each
    # principal and key target chain_facts asked the reference for; clear_caches() empties
    # both, as it empties the caches themselves, and links_only keeps them
    data = standard_presentation(label="memos").to_bytes()
    clear_caches()
    assert _native.memos_len() == (0, 0)
    _read_counting(core, data, LIMITS, monkeypatch)  # the values read here, by the reference
    read, here, _, _ = _read_counting(core, data, LIMITS, monkeypatch)
    assert read is not None and here == 0  # made by the core, from codec._plain's caches
    parts = _native.memos_len()[0]
    assert parts >= 4  # the core kept what it found there: holder, capabilities, ...
    # now found by the core itself: codec._plain's caches are not asked again
    asked: list[bytes] = []

    def asking(lookup: Callable[[bytes], object]) -> Callable[[bytes], object]:
        def ask(raw: bytes) -> object:
            asked.append(raw)
            return lookup(raw)

        return ask

    lookups = tuple(asking(lookup) for lookup in codec.PART_LOOKUPS)
    monkeypatch.setattr(codec, "PART_LOOKUPS", lookups)
    again, here, _, _ = _read_counting(core, data, LIMITS, monkeypatch)
    assert again == read and here == 0 and asked == []
    # kept under the very limits object the values were found under: other limits (equal
    # or not) ask codec._plain's caches, which serve equal limits only (as parts_link)
    again, here, _, _ = _read_counting(core, data, dataclasses.replace(LIMITS), monkeypatch)
    assert again == read and here == 0 and asked
    asked.clear()
    again, here, _, _ = _read_counting(core, data, Limits(max_links=9), monkeypatch)
    assert again == read and here == len(read.links)  # read by the reference, under these
    monkeypatch.undo()
    # the principals and key targets of chain_facts, asked of the reference once
    asked_principals: list[object] = []

    def holder_principal(holder: Any, descriptor: Any) -> Any:
        asked_principals.append(holder)
        return _types.holder_principal(holder, descriptor)

    monkeypatch.setattr(_native_chain, "holder_principal", holder_principal)
    policy = make_policy()
    pure = Verifier(policy, store=MemoryStore(), clock=lambda: NOW, backend="pure")
    principals = []
    for _ in range(3):
        clear_caches(links_only=True)  # a chain never seen, its values known
        verifier = Verifier(
            policy, store=MemoryStore(), clock=lambda: NOW, backend="native", prefix_cache=False
        )
        principals.append(verifier.verify(data, REQUEST).chain.principals)
    # the first verification asks for each holder's principal once; the next two, none
    assert len(asked_principals) == len(read.links)
    assert principals[0] == principals[1] == principals[2]
    assert principals[2] == pure.verify(data, REQUEST).chain.principals
    assert _native.memos_len()[1] >= 1
    clear_caches(links_only=True)
    assert _native.memos_len()[0] == parts and _native.memos_len()[1] >= 1
    clear_caches()
    assert _native.memos_len() == (0, 0)


def test_what_the_core_keeps_is_bounded(core: _native.ChainCore) -> None:
    # a holder never seen before is one more value in each of the core's memos: they start
    # over when full, as codec._plain's caches hold their own bound
    clear_caches()
    policy = make_policy()
    most = 0
    for n in range(1100):
        holder = key(f"memo holder {n}")
        token = issue(
            ALICE, holder.public_key, capabilities=SUB_CAPS, ttl=3600, now=NOW, rng=Rng(f"m{n}")
        )
        data = standard_presentation(token, holder=holder, label=f"m{n}").to_bytes()
        for _ in range(2):  # the second reading is the core's, from the reference's caches
            verifier = Verifier(
                policy, store=MemoryStore(), clock=lambda: NOW, backend="native", prefix_cache=False
            )
            assert verifier.verify(data, REQUEST).outcome is Outcome_.ALLOW
        parts, principals = _native.memos_len()
        most = max(most, parts)
        # the holders' map at its bound; the other three hold one value each here
        assert principals <= 1024 and parts <= 1024 + 3
    assert most > 1024  # the holders alone filled one map: the bound was met, not missed


def _answer(read: Callable[[Any], object], value: object) -> object:
    """``read(value)``, or the refusal (a link whose descriptor holds maps can be neither
    hashed nor pickled, whatever made it)."""
    try:
        return read(value)
    except TypeError as exc:
        return ("TypeError", str(exc))


def test_a_made_link_makes_its_claims_when_first_read(core: _native.ChainCore) -> None:
    # a link the core made holds its facts until its claims are read: a cold verification
    # (with its prefix cache, or without) reads the root's (V2.1's signer) and no other
    # link's; then every way of looking at such a link answers as the reference's link
    data = standard_presentation(label="lazy").to_bytes()
    reference = codec.decode_presentation_unverified(data, LIMITS)
    expected = reference.links[1]

    def cold(prefix_cache: bool) -> tuple[codec.Link, ...]:
        clear_caches(links_only=True)  # the links are new, their four values remembered
        verifier = Verifier(
            make_policy(),
            store=MemoryStore(),
            clock=lambda: NOW,
            prefix_cache=prefix_cache,
            backend="native",
        )
        return verifier.verify(data, REQUEST).chain.links

    clear_caches()
    cold(False)  # the four values of each link read and remembered
    envelope_slot, claims_slot = _native_chain._ENVELOPE_SLOT, _native_chain._CLAIMS_SLOT
    for prefix_cache in (False, True):
        links = cold(prefix_cache)
        assert [type(link).__name__ for link in links] == ["Signed", "_CoreLink"]
        assert links[0] == reference.links[0]
        # neither the claims nor the envelope made by the verification (the prefix cache
        # keeps the links' bytes the core read)
        child = links[1]
        assert type(envelope_slot.__get__(child)) is not codec.Envelope
        assert type(claims_slot.__get__(child)) is not LinkClaims
        # the envelope, the digest and the encoding, without making the claims
        assert child.envelope == expected.envelope and child.digest == expected.digest
        assert type(envelope_slot.__get__(child)) is codec.Envelope
        assert child.envelope is child.envelope  # made once
        assert child.encoding == "cbor" and child.encoded == expected.encoded
        assert type(child) is _native_chain._CoreLink
        assert type(claims_slot.__get__(child)) is not LinkClaims
        # then the claims: a plain Signed, with that very envelope
        envelope = child.envelope
        assert child.claims == expected.claims and type(child) is codec.Signed
        assert child.envelope is envelope and child == expected
    # each of encoded, alg and encoding, read first, makes the envelope alone
    for read_first in ("encoded", "alg", "encoding"):
        lazy = cold(False)[1]
        assert getattr(lazy, read_first) == getattr(expected, read_first)
        assert type(lazy) is _native_chain._CoreLink
        assert type(envelope_slot.__get__(lazy)) is codec.Envelope
        assert lazy.envelope == expected.envelope
    # each way of reading one, on a link whose claims are not made yet: made, then a
    # plain Signed equal to the reference's
    readings: list[Callable[[codec.Link], object]] = [
        lambda link: link.claims,
        lambda link: link == expected,
        lambda link: expected == link,
        lambda link: link != expected,
        hash,
        repr,
        copy.copy,
        copy.deepcopy,
        lambda link: pickle.loads(pickle.dumps(link)),
        lambda link: dataclasses.replace(link, digest=link.digest),
        dataclasses.astuple,
    ]
    for read in readings:
        lazy = cold(False)[1]
        assert type(lazy) is _native_chain._CoreLink
        answer = _answer(read, lazy)
        assert type(lazy) is codec.Signed
        assert answer == _answer(read, expected)
        assert lazy == expected and _answer(hash, lazy) == _answer(hash, expected)
        assert lazy.claims == expected.claims and lazy.claims is lazy.claims
    # two such links compare as their links do, each made by the comparison
    one, two = cold(False)[1], cold(False)[1]
    assert type(one) is type(two) is _native_chain._CoreLink
    assert one == two and type(one) is type(two) is codec.Signed


def test_the_core_makes_the_invocations_the_reference_makes(
    core: _native.ChainCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an invocation of the common shape (claims::plain_invocation) is made through
    # _made_invocation, without _object; it is the reference's invocation, and where the
    # action or the resource breaks its grammar the error is the reference's too
    read_here: list[int] = []
    original = _native_chain._object

    def counted(*args: Any, **kwargs: Any) -> Any:
        if args[0] is InvocationClaims:
            read_here.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_native_chain, "_object", counted)
    made = 0
    for data in _cbor_presentations():
        _read_whole(core, data)  # its links' values learnt: the core makes them next time
        before = len(read_here)
        got = _read_whole(core, data)
        if got is None:
            continue
        assert got == _read_reference(data), data.hex()[:80]
        if got[0] == "ok" and got[1].invocation is not None and len(read_here) == before:
            made += 1
    assert made >= 150, made  # most vector invocations (175): every link made in the core
    # of the common shape, but breaking a grammar the core leaves to _made_invocation: the
    # reference's own error (the signature is V3's: V1 reads any)
    presentation = standard_presentation(label="grammar")
    assert presentation.invocation is not None
    claims = cbor.decode(presentation.invocation.envelope.payload)
    assert isinstance(claims, dict)
    for label, value, code in (
        (4, "read everything", "schema_invalid"),  # the action
        (5, "no-scheme", "resource_invalid"),  # the resource
        (6, {"n": 1, "nested": [{"k": b"v"}, 1.5, None, True]}, None),  # args: any data
    ):
        invocation = codec.sign_object(SUB, 2, {**claims, label: value})
        data = cbor.encode({1: 2, 2: [link.encoded for link in presentation.links], 3: invocation})
        before = len(read_here)
        got = _read_whole(core, data)
        assert got is not None and got == _read_reference(data)
        assert len(read_here) == before  # made by the core, or refused on its way
        if code is None:
            assert got[0] == "ok", got
            assert got[1].invocation.claims.args == value
        else:
            assert got[:3] == ("error", "DecodeError", code), got
    # fuzz/FINDINGS.md 4: a link the core leaves to Python (a caveat the reference refuses)
    # before an invocation whose resource breaks its grammar: the link's error comes first,
    # so the core makes no invocation while a link is still to be made
    bad_caveat = resign(presentation.links[1], AGENT, {L_CAVEATS: [["in", ".amo`nt", []]]})
    invocation = codec.sign_object(SUB, 2, {**claims, 5: "no-scheme"})
    data = cbor.encode({1: 2, 2: [presentation.links[0].encoded, bad_caveat], 3: invocation})
    clear_caches()
    got = _read_whole(core, data)
    assert got is not None and got == _read_reference(data)
    assert got[:3] == ("error", "DecodeError", "caveat_invalid"), got


# --------------------------------------------------------------------------
# whole presentations through both verifiers


def decide(verifier: Verifier, data: bytes | str, request: Request) -> Outcome:
    def run() -> object:
        decision = verifier.verify(data, request)
        return (
            decision.outcome.value,
            tuple(r.code for r in decision.reasons),
            tuple(p.key for p in decision.chain.principals) if decision.chain else None,
        )

    return outcome(run)


def both(policy: Any, now: int, **kw: Any) -> tuple[Verifier, Verifier]:
    return (
        Verifier(policy, store=MemoryStore(), clock=lambda: now, backend="pure", **kw),
        Verifier(policy, store=MemoryStore(), clock=lambda: now, backend="native", **kw),
    )


def _made_chain(
    chain: NativeChain, data: bytes
) -> tuple[tuple[codec.Link, ...], list[Any], dict[bytes, bytes], dict[bytes, bytes]] | None:
    """The links of ``data`` as the native backend reads it (values learnt first), with each
    link's facts, ids and targets; None where it leaves the bytes or a link to the reference."""
    for _ in range(2):  # the first reading learns the values, the second makes the links
        facts: dict[bytes, Any] = {}
        ids: dict[bytes, bytes] = {}
        targets: dict[bytes, bytes] = {}
        read = outcome(
            lambda: chain.presentation_decoder(facts, ids, targets)(data, LIMITS, None)  # noqa: B023
        )
    if read[0] != "ok" or read[1] is None:
        return None
    links = read[1].links
    handles = [facts.get(link.digest) for link in links]
    if any(h is None for h in handles):
        return None
    return links, handles, ids, targets


def test_the_core_gathers_the_facts_the_reference_gathers(core: _native.ChainCore) -> None:
    # verifier/_facts.py: where the core made every link of a chain, it gathers the chain's
    # facts from the objects the links hold; they equal the reference's, field by field
    chain = NativeChain(core, make_policy())
    root = object()  # the trust anchor's principal: only stored, first
    gathered = left = 0
    for data in _cbor_presentations():
        found = _made_chain(chain, data)
        if found is None:
            continue
        links, handles, ids, targets = found
        made = chain.chain_facts(handles, root)  # type: ignore[arg-type]
        if made is None:  # some link not made by the core (another shape), or no root first
            made_all = all(link.digest in targets for link in links)
            assert not made_all or links[0].claims.issuer is None
            left += 1
            continue
        assert made == chain_facts(links, root, encode=cbor.encode, read=ids, targets=targets)  # type: ignore[arg-type]
        gathered += 1
    assert gathered >= 150 and left >= 1, (gathered, left)  # 192 and 74 today
    # keys that come back, capability and caveat tuples shared or not, windows that narrow:
    # every rule of the facts in one chain (A -> B -> A -> C, the last with its own scope)
    a, b, c = key("facts A"), key("facts B"), key("facts C")
    caps, caveats = (("calendar", CAL + "/*"),), [["<", ".n", 5]]
    rng = Rng("facts")
    token = issue(
        a, b.public_key, capabilities=caps, caveats=caveats, depth=4, ttl=3600, now=NOW, rng=rng
    )
    token = delegate(token, b, a.public_key, capabilities=caps, caveats=caveats, now=NOW, rng=rng)
    token = delegate(
        token,
        a,
        c.public_key,
        capabilities=(("calendar/read", CAL + "/*"),),
        caveats=[["<", ".n", 3]],
        ttl=600,
        now=NOW,
        rng=rng,
    )
    data = invoke(
        token,
        c,
        audience=AUD,
        action="calendar/read",
        resource=CAL + "/events",
        args={"n": 1},
        now=NOW,
        rng=rng,
    ).to_bytes()
    found = _made_chain(NativeChain(core, make_policy(a.public_key)), data)
    assert found is not None
    links, handles, ids, targets = found
    made = chain.chain_facts(handles, root)  # type: ignore[arg-type]
    assert made is not None
    assert made == chain_facts(links, root, encode=cbor.encode, read=ids, targets=targets)  # type: ignore[arg-type]
    assert [index for index, _ in made.grants] == [0, 2]  # links 0 and 1 share one tuple
    assert [(first, count) for first, count, _ in made.caveats] == [(0, 2), (2, 1)]
    # each target once: A's and B's keys come back in link 1 (its own target is new)
    assert len(made.targets) == 3 + 1 + 2 and len(set(made.targets)) == len(made.targets)
    assert made.expires == links[2].claims.window.exp < links[0].claims.window.exp
    # and the verifier takes them: its own gathering is not asked for a chain the core made
    verifier = Verifier(
        make_policy(a.public_key), store=MemoryStore(), clock=lambda: NOW, backend="native"
    )
    asked: list[int] = []
    original = chain_facts

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(1)
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("agentchain.verifier._verifier.chain_facts", counted)
        decision = verifier.verify(data, Request("calendar/read", CAL + "/events", {"n": 1}))
    assert decision.outcome is Outcome_.ALLOW and asked == []
    assert decision.chain.principals[1:] == made.principals[1:]


def test_the_core_gathers_the_facts_of_a_chain_on_a_known_prefix(
    core: _native.ChainCore,
) -> None:
    # spec 8.4: a chain that extends a prefix the cache kept the facts of; the core gathers
    # the new links' on top of the prefix's, as the reference's chain_facts(prefix=) does,
    # for every split of every chain the core made
    chain = NativeChain(core, make_policy())
    root = object()  # the trust anchor's principal: only stored, first
    splits = 0
    longer: list[Any] = []
    for data in _cbor_presentations():
        found = _made_chain(chain, data)
        if found is None or len(found[0]) < 2 or chain.chain_facts(found[1], root) is None:  # type: ignore[arg-type]
            continue  # a link the core did not make, too short to split, or no root first
        longer = longer or list(found)
        links, handles, ids, targets = found
        whole = chain_facts(links, root, encode=cbor.encode, read=ids, targets=targets)  # type: ignore[arg-type]
        for cut in range(1, len(links)):
            prefix = chain_facts(links[:cut], root, encode=cbor.encode, read=ids, targets=targets)  # type: ignore[arg-type]
            made = chain.chain_facts(handles[cut:], None, prefix)
            expected = chain_facts(
                links, None, encode=cbor.encode, prefix=prefix, read=ids, targets=targets
            )
            assert made == expected == whole
            splits += 1
    assert splits >= 100, splits
    # a prefix whose facts state usage limits or approval requirements: the chain does too
    links, handles, ids, targets = longer
    prefix = chain_facts(links[:1], root, encode=cbor.encode, read=ids, targets=targets)  # type: ignore[arg-type]
    made = chain.chain_facts(handles[1:], None, prefix)
    assert made is not None and not made.usage and not made.approvals
    flagged = dataclasses.replace(prefix, usage=True, approvals=True)
    made = chain.chain_facts(handles[1:], None, flagged)
    assert made is not None and made.usage and made.approvals
    # neither a root nor a prefix: nothing to gather from
    assert chain.chain_facts(handles, None, None) is None


def _extended(label: str, holder: Any = SUB2) -> codec.Presentation:
    """The standard two-link token and a third link, SUB to ``holder``, granting the
    request's action on its resource (made with the API, so the chain verifies)."""
    return delegate(
        standard_token(label=label),
        SUB,
        holder.public_key,
        capabilities=[(REQUEST.action, REQUEST.resource)],
        now=NOW,
        rng=Rng(label),
    )


def test_a_warm_request_makes_no_claims(core: _native.ChainCore) -> None:
    # the warm path (a prefix the cache holds, one new link): V2.1's signer and the parent's
    # facts come from the parent's own facts, the chain's facts from the core, so neither
    # the parent's claims nor the new link's are made, and the decision is the reference's
    token = _extended("warm claims")
    prefix = standard_presentation(
        codec.Presentation(token.links[:2]), holder=SUB, label="warm prefix"
    ).to_bytes()
    data = standard_presentation(token, holder=SUB2, label="warm claims").to_bytes()
    asked: list[int] = []
    original = chain_facts

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(1)
        return original(*args, **kwargs)

    clear_caches()
    Verifier(make_policy(), store=MemoryStore(), clock=lambda: NOW, backend="native").verify(
        data, REQUEST
    )  # every value remembered by its bytes
    decisions = []
    for backend in ("native", "pure"):
        clear_caches(links_only=True)
        cache = PrefixCache()
        verifier = Verifier(
            make_policy(),
            store=MemoryStore(),
            clock=lambda: NOW,
            prefix_cache=cache,
            backend=backend,
        )
        cached = verifier.verify(prefix, REQUEST).chain.links
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("agentchain.verifier._verifier.chain_facts", counted)
            decision = verifier.verify(data, REQUEST)
        decisions.append(decision)
        # the warm path: the prefix's very link objects, taken from the cache
        assert all(a is b for a, b in zip(decision.chain.links, cached, strict=False))
        if backend == "native":  # the parent from the cache, the new link: neither made
            assert asked == []
            kinds = [type(link).__name__ for link in decision.chain.links]
            assert kinds == ["Signed", "_CoreLink", "_CoreLink"]
            # nor their envelopes: the cache compared the bytes the core read
            for link in decision.chain.links[1:]:
                kept = _native_chain._ENVELOPE_SLOT.__get__(link)
                assert type(kept) is not codec.Envelope
    native, pure = decisions
    assert native.outcome is pure.outcome is Outcome_.ALLOW
    assert native.chain.principals == pure.chain.principals
    assert native.chain.links == pure.chain.links


def test_a_decoder_read_twice_describes_the_presentation_read_last(
    core: _native.ChainCore,
) -> None:
    # presentation_decoder's lists (the links' bytes, their facts in order) are those of the
    # presentation it read last: a decoder used for several never mixes them, so a link's
    # facts are always at the link's place
    chain = NativeChain(core, make_policy())
    one = standard_presentation(label="read twice, one").to_bytes()
    token = _extended("read twice, two")
    two = standard_presentation(token, holder=SUB2, label="read twice, two").to_bytes()
    clear_caches()
    for data in (one, two):  # every value read once and remembered: the core makes them
        chain.presentation_decoder({}, {})(data, LIMITS, None)
    encoded: list[bytes] = []
    handles: list[Any] = []
    open_plain = chain.presentation_decoder({}, {}, {}, encoded, handles)
    for data in (one, two, one):
        read = open_plain(data, LIMITS, None)
        assert read is not None
        assert encoded == [link.encoded for link in read.links]
        assert [h.made_ids()[0] for h in handles] == [link.digest for link in read.links]
    assert open_plain(b"not a presentation", LIMITS, None) is None
    assert encoded == handles == []


def test_a_mixed_chain_reads_the_ids_the_core_found(
    core: _native.ChainCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the core makes the links whose values it remembers and hands their facts over in
    # order (open_presentation's handles), their ids and revocation targets inside them,
    # put in no dict; where the verifier gathers a chain's facts itself (a link left to
    # the reference: here the last, its holder never seen), it reads those ids and
    # targets (_native_chain.reveal) and computes none again, with the reference's answer
    prefix = standard_token(label="mixed")
    newcomer = key("mixed newcomer")
    token = _extended("mixed", newcomer)
    data = standard_presentation(token, holder=newcomer, label="mixed").to_bytes()
    learn = standard_presentation(prefix, label="mixed prefix").to_bytes()
    recomputed: list[bytes] = []
    original, original_link = codec.decoded_link_id, NativeChain._link
    made_here: list[bytes] = []

    def counted(link: codec.Link, **kwargs: Any) -> bytes:
        recomputed.append(link.digest)
        return original(link, **kwargs)

    def counted_link(self: NativeChain, *args: Any, **kwargs: Any) -> codec.Link:
        made = original_link(self, *args, **kwargs)
        made_here.append(made.digest)
        return made

    decisions = []
    for backend in ("native", "pure"):
        clear_caches()
        verifier = Verifier(
            make_policy(),
            store=MemoryStore(),
            clock=lambda: NOW,
            prefix_cache=False,  # every link opened anew
            backend=backend,
        )
        verifier.verify(learn, REQUEST)  # the prefix's values remembered, not the newcomer
        clear_caches(links_only=True)
        with monkeypatch.context() as patch:
            patch.setattr(codec, "decoded_link_id", counted)
            patch.setattr(NativeChain, "_link", counted_link)
            decisions.append(verifier.verify(data, REQUEST))
        if backend == "native":  # mixed: the last link made by _link, the others by the core
            assert made_here == [token.links[-1].digest]
            assert recomputed == []
    native, pure = decisions
    assert native.outcome is pure.outcome is Outcome_.ALLOW
    assert native.chain.principals == pure.chain.principals
    assert {**native.audit, "request_id": ""} == {**pure.audit, "request_id": ""}


def test_every_vector_case_through_both_backends(core: _native.ChainCore) -> None:
    # every case of vectors/v1, with the expected results, through each backend
    for case in runner.load_cases(runner.default_vectors()):
        pure = run_case(runner.for_implementation(case), backend="pure")
        native = run_case(runner.for_implementation(case), backend="native")
        assert native == pure, case["id"]
        assert all(runner.matches(r, s) for r, s in zip(native, case["steps"], strict=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=mutations())
def test_mutated_presentations_same_answer(core: _native.ChainCore, mutation: Any) -> None:
    # DESIGN.md section 8: the same decision and reasons, or the same error, on both paths
    scenario = mutation.scenario
    policy = scenario.trust_policy()
    pure, native = both(policy, scenario.now)
    assert decide(native, mutation.data, scenario.request) == decide(
        pure, mutation.data, scenario.request
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(max_links=5))
def test_generated_presentations_same_answer(core: _native.ChainCore, scenario: Any) -> None:
    policy = scenario.trust_policy()
    pure, native = both(policy, scenario.now)
    data = scenario.presentation.to_bytes()
    want = decide(pure, data, scenario.request)
    assert want[0] == "ok" and want[1][0] == "allow"
    assert decide(native, data, scenario.request) == want


def third_link(
    *, signer: Any = SUB, parent: bytes | None = None, label: str = "v2", **claims: Any
) -> bytes:
    """The standard two-link token and a third link, SUB to SUB2 (``claims`` changed),
    invoked by SUB2."""
    token = standard_token(label=label)
    above = token.links[-1]
    new = sign_link(
        signer,
        link_claims(SUB.public_key, SUB2.public_key, parent or above.digest, **claims),
    )
    return invoke_raw([link.encoded for link in token.links] + [new], SUB2)


def _v2_breakers() -> Iterator[tuple[str, bytes]]:
    """A presentation per check of V2, each failing at the third link (link 2)."""
    yield "allowed", third_link()
    yield "alg", third_link(signer=key("es", "ES256"))
    yield "signature", third_link(signer=MALLORY)
    yield "linkage", third_link(parent=b"\x01" * 32)
    yield "window", third_link(nbf=NOW + 10, exp=NOW + 5)
    yield "scope", third_link(caps=(("mail/send", MAIL),))
    yield "time", third_link(exp=NOW + 1000)
    yield "depth", third_link(depth=1)


def test_each_v2_check_fails_the_same_way(core: _native.ChainCore) -> None:
    # R-4.3-1 R-4.4-1 R-4.5-1: the native chain names the check; the reference's function
    # says it, so the message is the same on both paths
    seen = set()
    for label, data in _v2_breakers():
        pure, native = both(make_policy(), NOW)
        want = decide(pure, data, REQUEST)
        seen.add(want[2] if want[0] == "error" else want[1][0])
        assert decide(native, data, REQUEST) == want, label
    assert seen == {
        "allow",
        "alg_not_allowed",
        "signature_invalid",
        "chain_broken",
        "time_invalid",
        "scope_widened",
        "time_widened",
        "depth_exceeded",
    }


def test_the_warm_path_checks_only_the_new_link(
    core: _native.ChainCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # spec 8.4 on the native path: a cached prefix is not checked again; V2 of the new
    # link takes its parent's facts from the core (the cached link's claims never made),
    # and every answer, refusals at each check included, is the reference's
    cache_pure, cache_native = PrefixCache(), PrefixCache()
    pure = Verifier(make_policy(), clock=lambda: NOW, prefix_cache=cache_pure, backend="pure")
    native = Verifier(make_policy(), clock=lambda: NOW, prefix_cache=cache_native, backend="native")
    first = third_link(label="warm")  # every prefix cached, link 1 the fan-outs' parent
    expected = decide(pure, first, REQUEST)  # the four values of each link remembered
    assert decide(native, first, REQUEST) == expected
    cached = [entry[1] for entry in cache_native._entries.values()]
    assert [type(link).__name__ for link in cached] == ["Signed", "_CoreLink", "_CoreLink"]
    seen: list[int] = []
    chain = native._native
    assert chain is not None
    inner = chain._core

    @dataclasses.dataclass
    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

        def verify_chain(self, links: list[Any], **kw: Any) -> Any:
            seen.append(len(links))
            return inner.verify_chain(links, **kw)

    monkeypatch.setattr(chain, "_core", Spy())
    for data, label in _fan_outs():
        assert decide(native, data, REQUEST) == decide(pure, data, REQUEST), label
    assert seen and all(n == 1 for n in seen)


def test_a_new_verifier_finds_the_facts_of_a_cached_parent(
    core: _native.ChainCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the facts of a parent taken from a shared prefix cache are a pure function of its
    # bytes: computed once, by the first verifier that needs them, and found by the others
    from agentchain.verifier import _native_chain

    cache = PrefixCache()

    def verifier() -> Verifier:
        return Verifier(make_policy(), clock=lambda: NOW, prefix_cache=cache, backend="native")

    prefix = third_link(label="parents", depth=1)  # refused at link 2: links 0 and 1 cached
    assert decide(verifier(), prefix, REQUEST)[0] == "error"
    _native_chain._PARENTS.clear()
    made: list[bytes] = []

    @dataclasses.dataclass
    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(core, name)

        def parent_facts(self, alg: str, **kw: Any) -> Any:
            made.append(kw["digest"])
            return core.parent_facts(alg, **kw)

    answers = []
    for _ in range(3):
        fresh = verifier()
        assert fresh._native is not None
        monkeypatch.setattr(fresh._native, "_core", Spy())
        answers.append(decide(fresh, third_link(label="parents"), REQUEST))
    assert answers[0][0] == "ok" and answers == answers[:1] * 3
    assert len(made) == 1 and made[0] in _native_chain._PARENTS


def test_jose_links_are_checked_by_the_core_with_the_reference_s_answers(
    core: _native.ChainCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the core reads no JSON claims: the reference decodes a JOSE link and the core runs
    # its V2 from the claims and the signing input; no signature is left to the pure keys,
    # and a broken link is refused with the reference's words
    token = standard_token(label="jose-core", encoding="jose")
    data = standard_presentation(token, label="jose-core").to_bytes()
    pure, native = both(make_policy(), NOW)
    with counting_signatures(monkeypatch) as calls:
        want = decide(pure, data, REQUEST)
        assert want[0] == "ok" and want[1][0] == "allow"
        calls.clear()
        assert decide(native, data, REQUEST) == want
        assert calls == []  # two links and the invocation, all in the core
    tampered = bytearray(data)
    at = data.index(token.links[1].encoded) + len(token.links[1].encoded) - 3
    tampered[at] = ord("A") if tampered[at] != ord("A") else ord("B")
    refused = decide(native, bytes(tampered), REQUEST)
    assert refused == decide(pure, bytes(tampered), REQUEST)
    assert refused[:3] == ("error", "SignatureError", "signature_invalid")


def _fan_outs() -> Iterator[tuple[bytes, str]]:
    yield third_link(label="warm"), "allowed"
    yield third_link(label="warm", depth=1), "depth"
    yield third_link(label="warm", caps=(("mail/send", MAIL),)), "scope"
    yield third_link(label="warm", exp=NOW + 1000), "time"
