"""The task API: status codes, who may do what, the error body, and fixed query counts.

The clock stands on Monday 8 October 2018, the first working day after the National Day
holiday, in the middle of the "百日攻坚" campaign.
"""

import datetime
import hashlib
import json
import struct
import zlib
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from core.models import IdempotencyRecord
from tasks.models import (
    Attachment,
    CalendarDay,
    Campaign,
    ExtensionRequest,
    ExtensionState,
    Indicator,
    ProgressReport,
    Task,
    TaskEvent,
    TaskScope,
    TaskState,
)
from tasks.services import IndicatorSpec, StepSpec, extension_request_create, task_transition
from tests.helpers import assert_error as shared_assert_error

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2018, 10, 8)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def default_language():
    yield
    # LocaleMiddleware leaves the last request's language active in the thread.
    translation.deactivate()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def assert_error(response, status_code: int, code: str, *, fields: set[str] | None = None) -> dict:
    return shared_assert_error(response, status_code, code, fields=fields, strict=True)


def tiny_png() -> bytes:
    """A valid 1×1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


TINY_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def act(world, username: str, task: Task, name: str, comment: str = "") -> Task:
    return task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)


def event_count(task: Task) -> int:
    return TaskEvent.objects.filter(task=task).count()


@pytest.fixture
def housing(world, make_task) -> Task:
    """危房改造, issued by the city to 义县 and signed for: in progress."""
    task = make_task("危房改造", number="3")
    return act(world, "yi_head", task, "accept")


@pytest.fixture
def spread(world, make_task) -> dict[str, Task]:
    """Tasks in every light: green, yellow, red, a draft, and a split child."""
    tasks = {
        "green": make_task("危房改造", lead_unit="义县", due_date=datetime.date(2018, 11, 30)),
        "yellow": make_task(
            "饮水安全",
            lead_unit="七里河镇",
            due_date=datetime.date(2018, 10, 10),
            kind="target",
            indicators=[IndicatorSpec(name="安全饮水户数", target=Decimal(120), unit_of_measure="户")],
        ),
        "red": make_task("产业扶贫", lead_unit="黑山县", due_date=datetime.date(2018, 10, 5)),
        "draft": make_task(
            "易地扶贫搬迁", lead_unit="大榆树堡村", due_date=datetime.date(2018, 10, 1), assign=False
        ),
        "housing_dept": make_task(
            "农村住房安全鉴定",
            lead_unit="市住建委",
            due_date=datetime.date(2018, 12, 10),
            cooperating_units=[world.unit("芳山镇")],
        ),
    }
    act(world, "qilihe_head", tasks["yellow"], "accept")
    return tasks


def titles(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["title"] for row in response.json()["results"]}


# Unauthenticated


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/tasks/"),
        ("post", "/api/v1/tasks/"),
        ("get", "/api/v1/tasks/1/"),
        ("patch", "/api/v1/tasks/1/"),
        ("get", "/api/v1/tasks/1/transitions/"),
        ("post", "/api/v1/tasks/1/transitions/accept/"),
        ("post", "/api/v1/tasks/1/decompose/"),
        ("get", "/api/v1/tasks/1/reports/"),
        ("post", "/api/v1/tasks/1/steps/1/complete/"),
        ("post", "/api/v1/tasks/1/extensions/"),
        ("post", "/api/v1/extensions/1/decision/"),
        ("get", "/api/v1/tasks/1/history/"),
        ("get", "/api/v1/attachments/1/"),
        ("get", "/api/v1/campaigns/"),
        ("get", "/api/v1/calendar-days/"),
    ],
)
def test_anonymous_callers_get_401_and_nothing_else(api, make_task, method, path):
    make_task()
    api.as_user(None)
    response = getattr(api, method)(path, {}, format="json") if method != "get" else api.get(path)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


# List


def test_list_is_paginated_and_shaped(api, spread):
    response = api.as_user("city_head").get("/api/v1/tasks/", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"] is not None
    row = body["results"][0]
    # Ordered by due date: the draft due 1 October comes first.
    assert row["title"] == "易地扶贫搬迁"
    assert row["issuing_unit"]["name"] == "锦州市"
    assert row["lead_unit"]["name"] == "大榆树堡村"
    assert row["responsible_units"] == [row["lead_unit"]]
    assert row["campaign"]["name"] == '精准脱贫"百日攻坚行动"'


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("city_head", {"危房改造", "饮水安全", "产业扶贫", "易地扶贫搬迁", "农村住房安全鉴定"}),
        ("city_supervisor", {"危房改造", "饮水安全", "产业扶贫", "易地扶贫搬迁", "农村住房安全鉴定"}),
        # 易地扶贫搬迁 is the city's draft for 大榆树堡村: not issued yet, the county does not see it.
        ("yi_head", {"危房改造", "饮水安全"}),
        ("yi_supervisor", {"危房改造", "饮水安全"}),
        ("qilihe_head", {"饮水安全"}),
        ("village_b_head", set()),
        ("heishan_member", {"产业扶贫", "农村住房安全鉴定"}),
        ("housing_member", {"农村住房安全鉴定"}),
        ("leader", set()),
    ],
)
def test_list_shows_only_tasks_in_the_callers_subtrees(api, spread, username, expected):
    assert titles(api.as_user(username).get("/api/v1/tasks/")) == expected


def test_a_leader_sees_the_tasks_they_lead_and_no_others(api, world, make_task, spread):
    make_task("光伏扶贫", lead_leader=world.person("leader"))
    assert titles(api.as_user("leader").get("/api/v1/tasks/")) == {"光伏扶贫"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "draft"}, {"易地扶贫搬迁"}),
        ({"state": ["in_progress", "draft"]}, {"饮水安全", "易地扶贫搬迁"}),
        ({"kind": "target"}, {"饮水安全"}),
        ({"overdue": "true"}, {"产业扶贫"}),
        ({"overdue": "false"}, {"危房改造", "饮水安全", "易地扶贫搬迁", "农村住房安全鉴定"}),
        ({"light": "red"}, {"产业扶贫"}),
        ({"light": "yellow"}, {"饮水安全"}),
        ({"light": "green"}, {"危房改造", "农村住房安全鉴定"}),
        ({"unit": "七里河镇"}, {"饮水安全", "易地扶贫搬迁"}),
        ({"unit": "黑山县"}, {"产业扶贫", "农村住房安全鉴定"}),
        ({"unit": "王家屯村"}, set()),
        ({"due_after": "2018-10-05", "due_before": "2018-10-10"}, {"产业扶贫", "饮水安全"}),
        ({"due_before": "2018-10-01"}, {"易地扶贫搬迁"}),
        ({"due_after": "2018-12-10"}, {"农村住房安全鉴定"}),
        ({"top_level": "true"}, {"危房改造", "饮水安全", "产业扶贫", "易地扶贫搬迁", "农村住房安全鉴定"}),
    ],
)
def test_list_filters(api, world, spread, query, expected):
    if "unit" in query:
        query = {**query, "unit": world.unit(query["unit"]).pk}
    assert titles(api.as_user("city_head").get("/api/v1/tasks/", query)) == expected


def test_the_lights_shown_match_the_light_filter(api, spread):
    rows = api.as_user("city_head").get("/api/v1/tasks/").json()["results"]
    lights = {row["title"]: (row["light"], row["overdue"]) for row in rows}
    assert lights == {
        "易地扶贫搬迁": (None, False),
        "产业扶贫": ("red", True),
        "饮水安全": ("yellow", False),
        "危房改造": ("green", False),
        "农村住房安全鉴定": ("green", False),
    }


def test_top_level_and_parent_filters_tell_split_work_apart(api, world, spread):
    api.as_user("yi_head")
    task = spread["green"]
    act(world, "yi_head", task, "accept")
    split = api.post(
        f"/api/v1/tasks/{task.pk}/decompose/",
        {
            "children": [
                {
                    "lead_unit": world.unit("王家屯村").pk,
                    "title": "王家屯村危房改造",
                    "due_date": "2018-11-20",
                }
            ]
        },
        format="json",
    )
    assert split.status_code == 201, split.content
    api.as_user("city_head")
    assert titles(api.get("/api/v1/tasks/", {"top_level": "false"})) == {"王家屯村危房改造"}
    assert "王家屯村危房改造" not in titles(api.get("/api/v1/tasks/", {"top_level": "true"}))
    assert titles(api.get("/api/v1/tasks/", {"parent": task.pk})) == {"王家屯村危房改造"}
    assert "王家屯村危房改造" in titles(api.get("/api/v1/tasks/", {"unit": world.unit("七里河镇").pk}))


def test_a_unit_filter_on_an_unknown_unit_finds_nothing(api, spread):
    assert titles(api.as_user("city_head").get("/api/v1/tasks/", {"unit": 987654})) == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"state": "finished"}, "state"),
        ({"kind": "campaign"}, "kind"),
        ({"light": "blue"}, "light"),
        ({"due_after": "十月八日"}, "due_after"),
    ],
)
def test_list_refuses_bad_filter_values(api, spread, query, field):
    response = api.as_user("city_head").get("/api/v1/tasks/", query)
    assert_error(response, 400, "invalid", fields={field})


@pytest.mark.parametrize("field", ["due_after", "due_before"])
def test_a_filter_date_that_does_not_exist_is_named_as_such(api, spread, field):
    response = api.as_user("city_head").get("/api/v1/tasks/", {field: "2026-02-30"})

    body = assert_error(response, 400, "invalid", fields={field})
    assert body["fields"][field] == ["“2026-02-30”这一天不存在：2026年2月只有 28 天。"]


def test_a_body_date_that_does_not_exist_is_named_as_such_and_a_bad_form_as_a_format_error(
    api, world, housing
):
    client = api.as_user("yi_head")
    url = f"/api/v1/tasks/{housing.pk}/extensions/"

    missing = client.post(url, {"requested_due_date": "2018-11-31", "reason": "雨季"}, format="json")
    body = assert_error(missing, 400, "invalid", fields={"requested_due_date"})
    assert body["fields"]["requested_due_date"] == ["“2018-11-31”这一天不存在：2018年11月只有 30 天。"]
    malformed = client.post(url, {"requested_due_date": "11月31日", "reason": "雨季"}, format="json")
    body = assert_error(malformed, 400, "invalid", fields={"requested_due_date"})
    assert "格式" in body["fields"]["requested_due_date"][0]
    assert not housing.extension_requests.exists()


def _busy_tasks(world, make_task, count: int) -> None:
    fast = Campaign.objects.create(
        name="厕所革命",
        issuing_unit=world.unit("锦州市"),
        starts_on=datetime.date(2018, 9, 1),
        ends_on=datetime.date(2018, 12, 31),
        yellow_working_days=5,
    )
    for n in range(count):
        task = make_task(
            f"第{n + 1}项攻坚任务",
            kind="target",
            due_date=datetime.date(2018, 10, 1) + datetime.timedelta(days=n * 3),
            lead_leader=world.person("leader"),
            responsible_person=world.person("yi_member"),
            responsible_units=[world.unit("七里河镇"), world.unit("王家屯村")],
            cooperating_units=[world.unit("市住建委")],
            indicators=[
                IndicatorSpec(name="危房改造", target=Decimal(950), unit_of_measure="户"),
                IndicatorSpec(name="饮水安全", target=Decimal(120), unit_of_measure="户"),
            ],
        )
        if n % 2:
            Task.objects.filter(pk=task.pk).update(campaign=fast)


def test_the_list_costs_the_same_queries_for_one_task_or_fifty(
    api, world, make_task, django_assert_num_queries
):
    _busy_tasks(world, make_task, 12)
    # Memberships, count, page, units of the page, indicators of the page, holiday calendar.
    for page_size in (1, 50):
        api.as_user("yi_head")
        with django_assert_num_queries(6):
            response = api.get("/api/v1/tasks/", {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(page_size, 12)


def test_a_list_by_light_reads_the_holiday_calendar_once(api, world, make_task, django_assert_num_queries):
    _busy_tasks(world, make_task, 12)
    # Memberships, the campaigns' warning days, count, page, units of the page, indicators of
    # the page, and the holiday calendar once for the filter and the lights shown.
    for light in ("green", "yellow", "red"):
        api.as_user("yi_head")
        with django_assert_num_queries(7):
            response = api.get("/api/v1/tasks/", {"light": light, "page_size": 50})
        assert response.status_code == 200
        assert {task["light"] for task in response.json()["results"]} <= {light}


def test_the_detail_costs_a_fixed_number_of_queries(api, world, make_task, django_assert_num_queries):
    plain = make_task("宣传发动")
    _busy_tasks(world, make_task, 1)
    busy = Task.objects.get(title="第1项攻坚任务")
    steps = make_task(
        "扶贫资金审计",
        kind="procedure",
        steps=[StepSpec(name=f"第{n}步", due_date=datetime.date(2018, 10, 20 + n)) for n in range(1, 6)],
    )
    # Memberships, the task, its units, indicators, steps, holiday calendar.
    for task in (plain, busy, steps):
        api.as_user("yi_head")
        with django_assert_num_queries(6):
            response = api.get(f"/api/v1/tasks/{task.pk}/")
        assert response.status_code == 200
        assert response.json()["id"] == task.pk


# Detail


def test_detail_shows_a_visible_task_with_its_steps(api, world, make_task):
    task = make_task(
        "扶贫资金审计",
        kind="procedure",
        steps=[
            StepSpec(name="制定方案", due_date=datetime.date(2018, 10, 15)),
            StepSpec(name="现场审计", due_date=datetime.date(2018, 11, 15)),
        ],
    )
    response = api.as_user("yi_member").get(f"/api/v1/tasks/{task.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "assigned"
    assert [step["name"] for step in body["steps"]] == ["制定方案", "现场审计"]
    assert body["light"] == "green"


def test_an_invisible_task_is_indistinguishable_from_a_missing_one(api, make_task):
    task = make_task()
    api.as_user("heishan_head")
    hidden = api.get(f"/api/v1/tasks/{task.pk}/")
    missing = api.get("/api/v1/tasks/987654/")
    assert_error(hidden, 404, "not_found")
    assert hidden.json() == missing.json()
    for suffix in ("transitions/", "history/", "reports/", "extensions/"):
        assert_error(api.get(f"/api/v1/tasks/{task.pk}/{suffix}"), 404, "not_found")


# Create


def _new_task(world, **extra) -> dict:
    return {
        "campaign": world.campaign.pk,
        "title": "贫困户“两不愁三保障”排查",
        "issuing_unit": world.unit("锦州市").pk,
        "lead_unit": world.unit("义县").pk,
        "due_date": "2018-11-15",
        **extra,
    }


def test_create_a_draft_target_task(api, world):
    payload = _new_task(
        world,
        kind="target",
        number="7",
        responsible_units=[world.unit("黑山县").pk],
        cooperating_units=[world.unit("市住建委").pk],
        indicators=[{"name": "排查户数", "target": "3200", "unit_of_measure": "户"}],
    )
    response = api.as_user("city_head").post("/api/v1/tasks/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "draft"
    assert body["light"] is None
    assert [u["name"] for u in body["responsible_units"]] == ["义县", "黑山县"]
    assert [u["name"] for u in body["cooperating_units"]] == ["市住建委"]
    assert body["indicators"][0]["target"] == "3200.0000"
    task = Task.objects.get(pk=body["id"])
    assert list(task.events.values_list("action", flat=True)) == ["created"]


def test_create_and_issue_at_once(api, world):
    response = api.as_user("city_head").post("/api/v1/tasks/", _new_task(world, assign=True), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "assigned"
    assert response.json()["assigned_at"] is not None


def test_only_the_issuing_units_head_may_create(api, world):
    response = api.as_user("yi_head").post("/api/v1/tasks/", _new_task(world), format="json")
    assert_error(response, 403, "permission_denied")
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code", "fields"),
    [
        ({"title": "", "due_date": "明年"}, "invalid", {"title", "due_date"}),
        ({"campaign": 987654}, "invalid", {"campaign"}),
        ({"kind": "target"}, "indicators_required", {"indicators"}),
        ({"kind": "procedure"}, "steps_required", {"steps"}),
        (
            {"steps": [{"name": "入户核查", "due_date": "2018-11-30"}]},
            "steps_out_of_order",
            {"steps"},
        ),
        ({"indicators": [{"name": "户数", "target": "-1"}]}, "invalid", {"indicators"}),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(api, world, changes, code, fields):
    response = api.as_user("city_head").post("/api/v1/tasks/", _new_task(world, **changes), format="json")
    assert_error(response, 400, code, fields=fields)
    assert not Task.objects.exists()
    assert not TaskEvent.objects.exists()


def test_ongoing_work_is_created_without_a_date_and_falls_due_at_the_campaigns_end(api, world):
    payload = _new_task(world, ongoing=True)
    del payload["due_date"]
    response = api.as_user("city_head").post("/api/v1/tasks/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["ongoing"], body["due_date"]) == (True, "2018-12-10")
    task = Task.objects.get(pk=body["id"])
    assert task.ongoing and task.due_date == task.original_due_date == world.campaign.ends_on
    assert all(TaskScope.objects.filter(task=task).values_list("ongoing", flat=True))
    assert api.get(f"/api/v1/tasks/{task.pk}/").json()["ongoing"] is True
    listed = api.get("/api/v1/tasks/").json()["results"]
    assert [item["ongoing"] for item in listed] == [True]


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"ongoing": True}, "ongoing_has_no_date"), ({"due_date": None}, "required")],
)
def test_ongoing_work_takes_no_date_and_other_work_needs_one(api, world, changes, code):
    response = api.as_user("city_head").post("/api/v1/tasks/", _new_task(world, **changes), format="json")
    assert_error(response, 400, code, fields={"due_date"})
    assert not Task.objects.exists()


def test_create_refuses_a_unit_both_responsible_and_cooperating_and_rolls_back(api, world):
    payload = _new_task(world, cooperating_units=[world.unit("义县").pk])
    response = api.as_user("city_head").post("/api/v1/tasks/", payload, format="json")
    assert_error(response, 400, "unit_twice", fields={"cooperating_units"})
    assert not Task.objects.exists()


# Update


def test_the_issuer_edits_a_task(api, world, make_task):
    task = make_task()
    response = api.as_user("city_head").patch(
        f"/api/v1/tasks/{task.pk}/", {"title": "农村危房改造（含D级）"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "农村危房改造（含D级）"
    assert task.events.latest("pk").action == "edited"


def test_changing_who_is_responsible_is_recorded_as_a_reassignment(api, world, make_task):
    task = make_task()
    response = api.as_user("city_head").patch(
        f"/api/v1/tasks/{task.pk}/",
        {
            "responsible_person": world.person("yi_member").pk,
            "cooperating_units": [world.unit("市住建委").pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["responsible_person"]["full_name"] == "周干事"
    event = task.events.latest("pk")
    assert event.action == "reassigned"
    assert event.data["changed"] == ["cooperating_units", "responsible_person"]


def test_a_draft_may_move_its_due_date(api, make_task):
    task = make_task(assign=False)
    response = api.as_user("city_head").patch(
        f"/api/v1/tasks/{task.pk}/", {"due_date": "2018-11-20"}, format="json"
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.due_date == task.original_due_date == datetime.date(2018, 11, 20)


def test_a_draft_may_become_ongoing_and_an_issued_task_may_not(api, world, make_task):
    draft = make_task(assign=False)
    response = api.as_user("city_head").patch(f"/api/v1/tasks/{draft.pk}/", {"ongoing": True}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["ongoing"], response.json()["due_date"]) == (True, "2018-12-10")
    assert draft.events.latest("pk").data["changed"] == ["ongoing"]
    both = {"ongoing": True, "due_date": "2018-11-20"}
    refused = api.patch(f"/api/v1/tasks/{draft.pk}/", both, format="json")
    assert_error(refused, 400, "ongoing_has_no_date", fields={"due_date"})
    back = api.patch(
        f"/api/v1/tasks/{draft.pk}/", {"ongoing": False, "due_date": "2018-11-20"}, format="json"
    )
    assert (back.json()["ongoing"], back.json()["due_date"]) == (False, "2018-11-20")
    issued = make_task()
    events = event_count(issued)
    locked = api.patch(f"/api/v1/tasks/{issued.pk}/", {"ongoing": True}, format="json")
    assert_error(locked, 400, "field_locked", fields={"ongoing"})
    issued.refresh_from_db()
    assert (issued.ongoing, event_count(issued)) == (False, events)


def test_an_issued_task_keeps_its_due_date(api, make_task):
    task = make_task()
    events = event_count(task)
    response = api.as_user("city_head").patch(
        f"/api/v1/tasks/{task.pk}/", {"due_date": "2018-12-31", "title": "改了标题"}, format="json"
    )
    assert_error(response, 400, "field_locked", fields={"due_date"})
    task.refresh_from_db()
    assert (task.due_date, task.title) == (datetime.date(2018, 11, 30), "危房改造")
    assert event_count(task) == events


@pytest.mark.parametrize(
    ("username", "status_code", "code"),
    [("yi_head", 403, "permission_denied"), ("heishan_head", 404, "not_found")],
)
def test_others_may_not_edit(api, make_task, username, status_code, code):
    task = make_task()
    response = api.as_user(username).patch(f"/api/v1/tasks/{task.pk}/", {"title": "改了标题"}, format="json")
    assert_error(response, status_code, code)
    task.refresh_from_db()
    assert task.title == "危房改造"


def test_update_refuses_bad_input(api, make_task):
    task = make_task()
    response = api.as_user("city_head").patch(
        f"/api/v1/tasks/{task.pk}/", {"title": "", "lead_unit": 987654}, format="json"
    )
    assert_error(response, 400, "invalid", fields={"title", "lead_unit"})
    task.refresh_from_db()
    assert task.title == "危房改造"


def test_a_closed_task_cannot_be_edited(api, world, housing):
    act(world, "yi_head", housing, "submit", "全部完成")
    act(world, "city_head", housing, "close")
    response = api.as_user("city_head").patch(f"/api/v1/tasks/{housing.pk}/", {"title": "x"}, format="json")
    assert_error(response, 409, "invalid_transition")


# Transitions


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        # The lead unit signs for the item or returns it to its issuer (退回).
        ("yi_member", ["accept", "return_to_issuer"]),
        ("yi_head", ["accept", "return_to_issuer"]),
        ("city_head", ["suspend", "cancel"]),
        ("city_supervisor", []),
    ],
)
def test_transitions_list_what_the_caller_could_do(api, make_task, username, expected):
    task = make_task()
    response = api.as_user(username).get(f"/api/v1/tasks/{task.pk}/transitions/")
    assert response.status_code == 200
    assert response.json() == {"state": "assigned", "transitions": expected}


def test_performing_a_transition_returns_the_task_and_records_it(api, make_task):
    task = make_task()
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{task.pk}/transitions/accept/", {"comment": "收到，马上落实"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "in_progress"
    event = task.events.latest("pk")
    assert (event.action, event.from_state, event.to_state, event.comment) == (
        "accepted",
        "assigned",
        "in_progress",
        "收到，马上落实",
    )


@pytest.mark.parametrize(
    "prefer",
    ["return=minimal", "respond-async, return=minimal", 'return="minimal"; foo=bar', "RETURN=Minimal"],
)
def test_a_client_that_prefers_minimal_gets_204_and_the_change_is_made(
    api, make_task, prefer, django_assert_num_queries
):
    task = make_task()
    api.as_user("yi_member")
    # Savepoint; lock the task (its campaign read with it); memberships; the 签收
    # obligation met and the next obligation dates read; the task's update, with those
    # dates; its scope rows; history; a transfer asked before closed (none waits); release.
    # The lead unit's member acts, so the unit links are not read; and there is no read-back.
    with django_assert_num_queries(10):
        response = api.post(
            f"/api/v1/tasks/{task.pk}/transitions/accept/", {}, format="json", HTTP_PREFER=prefer
        )
    assert response.status_code == 204
    assert response.content == b""
    assert response["Preference-Applied"] == "return=minimal"
    assert Task.objects.get(pk=task.pk).state == "in_progress"
    assert task.events.latest("pk").action == "accepted"


@pytest.mark.parametrize("prefer", ["return=representation", "minimal", "return=minimalist", ""])
def test_any_other_preference_gets_the_task(api, make_task, prefer):
    task = make_task()
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{task.pk}/transitions/accept/", {}, format="json", HTTP_PREFER=prefer
    )
    assert response.status_code == 200
    assert "Preference-Applied" not in response
    assert (response.json()["id"], response.json()["state"]) == (task.pk, "in_progress")


def test_a_refused_change_is_an_error_whatever_the_preference(api, make_task):
    task = make_task()
    response = api.as_user("city_head").post(
        f"/api/v1/tasks/{task.pk}/transitions/accept/", {}, format="json", HTTP_PREFER="return=minimal"
    )
    assert_error(response, 403, "permission_denied")
    assert Task.objects.get(pk=task.pk).state == "assigned"


def test_an_edit_and_a_step_also_answer_204_when_preferred(api, world, make_task):
    task = make_task(
        "扶贫资金审计",
        kind="procedure",
        steps=[StepSpec(name="制定方案", due_date=datetime.date(2018, 10, 15))],
    )
    api.as_user("city_head")
    edited = api.patch(
        f"/api/v1/tasks/{task.pk}/",
        {"title": "扶贫资金专项审计"},
        format="json",
        HTTP_PREFER="return=minimal",
    )
    assert edited.status_code == 204
    assert Task.objects.get(pk=task.pk).title == "扶贫资金专项审计"
    api.as_user("yi_member").post(f"/api/v1/tasks/{task.pk}/transitions/accept/", {}, format="json")
    step = task.steps.get()
    done = api.post(
        f"/api/v1/tasks/{task.pk}/steps/{step.pk}/complete/", format="json", HTTP_PREFER="return=minimal"
    )
    assert done.status_code == 204
    step.refresh_from_db()
    assert step.done_by == world.person("yi_member")


@pytest.mark.parametrize(
    ("username", "name", "body", "status_code", "code", "fields"),
    [
        ("yi_head", "close", {}, 403, "permission_denied", None),
        ("city_head", "accept", {}, 403, "permission_denied", None),
        ("heishan_head", "submit", {"comment": "完成"}, 404, "not_found", None),
        ("city_head", "close", {}, 409, "invalid_transition", None),
        ("yi_head", "submit", {"comment": "  "}, 400, "required", {"comment"}),
        ("yi_head", "fly", {}, 400, "unknown_transition", None),
        ("city_head", "reopen", {"comment": "整改不到位"}, 409, "invalid_transition", None),
        ("yi_head", "submit", {"comment": "x" * 5001}, 400, "invalid", {"comment"}),
    ],
)
def test_refused_transitions_change_nothing(
    api, world, housing, username, name, body, status_code, code, fields
):
    events = event_count(housing)
    response = api.as_user(username).post(
        f"/api/v1/tasks/{housing.pk}/transitions/{name}/", body, format="json"
    )
    assert_error(response, status_code, code, fields=fields)
    housing.refresh_from_db()
    assert housing.state == TaskState.IN_PROGRESS
    assert event_count(housing) == events


def test_a_closed_rectification_is_reopened_by_its_issuer_or_the_supervising_office(api, world, make_task):
    task = make_task("危房改造“回头看”问题整改", kind="rectification")
    for username, name, comment in (
        ("yi_head", "accept", ""),
        ("yi_head", "submit", "已整改"),
        ("city_head", "close", ""),
    ):
        task = act(world, username, task, name, comment)
    listed = api.as_user("city_supervisor").get(f"/api/v1/tasks/{task.pk}/transitions/")
    assert listed.json() == {"state": "closed", "transitions": ["reopen"]}
    assert (
        api.as_user("yi_supervisor").get(f"/api/v1/tasks/{task.pk}/transitions/").json()["transitions"] == []
    )

    refused = api.post(
        f"/api/v1/tasks/{task.pk}/transitions/reopen/", {"comment": "复查不合格"}, format="json"
    )
    assert_error(refused, 403, "permission_denied")
    reopened = api.as_user("city_supervisor").post(
        f"/api/v1/tasks/{task.pk}/transitions/reopen/", {"comment": "复查不合格"}, format="json"
    )
    assert reopened.status_code == 200, reopened.content
    assert (reopened.json()["state"], reopened.json()["reopen_count"]) == ("in_progress", 1)


def test_time_suspended_does_not_count_against_the_deadline(api, world, housing):
    api.as_user("city_head")
    suspended = api.post(
        f"/api/v1/tasks/{housing.pk}/transitions/suspend/", {"comment": "冬季停工"}, format="json"
    )
    assert suspended.status_code == 200
    assert suspended.json()["light"] is None
    with time_machine.travel(datetime.datetime(2018, 10, 15, 9, 0, tzinfo=datetime.UTC), tick=False):
        resumed = api.post(f"/api/v1/tasks/{housing.pk}/transitions/resume/", {}, format="json")
    assert resumed.status_code == 200, resumed.content
    body = resumed.json()
    assert body["state"] == "in_progress"
    assert body["due_date"] > "2018-11-30"
    assert body["original_due_date"] == "2018-11-30"
    event = housing.events.latest("pk")
    assert event.action == "resumed"
    assert event.data["due_date"] == ["2018-11-30", body["due_date"]]


# Decompose


def _split(world, *children) -> dict:
    return {
        "children": [
            {"lead_unit": world.unit(unit).pk, "title": f"{unit}危房改造", "due_date": due, **extra}
            for unit, due, extra in children
        ]
    }


def test_a_responsible_head_splits_a_target(api, world, target_task):
    act(world, "yi_head", target_task, "accept")
    indicator = target_task.indicators.get()
    payload = _split(
        world,
        ("七里河镇", "2018-11-20", {"targets": [{"indicator": indicator.pk, "target": "950"}]}),
        ("县委督查室", "2018-11-25", {"targets": [{"indicator": indicator.pk, "target": "938"}]}),
    )
    response = api.as_user("yi_head").post(
        f"/api/v1/tasks/{target_task.pk}/decompose/", payload, format="json"
    )
    assert response.status_code == 201, response.content
    rows = response.json()
    assert [(row["title"], row["state"], row["parent"]) for row in rows] == [
        ("七里河镇危房改造", "assigned", target_task.pk),
        ("县委督查室危房改造", "assigned", target_task.pk),
    ]
    assert [row["issuing_unit"]["name"] for row in rows] == ["义县", "义县"]
    assert [row["indicators"][0]["target"] for row in rows] == ["950.0000", "938.0000"]


@pytest.mark.parametrize(
    ("username", "payload", "status_code", "code", "fields"),
    [
        ("yi_member", [("七里河镇", "2018-11-20", {})], 403, "permission_denied", None),
        ("city_head", [("七里河镇", "2018-11-20", {})], 403, "permission_denied", None),
        ("heishan_head", [("芳山镇", "2018-11-20", {})], 404, "not_found", None),
        ("yi_head", [("芳山镇", "2018-11-20", {})], 403, "outside_jurisdiction", {"lead_unit"}),
        ("yi_head", [("七里河镇", "2018-12-20", {})], 400, "invalid_decomposition", {"children"}),
        ("yi_head", [("义县", "2018-11-20", {})], 403, "outside_jurisdiction", {"lead_unit"}),
        (
            "yi_head",
            [("七里河镇", "2018-11-20", {"targets": [{"indicator": 0, "target": "1"}]})],
            400,
            "invalid",
            {"children"},
        ),
        ("yi_head", [], 400, "invalid", {"children"}),
    ],
)
def test_refused_decompositions_create_nothing(
    api, world, housing, username, payload, status_code, code, fields
):
    response = api.as_user(username).post(
        f"/api/v1/tasks/{housing.pk}/decompose/", _split(world, *payload), format="json"
    )
    assert_error(response, status_code, code, fields=fields)
    assert not Task.objects.filter(parent=housing).exists()


def test_a_split_may_not_exceed_the_parent_target(api, world, target_task):
    indicator = target_task.indicators.get()
    payload = _split(
        world,
        ("七里河镇", "2018-11-20", {"targets": [{"indicator": indicator.pk, "target": "950"}]}),
        ("县委督查室", "2018-11-20", {"targets": [{"indicator": indicator.pk, "target": "939"}]}),
    )
    response = api.as_user("yi_head").post(
        f"/api/v1/tasks/{target_task.pk}/decompose/", payload, format="json"
    )
    body = assert_error(response, 400, "invalid_decomposition", fields={"children"})
    assert "targets" in body["fields"]["children"]
    assert Task.objects.count() == 1
    assert Indicator.objects.count() == 1


def test_the_refusal_of_a_split_writes_its_numbers_as_people_do(api, world, target_task):
    indicator = target_task.indicators.get()
    Indicator.objects.filter(pk=indicator.pk).update(target=Decimal("60"))
    payload = _split(
        world, ("七里河镇", "2018-11-20", {"targets": [{"indicator": indicator.pk, "target": "70.5"}]})
    )
    response = api.as_user("yi_head").post(
        f"/api/v1/tasks/{target_task.pk}/decompose/", payload, format="json"
    )
    body = assert_error(response, 400, "invalid_decomposition", fields={"children"})
    assert "70.5 超过上级目标 60。" in str(body["fields"]["children"])
    assert "E+" not in str(body)


# Reports and evidence


def test_a_json_report_with_figures_rolls_up(api, world, target_task):
    act(world, "yi_head", target_task, "accept")
    indicator = target_task.indicators.get()
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{target_task.pk}/reports/",
        {"text": "已完成改造1200户", "figures": [{"indicator": indicator.pk, "value": "1200"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["author"]["full_name"] == "周干事"
    assert body["figures"] == {str(indicator.pk): "1200.0000"}
    assert body["attachments"] == []
    indicator.refresh_from_db()
    assert indicator.current_value == 1200


def test_a_multipart_report_stores_evidence_served_only_to_those_who_see_the_task(api, world, target_task):
    act(world, "yi_head", target_task, "accept")
    indicator = target_task.indicators.get()
    png, pdf = tiny_png(), TINY_PDF
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{target_task.pk}/reports/",
        {
            "text": "大榆树堡村改造现场照片及验收单",
            "figures": json.dumps([{"indicator": indicator.pk, "value": "300"}]),
            "files": [
                SimpleUploadedFile("改造现场.png", png, content_type="image/png"),
                SimpleUploadedFile("验收单.pdf", pdf, content_type="application/pdf"),
            ],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    attachments = response.json()["attachments"]
    assert [(a["original_name"], a["content_type"], a["size"]) for a in attachments] == [
        ("改造现场.png", "image/png", len(png)),
        ("验收单.pdf", "application/pdf", len(pdf)),
    ]
    assert attachments[0]["sha256"] == hashlib.sha256(png).hexdigest()
    indicator.refresh_from_db()
    assert indicator.current_value == 300

    for username in ("yi_member", "city_head", "city_supervisor"):
        download = api.as_user(username).get(attachments[0]["url"])
        assert download.status_code == 200, username
        assert b"".join(download.streaming_content) == png
        assert download["Content-Type"] == "image/png"
        assert download["Content-Disposition"].startswith("attachment")
        assert download["X-Content-Type-Options"] == "nosniff"
    stated = api.as_user("yi_member").get(attachments[0]["url"], HTTP_ACCEPT="image/png")
    assert stated.status_code == 200
    refused = api.as_user("yi_member").get(attachments[0]["url"], HTTP_ACCEPT="application/pdf")
    assert "image/png" in assert_error(refused, 406, "not_acceptable")["message"]
    for username in ("heishan_head", "village_b_head", "leader"):
        assert_error(api.as_user(username).get(attachments[1]["url"]), 404, "not_found")
    assert_error(api.as_user("yi_member").get("/api/v1/attachments/987654/"), 404, "not_found")

    listed = api.as_user("city_head").get(f"/api/v1/tasks/{target_task.pk}/reports/")
    assert listed.status_code == 200
    assert [r["text"] for r in listed.json()["results"]] == ["大榆树堡村改造现场照片及验收单"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("照片.png", b"GIF89a not really a png"),
        ("台账.exe", b"MZ\x90\x00"),
        ("空白.pdf", b""),
    ],
)
def test_bad_evidence_is_refused_and_nothing_is_kept(api, world, housing, media_root, name, content):
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{housing.pk}/reports/",
        {"text": "进展", "files": [SimpleUploadedFile(name, content)]},
        format="multipart",
    )
    body = assert_error(response, 400, "invalid_attachment" if content else "invalid", fields={"files"})
    assert body["fields"]["files"]
    assert not ProgressReport.objects.exists()
    assert not Attachment.objects.exists()
    assert not media_root.exists() or not any(path.is_file() for path in media_root.rglob("*"))


@pytest.mark.parametrize(
    ("username", "body", "status_code", "code", "fields"),
    [
        ("city_head", {"text": "代为报送"}, 403, "permission_denied", None),
        ("heishan_member", {"text": "代为报送"}, 404, "not_found", None),
        ("yi_member", {"text": ""}, 400, "invalid", {"text"}),
        (
            "yi_member",
            {"text": "进展", "figures": [{"indicator": 987654, "value": "1"}]},
            400,
            "unknown_indicator",
            {"figures"},
        ),
        (
            "yi_member",
            {"text": "进展", "figures": [{"indicator": 1, "value": "很多"}]},
            400,
            "invalid",
            {"figures"},
        ),
    ],
)
def test_refused_reports_write_nothing(api, housing, username, body, status_code, code, fields):
    events = event_count(housing)
    response = api.as_user(username).post(f"/api/v1/tasks/{housing.pk}/reports/", body, format="json")
    assert_error(response, status_code, code, fields=fields)
    assert not ProgressReport.objects.exists()
    assert event_count(housing) == events


def test_a_figure_out_of_range_is_refused_naming_its_indicator(api, world, target_task):
    act(world, "yi_head", target_task, "accept")
    indicator = target_task.indicators.get()
    events = event_count(target_task)
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{target_task.pk}/reports/",
        {"text": "已完成改造", "figures": [{"indicator": indicator.pk, "value": "-100000000000"}]},
        format="json",
    )
    body = assert_error(response, 400, "figure_out_of_range", fields={"figures"})
    assert "危房改造" in body["fields"]["figures"][0]
    assert not ProgressReport.objects.exists()
    assert event_count(target_task) == events
    indicator.refresh_from_db()
    assert indicator.current_value == 0


def test_a_task_not_yet_signed_for_takes_no_reports(api, make_task):
    task = make_task()
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{task.pk}/reports/", {"text": "进展"}, format="json"
    )
    assert_error(response, 409, "invalid_transition")
    assert not ProgressReport.objects.exists()


def test_malformed_figures_in_a_form_are_refused(api, housing):
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{housing.pk}/reports/", {"text": "进展", "figures": "[{"}, format="multipart"
    )
    assert_error(response, 400, "invalid", fields={"figures"})


# Procedure steps


@pytest.fixture
def audit(world, make_task) -> Task:
    task = make_task(
        "扶贫资金审计",
        kind="procedure",
        steps=[
            StepSpec(name="制定方案", due_date=datetime.date(2018, 10, 15)),
            StepSpec(name="现场审计", due_date=datetime.date(2018, 11, 15)),
        ],
    )
    return task


def test_steps_are_completed_in_order(api, world, audit):
    first, second = audit.steps.order_by("order")
    act(world, "yi_head", audit, "accept")
    api.as_user("yi_member")
    out_of_order = api.post(f"/api/v1/tasks/{audit.pk}/steps/{second.pk}/complete/")
    assert_error(out_of_order, 409, "step_out_of_order")

    done = api.post(f"/api/v1/tasks/{audit.pk}/steps/{first.pk}/complete/")
    assert done.status_code == 200, done.content
    steps = done.json()["steps"]
    assert steps[0]["done_by"] == world.person("yi_member").pk
    assert steps[0]["done_at"] is not None
    assert steps[1]["done_at"] is None

    assert_error(api.post(f"/api/v1/tasks/{audit.pk}/steps/{first.pk}/complete/"), 409, "step_done")
    assert audit.events.filter(action="step_completed").count() == 1


def test_step_completion_refusals(api, world, audit, make_task):
    first = audit.steps.get(order=1)
    assert_error(
        api.as_user("yi_member").post(f"/api/v1/tasks/{audit.pk}/steps/{first.pk}/complete/"),
        409,
        "invalid_transition",
    )
    act(world, "yi_head", audit, "accept")
    other = make_task("另一项审计", kind="procedure", steps=[StepSpec("立项", datetime.date(2018, 10, 20))])
    foreign = other.steps.get()
    assert_error(
        api.as_user("yi_member").post(f"/api/v1/tasks/{audit.pk}/steps/{foreign.pk}/complete/"),
        404,
        "not_found",
    )
    assert_error(
        api.as_user("city_head").post(f"/api/v1/tasks/{audit.pk}/steps/{first.pk}/complete/"),
        403,
        "permission_denied",
    )
    assert_error(
        api.as_user("heishan_head").post(f"/api/v1/tasks/{audit.pk}/steps/{first.pk}/complete/"),
        404,
        "not_found",
    )
    first.refresh_from_db()
    assert first.done_at is None


# Extensions


def test_request_and_approve_an_extension(api, world, housing):
    api.as_user("yi_head")
    created = api.post(
        f"/api/v1/tasks/{housing.pk}/extensions/",
        {"requested_due_date": "2018-12-10", "reason": "冬季施工受冻土影响"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["state"] == "pending"
    assert created.json()["requested_by"]["full_name"] == "孙县长"

    listed = api.get(f"/api/v1/tasks/{housing.pk}/extensions/")
    assert [row["id"] for row in listed.json()["results"]] == [created.json()["id"]]

    decided = api.as_user("city_head").post(
        f"/api/v1/extensions/{created.json()['id']}/decision/", {"approve": True}, format="json"
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["state"] == "approved"
    assert decided.json()["decided_by"]["full_name"] == "王市长"
    housing.refresh_from_db()
    assert housing.due_date == datetime.date(2018, 12, 10)
    assert housing.original_due_date == datetime.date(2018, 11, 30)


@pytest.mark.parametrize(
    ("username", "body", "status_code", "code", "fields"),
    [
        ("city_head", {"requested_due_date": "2018-12-10", "reason": "理由"}, 403, "permission_denied", None),
        ("heishan_head", {"requested_due_date": "2018-12-10", "reason": "理由"}, 404, "not_found", None),
        (
            "yi_head",
            {"requested_due_date": "2018-11-30", "reason": "理由"},
            400,
            "not_later",
            {"requested_due_date"},
        ),
        ("yi_head", {"requested_due_date": "2018-12-10", "reason": " "}, 400, "invalid", {"reason"}),
        ("yi_head", {"requested_due_date": "年底"}, 400, "invalid", {"requested_due_date", "reason"}),
    ],
)
def test_refused_extension_requests_create_nothing(api, housing, username, body, status_code, code, fields):
    response = api.as_user(username).post(f"/api/v1/tasks/{housing.pk}/extensions/", body, format="json")
    assert_error(response, status_code, code, fields=fields)
    assert not ExtensionRequest.objects.exists()


def test_one_pending_extension_per_task(api, world, housing):
    extension_request_create(
        task_id=housing.pk,
        actor=world.person("yi_head"),
        requested_due_date=datetime.date(2018, 12, 5),
        reason="雨季",
    )
    response = api.as_user("yi_member").post(
        f"/api/v1/tasks/{housing.pk}/extensions/",
        {"requested_due_date": "2018-12-10", "reason": "冻土"},
        format="json",
    )
    assert_error(response, 409, "extension_pending")
    assert ExtensionRequest.objects.count() == 1


@pytest.fixture
def pending(world, housing) -> ExtensionRequest:
    return extension_request_create(
        task_id=housing.pk,
        actor=world.person("yi_head"),
        requested_due_date=datetime.date(2018, 12, 5),
        reason="雨季",
    )


@pytest.mark.parametrize(
    ("username", "body", "status_code", "code", "fields"),
    [
        ("yi_head", {"approve": True}, 403, "permission_denied", None),
        ("city_supervisor", {"approve": True}, 403, "permission_denied", None),
        ("heishan_head", {"approve": True}, 404, "not_found", None),
        ("city_head", {"approve": False}, 400, "required", {"comment"}),
        ("city_head", {}, 400, "invalid", {"approve"}),
    ],
)
def test_refused_decisions_change_nothing(api, pending, username, body, status_code, code, fields):
    response = api.as_user(username).post(f"/api/v1/extensions/{pending.pk}/decision/", body, format="json")
    assert_error(response, status_code, code, fields=fields)
    pending.refresh_from_db()
    assert pending.state == ExtensionState.PENDING
    assert Task.objects.get(pk=pending.task_id).due_date == datetime.date(2018, 11, 30)


def test_an_extension_is_decided_once(api, pending):
    api.as_user("city_head")
    rejected = api.post(
        f"/api/v1/extensions/{pending.pk}/decision/",
        {"approve": False, "comment": "理由不充分"},
        format="json",
    )
    assert rejected.status_code == 200
    assert rejected.json()["state"] == "rejected"
    again = api.post(f"/api/v1/extensions/{pending.pk}/decision/", {"approve": True}, format="json")
    assert_error(again, 409, "invalid_transition")
    assert Task.objects.get(pk=pending.task_id).due_date == datetime.date(2018, 11, 30)
    assert_error(
        api.post("/api/v1/extensions/987654/decision/", {"approve": True}, format="json"), 404, "not_found"
    )


# History


def test_history_lists_every_step_oldest_first(api, world, housing):
    act(world, "yi_head", housing, "submit", "全部完成")
    response = api.as_user("yi_member").get(f"/api/v1/tasks/{housing.pk}/history/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["action"] for row in rows] == ["created", "assigned", "accepted", "submitted"]
    assert rows[-1]["actor"]["full_name"] == "孙县长"
    assert rows[-1]["comment"] == "全部完成"
    assert (rows[-1]["from_state"], rows[-1]["to_state"]) == ("in_progress", "submitted")


# Campaigns and calendar days


def test_everyone_reads_campaigns_only_administrators_write_them(api, world):
    listed = api.as_user("village_a_head").get("/api/v1/campaigns/")
    assert listed.status_code == 200
    assert [row["short_name"] for row in listed.json()["results"]] == ["百日攻坚"]

    payload = {
        "name": "农村人居环境整治三年行动",
        "issuing_unit": world.unit("锦州市").pk,
        "starts_on": "2018-10-01",
        "ends_on": "2020-12-31",
        "yellow_working_days": 5,
    }
    assert_error(
        api.as_user("city_head").post("/api/v1/campaigns/", payload, format="json"), 403, "permission_denied"
    )
    assert Campaign.objects.count() == 1

    created = api.as_user("admin").post("/api/v1/campaigns/", payload, format="json")
    assert created.status_code == 201, created.content
    patched = api.patch(
        f"/api/v1/campaigns/{created.json()['id']}/", {"short_name": "人居环境"}, format="json"
    )
    assert patched.status_code == 200
    assert Campaign.objects.get(pk=created.json()["id"]).short_name == "人居环境"
    assert_error(api.delete(f"/api/v1/campaigns/{created.json()['id']}/"), 405, "method_not_allowed")


def test_a_campaigns_day_settings_are_read_and_set_by_administrators(api, world):
    shown = api.as_user("village_a_head").get(f"/api/v1/campaigns/{world.campaign.pk}/").json()
    assert {name: shown[name] for name in ("yellow_working_days", "recheck_working_days")} == {
        "yellow_working_days": 3,
        "recheck_working_days": 40,
    }
    assert shown["immediate_working_days"] == 5  # 立行立改, by default
    path = f"/api/v1/campaigns/{world.campaign.pk}/"
    assert_error(
        api.as_user("city_head").patch(path, {"immediate_working_days": 3}, format="json"),
        403,
        "permission_denied",
    )
    for wrong in (0, 23, -1):
        response = api.as_user("admin").patch(path, {"immediate_working_days": wrong}, format="json")
        assert_error(response, 400, "invalid", fields={"immediate_working_days"})
    patched = api.as_user("admin").patch(path, {"immediate_working_days": 3}, format="json")
    assert patched.status_code == 200 and patched.json()["immediate_working_days"] == 3
    world.campaign.refresh_from_db()
    assert world.campaign.immediate_working_days == 3


def test_a_campaign_cannot_end_before_it_starts(api, world):
    response = api.as_user("admin").patch(
        f"/api/v1/campaigns/{world.campaign.pk}/", {"ends_on": "2018-08-31"}, format="json"
    )
    assert_error(response, 400, "invalid", fields={"ends_on"})
    world.campaign.refresh_from_db()
    assert world.campaign.ends_on == datetime.date(2018, 12, 10)


def test_administrators_enter_holidays_others_only_read_them(api):
    day = {"date": "2018-12-31", "kind": "holiday", "name": "元旦"}
    for username in ("yi_head", "city_supervisor"):
        refused = api.as_user(username).post("/api/v1/calendar-days/", day, format="json")
        assert_error(refused, 403, "calendar_admin_only")
    assert not CalendarDay.objects.exists()

    created = api.as_user("admin").post("/api/v1/calendar-days/", day, format="json")
    assert created.status_code == 201, created.content
    duplicate = api.post("/api/v1/calendar-days/", {**day, "name": "元旦假期"}, format="json")
    assert_error(duplicate, 400, "invalid", fields={"date"})
    api.post(
        "/api/v1/calendar-days/", {"date": "2018-12-29", "kind": "workday", "name": "调休上班"}, format="json"
    )

    listed = api.as_user("village_b_head").get("/api/v1/calendar-days/", {"date__gte": "2018-12-30"})
    assert [row["name"] for row in listed.json()["results"]] == ["元旦"]
    assert len(api.get("/api/v1/calendar-days/", {"date__year": 2018}).json()["results"]) == 2
    assert_error(
        api.as_user("admin").post(
            "/api/v1/calendar-days/", {"date": "2018-12-30", "kind": "festival"}, format="json"
        ),
        400,
        "invalid",
        fields={"kind"},
    )


def test_a_holiday_entered_by_the_office_moves_the_yellow_light(api, world, make_task):
    task = make_task("冬季供暖保障", due_date=datetime.date(2018, 10, 12))
    assert api.as_user("yi_head").get(f"/api/v1/tasks/{task.pk}/").json()["light"] == "green"
    for day in (9, 10):
        CalendarDay.objects.create(date=datetime.date(2018, 10, day), kind="holiday", name="防汛停工")
    assert api.as_user("yi_head").get(f"/api/v1/tasks/{task.pk}/").json()["light"] == "yellow"


# Idempotency-Key


def test_a_replayed_create_returns_the_first_answer_and_creates_nothing(api, world):
    api.as_user("city_head")
    first = api.post(
        "/api/v1/tasks/", _new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="jz-2018-10-08-001"
    )
    assert first.status_code == 201
    assert not first.has_header("Idempotent-Replayed")
    again = api.post(
        "/api/v1/tasks/", _new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="jz-2018-10-08-001"
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Task.objects.count() == 1
    assert TaskEvent.objects.count() == 1


def test_the_same_key_for_another_request_is_refused(api, world):
    api.as_user("city_head")
    api.post("/api/v1/tasks/", _new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="jz-001")
    other = api.post(
        "/api/v1/tasks/", _new_task(world, title="另一项任务"), format="json", HTTP_IDEMPOTENCY_KEY="jz-001"
    )
    assert_error(other, 409, "idempotency_key_reused")
    assert list(Task.objects.values_list("title", flat=True)) == ["贫困户“两不愁三保障”排查"]


def test_a_replayed_transition_is_not_a_conflict(api, make_task):
    task = make_task()
    api.as_user("yi_head")
    url = f"/api/v1/tasks/{task.pk}/transitions/accept/"
    first = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-1")
    again = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert task.events.filter(action="accepted").count() == 1
    assert_error(api.post(url, {}, format="json"), 409, "invalid_transition")


def test_a_replayed_minimal_transition_answers_204_again(api, make_task):
    task = make_task()
    api.as_user("yi_head")
    url = f"/api/v1/tasks/{task.pk}/transitions/accept/"
    first = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-2", HTTP_PREFER="return=minimal")
    again = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-2", HTTP_PREFER="return=minimal")
    assert (first.status_code, again.status_code) == (204, 204)
    assert (again.content, again["Idempotent-Replayed"]) == (b"", "true")
    assert task.events.filter(action="accepted").count() == 1


def test_a_replayed_upload_stores_one_report(api, housing):
    api.as_user("yi_member")

    def send():
        return api.post(
            f"/api/v1/tasks/{housing.pk}/reports/",
            {"text": "现场照片", "files": [SimpleUploadedFile("现场.png", tiny_png())]},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    first, again = send(), send()
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert ProgressReport.objects.count() == 1
    assert Attachment.objects.count() == 1


def test_a_different_file_under_the_same_key_is_refused(api, housing):
    api.as_user("yi_member")
    url = f"/api/v1/tasks/{housing.pk}/reports/"
    first = api.post(
        url,
        {"text": "照片", "files": [SimpleUploadedFile("a.png", tiny_png())]},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="u-2",
    )
    assert first.status_code == 201
    other = api.post(
        url,
        {"text": "照片", "files": [SimpleUploadedFile("a.pdf", TINY_PDF)]},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="u-2",
    )
    assert_error(other, 409, "idempotency_key_reused")
    assert ProgressReport.objects.count() == 1


def test_a_refusal_is_replayed_too(api, world):
    api.as_user("yi_head")
    first = api.post("/api/v1/tasks/", _new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="jz-403")
    again = api.post("/api/v1/tasks/", _new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="jz-403")
    assert_error(first, 403, "permission_denied")
    assert again.status_code == 403
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get(key="jz-403").status_code == 403


# Language


def test_errors_speak_chinese_by_default_and_keep_their_code_in_english(api, make_task):
    task = make_task()
    api.as_user("yi_head")
    url = f"/api/v1/tasks/{task.pk}/transitions/close/"
    chinese = api.post(url, {}, format="json")
    english = api.post(url, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert_error(chinese, 403, "permission_denied")
    assert chinese.json()["message"] == "您无权对该任务执行此操作。"
    assert chinese["Content-Language"] == "zh-hans"
    assert_error(english, 403, "permission_denied")
    assert english["Content-Language"] == "en"

    missing_zh = api.get("/api/v1/tasks/987654/")
    missing_en = api.get("/api/v1/tasks/987654/", HTTP_ACCEPT_LANGUAGE="en")
    assert missing_zh.json() == {"code": "not_found", "message": "未找到。", "fields": {}}
    assert missing_en.json()["code"] == "not_found"
