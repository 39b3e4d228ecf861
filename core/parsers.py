"""Request-body parsers that refuse hostile text before any view or serializer sees it.

Every text a client sends in a body passes through here: a parser sees every value of
every body, whatever reads it afterwards (a serializer's CharField, a JSONField or DictField
that keeps a client's mapping as it is, a view that reads ``request.data`` itself). A
check on serializer fields would miss each field declared by hand and every container
field; a check in the parser cannot be skipped by a new serializer, and a test
(tests/core/test_hostile_bodies.py) keeps every API view on these parsers.

Refused, with a 400 naming the field (code ``invalid_characters``):

- control characters: C0 except tab, line feed and carriage return, DEL, and C1;
- bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
  U+061C), which make a title or a file name read differently from what it is
  ("报告‮fdp.exe" shows as "报告exe.pdf").

The zero-width joiner U+200D stays allowed: some scripts need it. Query strings are not
checked here: they are read by filters and paginators that accept only ids, dates, numbers
and choices, and never store them.

JSON nested deeper than ``MAX_DEPTH`` is refused with a 400 (code ``too_deep``): no request
of the API nests more than a few levels, and Python's own parser would otherwise fail with
a RecursionError on a hundred thousand ``[``.
"""

import json
import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 64

# Written with escapes, so the schema carries it as readable text and any regex engine reads it.
FORBIDDEN_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
FORBIDDEN_CHARACTERS = re.compile(f"[{FORBIDDEN_CLASS}]")
# The same rule as the schema's pattern for every text a request sends (core.schema).
ALLOWED_TEXT_PATTERN = f"^[^{FORBIDDEN_CLASS}]*$"


class TooDeep(ParseError):
    default_detail = _("请求体嵌套层级过深。")
    default_code = "too_deep"


def _refuse_characters(names) -> None:
    # Imported here: core.errors imports DRF's views, whose class attributes read
    # DEFAULT_PARSER_CLASSES, that is this module.
    from .errors import InvalidInput

    if names:
        message = _("含有不允许的控制字符或文字方向控制字符。")
        raise InvalidInput(
            _("提交的文本含有不允许的字符。"),
            code="invalid_characters",
            fields={name: [message] for name in sorted(names)},
        )


def check_json(data) -> None:
    """Refuse parsed JSON nested deeper than MAX_DEPTH, or with a forbidden character in
    any string, key or value; a nested field is named by its path (``children.1.title``).
    Walked with a stack of its own, so that no nesting can exhaust Python's."""
    bad: set[str] = set()
    stack: list[tuple[tuple, object, int]] = [((), data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            if FORBIDDEN_CHARACTERS.search(value):
                bad.add(".".join(str(part) for part in path) or "non_field_errors")
        elif depth >= MAX_DEPTH and isinstance(value, (dict, list)):
            raise TooDeep()
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append(((*path, key), key, depth + 1))
                stack.append(((*path, key), item, depth + 1))
        elif isinstance(value, list):
            stack.extend(((*path, n), item, depth + 1) for n, item in enumerate(value))
    _refuse_characters(bad)


def check_form(data) -> None:
    """The same for a form's fields, repeated or not. The names of uploaded files need no
    check here: Django's multipart parser drops every non-printable character from them."""
    _refuse_characters(
        {
            key
            for key, values in data.lists()
            if FORBIDDEN_CHARACTERS.search(key) or any(FORBIDDEN_CHARACTERS.search(v) for v in values)
        }
    )


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise TooDeep() from None
        except json.JSONDecodeError as error:
            raise ParseError(
                _("请求体不是有效的 JSON（第 %(line)d 行第 %(column)d 列）。")
                % {"line": error.lineno, "column": error.colno}
            ) from None
        except ValueError:
            raise ParseError(_("请求体不是有效的 JSON。")) from None
        check_json(data)
        return data


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON, and no field of the API can hold them.
    raise ValueError(name)


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        check_form(result.data)
        return result


# In the order of DRF's defaults, for views that name their parsers.
BODY_PARSERS = [JSONParser, FormParser, MultiPartParser]
