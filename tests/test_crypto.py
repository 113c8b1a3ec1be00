"""Tests of agentchain.crypto: algorithm binding, key import, strict verification.

The edwards25519 arithmetic below exists only here. It is a minimal, independent
implementation of RFC 8032 section 5.1 (affine coordinates, slow, obviously correct).
With it the tests derive the small-order points that the module hardcodes,
and check its accept/refuse decisions against a second opinion.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import pickle
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from agentchain.crypto import ALGORITHMS, COSE_ALG, EDDSA, ES256, PrivateKey, PublicKey, _ed25519
from agentchain.errors import InvalidKey, SignatureError

# --------------------------------------------------------------------------
# Independent edwards25519 arithmetic (RFC 8032 section 5.1), test-only

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1)
Point = tuple[int, int]


def fsqrt(a: int) -> int | None:
    """A square root mod p, or None (p = 5 mod 8: RFC 8032 section 5.1.3 step 3)."""
    a %= P
    x = pow(a, (P + 3) // 8, P)
    if x * x % P != a:
        x = x * SQRT_M1 % P
    return x if x * x % P == a else None


def ed_add(p1: Point, p2: Point) -> Point:
    """Complete affine addition on -x^2 + y^2 = 1 + d x^2 y^2 (it also doubles)."""
    (x1, y1), (x2, y2) = p1, p2
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P
    return x3, y3


def ed_mul(k: int, point: Point) -> Point:
    result = IDENTITY
    while k:
        if k & 1:
            result = ed_add(result, point)
        point = ed_add(point, point)
        k >>= 1
    return result


def ed_decode(enc: bytes) -> Point | None:
    """Strict RFC 8032 section 5.1.3 decoding: None if non-canonical or not on the curve."""
    n = int.from_bytes(enc, "little")
    y, sign = n & ((1 << 255) - 1), n >> 255
    if y >= P:
        return None
    x = fsqrt((y * y - 1) * pow(D * y * y + 1, -1, P))
    if x is None or (x == 0 and sign):
        return None
    if x & 1 != sign:
        x = P - x
    return x, y


def ed_encode(point: Point) -> bytes:
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def enc_y(y: int, sign: int = 0) -> bytes:
    """An encoding from a raw y and sign bit, canonical or not."""
    return (y | sign << 255).to_bytes(32, "little")


_base = ed_decode(enc_y(4 * pow(5, -1, P) % P))
assert _base is not None and _base[0] % 2 == 0  # RFC 8032: B has y = 4/5 and even x
BASE: Point = _base


def order8_points() -> list[Point]:
    """The four points of order exactly 8, derived from the curve equation only.

    With a = -1 the doubling has y(2P) = (y^2 + x^2) / (2 + x^2 - y^2). So 2P has
    order 4 (y = 0) iff x^2 = -y^2. Put that in the curve equation:
    d y^4 + 2 y^2 - 1 = 0, so y^2 = (-1 +- sqrt(1 + d)) / d.
    """
    root = fsqrt(1 + D)
    assert root is not None
    points = []
    for y2 in ((-1 + root) * pow(D, -1, P), (-1 - root) * pow(D, -1, P)):
        y = fsqrt(y2)
        if y is None:
            continue
        for yy in (y, P - y):
            x = fsqrt(-yy * yy)
            assert x is not None
            points += [(x, yy), (P - x, yy)]
    return points


ORDER8 = order8_points()
TORSION = [ed_mul(k, ORDER8[0]) for k in range(8)]  # the whole torsion subgroup


def small_order_encodings() -> list[bytes]:
    """The 8 canonical encodings of the torsion points, plus the 6 non-canonical ones.

    Non-canonical: x = 0 (y = 1 or p - 1) with the sign bit set, and y + p for
    y = 0 and y = 1 (the only small-order y below 19, so y + p still fits in 255
    bits), with either sign.
    """
    canonical = [ed_encode(t) for t in TORSION]
    noncanonical = [enc_y(1, 1), enc_y(P - 1, 1)]
    noncanonical += [enc_y(y + P, s) for y in (0, 1) for s in (0, 1)]
    return canonical + noncanonical


SMALL_ORDER = small_order_encodings()

# --------------------------------------------------------------------------
# Fixtures and helpers

N256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED_KEY = PrivateKey.from_seed(bytes(range(32)))
ES_KEY = PrivateKey.from_seed(bytes(range(32)), ES256)
KEYS = {EDDSA: ED_KEY, ES256: ES_KEY}
MSG = b"agentchain test message"
both_algs = pytest.mark.parametrize("alg", sorted(ALGORITHMS))


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@contextlib.contextmanager
def raises_key(code: str, match: str | None = None) -> Iterator[None]:
    """Expect InvalidKey with exactly this code (pytest.raises(check=) needs pytest 8.4)."""
    with pytest.raises(InvalidKey, match=match) as info:
        yield
    assert info.value.code == code, info.value


@contextlib.contextmanager
def raises_sig(code: str, match: str | None = None) -> Iterator[None]:
    """Expect SignatureError with exactly this code."""
    with pytest.raises(SignatureError, match=match) as info:
        yield
    assert info.value.code == code, info.value


def fresh_public(alg: str) -> PublicKey:
    """A new PublicKey object (tests that swap its backend must not share one)."""
    return PublicKey(alg, KEYS[alg].public_key.raw())


def with_accepting_backend(key: PublicKey) -> list[bytes]:
    """Replace key's backend by one that accepts everything, and record its calls.

    The rules of verify() must hold whatever the backend does. A malformed
    signature must be refused before any backend is asked.
    """
    calls: list[bytes] = []

    def accept(signature: bytes, message: bytes) -> bool:
        calls.append(signature)
        return True

    object.__setattr__(key, "_verifier", accept)
    return calls


def es_split(sig: bytes) -> tuple[int, int]:
    return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")


def es_join(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# --------------------------------------------------------------------------
# Constants


def test_algorithm_tables() -> None:
    assert frozenset({"EdDSA", "ES256"}) == ALGORITHMS
    assert dict(COSE_ALG) == {"EdDSA": -8, "ES256": -7}
    with pytest.raises(TypeError):
        COSE_ALG["RS256"] = -257  # type: ignore[index]


# --------------------------------------------------------------------------
# Small-order points: derive the module's hardcoded set independently


def test_order8_y_values_are_derived() -> None:
    assert len(ORDER8) == 4
    derived_y = {y for _, y in ORDER8}
    assert derived_y == {_ed25519.Y_ORDER8_A, _ed25519.Y_ORDER8_B}
    for point in ORDER8:
        assert ed_mul(8, point) == IDENTITY
        assert ed_mul(4, point) != IDENTITY  # order exactly 8
    # The encodings are those of libsodium's blocklist.
    assert enc_y(_ed25519.Y_ORDER8_A).hex() == (
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"
    )
    assert enc_y(_ed25519.Y_ORDER8_B).hex() == (
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
    )


def test_small_order_y_set_is_exactly_the_torsion_subgroup() -> None:
    assert len(set(TORSION)) == 8
    assert {y for _, y in TORSION} == _ed25519.SMALL_ORDER_Y
    for y in _ed25519.SMALL_ORDER_Y:
        for sign in (0, 1):
            point = ed_decode(enc_y(y, sign))
            if point is None:  # x = 0 with the sign bit: no such encoding
                assert y in (1, P - 1) and sign == 1
                continue
            assert ed_mul(8, point) == IDENTITY
    assert len(SMALL_ORDER) == 14 and len(set(SMALL_ORDER)) == 14


def test_torsion_components_of_random_points_are_in_the_set() -> None:
    # L * Q kills the prime-order part of Q and leaves its torsion component.
    rng = secrets.SystemRandom()
    for _ in range(4):
        while (q := ed_decode(rng.randbytes(32))) is None:
            pass
        t = ed_mul(L, q)
        assert ed_mul(8, t) == IDENTITY
        assert t[1] in _ed25519.SMALL_ORDER_Y


def test_random_prime_order_points_are_not_small_order() -> None:
    rng = secrets.SystemRandom()
    for _ in range(5):
        point = ed_mul(rng.randrange(1, L), BASE)
        assert ed_mul(8, point) != IDENTITY
        assert point[1] not in _ed25519.SMALL_ORDER_Y
        PublicKey(EDDSA, ed_encode(point))  # imports fine
        # The same point plus a torsion point of order 8 is not of small order either.
        mixed = ed_add(point, ORDER8[0])
        assert mixed[1] not in _ed25519.SMALL_ORDER_Y


@given(st.binary(min_size=32, max_size=32))
def test_small_order_test_agrees_with_point_arithmetic(enc: bytes) -> None:
    point = ed_decode(enc)
    assume(point is not None)
    assert point is not None
    assert (point[1] in _ed25519.SMALL_ORDER_Y) == (ed_mul(8, point) == IDENTITY)


# --------------------------------------------------------------------------
# Sign and verify


@both_algs
def test_round_trip(alg: str) -> None:
    key = PrivateKey.generate(alg)
    assert key.alg == alg and key.public_key.alg == alg
    for message in (b"", MSG, bytes(range(256)) * 40):
        sig = key.sign(message)
        assert isinstance(sig, bytes) and len(sig) == 64
        key.public_key.verify(sig, message)  # returns None, or raises


@both_algs
def test_tampering_is_signature_invalid(alg: str) -> None:
    key = KEYS[alg]
    sig = key.sign(MSG)
    with raises_sig("signature_invalid"):
        key.public_key.verify(sig, MSG + b"!")
    with raises_sig("signature_invalid"):
        key.public_key.verify(sig, b"")
    # Flip the lowest bit of R (Ed25519: y of R +- 1) and of s (ES256: s +- 1). Both stay
    # well-formed for these fixed keys, so only the backend can refuse them.
    for index in (0, 63):
        bad = bytearray(sig)
        bad[index] ^= 1
        with raises_sig("signature_invalid"):
            key.public_key.verify(bytes(bad), MSG)
    other = PrivateKey.from_seed(bytes(32) if alg == EDDSA else bytes(16), alg)
    with raises_sig("signature_invalid"):
        other.public_key.verify(sig, MSG)


@both_algs
@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 96, 128])
def test_wrong_signature_length(alg: str, length: int) -> None:
    # R-3.4-1
    key = fresh_public(alg)
    calls = with_accepting_backend(key)
    with raises_sig("signature_malformed"):
        key.verify(KEYS[alg].sign(MSG)[:length].ljust(length, b"\x01"), MSG)
    assert calls == []


@both_algs
def test_signature_must_be_bytes(alg: str) -> None:
    sig = KEYS[alg].sign(MSG)
    for bad in (bytearray(sig), memoryview(sig), sig.hex(), None, 0):
        with raises_sig("signature_malformed"):
            KEYS[alg].public_key.verify(bad, MSG)  # type: ignore[arg-type]


@both_algs
def test_signing_is_deterministic(alg: str) -> None:
    # R-3.6-1
    assert KEYS[alg].sign(MSG) == KEYS[alg].sign(MSG)


# --------------------------------------------------------------------------
# Known answers and seeds

# RFC 8032 section 7.1, TEST 1 and TEST 2.
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    key = PrivateKey.from_seed(bytes.fromhex(secret))
    assert key.public_key.raw().hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    PublicKey(EDDSA, bytes.fromhex(public)).verify(bytes.fromhex(signature), bytes.fromhex(message))


def test_rfc8037_jwk_thumbprint_and_jws() -> None:
    # R-3.2-1
    # RFC 8037 appendix A.1 (key), A.3 (thumbprint) and A.4 (JWS signature).
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    }
    key = PrivateKey.from_jwk(jwk)
    assert key.public_key.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert key.public_key.thumbprint.hex() == (
        "90facafea9b1556698540f70c0117a22ea37bd5cf3ed3c47093c1707282b4b89"
    )
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    expected = (
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    assert b64u(key.sign(signing_input)) == expected


def test_rfc6979_p256_vectors_with_low_s() -> None:
    # RFC 6979 appendix A.2.5, P-256 with SHA-256. Our signer returns the low-S
    # twin: the RFC's s for "sample" is high, so we emit n - s.
    d = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
    key = PrivateKey(ec.derive_private_key(d, ec.SECP256R1()))
    ux = 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
    uy = 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299
    assert key.public_key.raw() == b"\x04" + ux.to_bytes(32, "big") + uy.to_bytes(32, "big")
    cases = {
        b"sample": (
            0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716,
            0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8,
        ),
        b"test": (
            0xF1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367,
            0x019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083,
        ),
    }
    for message, (r, s) in cases.items():
        low_s = min(s, N256 - s)
        assert key.sign(message) == es_join(r, low_s)
        key.public_key.verify(es_join(r, low_s), message)
        if s != low_s:
            with raises_sig("signature_malformed"):
                key.public_key.verify(es_join(r, s), message)


def test_from_seed_is_deterministic() -> None:
    for alg, seed in ((EDDSA, b"\x07" * 32), (ES256, b"\x07" * 16), (ES256, b"\x07" * 64)):
        a, b = PrivateKey.from_seed(seed, alg), PrivateKey.from_seed(seed, alg)
        assert a.public_key == b.public_key
        assert a.to_jwk() == b.to_jwk()
        assert a.sign(MSG) == b.sign(MSG)
        c = PrivateKey.from_seed(b"\x08" + seed[1:], alg)
        assert c.public_key != a.public_key


@pytest.mark.parametrize("seed", [bytes(16), bytes(range(32)), b"\xff" * 64, b"x" * 40])
def test_es256_seed_derivation_matches_the_spec(seed: bytes) -> None:
    # R-3.6-3
    # The docstring's recipe, rebuilt here as another implementation would.
    h = hashlib.sha256(b"agentchain/es256-seed/v1" + seed).digest()
    d = int.from_bytes(h, "big") % (N256 - 1) + 1
    jwk = PrivateKey.from_seed(seed, ES256).to_jwk()
    assert jwk["d"] == b64u(d.to_bytes(32, "big"))


def test_seed_vectors_are_stable() -> None:
    # Regression pins for from_seed(bytes(range(32))). The conformance vectors are
    # built from seeds like this one, so a change here breaks every published vector.
    # The Ed25519 key is the well-known public key of the seed 00 01 .. 1f.
    assert ED_KEY.public_key.raw().hex() == (
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    )
    assert ES_KEY.public_key.raw().hex() == (
        "04022d77fe1d7aa1920645215fe691cb1c88a3f6a0ee30a24845e887d2e42fbddd"
        "95076cf445627d35a786de7c4bf91b0b4d6d72f08e970ca6b10cb0137df40583"
    )
    assert ES_KEY.public_key.kid == "o2s25JtSmHEHBIDHc1DSgBypeQupPEi377_NBZhSM8o"


@pytest.mark.parametrize(
    ("alg", "length"), [(EDDSA, 0), (EDDSA, 31), (EDDSA, 33), (ES256, 15), (ES256, 65)]
)
def test_from_seed_length(alg: str, length: int) -> None:
    # R-3.6-2
    with raises_key("key_invalid"):
        PrivateKey.from_seed(bytes(length), alg)


def test_from_seed_type() -> None:
    with raises_key("key_invalid"):
        PrivateKey.from_seed("0" * 32)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Ed25519 malleability and small order


def test_s_plus_l_is_malformed() -> None:
    # R-3.4-2
    sig = ED_KEY.sign(MSG)
    s = int.from_bytes(sig[32:], "little")
    for bad_s in (s + L, L, 2**256 - 1, 2**253):
        forged = sig[:32] + bad_s.to_bytes(32, "little")
        with raises_sig("signature_malformed"):
            ED_KEY.public_key.verify(forged, MSG)
        key = fresh_public(EDDSA)
        calls = with_accepting_backend(key)
        with raises_sig("signature_malformed"):
            key.verify(forged, MSG)
        assert calls == []
    # L - 1 is the largest S allowed: well-formed, so the backend decides.
    with raises_sig("signature_invalid"):
        ED_KEY.public_key.verify(sig[:32] + (L - 1).to_bytes(32, "little"), MSG)


@pytest.mark.parametrize(
    "r_enc",
    [
        enc_y(P),  # y = p (non-canonical 0)
        enc_y(P + 5),
        enc_y(2**255 - 1),
        enc_y(2**255 - 1, 1),  # all 0xff
        enc_y(1, 1),  # x = 0 with the sign bit
        enc_y(P - 1, 1),
    ],
)
def test_noncanonical_r_is_malformed(r_enc: bytes) -> None:
    # R-3.4-3
    sig = ED_KEY.sign(MSG)
    key = fresh_public(EDDSA)
    calls = with_accepting_backend(key)
    with raises_sig("signature_malformed"):
        key.verify(r_enc + sig[32:], MSG)
    assert calls == []


@pytest.mark.parametrize("r_enc", SMALL_ORDER, ids=[e.hex()[:8] for e in SMALL_ORDER])
def test_small_order_r_is_malformed(r_enc: bytes) -> None:
    # R-3.4-4
    key = fresh_public(EDDSA)
    calls = with_accepting_backend(key)
    for s in (0, 1, L - 1):
        with raises_sig("signature_malformed"):
            key.verify(r_enc + s.to_bytes(32, "little"), MSG)
    assert calls == []


@pytest.mark.parametrize("a_enc", SMALL_ORDER, ids=[e.hex()[:8] for e in SMALL_ORDER])
def test_small_order_public_key_is_refused(a_enc: bytes) -> None:
    # R-3.4-4
    with raises_key("key_invalid"):
        PublicKey(EDDSA, a_enc)
    with raises_key("key_invalid"):
        PublicKey.from_cose_key({1: 1, -1: 6, -2: a_enc})
    with raises_key("key_invalid"):
        PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64u(a_enc)})


def test_identity_key_and_trivial_signatures() -> None:
    identity = enc_y(1)
    with raises_key("key_invalid"):
        PublicKey(EDDSA, identity)
    # Under the identity key, R = identity and S = 0 satisfies [S]B = R + [k]A for
    # every message. OpenSSL accepts it. Whatever the key and the backend, both it
    # and the all-zero signature (R of order 4) are refused before the backend.
    key = fresh_public(EDDSA)
    calls = with_accepting_backend(key)
    for sig in (bytes(64), identity + bytes(32)):
        with raises_sig("signature_malformed"):
            key.verify(sig, MSG)
        with raises_sig("signature_malformed"):
            ED_KEY.public_key.verify(sig, MSG)
    assert calls == []


def test_x_zero_with_sign_bit_is_reported_as_noncanonical() -> None:
    # y = +-1 is also of small order, but the encoding is refused first as non-canonical.
    for enc in (enc_y(1, 1), enc_y(P - 1, 1)):
        with raises_key("key_invalid", match="non-canonical"):
            PublicKey(EDDSA, enc)
        with raises_sig("signature_malformed", match="non-canonical"):
            ED_KEY.public_key.verify(enc + bytes(32), MSG)


def test_noncanonical_and_off_curve_public_keys() -> None:
    # R-3.4-3 R-3.4-5
    valid = ED_KEY.public_key.raw()
    y = int.from_bytes(valid, "little") & ((1 << 255) - 1)
    assert y + P >= 2**255  # so y has no non-canonical twin: use others
    for bad in (enc_y(P), enc_y(P + 2), enc_y(2**255 - 1), enc_y(1, 1), enc_y(P - 1, 1)):
        with raises_key("key_invalid"):
            PublicKey(EDDSA, bad)
    off = next(enc_y(y) for y in range(2, 100) if ed_decode(enc_y(y)) is None)
    with raises_key("key_invalid"):
        PublicKey(EDDSA, off)
    for length in (0, 31, 33, 64):
        with raises_key("key_invalid"):
            PublicKey(EDDSA, bytes(length))


# --------------------------------------------------------------------------
# ES256 malleability and ranges


def test_es256_high_s_is_malformed() -> None:
    # R-3.5-3
    sig = ES_KEY.sign(MSG)
    r, s = es_split(sig)
    assert s <= N256 // 2  # the signer emits low S
    high = es_join(r, N256 - s)
    # Mathematically a valid ECDSA signature: the backend alone accepts it in DER.
    backend = serialization.load_pem_public_key(ES_KEY.public_key.to_pem())
    assert isinstance(backend, ec.EllipticCurvePublicKey)
    backend.verify(encode_dss_signature(r, N256 - s), MSG, ec.ECDSA(hashes.SHA256()))
    with raises_sig("signature_malformed"):
        ES_KEY.public_key.verify(high, MSG)


@pytest.mark.parametrize(
    ("r", "s"),
    [
        (0, 1),
        (1, 0),
        (0, 0),
        (N256, 1),
        (N256 + 1, 1),
        (2**256 - 1, 1),
        (1, N256),
        (1, N256 - 1),
        (1, N256 // 2 + 1),
        (1, 2**256 - 1),
    ],
)
def test_es256_out_of_range_is_malformed(r: int, s: int) -> None:
    # R-3.5-2
    key = fresh_public(ES256)
    calls = with_accepting_backend(key)
    with raises_sig("signature_malformed"):
        key.verify(es_join(r, s), MSG)
    assert calls == []


def test_es256_boundaries_are_well_formed() -> None:
    for r, s in ((1, 1), (N256 - 1, N256 // 2)):
        with raises_sig("signature_invalid"):
            ES_KEY.public_key.verify(es_join(r, s), MSG)


def test_es256_signer_always_low_s() -> None:
    # R-3.5-4
    for i in range(64):
        _, s = es_split(ES_KEY.sign(i.to_bytes(2, "big")))
        assert 0 < s <= N256 // 2


def test_es256_accepts_normalized_foreign_signatures() -> None:
    # Randomized ECDSA from cryptography, converted to r || s and normalized to low S.
    private = ec.generate_private_key(ec.SECP256R1())
    public = PrivateKey(private).public_key
    for _ in range(8):
        r, s = decode_dss_signature(private.sign(MSG, ec.ECDSA(hashes.SHA256())))
        public.verify(es_join(r, min(s, N256 - s)), MSG)


def test_p256_public_key_checks() -> None:
    # R-3.3-3
    raw = ES_KEY.public_key.raw()
    compressed = serialization.load_pem_public_key(ES_KEY.public_key.to_pem()).public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    p256 = 2**256 - 2**224 + 2**192 + 2**96 - 1
    b256 = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
    # A valid point with a small x, so that x + p still fits in 32 bytes: the same
    # point with an unreduced coordinate must be refused (one key, one encoding).
    small_x, small_y = next(
        (x, y)
        for x in range(1, 1000)
        if (y := pow(x**3 - 3 * x + b256, (p256 + 1) // 4, p256)) ** 2 % p256
        == (x**3 - 3 * x + b256) % p256
    )
    point = b"\x04" + small_x.to_bytes(32, "big") + small_y.to_bytes(32, "big")
    assert PublicKey(ES256, point).raw() == point
    bad = [
        compressed,  # 33 bytes: only the uncompressed form
        raw[:64],
        raw + b"\x00",
        b"\x05" + raw[1:],
        b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big"),  # off the curve
        b"\x04" + bytes(64),
        b"\x04" + (small_x + p256).to_bytes(32, "big") + small_y.to_bytes(32, "big"),
        b"\x04" + raw[1:33] + (p256 + 1).to_bytes(32, "big"),
    ]
    for item in bad:
        with raises_key("key_invalid"):
            PublicKey(ES256, item)
    for coords in ({-2: raw[1:33], -3: raw[34:]}, {-2: raw[1:32], -3: raw[33:]}):
        with raises_key("key_invalid"):
            PublicKey.from_cose_key({1: 2, -1: 1, **coords})
    with raises_key("key_invalid"):
        PublicKey.from_cose_key({1: 2, -1: 1, -2: raw[1:33], -3: True})  # compressed form


# --------------------------------------------------------------------------
# Algorithm binding


@pytest.mark.parametrize(
    "alg", ["none", "None", "HS256", "RS256", "PS256", "ES384", "ES256K", "Ed448", "Ed25519", ""]
)
def test_unknown_algorithms(alg: str) -> None:
    # R-3.1-1
    with raises_key("alg_not_allowed"):
        PrivateKey.generate(alg)
    with raises_key("alg_not_allowed"):
        PrivateKey.from_seed(bytes(32), alg)
    with raises_key("alg_not_allowed"):
        PublicKey(alg, ED_KEY.public_key.raw())


def test_huge_values_do_not_break_error_messages() -> None:
    # str() of an int over 4300 digits raises ValueError: it must not escape.
    huge = 10**5000
    for jwk in (
        {"kty": huge},
        {"kty": "OKP", "crv": huge},
        {**ED_KEY.public_key.to_jwk(), "alg": huge},
    ):
        with pytest.raises(InvalidKey):
            PublicKey.from_jwk(jwk)
    for cose in ({1: huge}, {1: 1, -1: huge, -2: bytes(32)}, {1: 2, -1: huge}):
        with raises_key("alg_not_allowed"):
            PublicKey.from_cose_key(cose)
    with raises_key("alg_not_allowed"):
        PrivateKey.generate(huge)  # type: ignore[arg-type]
    with raises_key("alg_not_allowed"):
        PublicKey.from_jwk({"kty": "x" * 10_000_000})


def test_non_string_algorithm() -> None:
    for alg in (None, -8, b"EdDSA"):
        with raises_key("alg_not_allowed"):
            PrivateKey.generate(alg)  # type: ignore[arg-type]


def test_jwk_alg_must_match_key_type() -> None:
    # R-3.3-4
    ed = ED_KEY.public_key.to_jwk()
    es = ES_KEY.public_key.to_jwk()
    for jwk, alg in ((ed, "ES256"), (es, "EdDSA"), (ed, "none"), (es, "ES384"), (ed, 7)):
        with raises_key("alg_not_allowed"):
            PublicKey.from_jwk({**jwk, "alg": alg})
    with raises_key("alg_not_allowed"):
        PrivateKey.from_jwk({**ED_KEY.to_jwk(), "alg": "ES256"})


def _public_jwk_of(key: Any) -> dict[str, object]:
    from jwcrypto import jwk as jwcrypto_jwk

    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    exported: dict[str, object] = json.loads(jwcrypto_jwk.JWK.from_pem(pem).export_public())
    return exported


def test_foreign_jwk_types_are_not_allowed() -> None:
    foreign: list[dict[str, object]] = [
        _public_jwk_of(rsa.generate_private_key(65537, 2048).public_key()),
        _public_jwk_of(ec.generate_private_key(ec.SECP384R1()).public_key()),
        _public_jwk_of(ec.generate_private_key(ec.SECP256K1()).public_key()),
        _public_jwk_of(ed448.Ed448PrivateKey.generate().public_key()),
        _public_jwk_of(x25519.X25519PrivateKey.generate().public_key()),
        {"kty": "oct", "k": b64u(b"secret" * 6)},
        {"kty": "none"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "none"},
    ]
    for jwk in foreign:
        with raises_key("alg_not_allowed"):
            PublicKey.from_jwk(jwk)
        with raises_key("alg_not_allowed"):
            PrivateKey.from_jwk({**jwk, "d": b64u(bytes(32))})


def test_foreign_pem_types_are_not_allowed() -> None:
    privates: list[Any] = [
        rsa.generate_private_key(65537, 2048),
        ec.generate_private_key(ec.SECP384R1()),
        ec.generate_private_key(ec.SECP256K1()),
        ed448.Ed448PrivateKey.generate(),
        x25519.X25519PrivateKey.generate(),
    ]
    for private in privates:
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with raises_key("alg_not_allowed"):
            PublicKey.from_pem(public_pem)
        with raises_key("alg_not_allowed"):
            PrivateKey.from_pem(private_pem)
        with raises_key("alg_not_allowed"):
            PrivateKey(private)


@pytest.mark.parametrize(
    "cose",
    [
        {1: 3, -1: b"\x01" * 256, -2: b"\x01\x00\x01"},  # RSA
        {1: 4, -1: b"k" * 32},  # Symmetric
        {1: 1, -1: 7, -2: bytes(57)},  # OKP Ed448
        {1: 1, -1: 4, -2: bytes(32)},  # OKP X25519
        {1: 2, -1: 2, -2: bytes(48), -3: bytes(48)},  # EC2 P-384
        {1: 2, -1: 8, -2: bytes(32), -3: bytes(32)},  # EC2 secp256k1
        {1: 2, -1: 6, -2: bytes(32), -3: bytes(32)},  # Ed25519 curve under EC2
        {1: 1, -1: 1, -2: bytes(32)},  # P-256 curve under OKP
    ],
)
def test_foreign_cose_keys_are_not_allowed(cose: dict[int, object]) -> None:
    # R-3.3-2
    with raises_key("alg_not_allowed"):
        PublicKey.from_cose_key(cose)


# --------------------------------------------------------------------------
# JWK strictness


def test_public_jwk_with_private_part_is_refused() -> None:
    for alg in ALGORITHMS:
        with raises_key("key_invalid", match="private"):
            PublicKey.from_jwk(KEYS[alg].to_jwk())


@pytest.mark.parametrize(
    "x",
    [
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",  # padding
        "11qYAYKxCrfVS+7TyWQHOg7hcvPapiMlrwIaaPcHURo",  # standard alphabet
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp",  # non-zero trailing bits
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR",  # too short
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURoA",  # too long
        " 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR",  # whitespace
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\n",
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\u0661",  # non-ASCII digit
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "",
        None,
        123,
        b"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        ["11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"],
    ],
)
def test_malformed_base64_is_key_invalid(x: object) -> None:
    with raises_key("key_invalid"):
        PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": x})


def test_canonical_rfc8037_x_is_accepted() -> None:
    key = PublicKey.from_jwk(
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    )
    assert key.raw().hex() == RFC8032_VECTORS[0][1]


@both_algs
def test_jwk_member_rules(alg: str) -> None:
    # R-3.3-4
    jwk: dict[str, object] = dict(KEYS[alg].public_key.to_jwk())
    core = {k: v for k, v in jwk.items() if k not in ("alg", "kid")}
    expected = KEYS[alg].public_key
    # Optional members that agree with the key are accepted.
    for extra in (
        {},
        {"alg": alg},
        {"kid": expected.kid},
        {"use": "sig"},
        {"key_ops": ["verify"]},
        {"alg": alg, "kid": expected.kid, "use": "sig", "key_ops": ("verify",)},
    ):
        assert PublicKey.from_jwk({**core, **extra}) == expected
    bad_members: list[dict[str, object]] = [
        {"kid": "someone-else"},
        {"kid": 5},
        {"use": "enc"},
        {"use": None},
        {"key_ops": ["sign"]},
        {"key_ops": ["verify", "verify"]},
        {"key_ops": []},
        {"key_ops": "verify"},
        {"key_ops": ["verify", "encrypt"]},
        {"x5c": ["MII..."]},
        {"ext": True},
        {"crit": ["b64"]},
    ]
    for bad_extra in bad_members:
        with raises_key("key_invalid"):
            PublicKey.from_jwk({**core, **bad_extra})
    for missing in core:
        partial = {k: v for k, v in core.items() if k != missing}
        with raises_key("key_invalid"):  # a missing kty or crv too: never guessed
            PublicKey.from_jwk(partial)
    not_jwks: list[object] = [None, [], "{}", 5, {1: "OKP"}, {"kty": 1}, {"kty": "OKP", "crv": 6}]
    for not_a_jwk in not_jwks:
        with raises_key("key_invalid"):
            PublicKey.from_jwk(not_a_jwk)  # type: ignore[arg-type]


@both_algs
def test_private_jwk_rules(alg: str) -> None:
    jwk = KEYS[alg].to_jwk()
    assert PrivateKey.from_jwk({**jwk, "key_ops": ["sign", "verify"]}).public_key == (
        KEYS[alg].public_key
    )
    assert PrivateKey.from_jwk({**jwk, "key_ops": ["sign"]}).public_key == KEYS[alg].public_key
    other = PrivateKey.from_seed(b"\x05" * 32, alg).to_jwk()
    bad: list[dict[str, object]] = [
        {**jwk, "d": other["d"]},  # d of another key
        {**jwk, "kid": other["kid"]},
        {**jwk, "key_ops": ["verify"]},
        {k: v for k, v in jwk.items() if k != "d"},
        {**jwk, "d": jwk["d"] + "A"},
    ]
    if alg == ES256:
        bad += [
            {**jwk, "d": b64u(bytes(32))},
            {**jwk, "d": b64u(N256.to_bytes(32, "big"))},
            {**jwk, "d": b64u(b"\xff" * 32)},
        ]
    for item in bad:
        with raises_key("key_invalid"):
            PrivateKey.from_jwk(item)


# --------------------------------------------------------------------------
# COSE_Key strictness


@both_algs
def test_cose_key_strictness(alg: str) -> None:
    # R-3.3-1
    good = KEYS[alg].public_key.to_cose_key()
    assert PublicKey.from_cose_key(good) == KEYS[alg].public_key
    cose: dict[object, object] = dict(good.items())
    x = good[-2]
    assert isinstance(x, bytes)
    bad: list[object] = [
        {**cose, 3: COSE_ALG[alg]},  # alg: strict, not allowed even if consistent
        {**cose, 2: b"kid"},
        {**cose, 4: [2]},
        {**cose, -4: bytes(32)},  # private part
        {k: v for k, v in cose.items() if k != -2},
        {k: v for k, v in cose.items() if k != 1},
        {k: v for k, v in cose.items() if k != -1},
        {**cose, -2: bytearray(x)},
        {**cose, -2: b64u(x)},
        {**cose, -2: x + b"\x00"},
        {**cose, 1: "OKP"},
        {**cose, -1: "Ed25519"},
        {**cose, "x": 1},
        [1, 1],
        None,
    ]
    if alg == EDDSA:
        bad.append({True: 1, -1: 6, -2: x})  # True == 1 in Python
    for item in bad:
        with raises_key("key_invalid"):
            PublicKey.from_cose_key(item)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# PEM


def test_pem_garbage_is_key_invalid() -> None:
    encrypted = ED_KEY._key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    for pem in (b"", b"not pem", ED_KEY.to_pem(), b"-----BEGIN PUBLIC KEY-----\nAAAA\n"):
        with raises_key("key_invalid"):
            PublicKey.from_pem(pem)
    for pem in (b"", encrypted, ED_KEY.public_key.to_pem()):
        with raises_key("key_invalid"):
            PrivateKey.from_pem(pem)
    with raises_key("key_invalid"):
        PublicKey.from_pem(ED_KEY.public_key.to_pem().decode())  # type: ignore[arg-type]


def test_pem_with_small_order_ed25519_key_is_refused() -> None:
    # SPKI for Ed25519 is a fixed 12-byte prefix and the raw key (RFC 8410).
    prefix = bytes.fromhex("302a300506032b6570032100")
    for enc in SMALL_ORDER:
        der = base64.encodebytes(prefix + enc).decode()
        pem = f"-----BEGIN PUBLIC KEY-----\n{der}-----END PUBLIC KEY-----\n".encode()
        with raises_key("key_invalid"):
            PublicKey.from_pem(pem)


# --------------------------------------------------------------------------
# Round trips, value semantics


@both_algs
def test_round_trips(alg: str) -> None:
    private = PrivateKey.generate(alg)
    public = private.public_key
    assert PublicKey.from_jwk(public.to_jwk()) == public
    assert PublicKey.from_pem(public.to_pem()) == public
    assert PublicKey.from_cose_key(public.to_cose_key()) == public
    assert PublicKey(alg, public.raw()) == public
    assert public.to_pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    for again in (PrivateKey.from_jwk(private.to_jwk()), PrivateKey.from_pem(private.to_pem())):
        assert again.public_key == public
        assert again.to_jwk() == private.to_jwk()
        public.verify(again.sign(MSG), MSG)
    assert private.to_pem().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert len(public.raw()) == (32 if alg == EDDSA else 65)
    jwk = public.to_jwk()
    assert jwk["alg"] == alg and jwk["kid"] == public.kid
    assert all(isinstance(v, str) for v in jwk.values())


def test_cose_key_shapes() -> None:
    ed = ED_KEY.public_key.to_cose_key()
    es = ES_KEY.public_key.to_cose_key()
    assert ed == {1: 1, -1: 6, -2: ED_KEY.public_key.raw()}
    raw = ES_KEY.public_key.raw()
    assert es == {1: 2, -1: 1, -2: raw[1:33], -3: raw[33:]}


def test_equality_hash_and_immutability() -> None:
    a = ED_KEY.public_key
    b = PublicKey.from_jwk(a.to_jwk())
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != ES_KEY.public_key
    assert a != a.raw()
    assert len({a, b, ES_KEY.public_key}) == 2
    with pytest.raises(AttributeError):
        a.alg = ES256
    with pytest.raises(AttributeError):
        del a.kid
    with pytest.raises(AttributeError):
        ED_KEY.alg = ES256
    with pytest.raises(AttributeError):
        a.extra = 1
    assert pickle.loads(pickle.dumps(a)) == a
    assert copy.copy(a) is a and copy.deepcopy(a) is a
    assert copy.deepcopy(ED_KEY) is ED_KEY
    with pytest.raises(TypeError):
        pickle.dumps(ED_KEY)


@both_algs
def test_private_repr_hides_secret(alg: str) -> None:
    key = KEYS[alg]
    d = key.to_jwk()["d"]
    assert d not in repr(key) and d not in str(key)
    assert key.public_key.kid in repr(key)


# --------------------------------------------------------------------------
# Thumbprints and interoperability


@both_algs
def test_thumbprint_matches_joserfc_and_jwcrypto(alg: str) -> None:
    # R-3.2-1
    from joserfc import jwk as joserfc_jwk
    from jwcrypto import jwk as jwcrypto_jwk

    for key in (KEYS[alg].public_key, PrivateKey.generate(alg).public_key):
        jwk = key.to_jwk()
        # joserfc's thumbprint() hashes every member it is given: pass the RFC 7638
        # required members only (import_key().thumbprint() selects them itself).
        required: dict[str, Any] = {k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk}
        assert key.kid == joserfc_jwk.thumbprint(required)
        assert key.kid == joserfc_jwk.import_key(dict(jwk)).thumbprint()
        assert key.kid == jwcrypto_jwk.JWK(**jwk).thumbprint()
        assert key.thumbprint == base64.urlsafe_b64decode(key.kid + "=")
        assert len(key.thumbprint) == 32


@both_algs
def test_jwcrypto_verifies_our_jws(alg: str) -> None:
    from jwcrypto import jwk as jwcrypto_jwk
    from jwcrypto import jws as jwcrypto_jws

    key = KEYS[alg]
    header = b64u(json.dumps({"alg": alg}).encode())
    payload = b64u(b"interop payload")
    signing_input = f"{header}.{payload}".encode()
    token = f"{header}.{payload}.{b64u(key.sign(signing_input))}"
    verifier = jwcrypto_jwk.JWK(**key.public_key.to_jwk())
    parsed = jwcrypto_jws.JWS()
    parsed.deserialize(token)
    parsed.verify(verifier, alg=alg)
    assert parsed.payload == b"interop payload"


def test_pynacl_interop() -> None:
    signing = pytest.importorskip("nacl.signing")
    seed = bytes(range(32))
    theirs = signing.SigningKey(seed)
    assert bytes(theirs.verify_key) == ED_KEY.public_key.raw()
    sig = ED_KEY.sign(MSG)
    assert theirs.verify_key.verify(MSG, sig) == MSG
    assert theirs.sign(MSG).signature == sig
    ED_KEY.public_key.verify(theirs.sign(b"from nacl").signature, b"from nacl")


def test_cryptography_verifies_our_es256_in_der() -> None:
    backend = serialization.load_pem_public_key(ES_KEY.public_key.to_pem())
    assert isinstance(backend, ec.EllipticCurvePublicKey)
    r, s = es_split(ES_KEY.sign(MSG))
    backend.verify(encode_dss_signature(r, s), MSG, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        backend.verify(encode_dss_signature(r, s), MSG + b"x", ec.ECDSA(hashes.SHA256()))


def test_cryptography_verifies_our_ed25519() -> None:
    backend = ed25519.Ed25519PublicKey.from_public_bytes(ED_KEY.public_key.raw())
    backend.verify(ED_KEY.sign(MSG), MSG)


@both_algs
def test_pycose_reads_our_cose_key(alg: str) -> None:
    from pycose.keys.cosekey import CoseKey

    ours = KEYS[alg].public_key.to_cose_key()
    theirs: Any = CoseKey.from_dict(dict(ours))
    assert theirs.x == ours[-2]
    if alg == ES256:
        assert theirs.y == ours[-3]


# --------------------------------------------------------------------------
# Property tests: no exception other than the library's own


def _mutations(real: bytes) -> st.SearchStrategy[bytes]:
    flip = st.tuples(st.integers(0, 63), st.integers(1, 255)).map(
        lambda t: real[: t[0]] + bytes([real[t[0]] ^ t[1]]) + real[t[0] + 1 :]
    )
    return st.one_of(
        st.just(real),
        flip,
        st.binary(min_size=64, max_size=64),
        st.binary(max_size=80),
        st.binary(min_size=32, max_size=32).map(lambda s: real[:32] + s),
        st.binary(min_size=32, max_size=32).map(lambda r: r + real[32:]),
        st.sampled_from(SMALL_ORDER).map(lambda r: r + real[32:]),
    )


@both_algs
@given(data=st.data(), message=st.binary(max_size=64))
def test_verify_raises_only_signature_error(alg: str, data: st.DataObject, message: bytes) -> None:
    key = KEYS[alg]
    real = key.sign(message)
    sig = data.draw(_mutations(real))
    try:
        key.public_key.verify(sig, message)
    except SignatureError as exc:
        assert exc.code in ("signature_malformed", "signature_invalid")
        assert sig != real
    else:
        # Ed25519 signatures are unique once S < L and R is canonical. ES256 low-S
        # signatures for another nonce exist but cannot be found by chance.
        assert sig == real


@given(st.binary(min_size=32, max_size=32))
def test_any_32_bytes_as_okp_x(x: bytes) -> None:
    try:
        key = PublicKey.from_cose_key({1: 1, -1: 6, -2: x})
    except InvalidKey as exc:
        assert exc.code == "key_invalid"
        point = ed_decode(x)
        assert point is None or ed_mul(8, point) == IDENTITY
    else:
        assert key.raw() == x
        point = ed_decode(x)
        assert point is not None and ed_mul(8, point) != IDENTITY


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_any_bytes_as_ec2_coordinates(x: bytes, y: bytes) -> None:
    try:
        key = PublicKey.from_cose_key({1: 2, -1: 1, -2: x, -3: y})
    except InvalidKey as exc:
        assert exc.code == "key_invalid"
    else:
        assert key.raw() == b"\x04" + x + y


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=5,
)
_jwk_names = st.sampled_from(["kty", "crv", "x", "y", "d", "alg", "kid", "use", "key_ops", "k"])


@given(
    base=st.sampled_from([ED_KEY.to_jwk(), ES_KEY.to_jwk(), {}]),
    changes=st.dictionaries(_jwk_names | st.text(max_size=5), _json_values, max_size=4),
    drop=st.lists(_jwk_names, max_size=2),
)
def test_jwk_import_raises_only_invalid_key(
    base: dict[str, str], changes: dict[str, object], drop: list[str]
) -> None:
    jwk: dict[str, object] = {k: v for k, v in base.items() if k not in drop}
    jwk.update(changes)
    for importer in (PublicKey.from_jwk, PrivateKey.from_jwk):
        try:
            importer(jwk)
        except InvalidKey as exc:
            assert exc.code in ("key_invalid", "alg_not_allowed")


@given(st.binary(max_size=200))
def test_pem_import_raises_only_invalid_key(body: bytes) -> None:
    for pem in (body, b"-----BEGIN PUBLIC KEY-----\n" + body + b"\n-----END PUBLIC KEY-----\n"):
        with raises_key("key_invalid"):
            PublicKey.from_pem(pem)


# --------------------------------------------------------------------------
# The Ed25519 backend (libsodium through PyNaCl) is strict by itself too. The rules
# above never depend on it (they run first); these pin what crypto.py's comment
# relies on, asking the backend directly with the checks bypassed.


def test_backend_accepts_a_valid_signature_and_refuses_a_wrong_one() -> None:
    backend = _ed25519.verifier(ED_KEY.public_key.raw())
    sig = ED_KEY.sign(MSG)
    assert backend(sig, MSG) is True
    assert backend(sig, MSG + b"!") is False


def test_backend_refuses_s_plus_l() -> None:
    sig = ED_KEY.sign(MSG)
    s = int.from_bytes(sig[32:], "little")
    backend = _ed25519.verifier(ED_KEY.public_key.raw())
    assert backend(sig[:32] + (s + L).to_bytes(32, "little"), MSG) is False


@pytest.mark.parametrize("a_enc", SMALL_ORDER, ids=[e.hex()[:8] for e in SMALL_ORDER])
def test_backend_refuses_small_order_keys(a_enc: bytes) -> None:
    # under the identity key, R = identity and S = 0 satisfy [S]B = R + [k]A for every
    # message; a backend that accepted small-order A would let anyone sign
    backend = _ed25519.verifier(a_enc)
    for r_enc in (enc_y(1), a_enc):
        assert backend(r_enc + bytes(32), MSG) is False
