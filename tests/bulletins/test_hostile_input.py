"""Filters of the bulletin list that refuse what no bulletin can have: found by fuzzing the API."""

import pytest

from tests.helpers import assert_error

# What the database itself refuses (numbers past its range, NULL), SQLite refuses its own way.
pytestmark = pytest.mark.sqlite


@pytest.mark.parametrize("year", ["0", "1e30", "2018.5"])
def test_a_year_no_bulletin_can_have_is_refused(api, world, year):
    response = api.as_user("city_supervisor").get("/api/v1/bulletins/", {"year": year})
    assert_error(response, 400, "invalid", fields={"year"})


def test_the_bulletins_filter_by_year(api, world):
    response = api.as_user("city_supervisor").get("/api/v1/bulletins/", {"year": 2018})
    assert response.status_code == 200
    assert response.json()["results"] == []
