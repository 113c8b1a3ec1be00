"""Regressions: what the properties and the fuzzers found, one named test per finding.

Each test names the finding, says how it was found, and fails on the code before its fix.
A finding also becomes an invalid conformance vector (fuzz/README.md says how).
"""

from __future__ import annotations

import pytest

from agentchain import AgentchainError, Limits, decode_presentation_unverified
from tests.helpers import REQUEST, make_verifier, standard_presentation

TEXT = standard_presentation().to_text()


# Found by testing.mutations(kinds=("text",)) once it tried non-ASCII whitespace: the text
# form was decoded after str.strip(), which also drops U+00A0, U+2003, U+0085, U+001C and
# friends, so a presentation wrapped in them was accepted and allowed.
@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000", "\x85", "\x1c", "\u200b"])
def test_non_ascii_whitespace_around_the_text_form_is_refused(space: str) -> None:
    # R-5.1-3
    with pytest.raises(AgentchainError) as caught:
        decode_presentation_unverified(space + TEXT)
    assert caught.value.code == "encoding_unknown"
    with pytest.raises(AgentchainError) as caught:
        make_verifier().verify(TEXT + space, REQUEST)
    assert caught.value.code == "base64_invalid"


@pytest.mark.parametrize("space", [" ", "\t", "\n", "\v", "\f", "\r", "\r\n \t"])
def test_ascii_whitespace_around_the_text_form_is_ignored(space: str) -> None:
    # R-5.1-3
    assert decode_presentation_unverified(space + TEXT + space).to_text() == TEXT


# Found by test_forms_decide_alike_under_any_limits: verify() took a decoded Presentation
# as it was, so the trust policy's limits (V1) never applied to it. A chain longer than
# the policy's max_links, or with strings over its max_string_bytes, was allowed as an
# object and refused as bytes.
@pytest.mark.parametrize(
    "limits", [Limits(max_links=1), Limits(max_string_bytes=8), Limits(max_object_bytes=200)]
)
def test_the_policy_limits_apply_to_a_decoded_presentation(limits: Limits) -> None:
    # R-5.6-4
    presentation = standard_presentation()
    codes = set()
    for form in (presentation, presentation.to_bytes(), presentation.to_text()):
        with pytest.raises(AgentchainError) as caught:
            make_verifier(limits=limits).verify(form, REQUEST)
        codes.add(caught.value.code)
    assert codes == {"limit_exceeded"}
