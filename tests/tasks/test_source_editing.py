"""A registered source is corrected (PATCH) by whoever may register sources for its unit, and
deleted only while no task was made from it.

The source is the 批示 of tests/tasks/test_sources.py, registered by 市委督查室 with three files.
"""

import datetime

import pytest
import time_machine
from django.utils import translation

from tasks.models import SourceAttachment, TaskSource

from .test_sources import assert_error, register, task_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def default_language():
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def api(api, world):
    api.world = world
    return api


@pytest.fixture
def source(api) -> dict:
    registered = register(api)
    assert registered.status_code == 201, registered.content
    return registered.json()


def test_the_office_corrects_a_source_and_its_task_shows_it(api, world, source, django_assert_num_queries):
    created = api.as_user("city_head").post("/api/v1/tasks/", task_body(world, source["id"]), format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/sources/{source['id']}/"
    body = {"kind": "meeting", "document_number": " 锦市委办发〔2018〕13号 ", "document_date": "2018-10-07"}
    api.as_user("city_supervisor")
    # Memberships; savepoint; the source seen; locked with its unit; update; its history row;
    # release; the answer: the source, its files.
    with django_assert_num_queries(9):
        corrected = api.patch(url, body, format="json")
    assert corrected.status_code == 200, corrected.content
    answer = corrected.json()
    assert (answer["kind"], answer["document_number"], answer["document_date"]) == (
        "meeting",
        "锦市委办发〔2018〕13号",
        "2018-10-07",
    )
    assert (answer["title"], answer["registered_by"]["name"], len(answer["attachments"])) == (
        source["title"],
        "市委督查室",
        3,
    )
    shown = api.as_user("yi_member").get(f"/api/v1/tasks/{created.json()['id']}/").json()["source"]
    assert shown == answer
    # Its text emptied, the files still say what it is.
    emptied = api.as_user("city_supervisor").patch(
        url, {"title": "", "original_text": "", "document_number": ""}, format="json"
    )
    assert emptied.status_code == 200, emptied.content


@pytest.mark.parametrize(
    ("username", "body", "status_code", "code", "fields"),
    [
        ("city_head", {"title": "改"}, 403, "not_a_source_registrar", {"registered_by"}),
        ("yi_head", {"title": "改"}, 404, "not_found", None),
        ("heishan_head", {"title": "改"}, 404, "not_found", None),
        ("city_supervisor", {"kind": "rumour"}, 400, "invalid", {"kind"}),
        ("city_supervisor", {"registered_by": "义县"}, 400, "field_locked", {"registered_by"}),
    ],
)
def test_refused_corrections_change_nothing(api, world, source, username, body, status_code, code, fields):
    if body.get("registered_by"):
        body = {"registered_by": world.unit(body["registered_by"]).pk}
    response = api.as_user(username).patch(f"/api/v1/sources/{source['id']}/", body, format="json")
    assert_error(response, status_code, code, fields=fields)
    assert api.as_user("city_supervisor").get(f"/api/v1/sources/{source['id']}/").json() == source


def test_a_source_without_files_keeps_some_text(api, world):
    bare = register(api, files=[]).json()
    url = f"/api/v1/sources/{bare['id']}/"
    emptied = api.as_user("city_supervisor").patch(
        url, {"title": " ", "original_text": "", "document_number": ""}, format="json"
    )
    assert_error(emptied, 400, "required", fields={"title"})
    assert TaskSource.objects.get(pk=bare["id"]).title == bare["title"]


def test_a_county_head_corrects_the_source_its_county_registered(api, world):
    own = register(api, "yi_head", registered_by=world.unit("义县").pk, files=[]).json()
    response = api.as_user("yi_head").patch(
        f"/api/v1/sources/{own['id']}/", {"title": "义县批示"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert_error(
        api.as_user("yi_member").patch(f"/api/v1/sources/{own['id']}/", {"title": "x"}, format="json"),
        403,
        "not_a_source_registrar",
        fields={"registered_by"},
    )


def test_a_source_no_task_was_made_from_is_deleted_with_its_files(
    api, world, source, media_root, django_assert_num_queries, django_capture_on_commit_callbacks
):
    stored = [media_root / a.file.name for a in SourceAttachment.objects.filter(source_id=source["id"])]
    assert stored and all(path.is_file() for path in stored)
    url = f"/api/v1/sources/{source['id']}/"
    assert_error(
        api.as_user("city_head").delete(url), 403, "not_a_source_registrar", fields={"registered_by"}
    )
    assert_error(api.as_user("heishan_head").delete(url), 404, "not_found")
    api.as_user("city_supervisor")
    # Memberships; savepoint; the source seen; locked with its unit; a task made from it?; its
    # files read, its history row, the files deleted (read, then deleted by id); the source
    # deleted; release.
    with django_assert_num_queries(12), django_capture_on_commit_callbacks(execute=True):
        deleted = api.delete(url)
    assert deleted.status_code == 204, deleted.content
    assert not TaskSource.objects.filter(pk=source["id"]).exists()
    assert not SourceAttachment.objects.filter(source_id=source["id"]).exists()
    assert not any(path.exists() for path in stored)
    assert_error(api.get(url), 404, "not_found")


def test_a_source_a_task_was_made_from_is_not_deleted(api, world, source):
    created = api.as_user("city_head").post("/api/v1/tasks/", task_body(world, source["id"]), format="json")
    assert created.status_code == 201, created.content
    refused = api.as_user("city_supervisor").delete(f"/api/v1/sources/{source['id']}/")
    assert_error(refused, 409, "source_in_use")
    assert TaskSource.objects.filter(pk=source["id"]).exists()
    assert SourceAttachment.objects.filter(source_id=source["id"]).count() == 3
