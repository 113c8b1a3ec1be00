"""The claim key registry of spec 5.5, 5.7, 5.8 and 9, the typ values and the text prefixes.

Numbers for CBOR and their JOSE names (spec/jose.md), in one place: every
encoder and decoder looks keys up here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

VERSION: Final = 1


TYP_LINK: Final = "application/agentchain-link+cbor"


TYP_INVOCATION: Final = "application/agentchain-invocation+cbor"


TYP_ATTESTATION: Final = "application/agentchain-attestation+cbor"


TYP_APPROVAL: Final = "application/agentchain-approval+cbor"


TYP_REVOCATION: Final = "application/agentchain-revocation+cbor"


#: spec/jose.md: explicit typing of every JOSE object (RFC 8725 section 3.11)
JWT_TYP_LINK: Final = "agentchain-link+jwt"


JWT_TYP_INVOCATION: Final = "agentchain-invocation+jwt"


JWT_TYP_ATTESTATION: Final = "agentchain-attestation+jwt"


JWT_TYP_APPROVAL: Final = "agentchain-approval+jwt"


JWT_TYP_REVOCATION: Final = "agentchain-revocation+jwt"


#: the two encodings of one semantic model (spec 5, spec/jose.md)
Encoding = Literal["cbor", "jose"]


ENCODINGS: Final[tuple[Encoding, ...]] = ("cbor", "jose")


#: spec 5.1: text form prefixes, naming encoding and version
TEXT_PREFIX_CBOR: Final = "ac1c."


#: spec 5.1: only ASCII whitespace around a text form is ignored (str.strip() would also
#: drop U+00A0 or U+2003)
ASCII_WHITESPACE: Final = " \t\n\v\f\r"


TEXT_PREFIX_JOSE: Final = "ac1j."


# spec 5.5: link claim keys
L_VERSION, L_ISSUER, L_HOLDER, L_PARENT, L_ID = 1, 2, 3, 4, 5


L_IAT, L_NBF, L_EXP, L_CAPS, L_CAVEATS, L_DEPTH, L_PURPOSE, L_DESCRIPTOR = range(6, 14)


L_APPROVALS = 14


# spec 9.5: the usage claim (the behaviour factor), its limits and its novelty rule
L_USAGE = 15
U_LIMITS, U_NOVELTY = 1, 2
UL_PERIOD, UL_MAX, UL_SELECTOR, UL_ACTIONS, UL_ON, UL_APPROVER = range(1, 7)
UN_LEARN, UN_APPROVER = 1, 2


# spec 9.2: approval requirement keys
R_WHEN, R_ACTIONS, R_APPROVER = 1, 2, 3


# spec 9.1: attestation claim keys
A_VERSION, A_ISSUER, A_SUBJECT, A_IAT, A_EXP, A_CODE, A_MODEL, A_CONFIG = range(1, 9)


# spec 9.2: approval claim keys
V_VERSION, V_ISSUER, V_REQUEST, V_IAT, V_EXP = range(1, 6)


# spec 8.5: revocation claim keys, and the keys of the link it names
X_VERSION, X_REVOKER, X_IAT, X_LINK, X_KEY, X_BEFORE, X_EXP = range(1, 8)


LR_ISSUER, LR_ID = 1, 2


# spec 5.5: descriptor keys
D_KIND, D_NAME, D_CODE, D_MODEL, D_CONFIG = 1, 2, 3, 4, 5


# spec 5.7: invocation claim keys
I_VERSION, I_CHAIN, I_AUDIENCE, I_ACTION, I_RESOURCE, I_ARGS, I_IAT, I_NONCE = range(1, 9)


# spec 5.8: presentation container keys
P_VERSION, P_LINKS, P_INVOCATION, P_ATTESTATIONS, P_APPROVALS = 1, 2, 3, 4, 5


MAX_TIME: Final = 2**53 - 1  # seconds; far beyond any real clock, exact in every language


_JOSE_NAMES: Final[dict[str, dict[int, str]]] = {
    "link": {
        L_VERSION: "ver",
        L_ISSUER: "iss",
        L_HOLDER: "cnf",
        L_PARENT: "prt",
        L_ID: "jti",
        L_IAT: "iat",
        L_NBF: "nbf",
        L_EXP: "exp",
        L_CAPS: "cap",
        L_CAVEATS: "cav",
        L_DEPTH: "dep",
        L_PURPOSE: "pur",
        L_DESCRIPTOR: "dsc",
        L_APPROVALS: "apr",
        L_USAGE: "ulim",
    },
    "usage": {U_LIMITS: "limits", U_NOVELTY: "novelty"},
    "limit": {
        UL_PERIOD: "per",
        UL_MAX: "max",
        UL_SELECTOR: "sel",
        UL_ACTIONS: "actions",
        UL_ON: "on",
        UL_APPROVER: "approver",
    },
    "novelty": {UN_LEARN: "learn", UN_APPROVER: "approver"},
    "descriptor": {
        D_KIND: "kind",
        D_NAME: "name",
        D_CODE: "code",
        D_MODEL: "model",
        D_CONFIG: "config",
    },
    "requirement": {R_WHEN: "when", R_ACTIONS: "actions", R_APPROVER: "approver"},
    "invocation": {
        I_VERSION: "ver",
        I_CHAIN: "chn",
        I_AUDIENCE: "aud",
        I_ACTION: "act",
        I_RESOURCE: "res",
        I_ARGS: "arg",
        I_IAT: "iat",
        I_NONCE: "jti",
    },
    "attestation": {
        A_VERSION: "ver",
        A_ISSUER: "iss",
        A_SUBJECT: "sub",
        A_IAT: "iat",
        A_EXP: "exp",
        A_CODE: "code",
        A_MODEL: "model",
        A_CONFIG: "config",
    },
    "approval": {V_VERSION: "ver", V_ISSUER: "iss", V_REQUEST: "req", V_IAT: "iat", V_EXP: "exp"},
    "revocation": {
        X_VERSION: "ver",
        X_REVOKER: "rvk",
        X_IAT: "iat",
        X_LINK: "lnk",
        X_KEY: "key",
        X_BEFORE: "bef",
        X_EXP: "exp",
    },
    "linkref": {LR_ISSUER: "iss", LR_ID: "jti"},
    "presentation": {
        P_VERSION: "ver",
        P_LINKS: "links",
        P_INVOCATION: "invocation",
        P_ATTESTATIONS: "attestations",
        P_APPROVALS: "approvals",
    },
}


_CBOR_KEYS: Final = {kind: {key: key for key in names} for kind, names in _JOSE_NAMES.items()}


def _keys(encoding: Encoding, kind: str) -> Mapping[int, Any]:
    """CBOR key -> the member name or key of ``kind`` in ``encoding``."""
    return _JOSE_NAMES[kind] if encoding == "jose" else _CBOR_KEYS[kind]
