"""Pages and page sizes are positive integers, as the schema says; ids start at 1."""

import pytest

from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(world, make_task):
    return [make_task(f"任务{n}") for n in range(3)]


@pytest.mark.parametrize("name", ["page", "page_size"])
@pytest.mark.parametrize("value", ["0", "-1", "null", "", "abc", "1.5", "+1", " 2", "１"])
def test_a_page_or_page_size_below_one_or_not_an_integer_is_a_400(api, tasks, name, value):
    response = api.as_user("city_head").get("/api/v1/tasks/", {name: value})
    assert_error(response, 400, "invalid", fields={name})


def test_a_list_without_filters_refuses_them_too(api, tasks):
    response = api.as_user("city_head").get(f"/api/v1/tasks/{tasks[0].pk}/history/", {"page_size": "0"})
    assert_error(response, 400, "invalid", fields={"page_size"})


def test_pages_within_range_are_served_and_past_the_last_is_a_404(api, tasks):
    client = api.as_user("city_head")
    first = client.get("/api/v1/tasks/", {"page": "1", "page_size": "2"})
    assert first.status_code == 200
    assert len(first.json()["results"]) == 2
    assert len(client.get("/api/v1/tasks/", {"page": "2", "page_size": "2"}).json()["results"]) == 1
    assert_error(client.get("/api/v1/tasks/", {"page": "3", "page_size": "2"}), 404, "not_found", strict=True)
    assert_error(client.get("/api/v1/tasks/", {"page": "last"}), 400, "invalid", fields={"page"})


def test_a_page_size_above_the_largest_is_the_largest(api, tasks):
    response = api.as_user("city_head").get("/api/v1/tasks/", {"page_size": "100000"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/schema/", {"format": "json"}).json()


def test_the_schema_declares_pages_and_ids_from_one(schema):
    paginated, ids = 0, 0
    for methods in schema["paths"].values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in {"page", "page_size"} and parameter["in"] == "query":
                    assert parameter["schema"] == {"type": "integer", "minimum": 1}
                    assert "400" in operation["responses"]
                    paginated += 1
                elif parameter["in"] == "path" and parameter["schema"]["type"] == "integer":
                    assert parameter["schema"]["minimum"] == 1
                    ids += 1
    assert paginated > 20
    assert ids > 30
