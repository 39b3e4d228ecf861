"""Which Accept headers take a download's file type: the rule every download applies."""

import pytest

from core.negotiation import accepts

PDF = "application/pdf"
JSON = "application/json"


@pytest.mark.parametrize(
    ("accept", "taken"),
    [
        ("", True),
        ("*/*", True),
        ("application/pdf", True),
        ("application/*", True),
        ("application/json", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("application/pdf; q=0.5, text/csv", True),
        ("text/csv", False),
        ("text/*, image/png", False),
        ("application/pdf;q=0", False),
        ("*/*, application/pdf;q=0, application/json;q=0", False),
    ],
)
def test_an_accept_header_takes_the_offered_types_it_names(accept, taken):
    assert accepts(accept, [PDF, JSON]) is taken
