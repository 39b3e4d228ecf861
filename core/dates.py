"""Dates as clients write them: a day that does not exist is told apart from a bad format."""

import calendar
import re

from django.utils.translation import gettext as _

ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def no_such_day(text) -> str | None:
    """The message for text in the YYYY-MM-DD form naming a day no calendar has
    ("2026-02-30", "2026-13-01"), or None when the text is a real day or not of that form."""
    match = ISO_DAY.match(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= year <= 9999:
        return None
    if not 1 <= month <= 12:
        return _("“%(text)s”这一天不存在：一年只有 12 个月。") % {"text": text.strip()}
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return _("“%(text)s”这一天不存在：%(year)d年%(month)d月只有 %(days)d 天。") % {
            "text": text.strip(),
            "year": year,
            "month": month,
            "days": days,
        }
    return None
