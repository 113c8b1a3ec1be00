"""agentchain.keys: the files `agentchain keygen` writes, JWKS, the environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentchain import InvalidKey, PrivateKey, PublicKey, UsageError
from agentchain.cli import main
from agentchain.errors import KeyFileExposed
from agentchain.keys import (
    keys_from_jwks,
    load_jwks,
    load_private_key,
    load_public_key,
    private_key_from_env,
    to_jwks,
    trust_policy,
)


@pytest.fixture
def keygen(tmp_path: Path) -> Path:
    out = tmp_path / "alice.jwk"
    assert main(["keygen", "--out", str(out), "--name", "mailto:alice@example.com"]) == 0
    return out


def test_keygen_files_load(keygen: Path) -> None:
    # the files carry a 'name' member, which PublicKey.from_jwk alone refuses
    with pytest.raises(InvalidKey):
        PublicKey.from_jwk(json.loads(keygen.with_name("alice.pub.jwk").read_text()))
    private = load_private_key(keygen)
    public = load_public_key(keygen.with_name("alice.pub.jwk"))
    assert private.public_key == public


def test_private_key_file_open_to_others_is_refused(keygen: Path) -> None:
    # the mode is read from the open file, so root is refused all the same
    keygen.chmod(0o644)
    with pytest.raises(KeyFileExposed) as caught:
        load_private_key(keygen)
    assert caught.value.code == "key_file_exposed"


def test_pem_files_load(tmp_path: Path) -> None:
    key = PrivateKey.generate("ES256")
    (tmp_path / "k.pem").write_bytes(key.to_pem())
    (tmp_path / "k.pem").chmod(0o600)
    (tmp_path / "p.pem").write_bytes(key.public_key.to_pem())
    assert load_private_key(tmp_path / "k.pem").public_key == key.public_key
    assert load_public_key(tmp_path / "p.pem") == key.public_key


def test_private_key_from_env(monkeypatch: pytest.MonkeyPatch, keygen: Path) -> None:
    monkeypatch.setenv("AGENTCHAIN_PRIVATE_KEY", keygen.read_text())
    assert private_key_from_env().public_key == load_private_key(keygen).public_key
    monkeypatch.setenv("AGENT_KEY", "")
    with pytest.raises(UsageError):
        private_key_from_env("AGENT_KEY")
    monkeypatch.setenv("AGENT_KEY", "{not json")
    with pytest.raises(InvalidKey):
        private_key_from_env("AGENT_KEY")


def test_jwks_round_trip_and_trust_policy(tmp_path: Path) -> None:
    old, new = PrivateKey.generate(), PrivateKey.generate("ES256")
    jwks = to_jwks([old.public_key, new.public_key])
    assert keys_from_jwks(jwks) == (old.public_key, new.public_key)
    assert keys_from_jwks(json.dumps(jwks)) == (old.public_key, new.public_key)
    path = tmp_path / "anchors.jwks"
    path.write_text(json.dumps(jwks))
    assert load_jwks(path) == (old.public_key, new.public_key)
    policy = trust_policy(audience="https://a.example", anchors=path, attesters=jwks)
    assert policy.anchors == (old.public_key, new.public_key)
    assert policy.attesters == (old.public_key, new.public_key)


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"keys": []},
        {"keys": "x"},
        {"keys": [1]},
        {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]},
        {"keys": [{**PrivateKey.generate().to_jwk()}]},  # a private key in a trust list
        {"keys": [{**PrivateKey.generate().public_key.to_jwk(), "x5u": "https://e.example"}]},
    ],
)
def test_bad_jwks_fails_whole(bad: object) -> None:
    with pytest.raises(InvalidKey):
        keys_from_jwks(bad)  # type: ignore[arg-type]


def test_core_imports_without_the_extras() -> None:
    """The library never imports its integrations' dependencies."""
    blocked = ["httpx", "fastapi", "starlette", "uvicorn", "mcp", "opentelemetry", "pydantic"]
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import agentchain, agentchain.http, agentchain.keys, agentchain.observe, agentchain.guard
from agentchain.observe import Observer
Observer().report
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
