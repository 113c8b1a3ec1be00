"""Project Wycheproof's Ed25519 and ECDSA P-256 (P1363) cases through our signature layer.

Every case runs through :class:`agentchain.crypto.PublicKey`: the key is imported from its raw
form (and, where Wycheproof gives one, from its JWK too, which must be the same key), then
``verify``. Our verdict must be Wycheproof's, except where a rule of spec 3.4 / 3.5 is stricter
than Wycheproof: each such case is listed in ``STRICTER`` with the rule that refuses it, and the
test checks that the rule, and only the rule, is why (issue 17).

The files are read from ``../shared/wycheproof`` beside the checkout (for a linked git worktree,
beside the main checkout), never copied into the project; where the folder is absent the test
skips with a visible reason, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentchain import _native
from agentchain.crypto import PublicKey
from agentchain.errors import AgentchainError

ROOT = Path(__file__).resolve().parent.parent
#: file, our algorithm, the member of ``publicKey`` holding the raw key, number of cases
FILES = {
    "ed25519_test.json": ("Ed25519", "pk", 151),
    "ecdsa_secp256r1_sha256_p1363_test.json": ("ES256", "uncompressed", 262),
}
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

#: Wycheproof-valid signatures that our stricter rules refuse, by file and tcId. All are
#: ES256 signatures whose s is in the high half: R-3.5-3 (low-S only) refuses them, their
#: low-S twin (r, n - s) verifies. Ed25519 has none: every rule of 3.4 agrees with Wycheproof.
STRICTER: dict[tuple[str, int], str] = {
    ("ecdsa_secp256r1_sha256_p1363_test.json", tc): "R-3.5-3"
    for tc in (
        64, 66, 67, 68, 71, 77, 78, 80, 81, 85, 86, 87, 94, 95, 96, 100, 102, 104, 105, 107,
        110, 111, 114, 115, 117, 118, 138, 139, 140, 141, 142, 171, 172, 175, 176, 177, 180,
        183, 189, 190, 191, 192, 195, 196, 197, 199, 200, 204, 210, 211, 216, 217, 226, 227,
        229, 233, 234, 237, 240, 242, 243, 244, 246, 248, 249, 250, 252, 253, 257, 262,
    )
}  # fmt: skip


def _candidates() -> Iterator[Path]:
    yield ROOT.parent / "shared" / "wycheproof"
    dot_git = ROOT / ".git"
    if dot_git.is_file():  # a linked worktree: the folder is beside the main checkout
        gitdir = Path(dot_git.read_text(encoding="utf-8").partition("gitdir:")[2].strip())
        commondir = gitdir / "commondir"
        if commondir.is_file():
            common = (gitdir / commondir.read_text(encoding="utf-8").strip()).resolve()
            yield common.parent.parent / "shared" / "wycheproof"


def _folder() -> Path:
    for candidate in _candidates():
        if all((candidate / name).is_file() for name in FILES):
            return candidate
    reason = f"Wycheproof files not found in {ROOT.parent / 'shared' / 'wycheproof'}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must have them (issue 17)")
    pytest.skip(reason)


def _verdict(alg: str, raw: bytes, signature: bytes, message: bytes) -> str | AgentchainError:
    """'accepted', or the typed error our layer refused with (key import or verify)."""
    try:
        PublicKey(alg, raw).verify(signature, message)
    except AgentchainError as exc:
        return exc
    return "accepted"


def _cases(name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    document = json.loads((_folder() / name).read_text(encoding="utf-8"))
    return [(group, case) for group in document["testGroups"] for case in group["tests"]]


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_wycheproof_case_agrees_or_names_the_stricter_rule(name: str) -> None:
    # R-3.4-1 R-3.4-2 R-3.4-3 R-3.4-4 R-3.4-5 R-3.4-6 R-3.5-1 R-3.5-2 R-3.5-3
    alg, member, count = FILES[name]
    cases = _cases(name)
    assert len(cases) == count
    outcomes: Counter[str] = Counter()
    for group, case in cases:
        raw = bytes.fromhex(group["publicKey"][member])
        if "publicKeyJwk" in group:  # the JWK form imports to the same key ("kid" is a label)
            jwk = {k: v for k, v in group["publicKeyJwk"].items() if k != "kid"}
            assert PublicKey.from_jwk(jwk) == PublicKey(alg, raw)
        signature, message = bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"])
        verdict = _verdict(alg, raw, signature, message)
        wycheproof_accepts = case["result"] in ("valid", "acceptable")
        rule = STRICTER.get((name, case["tcId"]))
        where = f"{name} tcId {case['tcId']} ({case['result']}, {case['comment']!r})"
        if rule is None:
            assert (verdict == "accepted") == wycheproof_accepts, (where, verdict)
            outcomes["agree"] += 1
            continue
        # a listed case: Wycheproof accepts it, we refuse it, and the rule named is the reason
        assert wycheproof_accepts, where
        assert isinstance(verdict, AgentchainError), where
        assert rule == "R-3.5-3" and alg == "ES256"
        assert verdict.code == "signature_malformed" and "s is high" in verdict.message, where
        r, s = signature[:32], int.from_bytes(signature[32:], "big")
        assert s > (_P256_N - 1) // 2
        twin = r + (_P256_N - s).to_bytes(32, "big")
        assert _verdict(alg, raw, twin, message) == "accepted", where
        outcomes["stricter"] += 1
    assert sum(outcomes.values()) == count
    assert outcomes["stricter"] == sum(1 for (file, _) in STRICTER if file == name)


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_native_core_gives_every_wycheproof_case_the_same_verdict(name: str) -> None:
    # DESIGN.md section 8: the native core's keys (agentchain_native) refuse and accept
    # exactly as the reference does, with the same code and message
    if not _native.available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true must run both paths: {_native.unavailable_reason()}")
        pytest.skip(_native.unavailable_reason())
    native = _native.backend("native")
    alg, member, _ = FILES[name]
    for group, case in _cases(name):
        raw = bytes.fromhex(group["publicKey"][member])
        signature, message = bytes.fromhex(case["sig"]), bytes.fromhex(case["msg"])
        want = _verdict(alg, raw, signature, message)
        try:
            native.public_key(alg, raw).verify(signature, message)
            got: str | AgentchainError = "accepted"
        except AgentchainError as exc:
            got = exc
        same = (
            got == want
            if isinstance(want, str)
            else isinstance(got, AgentchainError)
            and (got.code, got.message) == (want.code, want.message)
        )
        assert same, (name, case["tcId"], want, got)


def test_the_stricter_table_names_only_cases_that_exist() -> None:
    known = {(name, case["tcId"]) for name in FILES for _, case in _cases(name)}
    assert set(STRICTER) <= known
