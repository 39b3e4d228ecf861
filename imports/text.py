"""How the text of a table's cell is compared: NFKC (so a full-width （ is ( ), and no
whitespace at all, line breaks inside a cell included."""

import re
import unicodedata

from django.db.models import F, Value
from django.db.models.functions import Replace

# The whitespace typesetting puts inside names: spaces, the ideographic space, no-break
# spaces and tabs.
_NAME_SPACES = (" ", "\u3000", "\u00a0", "\t")


def compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def compact_expression(field: str) -> Replace:
    """A text column without the whitespace of ``_NAME_SPACES``, for comparing stored names
    with ``compact`` ones in SQL."""
    expression = F(field)
    for space in _NAME_SPACES:
        expression = Replace(expression, Value(space), Value(""))
    return expression
