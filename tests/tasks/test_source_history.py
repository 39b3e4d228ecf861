"""A source's history: its registration, every correction and its deletion, each with who and
when, read through ``/api/v1/sources/{id}/history/`` by whoever sees the source (and, once it
is deleted, by whoever sees its registering unit).

The source is the 批示 of tests/tasks/test_sources.py, registered by 市委督查室 with three files.
"""

import datetime

import pytest
import time_machine
from django.utils import translation
from rest_framework.test import APIClient

from core.models import AppendOnlyError
from tasks.models import SourceEvent
from tasks.services import sources_for_texts

from .test_sources import assert_error, register, task_body

pytestmark = pytest.mark.django_db
REGISTERED = datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC)


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
    with time_machine.travel(REGISTERED, tick=False):
        registered = register(api)
    assert registered.status_code == 201, registered.content
    return registered.json()


def history(api, username, source_id):
    return api.as_user(username).get(f"/api/v1/sources/{source_id}/history/")


def test_registration_and_each_correction_are_in_the_history(api, world, source, django_assert_num_queries):
    url = f"/api/v1/sources/{source['id']}/"
    with time_machine.travel(REGISTERED + datetime.timedelta(days=1), tick=False):
        corrected = api.as_user("city_supervisor").patch(
            url, {"kind": "meeting", "document_date": "2018-10-07", "title": source["title"]}, format="json"
        )
    assert corrected.status_code == 200, corrected.content
    # The same values again: nothing changes, nothing is recorded.
    again = api.as_user("city_supervisor").patch(url, {"kind": "meeting"}, format="json")
    assert again.status_code == 200, again.content

    api.as_user("city_head")
    # Memberships; the source seen; the page counted; the rows with their actors.
    with django_assert_num_queries(4):
        read = api.get(f"/api/v1/sources/{source['id']}/history/")

    assert read.status_code == 200, read.content
    events = read.json()["results"]
    assert [(e["action"], e["actor"]["full_name"], e["at"][:10]) for e in events] == [
        ("created", "李督查", "2018-10-08"),
        ("edited", "李督查", "2018-10-09"),
    ]
    created, edited = (e["data"] for e in events)
    assert created["fields"]["document_number"] == "锦市委办发〔2018〕12号"
    assert created["fields"]["kind"] == "instruction"
    assert created["files"] == ["批示件.pdf", "批示照片.png", "会议纪要.docx"]
    assert edited == {
        "changed": ["kind", "document_date"],
        "kind": ["instruction", "meeting"],
        "document_date": ["2018-10-06", "2018-10-07"],
    }
    # More rows, the same queries.
    for title in ("批示一", "批示二", "批示三"):
        api.as_user("city_supervisor").patch(url, {"title": title}, format="json")
    api.as_user("city_head")
    with django_assert_num_queries(4):
        assert len(api.get(f"/api/v1/sources/{source['id']}/history/").json()["results"]) == 5


def test_a_refused_correction_leaves_no_history(api, world, source):
    url = f"/api/v1/sources/{source['id']}/"
    assert_error(
        api.as_user("city_head").patch(url, {"title": "改"}, format="json"),
        403,
        "not_a_source_registrar",
        fields={"registered_by"},
    )
    assert_error(api.as_user("heishan_head").patch(url, {"title": "改"}, format="json"), 404, "not_found")
    assert_error(
        api.as_user("city_supervisor").patch(url, {"kind": "nonsense"}, format="json"),
        400,
        "invalid",
        fields={"kind"},
    )
    assert list(SourceEvent.objects.values_list("action", flat=True)) == ["created"]


def test_a_deleted_source_keeps_its_history_for_whoever_saw_its_unit(api, world, source):
    deleted = api.as_user("city_supervisor").delete(f"/api/v1/sources/{source['id']}/")
    assert deleted.status_code == 204, deleted.content

    read = history(api, "city_head", source["id"])

    assert read.status_code == 200, read.content
    events = read.json()["results"]
    assert [(e["action"], e["actor"]["full_name"]) for e in events] == [
        ("created", "李督查"),
        ("deleted", "李督查"),
    ]
    assert events[1]["data"]["fields"]["title"] == source["title"]
    assert events[1]["data"]["files"] == ["批示件.pdf", "批示照片.png", "会议纪要.docx"]
    # Never seen by 义县 nor 黑山县: missing to them, as the source was.
    assert_error(history(api, "yi_member", source["id"]), 404, "not_found")
    assert_error(history(api, "heishan_head", source["id"]), 404, "not_found")
    assert history(api, "admin", source["id"]).status_code == 200


def test_who_sees_the_source_through_a_task_reads_its_history_and_nobody_else(api, world, source):
    assert_error(history(api, "yi_member", source["id"]), 404, "not_found")
    created = api.as_user("city_head").post("/api/v1/tasks/", task_body(world, source["id"]), format="json")
    assert created.status_code == 201, created.content

    assert [e["action"] for e in history(api, "yi_member", source["id"]).json()["results"]] == ["created"]
    assert_error(history(api, "heishan_head", source["id"]), 404, "not_found")
    assert_error(history(api, "city_head", 999999), 404, "not_found")
    assert APIClient().get(f"/api/v1/sources/{source['id']}/history/").status_code == 401


def test_sources_registered_from_a_table_have_their_registration(world):
    found = sources_for_texts(
        actor=world.person("city_head"),
        registered_by=world.unit("锦州市"),
        texts=["抽查暗访", "市委书记批示"],
    )

    events = SourceEvent.objects.order_by("pk")
    assert sorted(event.source_id for event in events) == sorted(source.pk for source in found.values())
    assert {(event.action, event.actor, event.registered_by) for event in events} == {
        ("created", world.person("city_head"), world.unit("锦州市"))
    }
    assert all(event.data["from_table"] for event in events)
    # Found again: no second registration.
    sources_for_texts(actor=world.person("city_head"), registered_by=world.unit("锦州市"), texts=["抽查暗访"])
    assert events.count() == 2
    with pytest.raises(AppendOnlyError):
        events.first().delete()
