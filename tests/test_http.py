"""The HTTP binding end to end (spec/http.md): a FastAPI service behind the ASGI middleware,
served by a real uvicorn on a loopback port, called by real httpx clients."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI, Request

from agentchain import (
    ApprovalRequirement,
    Caveat,
    Limits,
    MemoryStore,
    Presentation,
    TrustPolicy,
    Verifier,
    approve,
    delegate,
    invoke,
    issue,
)
from agentchain.client import AgentChainAuth, ApprovalNeeded, ApprovalRequiredError
from agentchain.errors import AgentchainError
from agentchain.fastapi import AgentChainDecision, purpose_of
from agentchain.http import (
    AgentChainMiddleware,
    BindingError,
    Rule,
    authorization_value,
    build_request,
    normal_origin,
    normal_resource,
    presentation_from_headers,
)
from agentchain.model import parse_statement as parse
from agentchain.store import NonceStatus, SQLiteStore
from tests.servers import AGENT, ALICE, MALLORY, SUB, uvicorn_server

OVER_200 = ApprovalRequirement(when=parse([">", ".amount", 200]), actions=("payments",))
AT_MOST_1000 = Caveat(parse(["<=", ".amount", 1000]), ("payments",))


def capabilities(origin: str) -> list[tuple[str, str]]:
    return [
        ("payments/transfer", f"{origin}/transfers"),
        ("http/get", f"{origin}/accounts/*"),
        ("http/post", f"{origin}/upload"),
        ("http/get", f"{origin}/attested"),
    ]


def token_for(origin: str, root: Any = ALICE) -> Presentation:
    token = issue(
        root,
        AGENT.public_key,
        capabilities=capabilities(origin),
        depth=1,
        caveats=[AT_MOST_1000],
        require_approval=[OVER_200],
    )
    return delegate(
        token, AGENT, SUB.public_key, capabilities=capabilities(origin), purpose="pay invoices"
    )


RULES = (
    Rule(path="/transfers", methods=frozenset({"POST"}), action="payments/transfer"),
    Rule(path="/health", public=True),
    Rule(path="/upload", binding="digest"),
    Rule(path="/attested", factors=frozenset({"integrity"})),
)


def build_app(
    origin: str, *, store: Any = None, max_body_bytes: int = 1 << 20, limits: Any = None
) -> FastAPI:
    verifier = Verifier(
        TrustPolicy(anchors=(ALICE.public_key,), audience=origin, limits=limits or Limits()),
        store=store if store is not None else MemoryStore(),
    )
    app = FastAPI()

    @app.post("/transfers")
    async def transfer(body: dict[str, Any], decision: AgentChainDecision) -> dict[str, Any]:
        return {
            "amount": body["amount"],
            "principals": [p.kid for p in decision.chain.principals],
            "purpose": purpose_of(decision),
            "action": decision.invocation.action,
        }

    @app.get("/accounts/{name}")
    async def account(name: str, decision: AgentChainDecision) -> dict[str, Any]:
        return {"name": name, "outcome": decision.outcome.value}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get("/attested")
    async def attested() -> dict[str, str]:
        return {"status": "never reached without an attestation"}

    app.add_middleware(
        AgentChainMiddleware, verifier=verifier, rules=RULES, max_body_bytes=max_body_bytes
    )
    return app


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    with uvicorn_server(build_app) as origin:
        yield origin


def agent_client(origin: str, **kwargs: Any) -> httpx.Client:
    return httpx.Client(
        base_url=origin,
        auth=AgentChainAuth(token_for(origin), SUB, rules=RULES, **kwargs),
        timeout=10,
    )


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    # R-H.5-1: RFC 9457 members, and the registry's code
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == response.status_code
    if response.status_code in (401, 403):
        assert response.headers["www-authenticate"] == f'AgentChain error="{body["code"]}"'
    return body


# -- allow ------------------------------------------------------------------


def test_allow_hands_the_handler_the_decision(service: str) -> None:
    with agent_client(service) as client:
        response = client.post("/transfers", json={"amount": 100, "to": "bob"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["amount"] == 100
    assert body["principals"] == [ALICE.public_key.kid, AGENT.public_key.kid, SUB.public_key.kid]
    assert body["purpose"] == "pay invoices"
    assert body["action"] == "payments/transfer"  # R-H.3-3: the rule's action


def test_default_action_is_the_method(service: str) -> None:
    # R-H.3-3: no rule names /accounts: the action is http/get
    with agent_client(service) as client:
        response = client.get("/accounts/alice")
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "alice", "outcome": "allow"}


def test_public_route_needs_no_presentation(service: str) -> None:
    assert httpx.get(f"{service}/health", timeout=10).json() == {"status": "ok"}


# -- deny -------------------------------------------------------------------


def test_capability_missing_is_403(service: str) -> None:
    # R-H.3-4: a route no rule names is verified all the same; R-H.5-2: a deny is 403
    with agent_client(service) as client:
        response = client.get("/admin")
    assert response.status_code == 403
    assert problem(response)["code"] == "capability_missing"


def test_caveat_over_the_cap_is_403(service: str) -> None:
    with agent_client(service) as client:
        response = client.post("/transfers", json={"amount": 5000, "to": "bob"})
    assert response.status_code == 403
    assert problem(response)["code"] == "caveat_failed"


def test_rule_factor_not_passing_is_403(service: str) -> None:
    with agent_client(service) as client:
        response = client.get("/attested")
    assert response.status_code == 403
    assert problem(response)["code"] == "attestation_missing"


# -- needs_approval then approved ---------------------------------------------


def test_needs_approval_surfaces_the_request_then_the_approved_retry_passes(service: str) -> None:
    auth = AgentChainAuth(token_for(service), SUB, rules=RULES)
    with httpx.Client(base_url=service, timeout=10) as client:
        with pytest.raises(ApprovalRequiredError) as caught:
            client.post("/transfers", json={"amount": 300, "to": "bob"}, auth=auth)
        needed = caught.value.needed
        assert caught.value.code == "approval_required"
        assert caught.value.response.status_code == 403
        server = problem(caught.value.response)["approval_request"]
        assert server["digest"] == needed.digest.hex()
        assert "300" in needed.summary
        approval = approve(ALICE, needed.digest)
        response = client.post(
            "/transfers", json={"amount": 300, "to": "bob"}, auth=auth.with_approval(approval)
        )
    assert response.status_code == 200, response.text
    assert response.json()["amount"] == 300


def test_on_approval_retries_in_the_same_call(service: str) -> None:
    seen: list[ApprovalNeeded] = []

    def approver(needed: ApprovalNeeded) -> Any:
        seen.append(needed)
        return approve(ALICE, needed.digest)

    with agent_client(service, on_approval=approver) as client:
        response = client.post("/transfers", json={"amount": 250, "to": "carol"})
    assert response.status_code == 200, response.text
    assert len(seen) == 1 and seen[0].request.args == {"amount": 250, "to": "carol"}


def test_client_refuses_an_approval_request_for_another_digest() -> None:
    # R-H.5-4: the agent computes the digest itself; a service naming another is refused
    origin = "http://127.0.0.1:9"
    auth = AgentChainAuth(token_for(origin), SUB, rules=RULES)
    forged = {"code": "approval_required", "approval_request": {"digest": "00" * 32}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403, json=forged, headers={"content-type": "application/problem+json"}
        )

    transport = httpx.MockTransport(handler)
    with (
        httpx.Client(transport=transport, base_url=origin) as client,
        pytest.raises(AgentchainError) as caught,
    ):
        client.post("/transfers", json={"amount": 300}, auth=auth)
    assert caught.value.code == "schema_invalid"


def test_async_client_with_async_approver(service: str) -> None:
    async def approver(needed: ApprovalNeeded) -> Any:
        await asyncio.sleep(0)
        return approve(ALICE, needed.digest)

    async def main() -> httpx.Response:
        auth = AgentChainAuth(token_for(service), SUB, rules=RULES, on_approval=approver)
        async with httpx.AsyncClient(base_url=service, auth=auth, timeout=10) as client:
            return await client.post("/transfers", json={"amount": 400, "to": "dan"})

    response = asyncio.run(main())
    assert response.status_code == 200, response.text


# -- invalid, missing, malformed ------------------------------------------------


def test_untrusted_root_is_401(service: str) -> None:
    auth = AgentChainAuth(token_for(service, root=MALLORY), SUB)
    response = httpx.get(f"{service}/accounts/alice", auth=auth, timeout=10)
    assert response.status_code == 401
    assert problem(response)["code"] == "root_untrusted"


def test_missing_header_is_401(service: str) -> None:
    # R-H.2-1
    response = httpx.get(f"{service}/accounts/alice", timeout=10)
    assert response.status_code == 401
    assert problem(response)["code"] == "presentation_missing"
    other = httpx.get(f"{service}/accounts/alice", headers={"authorization": "Bearer x"})
    assert other.status_code == 401
    assert problem(other)["code"] == "presentation_missing"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("AgentChain", "header_invalid"),
        ("AgentChain a b", "header_invalid"),
        ("AgentChain ac1c.,x", "header_invalid"),
        ("AgentChain zz9z.AAAA", "encoding_unknown"),
        ("AgentChain ac1c.A", "base64_invalid"),
        ("agentchain ac1c.AAAA", "cbor_trailing"),
    ],
)
def test_malformed_header_is_401(service: str, value: str, code: str) -> None:
    # R-H.2-2: not one token68; R-H.2-3: the decoder's code
    response = httpx.get(f"{service}/accounts/alice", headers={"authorization": value}, timeout=10)
    assert response.status_code == 401
    assert problem(response)["code"] == code


def test_two_authorization_headers_are_401(service: str) -> None:
    # R-H.2-2
    presentation = invoke(
        token_for(service),
        SUB,
        audience=service,
        action="http/get",
        resource=f"{service}/accounts/alice",
    )
    value = authorization_value(presentation.to_text())
    headers = [("authorization", value), ("authorization", value)]
    response = httpx.get(f"{service}/accounts/alice", headers=headers, timeout=10)
    assert response.status_code == 401
    assert problem(response)["code"] == "header_invalid"


def test_long_header_is_answered_never_500() -> None:
    # R-H.2-3: a presentation over the service's limits is refused before it is decoded
    value = "AgentChain ac1c." + "A" * 12_000
    limits = Limits(max_presentation_bytes=4096)
    with uvicorn_server(lambda origin: build_app(origin, limits=limits)) as origin:
        response = httpx.get(f"{origin}/accounts/a", headers={"authorization": value}, timeout=10)
    assert response.status_code == 401
    assert problem(response)["code"] == "limit_exceeded"


# -- wrong audience, replay ---------------------------------------------------


def _signed(origin: str, *, audience: str, path: str = "/accounts/alice") -> str:
    presentation = invoke(
        token_for(origin),
        SUB,
        audience=audience,
        action="http/get",
        resource=f"{origin}{path}",
    )
    return authorization_value(presentation.to_text())


def test_wrong_audience_is_403(service: str) -> None:
    # R-H.3-1: the audience is the service's configured origin, whatever Host says
    header = _signed(service, audience="https://other.example")
    response = httpx.get(
        f"{service}/accounts/alice",
        headers={"authorization": header, "host": "other.example"},
        timeout=10,
    )
    assert response.status_code == 403
    assert problem(response)["code"] == "audience_mismatch"


def test_replay_is_403(service: str) -> None:
    header = _signed(service, audience=service)
    first = httpx.get(f"{service}/accounts/alice", headers={"authorization": header}, timeout=10)
    assert first.status_code == 200, first.text
    again = httpx.get(f"{service}/accounts/alice", headers={"authorization": header}, timeout=10)
    assert again.status_code == 403
    assert problem(again)["code"] == "replay"


def test_resource_is_bound(service: str) -> None:
    header = _signed(service, audience=service, path="/accounts/alice")
    response = httpx.get(f"{service}/accounts/bob", headers={"authorization": header}, timeout=10)
    assert response.status_code == 403
    assert problem(response)["code"] == "request_mismatch"


# -- bodies: float, long string, digest binding, size ---------------------------


def test_float_in_body_is_400_json_invalid(service: str) -> None:
    # R-H.4-2: the client refuses to sign it ...
    with agent_client(service) as client, pytest.raises(BindingError) as caught:
        client.post("/transfers", json={"amount": 1.5})
    assert caught.value.code == "json_invalid"
    # ... and the service answers it with 400, never 500
    header = _signed(service, audience=service)
    response = httpx.post(
        f"{service}/transfers",
        content=b'{"amount": 1.5}',
        headers={"authorization": header, "content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert problem(response)["code"] == "json_invalid"


def test_long_string_in_body_is_400_limit_exceeded(service: str) -> None:
    # R-H.4-2
    body = json.dumps({"amount": 1, "memo": "x" * 5000}).encode()
    with agent_client(service) as client, pytest.raises(BindingError) as caught:
        client.post("/transfers", content=body, headers={"content-type": "application/json"})
    assert caught.value.code == "limit_exceeded"
    header = _signed(service, audience=service)
    response = httpx.post(
        f"{service}/transfers",
        content=body,
        headers={"authorization": header, "content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert problem(response)["code"] == "limit_exceeded"


def test_digest_bound_body_passes_and_another_body_does_not(service: str) -> None:
    # R-H.4-3
    auth = AgentChainAuth(token_for(service), SUB, rules=RULES)
    request = httpx.Request(
        "POST", f"{service}/upload", content=b"\x00raw bytes", headers={"content-type": "x/y"}
    )
    flow = auth.sync_auth_flow(request)
    signed = next(flow)
    header = signed.headers["authorization"]
    with httpx.Client(timeout=10) as client:
        ok = client.send(signed)
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"size": 10}
        tampered = client.post(
            f"{service}/upload",
            content=b"\x00raw bytez",
            headers={"authorization": header, "content-type": "x/y"},
        )
    assert tampered.status_code == 403
    assert problem(tampered)["code"] in {"request_mismatch", "replay"}


def test_body_over_the_limit_is_413() -> None:
    # R-H.4-4
    with uvicorn_server(lambda origin: build_app(origin, max_body_bytes=1000)) as origin:
        header = _signed(origin, audience=origin)
        response = httpx.post(
            f"{origin}/upload",
            content=b"x" * 5000,
            headers={"authorization": header, "content-type": "text/plain"},
            timeout=10,
        )
    assert response.status_code == 413
    assert problem(response)["code"] == "limit_exceeded"


# -- state: a blocking store runs off the event loop ----------------------------


class _RecordingStore(SQLiteStore):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.threads: set[int] = set()

    def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        self.threads.add(threading.get_ident())
        return super().use_nonce(key, expires_at=expires_at, now=now)


def test_sqlite_store_serves_the_middleware_off_the_loop(tmp_path: Path) -> None:
    store = _RecordingStore(str(tmp_path / "state.sqlite"))
    loop_threads: set[int] = set()

    def build(origin: str) -> Any:
        app = build_app(origin, store=store)

        @app.get("/accounts/{name}/thread")
        async def thread() -> dict[str, str]:
            return {}

        async def record_loop_thread(scope: Any, receive: Any, send: Any) -> None:
            loop_threads.add(threading.get_ident())
            await app(scope, receive, send)

        return record_loop_thread

    with uvicorn_server(build) as origin, agent_client(origin) as client:
        assert client.get("/accounts/alice").status_code == 200
        header = _signed(origin, audience=origin)
        assert httpx.get(f"{origin}/accounts/alice", headers={"authorization": header}).is_success
        replayed = httpx.get(f"{origin}/accounts/alice", headers={"authorization": header})
        assert replayed.status_code == 403  # the SQLite store saw the nonce
    assert store.threads and loop_threads and not (store.threads & loop_threads)


# -- the binding's pure rules ----------------------------------------------------


def test_origin_and_resource_normal_form() -> None:
    # R-H.3-1, R-H.3-2
    assert normal_origin("HTTPS://Bank.Example:443") == "https://bank.example"
    assert normal_origin("http://bank.example:8080/") == "http://bank.example:8080"
    origin = "https://bank.example"
    assert normal_resource(origin, "/a%7eb?q=%2f") == "https://bank.example/a~b?q=%2F"
    assert normal_resource(origin, "") == "https://bank.example/"
    assert normal_resource(origin, "/x?") == "https://bank.example/x"
    with pytest.raises(BindingError) as caught:
        build_request(method="GET", origin=origin, target="/a/%2e%2e/b")
    assert caught.value.code == "schema_invalid" and caught.value.status == 400


def test_body_binding_rules() -> None:
    # R-H.4-1, R-H.4-3
    origin = "https://bank.example"

    def args(body: bytes, content_type: str | None, **kw: Any) -> dict[str, object]:
        request = build_request(
            method="POST", origin=origin, target="/t", body=body, content_type=content_type, **kw
        )
        return dict(request.args)

    assert args(b"", "application/json") == {}
    assert args(b'{"amount": 5}', "application/json; charset=utf-8") == {"amount": 5}
    assert args(b'{"amount": 5}', "application/vnd.x+json") == {"amount": 5}
    bound = args(b"[1]", "application/json")
    assert set(bound) == {"@body"} and bound["@body"]["type"] == "application/json"  # type: ignore[index]
    assert bound["@body"]["sha-256"] == hashlib.sha256(b"[1]").hexdigest()  # type: ignore[index]
    assert set(args(b'{"@body": 1}', "application/json")) == {"@body"}
    assert args(b'{"a": 1}', "text/plain")["@body"] != args(b'{"a": 1}', "text/html")["@body"]
    assert "type" not in args(b"x", None)["@body"]  # type: ignore[operator]
    assert set(args(b'{"amount": 5}', "application/json", binding="digest")) == {"@body"}
    big = json.dumps({"memo": "x" * 9000}).encode()
    assert set(args(big, "application/json")) == {"@body"}


def test_every_refusal_code_maps_to_its_status() -> None:
    # R-H.5-2: errors 401, denials 403, store failures 503
    from agentchain.errors import REGISTRY, Code, Kind
    from agentchain.http import problem_for_error

    for code, info in REGISTRY.items():
        if info.kind is Kind.ERROR and code != "usage":
            status = problem_for_error(AgentchainError(cast(Code, code), "x")).status
            assert status == (503 if code == "store_error" else 401), code
    assert problem_for_error(AgentchainError("usage", "x")).status == 500


def test_presentation_from_headers() -> None:
    assert presentation_from_headers(["AgentChain  ac1c.AAAA "]) == "ac1c.AAAA"
    assert presentation_from_headers(["AGENTCHAIN ac1c.AA=="]) == "ac1c.AA=="
    for values in ([], ["Basic x"], ["AgentChain"], ["AgentChain a", "AgentChain b"]):
        with pytest.raises(BindingError):
            presentation_from_headers(values)


def test_dependency_without_middleware_fails_closed() -> None:
    # R-H.5-3: a handler that asks for a decision never runs without one
    app = FastAPI()
    reached: list[bool] = []

    @app.get("/x")
    async def x(decision: AgentChainDecision) -> dict[str, str]:
        reached.append(True)
        return {}

    async def main() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.get("/x")).status_code

    assert asyncio.run(main()) == 500
    assert reached == []


def test_denied_request_never_reaches_the_handler() -> None:
    # R-H.5-3
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    origin = "https://bank.example"
    verifier = Verifier(TrustPolicy(anchors=(ALICE.public_key,), audience=origin))
    wrapped = AgentChainMiddleware(app, verifier=verifier)

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=wrapped)
        async with httpx.AsyncClient(transport=transport, base_url=origin) as client:
            auth = AgentChainAuth(token_for(origin), SUB)
            allowed = await client.get("/accounts/a", auth=auth)
            denied = await client.get("/nope", auth=auth)
            over = await client.post("/transfers", json={"amount": 300}, auth=auth)
            return [allowed.status_code, denied.status_code, over.status_code]

    statuses = asyncio.run(main())
    assert statuses[0] == 200 and statuses[1] == 403
    assert statuses[2] == 403  # http/post on /transfers is not granted: no rule here
    assert reached == ["/accounts/a"]


def test_verifier_provider_swaps_trust_without_restart() -> None:
    # docs/integrations.md section 4: rotation hands the middleware a function
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    origin = "https://bank.example"
    old = Verifier(TrustPolicy(anchors=(ALICE.public_key,), audience=origin))
    new = Verifier(TrustPolicy(anchors=(MALLORY.public_key,), audience=origin))
    current = [old]
    wrapped = AgentChainMiddleware(app, verifier=lambda: current[0])

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=wrapped)
        async with httpx.AsyncClient(transport=transport, base_url=origin) as client:
            auth = AgentChainAuth(token_for(origin), SUB)
            before = await client.get("/accounts/a", auth=auth)
            current[0] = new
            after = await client.get("/accounts/a", auth=auth)
            return [before.status_code, after.status_code]

    assert asyncio.run(main()) == [200, 401]


def test_jose_chain_over_http(service: str) -> None:
    # R-H.4-3: the digest binding is text, so a JOSE chain (no byte strings) binds bodies too
    caps = capabilities(service)
    link = issue(ALICE, AGENT.public_key, capabilities=caps, depth=1, encoding="jose")
    jose = delegate(link, AGENT, SUB.public_key, capabilities=caps)
    auth = AgentChainAuth(jose, SUB, rules=RULES)
    with httpx.Client(base_url=service, auth=auth, timeout=10) as client:
        upload = client.post("/upload", content=b"\x01\x02", headers={"content-type": "x/y"})
        read = client.get("/accounts/alice")
    assert upload.status_code == 200, upload.text
    assert read.status_code == 200, read.text
    assert read.request.headers["authorization"].startswith("AgentChain ac1j.")


def test_client_gone_mid_body_gets_no_answer_and_no_app() -> None:
    reached: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    origin = "https://bank.example"
    wrapped = AgentChainMiddleware(
        app, verifier=Verifier(TrustPolicy(anchors=(ALICE.public_key,), audience=origin))
    )
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "query_string": b"",
        "headers": [(b"authorization", b"AgentChain ac1c.AAAA")],
    }
    asyncio.run(wrapped(scope, receive, send))
    assert sent == [] and reached == []
