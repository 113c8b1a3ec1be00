"""Tests of agentchain.model: what a capability covers, what a name may look like,
digest-set agreement and validity windows (spec 4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentchain import Capability, DecodeError, Descriptor
from agentchain.model import (
    Window,
    action_covers,
    capabilities_cover,
    check_action,
    check_resource,
    digests_agree,
    resource_covers,
)

# --------------------------------------------------------------------------
# actions (spec 4.1)


@pytest.mark.parametrize(
    ("pattern", "action", "covered"),
    [
        ("calendar", "calendar", True),
        ("calendar", "calendar/read", True),
        ("calendar", "calendar/read/all", True),
        ("calendar", "calendarX", False),
        ("calendar", "calendar.read", False),
        ("calendar", "calendar-read", False),
        ("calendar", "calenda", False),
        ("calendar/read", "calendar", False),
        ("calendar/read", "calendar/readX", False),
        ("calendar/read", "calendar/read/x", True),
        ("calendar/read", "calendar/write", False),
        ("*", "calendar", True),
        ("*", "anything/at/all", True),
        ("mail", "calendar", False),
        ("Calendar", "calendar", False),  # case-sensitive: exact bytes
    ],
)
def test_action_covers_at_segment_boundaries(pattern: str, action: str, covered: bool) -> None:
    # R-4.1-2
    assert action_covers(pattern, action) is covered
    assert Capability(pattern, "*").permits(action, "https://x/a") is covered


# --------------------------------------------------------------------------
# resources (spec 4.2)


@pytest.mark.parametrize(
    ("pattern", "resource", "covered"),
    [
        ("https://x/a/*", "https://x/a/b", True),
        ("https://x/a/*", "https://x/a/b/c", True),
        ("https://x/a/*", "https://x/a/b/c/d?q=1", True),
        ("https://x/a/*", "https://x/a", False),
        ("https://x/a/*", "https://x/a/", False),  # nothing below the prefix
        ("https://x/a/*", "https://x/ab", False),
        ("https://x/a/*", "https://x/ab/c", False),
        ("https://x/a/*", "https://x/b/c", False),
        ("https://x/a/*", "http://x/a/b", False),
        ("https://x/a", "https://x/a", True),
        ("https://x/a", "https://x/a/b", False),  # exact match only, no implicit prefix
        ("https://x/a", "https://x/ab", False),
        ("https://x/a", "https://x/A", False),
        ("https://x/a", "https://x/a?", False),
        ("*", "https://x/a", True),
        ("*", "urn:example:thing", True),
    ],
)
def test_resource_covers(pattern: str, resource: str, covered: bool) -> None:
    # R-4.2-5
    assert resource_covers(pattern, resource) is covered
    assert Capability("*", pattern).permits("a", resource) is covered


def test_permits_needs_both_action_and_resource() -> None:
    cap = Capability("calendar/read", "https://x/a/*")
    assert cap.permits("calendar/read", "https://x/a/b")
    assert not cap.permits("calendar/write", "https://x/a/b")
    assert not cap.permits("calendar/read", "https://x/b/c")


# --------------------------------------------------------------------------
# Capability.covers: patterns compared as patterns (spec 4.3)


@pytest.mark.parametrize(
    ("parent", "child", "covered"),
    [
        (("*", "*"), ("*", "*"), True),
        (("*", "*"), ("calendar", "https://x/a"), True),
        (("calendar", "*"), ("*", "*"), False),  # '*' is covered only by '*'
        (("calendar", "*"), ("calendar/read", "*"), True),
        (("calendar/read", "*"), ("calendar", "*"), False),
        (("calendar", "*"), ("calendarX", "*"), False),
        (("calendar", "https://x/a/*"), ("calendar", "*"), False),
        (("calendar", "https://x/a/*"), ("calendar", "https://x/a/*"), True),
        (("calendar", "https://x/a/*"), ("calendar", "https://x/a/b/*"), True),
        (("calendar", "https://x/a/*"), ("calendar", "https://x/a/b"), True),
        (("calendar", "https://x/a/*"), ("calendar", "https://x/a"), False),
        (("calendar", "https://x/a/*"), ("calendar", "https://x/ab/*"), False),
        (("calendar", "https://x/a/b/*"), ("calendar", "https://x/a/*"), False),
        (("calendar", "https://x/a"), ("calendar", "https://x/a"), True),
        (("calendar", "https://x/a"), ("calendar", "https://x/a/*"), False),
        (("calendar", "https://x/a"), ("calendar", "https://x/a/b"), False),
        (("calendar", "https://x/a"), ("mail", "https://x/a"), False),
    ],
)
def test_capability_covers(parent: tuple[str, str], child: tuple[str, str], covered: bool) -> None:
    # R-4.3-1
    assert Capability(*parent).covers(Capability(*child)) is covered


def test_capabilities_cover_names_the_first_uncovered_child() -> None:
    parent = [Capability("calendar", "https://x/a/*"), Capability("mail/send", "https://m/x")]
    ok = [Capability("calendar/read", "https://x/a/b"), Capability("mail/send", "https://m/x")]
    assert capabilities_cover(parent, ok) is None
    bad = Capability("mail", "https://m/x")
    assert capabilities_cover(parent, [*ok, bad, Capability("x", "*")]) == bad
    # a child capability needs ONE parent capability covering it, not a union of two
    split = [Capability("calendar", "https://x/a/*"), Capability("mail", "https://x/a/*")]
    assert capabilities_cover(split, [Capability("*", "https://x/a/b")]) is not None


# --------------------------------------------------------------------------
# malformed names (spec 4.1, 4.2)


@pytest.mark.parametrize(
    "action",
    [
        "",
        "/",
        "calendar/",
        "/calendar",
        "calendar//read",
        "calendar/*",
        "cal*",
        "*/read",
        "calendar read",
        "calendar\tread",
        "calendar\\read",
        "calendar%2Fread",
        "caléndar",
        "a" * 257,
    ],
)
def test_malformed_actions_rejected(action: str) -> None:
    # R-4.1-1
    with pytest.raises(DecodeError) as exc:
        check_action(action, pattern=True)
    assert exc.value.code == "schema_invalid"
    with pytest.raises(DecodeError):
        Capability(action, "*")


def test_star_is_a_pattern_only() -> None:
    # R-4.2-4
    check_action("*", pattern=True)
    with pytest.raises(DecodeError):
        check_action("*", pattern=False)
    check_resource("*", pattern=True)
    check_resource("https://x/a/*", pattern=True)
    for resource in ("*", "https://x/a/*"):
        with pytest.raises(DecodeError):
            check_resource(resource, pattern=False)


@pytest.mark.parametrize(
    "action", ["calendar", "calendar/read", "a.b/c_d/e-f/g:h", "A9", "a" * 256]
)
def test_wellformed_actions_accepted(action: str) -> None:
    check_action(action, pattern=False)
    assert Capability(action, "*").action == action


@pytest.mark.parametrize("action", ["calendar/../admin", "calendar/./read", "..", "calendar/.."])
def test_action_dot_segments_rejected(action: str) -> None:
    # 'calendar/../admin' would be covered by a grant on 'calendar', and
    # 'calendar/./read' would be a second spelling of 'calendar/read'
    for pattern in (True, False):
        with pytest.raises(DecodeError) as exc:
            check_action(action, pattern=pattern)
        assert exc.value.code == "schema_invalid"


@pytest.mark.parametrize(
    "resource",
    [
        "",
        "x" * 2049,
        "/relative/path",
        "relative/path",
        "//host/path",
        "1http://x/a",
        "ht_tp://x/a",
        "https://x/a/../b",
        "https://x/a/..",
        "https://x/a/./b",
        "https://x/a/%2e%2e/b",
        "https://x/a/%2E%2E/b",
        "HTTPS://x/a",
        "https://X/a",
        "https://x/a//b",
        "https://x/a/...",
        "https://x/a;p/b",
        "https://x/a/.%2e/b",
        "https://x/a%2Fb",
        "https://x/a%2fb",
        "https://x/a%5cb",
        "https://x/a\\b",
        "https://x/a b",
        "https://x/a\tb",
        "https://x/a\nb",
        "https://x/a\x00b",
        "https://x/a\x7fb",
        "https://x/*/b",
        "https://x/a*",
        "https://x/a/**",
        "https://*.x/a",
        "/*",
    ],
)
def test_malformed_resources_rejected(resource: str) -> None:
    # R-4.2-1 R-4.2-2 R-4.2-3 R-4.2-4 R-4.2-6 R-4.2-7
    for pattern in (True, False):
        with pytest.raises(DecodeError) as exc:
            check_resource(resource, pattern=pattern)
        assert exc.value.code == "resource_invalid"
    with pytest.raises(DecodeError):
        Capability("a", resource)


@pytest.mark.parametrize(
    "resource", ["https://x/a/..?q=1", "https://x/a/..#frag", "https://x/a/.?q", "https://x/a/..?"]
)
def test_dot_segment_before_query_or_fragment_rejected(resource: str) -> None:
    # R-4.2-2
    # RFC 3986: the path ends at '?' or '#', so 'https://x/a/..?q' has the path '/a/..',
    # which normalizes to '/': a grant on 'https://x/a/*' must not reach it
    for pattern in (True, False):
        with pytest.raises(DecodeError) as exc:
            check_resource(resource, pattern=pattern)
        assert exc.value.code == "resource_invalid"


#: issue 13: spellings of a path outside /payments/* that some server normalizes into it
TRICKY = {
    "dotdot-semicolon": "https://x/payments/..;/admin",
    "double-escaped-dots": "https://x/payments/%252e%252e/admin",
    "double-escaped-slash": "https://x/payments%252fadmin",
    "fullwidth-dots": "https://x/payments/\uff0e\uff0e/admin",
    "fullwidth-dots-escaped": "https://x/payments/%EF%BC%8E%EF%BC%8E/admin",
    "two-dot-leader": "https://x/payments/\u2025/admin",
    "two-dot-leader-escaped": "https://x/payments/%E2%80%A5/admin",
    "percent-u": "https://x/payments/%u002e%u002e/admin",
    "overlong-dot": "https://x/payments/%C0%AE%C0%AE/admin",
    "dotdot-nul": "https://x/payments/..%00/admin",
    "dotdot-space": "https://x/payments/..%20/admin",
    "dotdot-tab": "https://x/payments/..%09/admin",
    "three-dots": "https://x/payments/.../admin",
    "raw-non-ascii": "https://x/payments/caf\u00e9",
    "invalid-escape": "https://x/payments/%zz/admin",
    "short-escape": "https://x/payments/%2",
    "lower-case-escape": "https://x/payments/%c3%a9",
    "escaped-unreserved": "https://x/payments/%61dmin",
    "escaped-percent": "https://x/payments/%25",
    "escaped-backslash": "https://x/payments/..%5Cadmin",
    "escaped-semicolon": "https://x/payments/..%3Badmin",
    "dotdot-fragment": "https://x/payments/..#f",
    "dotdot-query": "https://x/payments/..?q",
    "dot-fragment": "https://x/a/.#f",
    "empty-segment": "https://x/payments//admin",
    "bidi-override": "https://x/payments/%E2%80%AEadmin",
    "c1-control": "https://x/payments/%C2%85admin",
    "upper-case-host": "https://X/payments/a",
    "bracket-in-path": "https://x/payments/[a]",
}


@pytest.mark.parametrize("resource", TRICKY.values(), ids=TRICKY.keys())
def test_every_tricky_spelling_is_refused(resource: str) -> None:
    # R-4.2-1 R-4.2-2 R-4.2-3 R-4.2-6 R-4.2-7
    for pattern in (False, True):
        with pytest.raises(DecodeError) as exc:
            check_resource(resource, pattern=pattern)
        assert exc.value.code == "resource_invalid"
        with pytest.raises(DecodeError):
            check_resource(resource + "/*", pattern=True)


@pytest.mark.parametrize(
    "resource",
    [
        "https://x/a",
        "https://x/a/b.c/d..e/.x/x.",
        "https://x/a/caf%C3%A9",  # escaped UTF-8 that NFKC leaves alone
        "https://x/a?x=1;y=2",  # ';' is only refused in the path
        "https://x/a/",  # a last empty segment
        "https://[::1]:8443/a",
        "https://x/a%3Fb%23c",  # needed escapes of reserved characters
        "files:/a/b",
        "urn:example:thing",
        "https://x/a?q=%20",
        "mailto:alice@example.com",
        "https://x:8443/a",
    ],
)
def test_wellformed_resources_accepted(resource: str) -> None:
    check_resource(resource, pattern=False)
    check_resource(resource, pattern=True)


# --------------------------------------------------------------------------
# descriptors and digest sets


SHA = b"\x01" * 32
SHA_OTHER = b"\x02" * 32


@pytest.mark.parametrize(
    ("declared", "other", "expected"),
    [
        ({"sha256": SHA}, {"sha256": SHA}, True),
        ({"sha256": SHA}, {"sha256": SHA_OTHER}, False),
        ({"sha256": SHA}, {"sha512": SHA + SHA}, None),  # nothing shared: no opinion
        ({}, {"sha256": SHA}, None),
        ({}, {}, None),
        ({"sha256": SHA, "sha512": SHA + SHA}, {"sha256": SHA}, True),
        # every shared algorithm must agree, not just one
        ({"sha256": SHA, "sha512": SHA + SHA}, {"sha256": SHA, "sha512": SHA_OTHER * 2}, False),
        ({"sha256": SHA, "x": SHA}, {"sha256": SHA, "y": SHA_OTHER}, True),
    ],
)
def test_digests_agree(
    declared: dict[str, bytes], other: dict[str, bytes], expected: bool | None
) -> None:
    assert digests_agree(declared, other) is expected
    assert digests_agree(other, declared) is expected


@pytest.mark.parametrize(
    "code",
    [
        {"SHA256": SHA},
        {"": SHA},
        {"sha256": b"\x01" * 15},
        {"sha256": b"\x01" * 65},
        {"sha256": "00" * 32},
    ],
)
def test_descriptor_refuses_malformed_digests(code: dict[str, object]) -> None:
    # R-5.5-7
    with pytest.raises(DecodeError) as exc:
        Descriptor(code=code)  # type: ignore[arg-type]
    assert exc.value.code == "schema_invalid"


def test_descriptor_checks_kind_and_names() -> None:
    with pytest.raises(DecodeError):
        Descriptor(kind="robot")  # type: ignore[arg-type]
    for text in ("", "n" * 257):
        with pytest.raises(DecodeError):
            Descriptor(name=text)
        with pytest.raises(DecodeError):
            Descriptor(model=text)
    d = Descriptor(kind="tool", name="n" * 256, code={"sha512": SHA + SHA, "sha256": SHA})
    assert list(d.code) == ["sha256", "sha512"]  # sorted, so encodings are canonical
    with pytest.raises(TypeError):
        d.code["md5"] = SHA  # type: ignore[index]


# --------------------------------------------------------------------------
# windows (spec 4.4)


@pytest.mark.parametrize(
    ("inner", "outer", "inside"),
    [
        ((10, 20), (10, 20), True),
        ((11, 19), (10, 20), True),
        ((9, 20), (10, 20), False),
        ((10, 21), (10, 20), False),
        ((0, 30), (10, 20), False),
        ((15, 15), (10, 20), True),  # emptiness is the verifier's check, not inside's
    ],
)
def test_window_inside(inner: tuple[int, int], outer: tuple[int, int], inside: bool) -> None:
    assert Window(*inner).inside(Window(*outer)) is inside


# --------------------------------------------------------------------------
# properties: covers is a preorder, and it means what it says


_ACTION_PATTERNS = ["*", "a", "a/b", "a/b/c", "a/bc", "ab", "c", "c/a"]
_RESOURCE_PATTERNS = [
    "*",
    "https://x/*",
    "https://x/a/*",
    "https://x/a/b/*",
    "https://x/ab/*",
    "https://x/a",
    "https://x/a/b",
    "https://x/a/b/c",
    "https://x/ab",
    "https://y/*",
    "urn:z",
]
_CONCRETE_ACTIONS = ["a", "a/b", "a/b/c", "a/b/c/d", "a/bc", "ab", "ab/c", "c", "c/a", "d"]
_CONCRETE_RESOURCES = [
    "https://x/",
    "https://x/a",
    "https://x/a/",
    "https://x/a/b",
    "https://x/a/b/",
    "https://x/a/b/c",
    "https://x/a/b/c/d",
    "https://x/ab",
    "https://x/ab/c",
    "https://y/",
    "https://y/a",
    "urn:z",
    "urn:z/a",
]

capabilities = st.builds(
    Capability, st.sampled_from(_ACTION_PATTERNS), st.sampled_from(_RESOURCE_PATTERNS)
)


def test_property_universe_is_wellformed() -> None:
    for action in _CONCRETE_ACTIONS:
        check_action(action, pattern=False)
    for resource in _CONCRETE_RESOURCES:
        check_resource(resource, pattern=False)


@given(capabilities)
def test_covers_is_reflexive(cap: Capability) -> None:
    assert cap.covers(cap)


@given(capabilities, capabilities, capabilities)
def test_covers_is_transitive(a: Capability, b: Capability, c: Capability) -> None:
    if a.covers(b) and b.covers(c):
        assert a.covers(c)


def test_covers_is_transitive_exhaustively() -> None:
    caps = [Capability(a, r) for a in _ACTION_PATTERNS for r in _RESOURCE_PATTERNS]
    cover = {(p, c): p.covers(c) for p in caps for c in caps}
    for a in caps:
        for b in caps:
            if not cover[a, b]:
                continue
            for c in caps:
                if cover[b, c]:
                    assert cover[a, c], (a, b, c)


def _sound(parent: Capability, child: Capability) -> None:
    """If parent covers child, every concrete request child permits, parent permits."""
    if not parent.covers(child):
        return
    for action in _CONCRETE_ACTIONS:
        for resource in _CONCRETE_RESOURCES:
            if child.permits(action, resource):
                assert parent.permits(action, resource), (parent, child, action, resource)


@given(capabilities, capabilities)
def test_covers_is_sound_for_concrete_requests(parent: Capability, child: Capability) -> None:
    _sound(parent, child)


def test_covers_is_sound_exhaustively() -> None:
    caps = [Capability(a, r) for a in _ACTION_PATTERNS for r in _RESOURCE_PATTERNS]
    covered = 0
    for parent in caps:
        for child in caps:
            covered += parent.covers(child)
            _sound(parent, child)
    assert covered > len(caps)  # the check above is not vacuous


@given(
    st.sampled_from(_CONCRETE_ACTIONS),
    st.sampled_from(_CONCRETE_RESOURCES),
)
def test_a_concrete_capability_covers_exactly_itself(action: str, resource: str) -> None:
    cap = Capability(action, resource)
    assert cap.permits(action, resource)
    for other in _CONCRETE_RESOURCES:
        assert cap.permits(action, other) is (other == resource)
