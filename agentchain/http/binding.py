"""The HTTP binding (spec/http.md): header, request mapping and problem details.

Framework-free and pure: the ASGI middleware, the FastAPI dependency and the
httpx client all call these functions, so the service and the agent map one
HTTP request to one verifier :class:`~agentchain.Request` the same way. Nothing
here imports a web framework.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final, Literal
from urllib.parse import urlsplit

from agentchain import AgentchainError, Decision, DecodeError, Limits, Outcome, Request, UsageError
from agentchain.errors import REGISTRY, Code
from agentchain.limits import DEFAULT_LIMITS
from agentchain.wire import jws

#: spec/http.md H.1: the authentication scheme (compared case-insensitively, RFC 9110 11.1)
SCHEME: Final = "AgentChain"
#: spec/http.md H.4: the member of a JSON object body that makes it bind by digest
BODY_MEMBER: Final = "@body"
#: spec/http.md H.3: the default action of a request is ``http/<method in lower case>``
ACTION_PREFIX: Final = "http/"

#: How a route binds the request body (spec/http.md H.4)
BodyBinding = Literal["json", "digest"]

# RFC 7235 token68: the only characters a credential may have after the scheme
_TOKEN68: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_PCT: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class BindingError(AgentchainError):
    """An HTTP request the binding cannot turn into a verifier request, or a bad header.

    ``status`` is the HTTP status spec/http.md assigns to it.
    """

    def __init__(self, code: Code, message: str, *, status: int) -> None:
        super().__init__(code, message)
        self.status = status


# ---------------------------------------------------------------------------
# H.1, H.2: the credential


def presentation_from_headers(values: Iterable[str]) -> str:
    """The presentation's text form from the request's ``Authorization`` header values.

    spec/http.md H.2: exactly one Authorization header with the AgentChain scheme
    and a token68 value. None, or another scheme, is ``presentation_missing``;
    several, or a value that is not one token68, is ``header_invalid``. Both 401.
    """
    found = list(values)
    if not found:
        raise BindingError("presentation_missing", "no Authorization header", status=401)
    if len(found) > 1:
        raise BindingError("header_invalid", "more than one Authorization header", status=401)
    scheme, _, credential = found[0].strip(" \t").partition(" ")
    if scheme.lower() != SCHEME.lower():
        raise BindingError(
            "presentation_missing", "the Authorization header is not AgentChain", status=401
        )
    credential = credential.strip(" \t")
    if not _TOKEN68.fullmatch(credential):
        raise BindingError(
            "header_invalid", "the AgentChain credential is not one token68 value", status=401
        )
    return credential


def authorization_value(text_form: str) -> str:
    """The ``Authorization`` header value that carries a presentation's text form."""
    return f"{SCHEME} {text_form}"


# ---------------------------------------------------------------------------
# H.3: audience and resource


@functools.lru_cache(maxsize=64)
def normal_origin(origin: str) -> str:
    """spec/http.md H.3: ``scheme://host[:port]`` in lower case, without a default port."""
    parts = urlsplit(origin)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise UsageError(f"origin {origin!r} is not an http(s) origin")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise UsageError(f"origin {origin!r} has more than scheme, host and port")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _normal_component(raw: str) -> str:
    """RFC 3986 6.2.2.1 and 6.2.2.2: upper-case hex, unreserved characters decoded."""
    if "%" not in raw:
        return raw

    def one(match: re.Match[str]) -> str:
        byte = int(match.group(1), 16)
        return chr(byte) if byte in _UNRESERVED else f"%{match.group(1).upper()}"

    return _PCT.sub(one, raw)


def normal_resource(origin: str, target: str) -> str:
    """spec/http.md H.3: the resource of a request: origin, then the request target.

    ``target`` is the path and query exactly as sent (``/a/b?x=1``). The origin is
    the service's own, as configured, never the Host header (a client chooses it).
    """
    path, sep, query = target.partition("?")
    path = _normal_component(path) or "/"
    if not path.startswith("/"):
        raise BindingError("schema_invalid", "the request target is not a path", status=400)
    out = normal_origin(origin) + path
    if sep and query:
        out += "?" + _normal_component(query)
    return out


def default_action(method: str) -> str:
    """spec/http.md H.3: ``http/get``, ``http/post``, ..."""
    return ACTION_PREFIX + method.lower()


# ---------------------------------------------------------------------------
# H.4: the body


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip(" \t").lower()


def is_json(content_type: str | None) -> bool:
    media = _media_type(content_type)
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def json_member_limit(limits: Limits) -> int:
    """spec/http.md H.4: the largest JSON body bound by its members, in bytes.

    Half the cap on one signed object, so the invocation's own fields still fit.
    """
    return limits.max_object_bytes // 2


def digest_args(body: bytes, content_type: str | None) -> dict[str, object]:
    """spec/http.md H.4: a body bound by its SHA-256 digest and its media type."""
    bound: dict[str, object] = {"sha-256": hashlib.sha256(body).hexdigest()}
    if content_type:
        bound["type"] = content_type.strip(" \t")
    return {BODY_MEMBER: bound}


def body_args(
    body: bytes,
    content_type: str | None,
    *,
    binding: BodyBinding = "json",
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, object]:
    """spec/http.md H.4: the invocation arguments a request body stands for.

    An empty body is no arguments. With the ``json`` binding, a JSON object body of
    at most :func:`json_member_limit` bytes without an ``@body`` member is bound by
    its members, which caveats can then test (``.args.amount``); it must be
    protocol data: a float is ``json_invalid`` and a string over the limits
    ``limit_exceeded``, both 400. Every other body is bound by digest.
    """
    if not body:
        return {}
    if binding == "json" and is_json(content_type) and len(body) <= json_member_limit(limits):
        try:
            value = jws.loads(
                body,
                max_bytes=json_member_limit(limits),
                max_depth=limits.max_cbor_depth - 1,
                max_items=limits.max_cbor_items,
                max_string_bytes=limits.max_string_bytes,
            )
        except DecodeError as exc:
            raise BindingError(exc.code, f"the JSON body: {exc.message}", status=400) from None
        if isinstance(value, dict) and BODY_MEMBER not in value:
            return value
    elif binding not in ("json", "digest"):
        raise UsageError(f"unknown body binding {binding!r}: use json or digest")
    return digest_args(body, content_type)


def build_request(
    *,
    method: str,
    origin: str,
    target: str,
    body: bytes = b"",
    content_type: str | None = None,
    action: str | None = None,
    binding: BodyBinding = "json",
    limits: Limits = DEFAULT_LIMITS,
) -> Request:
    """spec/http.md H.3, H.4: the verifier request one HTTP request stands for.

    The service calls this with what it received, the agent with what it is about
    to send; both get the same :class:`Request`. A request that cannot be one
    (a dot segment in the path, a float in the body) is a 400 :class:`BindingError`.
    """
    args = body_args(body, content_type, binding=binding, limits=limits)
    resource = normal_resource(origin, target)
    try:
        if not args:  # most reads: one checked Request per (action, resource), reused
            return _request_without_args(action or default_action(method), resource)
        return Request(action or default_action(method), resource, args)
    except AgentchainError as exc:
        raise BindingError(exc.code, exc.message, status=400) from None


@functools.lru_cache(maxsize=1024)
def _request_without_args(action: str, resource: str) -> Request:
    # Request is frozen and its checks are pure: sharing one is safe (a failed
    # check raises and is not cached)
    return Request(action, resource)


# ---------------------------------------------------------------------------
# H.5: the answer


@dataclass(frozen=True, slots=True)
class Problem:
    """An RFC 9457 problem details answer carrying a registry code (spec/http.md H.5)."""

    status: int
    code: str
    detail: str
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in REGISTRY:
            raise ValueError(f"unregistered code {self.code!r}")

    @property
    def title(self) -> str:
        return REGISTRY[self.code].summary

    def to_json(self) -> dict[str, object]:
        return {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }

    def body(self) -> bytes:
        return jws.dumps(self.to_json())

    def headers(self) -> list[tuple[str, str]]:
        out = [("content-type", "application/problem+json")]
        if self.status in (401, 403):
            out.append(("www-authenticate", f'{SCHEME} error="{self.code}"'))
        return out

    @property
    def reason(self) -> str:
        return HTTPStatus(self.status).phrase


def problem_for_error(exc: AgentchainError) -> Problem:
    """spec/http.md H.5: an error is 401 (the presentation), 400 (the request), 503 (state)."""
    if isinstance(exc, BindingError):
        return Problem(exc.status, exc.code, exc.message)
    if exc.code == "usage":
        # the service asked the library for something impossible: its bug, not the agent's
        return Problem(500, exc.code, "the service's verifier is misconfigured")
    if exc.code == "store_error":
        # the service's state failed: not the agent's fault, and never an allow
        return Problem(503, exc.code, "the verifier's state is unavailable; try again later")
    return Problem(401, exc.code, exc.message)


def problem_for_decision(decision: Decision) -> Problem | None:
    """spec/http.md H.5: None on allow; 403 with the reason's code otherwise.

    needs_approval carries the approval request (``approval_request``).
    """
    if decision.outcome is Outcome.ALLOW:
        return None
    reason = decision.reasons[0]
    extra: dict[str, object] = {}
    if decision.outcome is Outcome.NEEDS_APPROVAL and decision.approval_request is not None:
        extra["approval_request"] = decision.approval_request.to_json()
    return Problem(403, reason.code, reason.message, extra)
