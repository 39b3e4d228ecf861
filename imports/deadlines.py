"""Reading the 完成时限 column: the handful of forms offices write, and nothing more.

A form this module does not know is an error for a person to fix, never a date it made
up: a wrong deadline would chase the wrong people on the wrong day.
"""

import calendar
import datetime
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from imports.text import compact as text_compact


@dataclass(frozen=True)
class Deadline:
    """A parsed deadline: a date, or work without one (``ongoing``), and a report schedule
    (``cadence`` and ``day`` as ``tasks.models.ReportSchedule`` keeps them, ``recurring``
    the schedule in its usual words) when the cell names one: "长期坚持，每月28日前报送"."""

    due_date: datetime.date | None
    ongoing: bool = False
    recurring: str = ""
    # "立行立改": a rectification to be made at once; the importer dates it from the import.
    immediate: bool = False
    cadence: str = ""
    day: int | None = None
    # The schedule's part of the cell as the office wrote it ("每月28日前报送").
    wording: str = ""


class DeadlineError(ValueError):
    def __init__(self, text: str, message: str, code: str = "unrecognised_deadline"):
        self.text = text
        self.message = message
        self.code = code
        super().__init__(message)


_ONGOING = frozenset({"长期坚持", "持续推进", "长期", "长期推进", "持续开展", "常态化推进"})
_NUMBER = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
_REPORTED = r"(?:之前|以前|前)?(?:完成|报送|上报|报送进展|报送进展情况)?"
_RECURRING = re.compile(rf"每月{_NUMBER}[日号]{_REPORTED}")
_MONTHLY_END = re.compile(rf"每月(?:月)?[底末]{_REPORTED}")
_QUARTERLY = re.compile(rf"每(?:个)?季度?(?:末|底|结束前){_REPORTED}")
_QUARTERLY_DAY = re.compile(rf"每季度(?:最后一个月|末月){_NUMBER}[日号]{_REPORTED}")
_WEEKLY = re.compile(rf"每(?:周|星期)([一二三四五六日天]){_REPORTED}")
_WEEKDAYS = "一二三四五六"
# A cell may name the work's date and a report schedule: "长期坚持，每月28日前报送".
_PARTS = re.compile(r"[，,；;、]")
_YEAR_PREFIX = re.compile(r"(?:(\d{4})年|(今年|本年|明年|次年))")
_SUFFIX = re.compile(r"(?:之前|以前|前)?(?:完成|办结)?$")
_NUMERIC_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})")
_MONTH_END = re.compile(rf"{_NUMBER}月份?[底末]")
_TEN_DAYS = re.compile(rf"{_NUMBER}月([上中下])旬末?")
_DAY = re.compile(rf"{_NUMBER}月{_NUMBER}[日号]?")
_QUARTER = re.compile(r"第?([一二三四1-4])季度[末底内]?")
_YEAR_END = frozenset({"年底", "年末", "年内", "底", "末", "内"})
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def parse_deadline(text: str, year: int) -> Deadline:
    """Read a deadline such as "10月底前" or "2025年12月31日"; ``year`` is the campaign's year.

    "X月底" is the last day of month X, "上旬 / 中旬 / 下旬" end on the 10th, 20th and the
    last day, a quarter ends on its last day, and "年内 / 年底" on 31 December. A report
    schedule (每月28日前, 每季度末, 每周五) may stand alone or beside the work's date or
    长期坚持, separated by a comma: "长期坚持，每月28日前报送".
    """
    compact = text_compact(text).rstrip("。;；")
    if not compact:
        raise DeadlineError(text, _("完成时限为空。"), code="empty_deadline")
    parts = [part for part in _PARTS.split(compact) if part]
    schedules = [schedule for schedule in map(_schedule, parts) if schedule is not None]
    if len(schedules) > 1:
        raise _unrecognised(text)
    if schedules:
        cadence, day, words = schedules[0]
        rest = [part for part in parts if _schedule(part) is None]
        if len(rest) > 1:
            raise _unrecognised(text)
        work = _work(text, rest[0], year) if rest else Deadline(due_date=None)
        wording = next(part for part in parts if _schedule(part) is not None)
        return Deadline(
            work.due_date, work.ongoing, recurring=words, cadence=cadence, day=day, wording=wording
        )
    return _work(text, compact, year)


def _work(text: str, compact: str, year: int) -> Deadline:
    """The work's own deadline: a date, or none (长期坚持)."""
    if compact in _ONGOING:
        return Deadline(due_date=None, ongoing=True)
    core = _SUFFIX.sub("", compact.removeprefix("于").removeprefix("在"))
    numeric = _NUMERIC_DATE.fullmatch(core)
    if numeric:
        return Deadline(_date(text, *(int(part) for part in numeric.groups())))
    year, core = _split_year(text, core, year)
    return Deadline(_date_in_year(text, core, year))


def _schedule(part: str) -> tuple[str, int | None, str] | None:
    """A report schedule's cadence, day and usual words, if ``part`` names one: 每月28日前,
    每月底, 每季度末, 每季度最后一个月20日前, 每周五. Days of the week are 1 (周一) to 7."""
    if match := _RECURRING.fullmatch(part):
        day = _int(match.group(1))
        if not 1 <= day <= 31:
            raise _invalid_date(part)
        return "monthly", day, f"每月{day}日"
    if _MONTHLY_END.fullmatch(part):
        return "monthly", 31, "每月底"
    if _QUARTERLY.fullmatch(part):
        return "quarterly", None, "每季度末"
    if match := _QUARTERLY_DAY.fullmatch(part):
        day = _int(match.group(1))
        if not 1 <= day <= 31:
            raise _invalid_date(part)
        return "quarterly", day, f"每季度最后一个月{day}日"
    if match := _WEEKLY.fullmatch(part):
        weekday = match.group(1)
        day = 7 if weekday in "日天" else _WEEKDAYS.index(weekday) + 1
        return "weekly", day, f"每周{weekday}"
    return None


def _split_year(text: str, core: str, year: int) -> tuple[int, str]:
    """The year a deadline names ("2025年", "明年"), else the campaign's, and the rest of it."""
    prefix = _YEAR_PREFIX.match(core)
    if prefix:
        digits, word = prefix.groups()
        year = int(digits) if digits else year + (1 if word in ("明年", "次年") else 0)
        return year, core[prefix.end() :]
    # "底" is a year end only after a year ("2025年底"); alone it names nothing.
    if core in ("底", "末", "内"):
        raise _unrecognised(text)
    return year, core


def _date_in_year(text: str, core: str, year: int) -> datetime.date:
    """A deadline within ``year``: "年底", "上半年", "三季度末", "10月底", "6月中旬", "11月30日"."""
    if core in _YEAR_END:
        return datetime.date(year, 12, 31)
    if core == "上半年":
        return datetime.date(year, 6, 30)
    if core == "下半年":
        return datetime.date(year, 12, 31)
    if match := _QUARTER.fullmatch(core):
        return _month_end(text, year, _int(match.group(1)) * 3)
    if match := _MONTH_END.fullmatch(core):
        return _month_end(text, year, _int(match.group(1)))
    if match := _TEN_DAYS.fullmatch(core):
        month, part = _int(match.group(1)), match.group(2)
        if part == "下":
            return _month_end(text, year, month)
        return _date(text, year, month, 10 if part == "上" else 20)
    if match := _DAY.fullmatch(core):
        return _date(text, year, _int(match.group(1)), _int(match.group(2)))
    raise _unrecognised(text)


def _int(text: str) -> int:
    """1–31 written in digits or in Chinese numerals (十, 十一, 二十, 三十一)."""
    if text.isdigit():
        return int(text)
    tens, _sep, units = text.rpartition("十")
    if "十" not in text:
        return _CHINESE_DIGITS.get(text, 0) if len(text) == 1 else 0
    value = (_CHINESE_DIGITS.get(tens, 0) if tens else 1) * 10
    return value + (_CHINESE_DIGITS.get(units, 0) if units else 0)


def _date(text: str, year: int, month: int, day: int) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise _invalid_date(text) from None


def _month_end(text: str, year: int, month: int) -> datetime.date:
    if not 1 <= month <= 12:
        raise _invalid_date(text)
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _invalid_date(text: str) -> DeadlineError:
    return DeadlineError(text, _("完成时限“%(text)s”不是有效日期。") % {"text": text}, code="invalid_date")


def _unrecognised(text: str) -> DeadlineError:
    return DeadlineError(
        text,
        _(
            "无法识别完成时限“%(text)s”，请写成“10月底前”“11月30日前”“2025年12月31日”“三季度末”或“长期坚持”等形式。"
        )
        % {"text": text},
    )


# Rectification lists write "fix it now" in the deadline column; only they may
# (``parse_rectification_deadline``): in a task table these words are not a deadline.
_IMMEDIATE = frozenset({"立行立改", "立即整改", "即知即改", "立查立改", "马上就改", "立即"})


def parse_rectification_deadline(text: str, year: int) -> Deadline:
    """A problem list's 整改时限: ``parse_deadline``'s forms, and "立行立改" (``immediate``)."""
    if text_compact(text).rstrip("。;；") in _IMMEDIATE:
        return Deadline(due_date=None, immediate=True)
    return parse_deadline(text, year)
