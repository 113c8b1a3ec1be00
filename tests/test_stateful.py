"""A stateful model of the verifier: issue, delegate, revoke, attest, approve, invoke, tamper
and advance the clock, in any order, and compare every outcome with a small model.

The model below shares no code with the verifier or the issuer. It knows the protocol
as a table of facts per link (who signed it, for whom, its parent, its grant, its
window, its depth, its caveat, its approval threshold, the code it declares) and
decides with the rules of spec 4, 8 and 9 written out plainly over a tiny universe of
actions and resources. The invariant: the verifier's decision (outcome and first
reason, or the error code of a tampered presentation) is exactly the model's, and the
issuer refuses exactly the delegations the model calls widening.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agentchain import (
    AgentchainError,
    ApprovalRequirement,
    Descriptor,
    IssueError,
    MemoryStore,
    Presentation,
    PrivateKey,
    Request,
    TrustPolicy,
    Verifier,
    approve,
    attest,
    codec,
    delegate,
    invoke,
    issue,
    model,
)
from agentchain.codec import Approval, Attestation, Link, decode_unverified, request_digest
from agentchain.model import LinkClaims, parse_statement
from agentchain.testing import ENCODINGS, seeded_key
from tests.helpers import NOW, Rng

API = "https://api.example"
SKEW = 60
WINDOW = 300  # the invocation freshness window
KEYS: dict[str, PrivateKey] = {
    name: seeded_key(f"stateful-{name}") for name in ("root", "a0", "a1", "a2", "a3", "attester")
}
AGENTS = ("a0", "a1", "a2", "a3")
NAME_OF = {k.public_key: name for name, k in KEYS.items()}
GOOD, BAD = b"\x01" * 32, b"\x02" * 32

ACTION_PATTERNS = ("*", "calendar", "calendar/read", "payments")
RESOURCE_PATTERNS = ("*", f"{API}/*", f"{API}/a/*", f"{API}/b/y")
# the universe the model's coverage quantifies over: every pattern above is told apart
UNIVERSE_ACTIONS = (
    "calendar",
    "calendar/read",
    "calendar/read/x",
    "calendar/write",
    "payments",
    "payments/create",
    "mail/send",
    "other/thing",
)
UNIVERSE_RESOURCES = (f"{API}/a/x", f"{API}/a", f"{API}/b/y", "https://other.example/z")
REQUEST_ACTIONS = ("calendar/read", "calendar/write", "payments/create", "mail/send")
REQUEST_RESOURCES = (f"{API}/a/x", f"{API}/b/y", "https://other.example/z")
MAX_LINKS = 4

# --------------------------------------------------------------------------- the model


def m_permits(cap: tuple[str, str], action: str, resource: str) -> bool:
    pattern, where = cap
    action_ok = pattern in ("*", action) or action.startswith(pattern + "/")
    if where == "*":
        resource_ok = True
    elif where.endswith("/*"):
        resource_ok = resource.startswith(where[:-1]) and len(resource) > len(where) - 1
    else:
        resource_ok = resource == where
    return action_ok and resource_ok


def m_covered(parent: tuple[tuple[str, str], ...], child: tuple[str, str]) -> bool:
    """Some parent grant permits everything ``child`` permits, over the whole universe."""
    grants = [
        (a, r) for a in UNIVERSE_ACTIONS for r in UNIVERSE_RESOURCES if m_permits(child, a, r)
    ]
    return any(all(m_permits(p, a, r) for a, r in grants) for p in parent)


@dataclass(frozen=True)
class MLink:
    ident: bytes  # the link's digest: its identity, as data
    issuer: str
    holder: str
    parent: bytes | None
    caps: tuple[tuple[str, str], ...]
    nbf: int
    exp: int
    depth: int
    max_amount: int | None
    approval_over: int | None
    code: bytes | None
    sig_ok: bool = True


@dataclass(frozen=True)
class MAttestation:
    subject: str
    code: bytes
    iat: int
    exp: int
    obj: Attestation


@dataclass(frozen=True)
class MApproval:
    chain: bytes
    action: str
    resource: str
    amount: int
    iat: int
    exp: int
    obj: Approval


def m_structure(links: list[MLink], signer: str, chain: bytes) -> str | None:
    """The error code a tampered presentation must raise, or None for a well-formed one."""
    for i, link in enumerate(links):
        if i == 0 and link.issuer != "root":
            return "root_untrusted"
        if i > 0 and link.issuer != links[i - 1].holder:
            return "issuer_mismatch"
        if not link.sig_ok:
            return "signature_invalid"
        if link.parent != (links[i - 1].ident if i else None):
            return "chain_broken"
    if signer != links[-1].holder:
        return "signature_invalid"
    if chain != links[-1].ident:
        return "chain_digest_mismatch"
    return None


def m_in_window(iat: int, exp: int, now: int) -> bool:
    return iat - SKEW <= now < exp + SKEW


class Model:
    """Revocations, used nonces and used approvals, and the decision rules."""

    def __init__(self) -> None:
        self.revoked: set[bytes] = set()
        self.nonces: dict[bytes, int] = {}  # nonce -> expires at
        self.used_approvals: set[tuple[object, ...]] = set()

    def decide(
        self,
        links: list[MLink],
        request: tuple[str, str, int],
        *,
        now: int,
        iat: int,
        nonce: bytes,
        attestations: list[MAttestation],
        approvals: list[MApproval],
    ) -> tuple[str, str]:
        action, resource, amount = request
        for link in links:  # V4
            if now < link.nbf - SKEW:
                return ("deny", "not_yet_valid")
            if now >= link.exp + SKEW:
                return ("deny", "expired")
        if any(link.ident in self.revoked for link in links):  # V5
            return ("deny", "revoked")
        if iat > now + SKEW:  # V6
            return ("deny", "invocation_future")
        if now - iat > WINDOW + SKEW:
            return ("deny", "invocation_stale")
        if self.nonces.get(nonce, 0) > now:
            return ("deny", "replay")
        self.nonces[nonce] = iat + WINDOW + SKEW + 1
        for link in links:  # V7
            if not any(m_permits(cap, action, resource) for cap in link.caps):
                return ("deny", "capability_missing")
        for link in links:  # V8
            if link.max_amount is not None and amount > link.max_amount:
                return ("deny", "caveat_failed")
        verdict = self._integrity(links, action, now, attestations)  # V9
        if verdict is not None:
            return ("deny", verdict)
        return self._oversight(links, request, now, approvals)  # V10

    @staticmethod
    def _integrity(
        links: list[MLink], action: str, now: int, attestations: list[MAttestation]
    ) -> str | None:
        current = [a for a in attestations if m_in_window(a.iat, a.exp, now)]
        for link in links:  # a current attestation contradicting a declaration: always a deny
            if link.code is not None and any(
                a.subject == link.holder and a.code != link.code for a in current
            ):
                return "attestation_mismatch"
        if not (action == "payments" or action.startswith("payments/")):
            return None
        holder = links[-1]
        mine = [a for a in current if a.subject == holder.holder]
        if any(holder.code is None or a.code == holder.code for a in mine):
            return None
        if mine:
            return "attestation_mismatch"
        if any(a.subject == holder.holder for a in attestations):
            return "attestation_expired"
        return "attestation_missing"

    def _oversight(
        self,
        links: list[MLink],
        request: tuple[str, str, int],
        now: int,
        approvals: list[MApproval],
    ) -> tuple[str, str]:
        amount = request[2]
        needed = any(
            link.approval_over is not None and amount > link.approval_over for link in links
        )
        if not needed:
            return ("allow", "")
        chain = links[-1].ident
        matching = [
            a for a in approvals if (a.chain, a.action, a.resource, a.amount) == (chain, *request)
        ]
        current = [a for a in matching if m_in_window(a.iat, a.exp, now)]
        if current:
            # identical approvals are one approval: the same bytes, the same digest
            used = (chain, *request, current[0].iat, current[0].exp)
            if used in self.used_approvals:
                return ("deny", "approval_replayed")
            self.used_approvals.add(used)
            return ("allow", "")
        if matching:
            return ("deny", "approval_expired")
        if approvals:
            return ("deny", "approval_mismatch")
        return ("needs_approval", "approval_required")


# --------------------------------------------------------------------------- the machine


@dataclass
class Token:
    token: Presentation
    links: list[MLink]


def _mlink(link: Link, max_amount: int | None, over: int | None, code: bytes | None) -> MLink:
    c = link.claims
    return MLink(
        ident=link.digest,
        issuer=next(n for n, k in KEYS.items() if k.public_key.thumbprint == c.issuer),
        holder=NAME_OF[c.holder],
        parent=c.parent,
        caps=tuple((cap.action, cap.resource) for cap in c.capabilities),
        nbf=c.window.nbf,
        exp=c.window.exp,
        depth=c.depth,
        max_amount=max_amount,
        approval_over=over,
        code=code,
    )


_caps = st.lists(
    st.tuples(st.sampled_from(ACTION_PATTERNS), st.sampled_from(RESOURCE_PATTERNS)),
    min_size=1,
    max_size=2,
    unique=True,
)
_pick = st.integers(0, 1000)
_request = st.tuples(
    st.sampled_from(REQUEST_ACTIONS), st.sampled_from(REQUEST_RESOURCES), st.integers(0, 600)
)


class VerifierMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = NOW
        self.rng = Rng("stateful")
        self.store = MemoryStore()
        policy = TrustPolicy(
            anchors=(KEYS["root"].public_key,),
            audience=API,
            attesters=(KEYS["attester"].public_key,),
            attestation_required=("payments",),
            clock_skew=SKEW,
            invocation_window=WINDOW,
        )
        self.verifier = Verifier(policy, store=self.store, clock=lambda: self.now)
        self.model = Model()
        self.tokens: list[Token] = []
        self.attestations: list[MAttestation] = []
        self.approvals: list[MApproval] = []
        self.pending: tuple[Token, tuple[str, str, int]] | None = None
        self.last: tuple[Presentation, list[MLink], tuple[str, str, int], int, bytes] | None = None

    # -- helpers

    def _verify(
        self,
        presentation: Presentation,
        request: tuple[str, str, int],
    ) -> tuple[str, str]:
        action, resource, amount = request
        try:
            decision = self.verifier.verify(
                presentation.to_bytes(), Request(action, resource, {"amount": amount})
            )
        except AgentchainError as exc:
            return ("error", exc.code)
        code = decision.reasons[0].code if decision.reasons else ""
        return (decision.outcome.value, code)

    def _attached(self, links: list[MLink], encoding: str) -> list[MAttestation]:
        # one presentation, one encoding (spec/jose.md J.1): attestations in the chain's
        names = {link.holder for link in links}
        return [
            a
            for a in self.attestations
            if a.subject in names and a.obj.envelope.encoding == encoding
        ][-8:]

    def _invoke(
        self,
        t: Token,
        request: tuple[str, str, int],
        approvals: list[MApproval],
        *,
        signer: str | None = None,
        links: list[MLink] | None = None,
        token: Presentation | None = None,
    ) -> None:
        """Invoke ``t`` for ``request``, present it (tampered: other ``links``, another
        ``signer``) and check the verifier against the model."""
        action, resource, amount = request
        links = links if links is not None else t.links
        token = token if token is not None else t.token
        holder = t.links[-1].holder
        signer = signer or holder
        encoding = t.token.encoding
        attached = self._attached(links, encoding)
        nonce = self.rng(16)
        p = invoke(
            t.token,
            KEYS[holder],
            audience=API,
            action=action,
            resource=resource,
            args={"amount": amount},
            attestations=[a.obj for a in attached],
            approvals=[a.obj for a in approvals],
            now=self.now,
            rng=lambda n: nonce[:n],
            allow_expired=True,  # the model judges expiry too
        )
        inv = p.invocation
        assert inv is not None
        if signer != holder:
            signed = codec.sign_claims(KEYS[signer], inv.claims, encoding)
            inv = codec.decode_unverified(model.InvocationClaims, signed)
        presented = Presentation(token.links, inv, p.attestations, p.approvals)
        error = m_structure(links, signer, t.links[-1].ident)
        if error is not None:
            expected = ("error", error)
        else:
            expected = self.model.decide(
                links,
                request,
                now=self.now,
                iat=self.now,
                nonce=nonce,
                attestations=attached,
                approvals=approvals,
            )
            self.last = (presented, links, request, self.now, nonce)
        got = self._verify(presented, request)
        assert got == expected, (got, expected, request, links)
        if got[0] == "needs_approval":
            self.pending = (t, request)

    # -- rules

    @rule(
        to=st.sampled_from(AGENTS),
        caps=_caps,
        ttl=st.integers(60, 3000),
        depth=st.integers(0, 3),
        max_amount=st.none() | st.integers(50, 500),
        over=st.none() | st.integers(100, 300),
        code=st.sampled_from((None, GOOD)),
        encoding=st.sampled_from(ENCODINGS),
    )
    def issue_token(
        self,
        *,
        encoding: codec.Encoding,
        to: str,
        caps: list[tuple[str, str]],
        ttl: int,
        depth: int,
        max_amount: int | None,
        over: int | None,
        code: bytes | None,
    ) -> None:
        token = issue(
            KEYS["root"],
            KEYS[to].public_key,
            capabilities=caps,
            ttl=ttl,
            depth=depth,
            caveats=[["<=", ".amount", max_amount]] if max_amount is not None else [],
            require_approval=[ApprovalRequirement(when=parse_statement([">", ".amount", over]))]
            if over is not None
            else [],
            descriptor=Descriptor(code={"sha256": code}) if code else None,
            now=self.now,
            rng=self.rng,
            encoding=encoding,
        )
        self.tokens.append(Token(token, [_mlink(token.links[0], max_amount, over, code)]))

    @precondition(lambda self: self.tokens)
    @rule(
        pick=_pick,
        to=st.sampled_from(AGENTS),
        caps=_caps,
        ttl=st.none() | st.integers(30, 2000),
        depth=st.none() | st.integers(0, 3),
        max_amount=st.none() | st.integers(50, 500),
        code=st.sampled_from((None, GOOD)),
    )
    def delegate_token(
        self,
        *,
        pick: int,
        to: str,
        caps: list[tuple[str, str]],
        ttl: int | None,
        depth: int | None,
        max_amount: int | None,
        code: bytes | None,
    ) -> None:
        t = self.tokens[pick % len(self.tokens)]
        if len(t.links) >= MAX_LINKS:
            return
        parent = t.links[-1]
        # the model's verdict on this delegation (spec 4.3 to 4.5, in the issuer's order)
        end = min(self.now + 900, parent.exp) if ttl is None else self.now + ttl
        new_depth = parent.depth - 1 if depth is None else depth
        if not (parent.nbf <= self.now < end <= parent.exp):
            expected: str | None = "time_widened"
        elif not 0 <= new_depth < parent.depth:
            expected = "depth_exceeded"
        elif not all(m_covered(parent.caps, cap) for cap in caps):
            expected = "scope_widened"
        else:
            expected = None
        try:
            token = delegate(
                t.token,
                KEYS[parent.holder],
                KEYS[to].public_key,
                capabilities=caps,
                ttl=ttl,
                depth=depth,
                caveats=[["<=", ".amount", max_amount]] if max_amount is not None else [],
                descriptor=Descriptor(code={"sha256": code}) if code else None,
                now=self.now,
                rng=self.rng,
            )
        except IssueError as exc:
            assert exc.code == expected, (exc.code, expected)
            return
        assert expected is None, expected
        link = _mlink(token.links[-1], max_amount, None, code)
        self.tokens.append(Token(token, [*t.links, link]))

    @precondition(lambda self: self.tokens)
    @rule(pick=_pick, index=st.integers(0, 3 * MAX_LINKS))
    def revoke(self, pick: int, index: int) -> None:
        t = self.tokens[pick % len(self.tokens)]
        if index >= len(t.links):
            return  # revocations are rare beside everything else
        ident = t.links[index].ident
        self.store.revoke(ident)
        self.model.revoked.add(ident)

    @rule(
        subject=st.sampled_from(AGENTS),
        good=st.booleans(),
        ttl=st.integers(60, 1200),
        encoding=st.sampled_from(ENCODINGS),
    )
    def attest_agent(self, subject: str, good: bool, ttl: int, encoding: codec.Encoding) -> None:
        code = GOOD if good else BAD
        obj = attest(
            KEYS["attester"],
            KEYS[subject].public_key,
            code={"sha256": code},
            ttl=ttl,
            now=self.now,
            encoding=encoding,
        )
        self.attestations.append(MAttestation(subject, code, self.now, self.now + ttl, obj))

    @precondition(lambda self: self.pending is not None)
    @rule(other_amount=st.booleans(), ttl=st.integers(30, 600))
    def approve_pending(self, other_amount: bool, ttl: int) -> None:
        assert self.pending is not None
        t, (action, resource, amount) = self.pending
        amount += int(other_amount)  # sometimes an approval of another request
        chain = t.links[-1].ident
        digest = request_digest(chain, API, action, resource, {"amount": amount})
        obj = approve(KEYS["root"], digest, ttl=ttl, now=self.now, encoding=t.token.encoding)
        self.approvals.append(
            MApproval(chain, action, resource, amount, self.now, self.now + ttl, obj)
        )

    @precondition(lambda self: self.tokens)
    @rule(pick=_pick, request=_request)
    def invoke_token(self, pick: int, request: tuple[str, str, int]) -> None:
        self._invoke(self.tokens[pick % len(self.tokens)], request, [])

    @precondition(lambda self: self.tokens)
    @rule(pick=_pick, choice=_pick, amount=st.integers(0, 600))
    def invoke_granted(self, pick: int, choice: int, amount: int) -> None:
        """A request the token's last link grants: the later factors get their turn."""
        t = self.tokens[pick % len(self.tokens)]
        granted = [
            (a, r)
            for a in REQUEST_ACTIONS
            for r in REQUEST_RESOURCES
            if any(m_permits(cap, a, r) for cap in t.links[-1].caps)
        ]
        if granted:
            action, resource = granted[choice % len(granted)]
            self._invoke(t, (action, resource, amount), [])

    @precondition(lambda self: self.tokens)
    @rule(pick=_pick, good=st.booleans(), ttl=st.integers(60, 1200))
    def attest_holder(self, pick: int, good: bool, ttl: int) -> None:
        t = self.tokens[pick % len(self.tokens)]
        self.attest_agent(t.links[-1].holder, good, ttl, t.token.encoding)

    @precondition(lambda self: self.approvals)
    @rule(pick=_pick, same_request=st.booleans())
    def invoke_with_approval(self, pick: int, same_request: bool) -> None:
        approval = self.approvals[pick % len(self.approvals)]
        t = next((t for t in self.tokens if t.links[-1].ident == approval.chain), None)
        if t is None:
            return
        amount = approval.amount if same_request else approval.amount + 7
        self._invoke(t, (approval.action, approval.resource, amount), [approval])

    @precondition(lambda self: self.last is not None)
    @rule()
    def replay_last(self) -> None:
        assert self.last is not None
        presented, links, request, iat, nonce = self.last
        attached = [a for a in self.attestations if a.obj in presented.attestations]
        approvals = [a for a in self.approvals if a.obj in presented.approvals]
        expected = self.model.decide(
            links,
            request,
            now=self.now,
            iat=iat,
            nonce=nonce,
            attestations=attached,
            approvals=approvals,
        )
        assert self._verify(presented, request) == expected

    @precondition(lambda self: self.tokens)
    @rule(
        pick=_pick,
        other=_pick,
        kind=st.sampled_from(("flip_signature", "drop_root", "wrong_signer", "splice")),
        index=st.integers(0, MAX_LINKS - 1),
        signer=st.sampled_from(AGENTS),
        request=_request,
    )
    def tamper(
        self,
        *,
        pick: int,
        other: int,
        kind: str,
        index: int,
        signer: str,
        request: tuple[str, str, int],
    ) -> None:
        t = self.tokens[pick % len(self.tokens)]
        links, mlinks = list(t.token.links), list(t.links)
        if kind == "flip_signature":
            i = index % len(links)
            links[i] = _flip_signature(links[i])
            mlinks[i] = replace(mlinks[i], ident=links[i].digest, sig_ok=False)
        elif kind == "drop_root":
            if len(links) < 2:
                return
            links, mlinks = links[1:], mlinks[1:]
        elif kind == "splice":
            u = self.tokens[other % len(self.tokens)]
            if u.links[-1].ident == t.links[-1].ident or u.token.encoding != t.token.encoding:
                return  # nothing changed, or a mix refused on construction (J.1)
            links[-1], mlinks[-1] = u.token.links[-1], u.links[-1]
        else:
            if signer == t.links[-1].holder:
                return
            self._invoke(t, request, [], signer=signer)
            return
        self._invoke(t, request, [], links=mlinks, token=Presentation(tuple(links)))

    @rule(seconds=st.integers(1, 90) | st.sampled_from((400, 1000, 3000)))
    def advance_clock(self, seconds: int) -> None:
        self.now += seconds

    @invariant()
    def revocations_agree(self) -> None:
        for t in self.tokens:
            for link in t.links:
                stored = self.store.first_revoked([link.ident]) is not None
                assert stored == (link.ident in self.model.revoked)


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flip_signature(link: Link) -> Link:
    """The link with a low bit of its signature's S flipped: well formed, and wrong."""
    data = bytearray(link.encoded)
    if link.encoding == "cbor":
        data[-32] ^= 1
    else:
        # JWS: the 86 base64url symbols of r || s; symbol 43 holds the low bits of s[0]
        at = len(data) - 86 + 43
        data[at] = ord(_B64URL[_B64URL.index(chr(data[at])) ^ 1])
    return decode_unverified(LinkClaims, bytes(data))


TestVerifierMachine = VerifierMachine.TestCase
TestVerifierMachine.settings = settings(
    max_examples=400 if os.environ.get("CI") else 50,
    stateful_step_count=50,
    deadline=None,
)
