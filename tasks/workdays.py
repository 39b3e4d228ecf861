"""Working-day arithmetic under the Chinese holiday calendar.

Which days are worked is decided, in order, by:
1. a day the office entered (``CalendarDay``): a holiday, or a moved working day (调休);
2. the ``chinesecalendar`` package, for the years it knows (up to 2026);
3. Monday to Friday, with a logged warning when nobody has entered that year.
The State Council publishes each year's arrangement in the autumn; until the office
enters it, rule 3 is a guess and the warning says so.
"""

import datetime
import logging
from collections.abc import Iterable

import chinese_calendar

from core.db import CompiledRows

from .models import CalendarDay, CalendarDayKind

logger = logging.getLogger(__name__)

# A holiday run never exceeds a couple of weeks; the bound guards against bad data.
MAX_SCAN_DAYS = 3660


# The office's entries for some years, read whenever a date is counted in working days (a
# task submitted, signed for, closed): compiled once (bench/FIXES.md).
_ENTERED = CompiledRows(lambda years: CalendarDay.objects.filter(date__year__in=years).values("date", "kind"))


class WorkCalendar:
    """A snapshot of the office's entries for the years one computation touches."""

    def __init__(self, years: Iterable[int]):
        self.years = set(years)
        self.overrides: dict[datetime.date, bool] = {}
        self.entered_years: set[int] = set()
        self._warned: set[int] = set()
        self._load(self.years)

    def _load(self, years: set[int]) -> None:
        ordered = sorted(years)
        for row in _ENTERED.rows((), ", ".join(["%s"] * len(ordered)), ordered):
            day = row["date"]
            self.overrides[day] = row["kind"] == CalendarDayKind.WORKDAY
            self.entered_years.add(day.year)

    def _ensure_year(self, year: int) -> None:
        if year not in self.years:
            self.years.add(year)
            self._load({year})

    def is_workday(self, day: datetime.date) -> bool:
        self._ensure_year(day.year)
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self.entered_years and day.year not in self._warned:
                self._warned.add(day.year)
                logger.warning(
                    "No holiday arrangement entered for %s: counting Monday to Friday as "
                    "working days. Enter the State Council's notice for that year as an "
                    "administrator: one POST /api/v1/calendar-days/ per day it changes, "
                    '{"date": "%s-MM-DD", "kind": "holiday" or "workday" (调休上班), "name": ...} '
                    "(README, A task's life).",
                    day.year,
                    day.year,
                )
            return day.weekday() < 5

    def add_working_days(self, day: datetime.date, count: int) -> datetime.date:
        """The ``count``-th working day after ``day`` (before it, for a negative count)."""
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        scanned = 0
        while remaining:
            day += datetime.timedelta(days=step)
            scanned += 1
            if scanned > MAX_SCAN_DAYS:
                raise ValueError("No working day found within ten years.")
            if self.is_workday(day):
                remaining -= 1
        return day

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        if (end - start).days > MAX_SCAN_DAYS:
            raise ValueError("Range too long.")
        return sum(
            self.is_workday(start + datetime.timedelta(days=offset))
            for offset in range(1, (end - start).days + 1)
        )

    def workday_on_or_after(self, day: datetime.date) -> datetime.date:
        return day if self.is_workday(day) else self.add_working_days(day, 1)


def calendar_for(*days: datetime.date) -> WorkCalendar:
    return WorkCalendar({day.year for day in days} | {day.year + 1 for day in days})


def add_working_days(day: datetime.date, count: int) -> datetime.date:
    return calendar_for(day).add_working_days(day, count)


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    return calendar_for(start, end).working_days_between(start, end)


def plan_backwards(deadline: datetime.date, durations: list[int]) -> list[datetime.date]:
    """Due dates for consecutive steps, planned back from the final deadline (倒排工期).

    ``durations`` are the working days each step needs, in order; the last step is due on
    the deadline (or the working day before it, if the deadline is not worked) and each
    earlier step is due when the following one must start.
    """
    calendar = calendar_for(deadline, deadline - datetime.timedelta(days=366))
    due = deadline if calendar.is_workday(deadline) else calendar.add_working_days(deadline, -1)
    dates = []
    for duration in reversed(durations):
        dates.append(due)
        due = calendar.add_working_days(due, -duration)
    return list(reversed(dates))


def holiday_arrangement_known(year: int) -> bool:
    """Whether working days of ``year`` follow a holiday notice: entered by the office, or
    known to the ``chinesecalendar`` package; otherwise they are a Monday-to-Friday guess."""
    if CalendarDay.objects.filter(date__year=year).exists():
        return True
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True
