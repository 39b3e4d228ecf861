"""Filters of the calendar that refuse what no date can be: found by fuzzing the API."""

import datetime

import pytest

from tasks.models import CalendarDay
from tests.helpers import assert_error

# What the database itself refuses (numbers past its range, NULL), SQLite refuses its own way.
pytestmark = pytest.mark.sqlite


@pytest.mark.parametrize("year", ["0", "-1", "10000", "99999999999999999999"])
def test_a_year_no_date_can_have_is_refused(api, world, year):
    response = api.as_user("yi_member").get("/api/v1/calendar-days/", {"date__year": year})
    assert_error(response, 400, "invalid", fields={"date__year"})


def test_the_calendar_filters_by_year(api, world):
    CalendarDay.objects.create(date=datetime.date(2018, 10, 8), kind="holiday", name="国庆节")
    CalendarDay.objects.create(date=datetime.date(2019, 10, 7), kind="holiday", name="国庆节")
    response = api.as_user("yi_member").get("/api/v1/calendar-days/", {"date__year": 2018})
    assert response.status_code == 200
    assert [day["date"] for day in response.json()["results"]] == ["2018-10-08"]


@pytest.mark.parametrize("path", ["/api/v1/tasks/", "/api/v1/ledgers/tasks.xlsx"])
@pytest.mark.parametrize("name", ["parent", "unit"])
def test_an_id_filter_that_no_id_can_match_is_refused(api, world, path, name):
    response = api.as_user("yi_head").get(path, {name: "1e30"})
    assert_error(response, 400, "invalid", fields={name})
