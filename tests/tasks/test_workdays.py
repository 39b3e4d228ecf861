"""Working days under the Chinese holiday calendar, with the office's own entries on top."""

import datetime
import logging

import pytest

from tasks.models import CalendarDay, CalendarDayKind
from tasks.workdays import (
    WorkCalendar,
    add_working_days,
    calendar_for,
    plan_backwards,
    working_days_between,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def test_the_first_working_day_after_national_day_2025_is_the_ninth():
    # 1–8 October 2025 are holidays (National Day and Mid-Autumn together).
    assert add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)


def test_a_moved_working_day_counts_although_it_is_a_sunday():
    # Sunday 28 September 2025 was worked in exchange for the holiday.
    assert D(2025, 9, 28).weekday() == 6
    assert calendar_for(D(2025, 9, 28)).is_workday(D(2025, 9, 28))
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)


def test_an_ordinary_weekend_is_skipped():
    assert add_working_days(D(2025, 9, 19), 1) == D(2025, 9, 22)
    assert add_working_days(D(2025, 9, 22), 0) == D(2025, 9, 22)


def test_negative_counts_go_backwards_across_the_holiday():
    assert add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert add_working_days(D(2025, 9, 29), -1) == D(2025, 9, 28)


def test_an_office_holiday_wins_over_the_built_in_calendar():
    CalendarDay.objects.create(date=D(2025, 10, 9), kind=CalendarDayKind.HOLIDAY, name="本地调整")
    assert add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 10)


def test_an_office_working_day_wins_over_the_built_in_calendar():
    CalendarDay.objects.create(date=D(2025, 10, 8), kind=CalendarDayKind.WORKDAY, name="防汛值守")
    assert add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 8)


def test_working_days_between_counts_the_half_open_interval():
    # (26 Sep, 10 Oct]: Sunday 28th, 29th, 30th, then 9th and 10th after the holiday.
    assert working_days_between(D(2025, 9, 26), D(2025, 10, 10)) == 5
    assert working_days_between(D(2025, 10, 10), D(2025, 9, 26)) == -5
    assert working_days_between(D(2025, 10, 1), D(2025, 10, 8)) == 0
    assert working_days_between(D(2025, 10, 9), D(2025, 10, 9)) == 0


def test_working_days_between_and_add_working_days_agree():
    start = D(2018, 9, 28)
    for count in range(1, 15):
        end = add_working_days(start, count)
        assert working_days_between(start, end) == count


def test_plan_backwards_for_the_exit_procedure_due_30_november_2018():
    # 入户核查 → 民主评议 → 两公示一公告 → 销号, needing 5, 3, 5 and 2 working days.
    dates = plan_backwards(D(2018, 11, 30), [5, 3, 5, 2])
    assert dates == [D(2018, 11, 16), D(2018, 11, 21), D(2018, 11, 28), D(2018, 11, 30)]


def test_plan_backwards_moves_a_deadline_on_a_holiday_to_the_working_day_before():
    dates = plan_backwards(D(2025, 10, 1), [2, 1])
    assert dates == [D(2025, 9, 29), D(2025, 9, 30)]


def test_plan_backwards_crosses_the_national_day_holiday():
    # From 10 October 2018 back: 9th, 8th, then 30 and 29 September (a weekend worked).
    assert plan_backwards(D(2018, 10, 10), [1, 4]) == [D(2018, 9, 29), D(2018, 10, 10)]


def test_a_year_beyond_the_built_in_calendar_falls_back_to_monday_to_friday(caplog):
    calendar = WorkCalendar({2099})
    with caplog.at_level(logging.WARNING, logger="tasks.workdays"):
        # Friday 1 May 2099 would be Labour Day, but nobody has entered 2099 yet.
        assert calendar.is_workday(D(2099, 5, 1))
        assert not calendar.is_workday(D(2099, 5, 2))
        assert calendar.add_working_days(D(2099, 5, 1), 1) == D(2099, 5, 4)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "2099" in r.getMessage()]
    # One warning per year and calendar, not one per day looked at.
    assert len(warnings) == 1
    # It says where the notice is entered.
    assert "POST /api/v1/calendar-days/" in warnings[0].getMessage()
    assert '"date": "2099-MM-DD"' in warnings[0].getMessage()


def test_a_year_the_office_entered_is_used_without_a_warning(caplog):
    CalendarDay.objects.create(date=D(2099, 5, 1), kind=CalendarDayKind.HOLIDAY, name="劳动节")
    with caplog.at_level(logging.WARNING, logger="tasks.workdays"):
        assert add_working_days(D(2099, 4, 30), 1) == D(2099, 5, 4)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_a_calendar_loads_office_entries_for_years_it_reaches_later():
    CalendarDay.objects.create(date=D(2099, 1, 5), kind=CalendarDayKind.HOLIDAY, name="本地调整")
    calendar = calendar_for(D(2097, 12, 31))
    assert 2099 not in calendar.years
    assert not calendar.is_workday(D(2099, 1, 5))
    assert calendar.is_workday(D(2099, 1, 6))
