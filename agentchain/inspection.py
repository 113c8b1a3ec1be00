"""What a token or presentation says, and what in it would fail verification (spec 11.1).

``agentchain inspect`` and the demo draw a chain with this module. It decodes
without trusting anything and runs the checks that need no trust policy: each
non-root link's signature under the key its parent names, the linkage, the
attenuation of scope, window and depth (spec 4.3 to 4.5), the windows at one
time, and the invocation's binding. Each rule is the very function the verifier
calls (``agentchain.verifier._checks``), so the two cannot disagree; this module
only collects every finding instead of stopping at the first one. It is never
a decision: only :class:`~agentchain.verifier.Verifier` decides.

A surface (with the CLI and the demo): it draws through rich, and returns the
drawing; the CLI prints it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.tree import Tree

from agentchain import codec, model
from agentchain._display import rfc3339, safe
from agentchain.crypto import PublicKey
from agentchain.errors import AgentchainError
from agentchain.verifier import TrustPolicy
from agentchain.verifier._checks import (
    Violation,
    check_alg,
    check_binding,
    check_depth,
    check_fresh,
    check_linkage,
    check_scope,
    check_signer,
    check_time_nesting,
    check_valid_at,
    check_window,
)

_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrustPolicy)}
#: the verifier's defaults (spec 8.1), which inspect assumes
CLOCK_SKEW: int = _DEFAULTS["clock_skew"]  # type: ignore[assignment]
MAX_TTL: int = _DEFAULTS["max_ttl"]  # type: ignore[assignment]
INVOCATION_WINDOW: int = _DEFAULTS["invocation_window"]  # type: ignore[assignment]
ALGORITHMS: frozenset[str] = _DEFAULTS["algorithms"]  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a verifier would reject, with the code it would use."""

    code: str
    where: str  # "link 0", "link 1", "the invocation"
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "where": self.where, "message": self.message}


def _finding(violation: Violation | None, where: str) -> Finding | None:
    return None if violation is None else Finding(violation.code, where, violation.detail)


def _signature(key: PublicKey, signed: codec.Signed[Any], where: str) -> Finding | None:
    if (wrong := _finding(check_alg(signed.alg, key, ALGORITHMS), where)) is not None:
        return wrong
    try:
        key.verify(signed.envelope.signature, signed.envelope.signed)
    except AgentchainError as exc:
        return Finding(exc.code, where, f"the signature does not verify: {exc.message}")
    return None


def _link_findings(
    index: int,
    link: codec.Link,
    parent: codec.Link | None,
    now: int,
    anchors: Sequence[PublicKey],
) -> list[Finding]:
    where = f"link {index}"
    out: list[Finding | None] = []
    # the signer: a trust anchor at the root (checked only when some are given)
    if parent is not None or anchors:
        signer = check_signer(
            link, parent, lambda issuer: next((a for a in anchors if a.thumbprint == issuer), None)
        )
        if isinstance(signer, Violation):
            out.append(_finding(signer, where))
        else:
            out.append(_signature(signer, link, where))
    out.append(_finding(check_linkage(link, parent), where))
    out.append(_finding(check_window(link, MAX_TTL), where))
    # spec 4.3 to 4.5: authority only narrows
    if parent is not None:
        out.extend(
            _finding(check(link, parent), where)
            for check in (check_scope, check_time_nesting, check_depth)
        )
    # spec 8.2 V4, at the given time
    out.append(_finding(check_valid_at(link, now, CLOCK_SKEW), where))
    return [finding for finding in out if finding is not None]


def findings(
    presentation: codec.Presentation, *, now: int, anchors: Sequence[PublicKey] = ()
) -> list[Finding]:
    """Everything in ``presentation`` a verifier with default limits would reject at ``now``.

    The root link's signature is checked only against ``anchors`` (none: unchecked).
    An empty list is not an approval: trust, revocation, replay, the request, caveats,
    attestations and approvals are the verifier's to judge.
    """
    out: list[Finding] = []
    parent: codec.Link | None = None
    for index, link in enumerate(presentation.links):
        out.extend(_link_findings(index, link, parent, now, anchors))
        parent = link
    invocation = presentation.invocation
    if invocation is not None:
        where = "the invocation"
        holder = presentation.links[-1].claims.holder
        bad = _signature(holder, invocation, where)
        if bad is not None:
            out.append(
                Finding(bad.code, where, "not signed by the last holder's key: " + bad.message)
            )
        iat = invocation.claims.iat
        for violation in (
            check_binding(invocation, presentation.chain_digest),
            check_fresh(iat, now, CLOCK_SKEW, INVOCATION_WINDOW),
        ):
            if (finding := _finding(violation, where)) is not None:
                out.append(finding)
    return out


# -- drawing ------------------------------------------------------------------


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _depth(depth: int) -> str:
    if depth == 0:
        return "depth 0: may not delegate further"
    return f"depth {depth}: may delegate {depth} more hop{'s' if depth > 1 else ''}"


def _digests(label: str, digests: Mapping[str, bytes], how: str) -> list[str]:
    return [
        f"[cyan]{label}[/] {safe(alg)}:{value.hex()} [dim]({how})[/]"
        for alg, value in digests.items()
    ]


def tree(
    presentation: codec.Presentation,
    found: Sequence[Finding],
    *,
    names: Mapping[bytes, str] | None = None,
    root_checked: bool = False,
) -> Tree:
    """The chain as a tree of principals: root signer, then each link's holder below it.

    ``names`` maps a key thumbprint to a display name the caller knows (a token names
    its holders in their descriptors, but never its root signer).
    """
    names = names or {}
    by_where: dict[str, list[Finding]] = {}
    for finding in found:
        by_where.setdefault(finding.where, []).append(finding)
    links = presentation.links
    root_issuer = links[0].claims.issuer
    root_name = names.get(root_issuer)
    note = "" if root_checked else " [dim](its signature is checked only against --trust)[/]"
    top = Tree(
        f"[bold]{safe(root_name) if root_name else 'root signer'}[/] "
        f"(trust anchor) [dim]kid {codec.b64encode(root_issuer)}[/]{note}"
    )
    node = top
    for index, link in enumerate(links):
        c, d = link.claims, link.claims.descriptor
        name = d.name or names.get(c.holder.thumbprint)
        node = node.add(
            f"[bold]{safe(name) if name else '(unnamed)'}[/] ({d.kind}) "
            f"[dim]kid {c.holder.kid}, link {index} {link.digest.hex()[:16]}[/]"
        )
        window = c.window
        node.add(
            f"window {rfc3339(window.nbf)} .. {rfc3339(window.exp)}"
            f" ({_duration(window.exp - window.nbf)})"
        )
        node.add(_depth(c.depth))
        if c.purpose:
            node.add(f"purpose: {safe(c.purpose)}")
        for cap in c.capabilities:
            node.add(f"[green]may[/] {safe(cap.action)} on {safe(cap.resource)}")
        for cav in c.caveats:
            scope = f" for {safe(', '.join(cav.actions))}" if cav.actions else ""
            node.add(f"[yellow]if[/] {safe(model.statement_text(cav.statement))}{scope}")
        for req in c.approvals:
            by = (
                names.get(req.approver.thumbprint) or req.approver.kid
                if req.approver is not None
                else root_name or "the root signer"
            )
            when = safe(model.statement_text(req.when)) if req.when is not None else "always"
            scope = f" for {safe(', '.join(req.actions))}" if req.actions else ""
            node.add(f"[magenta]approval[/] by {safe(by)}{scope} when {when}")
        usage = c.usage
        for limit in usage.limits if usage is not None else ():
            what = f"sum of {safe(limit.selector.text)}" if limit.selector else "requests"
            scope = f" for {safe(', '.join(limit.actions))}" if limit.actions else ""
            if limit.on_exceed == "deny":
                then = "deny"
            else:
                then = f"approval by {_approver_name(limit.approver, names, root_name)}"
            node.add(
                f"[magenta]limit[/] {what} at most {limit.max} per "
                f"{_duration(limit.period)}{scope}, then {then}"
            )
        if usage is not None and usage.novelty is not None:
            who = _approver_name(usage.novelty.approver, names, root_name)
            node.add(
                f"[magenta]novelty[/] after {usage.novelty.learn} requests, a new action or "
                f"host needs approval by {who}"
            )
        for line in _digests("code", d.code, "declared") + _digests("config", d.config, "declared"):
            node.add(line)
        if d.model:
            node.add(f"[cyan]model[/] {safe(d.model)} [dim](declared)[/]")
        for finding in by_where.get(f"link {index}", ()):
            node.add(_flag(finding))
    return top


def _approver_name(key: PublicKey | None, names: Mapping[bytes, str], root_name: str | None) -> str:
    """A limit's or a novelty rule's approver as shown: its name, its kid, or the root's."""
    if key is None:
        return safe(root_name or "the root signer")
    return safe(names.get(key.thumbprint) or key.kid)


def _flag(finding: Finding) -> str:
    return f"[bold red]would fail: {finding.code}[/]: {safe(finding.message)}"


def invocation_lines(presentation: codec.Presentation, found: Sequence[Finding]) -> list[str]:
    """The invocation and the attachments, as markup lines below the tree."""
    lines = []
    invocation = presentation.invocation
    if invocation is not None:
        i = invocation.claims
        lines.append(
            f"invocation: {safe(i.action)} on {safe(i.resource)} for {safe(i.audience)}, "
            f"signed {rfc3339(i.iat)}"
        )
        for finding in found:
            if finding.where == "the invocation":
                lines.append("  " + _flag(finding))
    for a in presentation.attestations:
        digests = ", ".join(f"{alg}:{v.hex()[:16]}" for alg, v in a.claims.code.items())
        lines.append(
            f"attached attestation by {codec.b64encode(a.claims.issuer)} of "
            f"{codec.b64encode(a.claims.subject)}: {safe(digests) or 'no code'}"
            f"{', model ' + safe(a.claims.model) if a.claims.model else ''}, "
            f"{rfc3339(a.claims.iat)} .. {rfc3339(a.claims.exp)}"
        )
    for p in presentation.approvals:
        lines.append(
            f"attached approval by {codec.b64encode(p.claims.issuer)} of request "
            f"{p.claims.request.hex()[:16]}, {rfc3339(p.claims.iat)} .. "
            f"{rfc3339(p.claims.exp)}"
        )
    return lines
