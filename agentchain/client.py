"""The agent side of the HTTP binding: an ``httpx.Auth`` that signs every request.

One line in an agent::

    client = httpx.Client(auth=AgentChainAuth(token, key))

Each request gets a fresh invocation (spec 5.7) over exactly what is sent: the
origin as audience, the URL as resource, the method (or a configured action),
and the body (spec/http.md H.3, H.4). A 403 ``approval_required`` (H.5) is
handed to ``on_approval``; if that returns an approval the request is signed
again with it and retried once, otherwise :class:`ApprovalRequiredError` is raised
with the approval request, checked against the request this client made.
Needs the ``http`` extra (httpx).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass

import httpx

from agentchain import (
    AgentchainError,
    DecodeError,
    Limits,
    Presentation,
    PrivateKey,
    Request,
    UsageError,
    codec,
    decode_presentation_unverified,
    invoke,
    model,
    request_digest,
)
from agentchain.http.asgi import Rule
from agentchain.http.binding import (
    BodyBinding,
    authorization_value,
    build_request,
    normal_origin,
)
from agentchain.limits import DEFAULT_LIMITS


@dataclass(frozen=True, slots=True)
class ApprovalNeeded:
    """What the service asked for (spec/http.md H.5), checked against what was sent.

    ``digest`` is computed here from the request this client signed (spec 9.2:
    never taken on trust); the approver signs it. ``server`` is the service's
    ``approval_request`` object, for showing to the person (``summary``).
    """

    digest: bytes
    request: Request
    audience: str
    server: Mapping[str, object]

    @property
    def summary(self) -> str:
        return str(self.server.get("summary", ""))


class ApprovalRequiredError(AgentchainError):
    """The service answered needs_approval and no approval was given (``approval_required``)."""

    def __init__(self, needed: ApprovalNeeded, response: httpx.Response) -> None:
        super().__init__("approval_required", needed.summary or "the request needs an approval")
        self.needed = needed
        self.response = response


ApprovalLike = codec.Approval | str
OnApproval = Callable[[ApprovalNeeded], ApprovalLike | Awaitable[ApprovalLike | None] | None]


def _approval(value: ApprovalLike, limits: Limits) -> codec.Approval:
    if not isinstance(value, str):
        if isinstance(value, codec.Signed) and isinstance(value.claims, model.ApprovalClaims):
            return value
        raise UsageError("an approval is a signed approval object or its text form")
    return codec.decode_unverified(
        model.ApprovalClaims, codec.attachment_from_text(value, limits), limits
    )


class AgentChainAuth(httpx.Auth):
    """Sign one invocation per request with ``key``, the holder of ``token``.

    ``action`` replaces the default ``http/<method>`` (a string, or a function of
    the request); ``binding`` must be the one the service's rule uses for this
    route. ``rules`` are the service's (the same :class:`~agentchain.http.Rule`
    objects): a matching rule gives the action and binding of its routes.
    ``attestations`` ride along on every request; ``approvals`` too (use
    :meth:`with_approval` for one request). ``now`` and ``rng`` are for tests.
    """

    requires_request_body = True

    def __init__(
        self,
        token: Presentation | str,
        key: PrivateKey,
        *,
        action: str | Callable[[httpx.Request], str] | None = None,
        binding: BodyBinding = "json",
        rules: Sequence[Rule] = (),
        attestations: Iterable[codec.Attestation] = (),
        approvals: Iterable[ApprovalLike] = (),
        on_approval: OnApproval | None = None,
        limits: Limits = DEFAULT_LIMITS,
        now: Callable[[], int] | None = None,
    ) -> None:
        if isinstance(token, str):
            token = decode_presentation_unverified(token, limits)
        if not isinstance(token, Presentation) or token.invocation is not None:
            raise UsageError("AgentChainAuth needs a token (links without an invocation)")
        if key.public_key != token.holder:
            raise UsageError("the key is not the token's holder")
        self.token = token
        self.key = key
        self.action = action
        self.binding: BodyBinding = binding
        self.rules = tuple(rules)
        self.attestations = tuple(attestations)
        self.approvals = tuple(_approval(a, limits) for a in approvals)
        self.on_approval = on_approval
        self.limits = limits
        self.now = now

    def with_approval(self, approval: ApprovalLike) -> AgentChainAuth:
        """The same auth, attaching ``approval``: for the one request it approves."""
        return AgentChainAuth(
            self.token,
            self.key,
            action=self.action,
            binding=self.binding,
            rules=self.rules,
            attestations=self.attestations,
            approvals=(*self.approvals, _approval(approval, self.limits)),
            on_approval=self.on_approval,
            limits=self.limits,
            now=self.now,
        )

    # -- the request ------------------------------------------------------

    def _mapped(self, request: httpx.Request) -> tuple[str, Request]:
        url = request.url
        audience = normal_origin(f"{url.scheme}://{url.netloc.decode('ascii')}")
        action = self.action(request) if callable(self.action) else self.action
        binding = self.binding
        rule = next((r for r in self.rules if r.matches(request.method, url.path)), None)
        if rule is not None:
            action = action or rule.action
            binding = rule.binding
        mapped = build_request(
            method=request.method,
            origin=audience,
            target=url.raw_path.decode("ascii"),
            body=request.content,
            content_type=request.headers.get("content-type"),
            action=action,
            binding=binding,
            limits=self.limits,
        )
        return audience, mapped

    def _sign(self, request: httpx.Request, extra: Iterable[codec.Approval] = ()) -> None:
        audience, mapped = self._mapped(request)
        presentation = invoke(
            self.token,
            self.key,
            audience=audience,
            action=mapped.action,
            resource=mapped.resource,
            args=dict(mapped.args),
            attestations=self.attestations,
            approvals=(*self.approvals, *extra),
            now=self.now() if self.now is not None else None,
            limits=self.limits,
        )
        request.headers["Authorization"] = authorization_value(presentation.to_text())

    def _needed(self, request: httpx.Request, response: httpx.Response) -> ApprovalNeeded | None:
        """The approval the service asks for, or None when it asks for none."""
        if response.status_code != 403:
            return None
        if not response.headers.get("content-type", "").startswith("application/problem+json"):
            return None
        try:
            problem = json.loads(response.content)
        except ValueError:
            return None
        if not isinstance(problem, dict) or problem.get("code") != "approval_required":
            return None
        server = problem.get("approval_request")
        audience, mapped = self._mapped(request)
        digest = request_digest(
            self.token.chain_digest, audience, mapped.action, mapped.resource, mapped.args
        )
        # spec 9.2: the digest to approve is computed here; a service that asks for
        # another one is asking for something this client did not send
        if not isinstance(server, dict) or server.get("digest") != digest.hex():
            raise DecodeError(
                "schema_invalid", "the service's approval request is not for this request"
            )
        return ApprovalNeeded(digest=digest, request=mapped, audience=audience, server=server)

    # -- httpx ------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        self._sign(request)
        response = yield request
        if response.status_code == 403:
            response.read()  # a problem document: small
        needed = self._needed(request, response)
        if needed is None:
            return
        answer = self.on_approval(needed) if self.on_approval is not None else None
        if inspect.isawaitable(answer):
            raise UsageError("an async on_approval needs an httpx.AsyncClient")
        if answer is None:
            raise ApprovalRequiredError(needed, response)
        self._sign(request, (_approval(answer, self.limits),))
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self._sign(request)
        response = yield request
        if response.status_code == 403:
            await response.aread()
        needed = self._needed(request, response)
        if needed is None:
            return
        answer = self.on_approval(needed) if self.on_approval is not None else None
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None:
            raise ApprovalRequiredError(needed, response)
        self._sign(request, (_approval(answer, self.limits),))
        yield request
