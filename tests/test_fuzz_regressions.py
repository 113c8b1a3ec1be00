"""Regressions: what the properties and the fuzzers found, one named test per finding.

Each test names the finding, says how it was found, and fails on the code before its fix.
A finding also becomes an invalid conformance vector (fuzz/README.md says how).
"""

from __future__ import annotations

import pytest

from agentchain import AgentchainError, decode_presentation_unverified
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
