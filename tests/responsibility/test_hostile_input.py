"""A unit's aliases are a list of names, never NULL: found by fuzzing the API."""

import pytest

from tests.helpers import assert_error

# What the database itself refuses (numbers past its range, NULL), SQLite refuses its own way.
pytestmark = pytest.mark.sqlite


def test_a_units_aliases_cannot_be_set_to_null(api, world):
    unit = world.unit("义县")
    response = api.as_user("admin").patch(f"/api/v1/units/{unit.pk}/", {"aliases": None})
    assert_error(response, 400, "invalid", fields={"aliases"})
    unit.refresh_from_db()
    assert unit.aliases == []


def test_a_form_cannot_set_a_units_aliases_to_null(api, world):
    """The form's text "null" was once read as JSON and stored as NULL: a 500. The
    directories now take JSON only, where null is null and is refused."""
    unit = world.unit("义县")
    api.as_user("admin")
    response = api.patch(f"/api/v1/units/{unit.pk}/", {"aliases": "null"}, format="multipart")
    assert_error(response, 415, "unsupported_media_type")
    unit.refresh_from_db()
    assert unit.aliases == []


def test_a_units_aliases_are_a_list_of_names(api, world):
    unit = world.unit("市住建委")
    api.as_user("admin")
    assert_error(
        api.patch(f"/api/v1/units/{unit.pk}/", {"aliases": {"a": 1}}), 400, "invalid", fields={"aliases"}
    )
    response = api.patch(f"/api/v1/units/{unit.pk}/", {"aliases": ["住建局"]})
    assert response.status_code == 200
    assert response.json()["aliases"] == ["住建局"]


def test_a_subtree_filter_that_no_unit_can_match_is_refused(api, world):
    response = api.as_user("yi_member").get("/api/v1/units/", {"within": "1e30"})
    assert_error(response, 400, "invalid", fields={"within"})
