"""How the text of a table's cell is compared: NFKC (so a full-width （ is ( ), and no
whitespace at all, line breaks inside a cell included."""

import re
import unicodedata


def compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
