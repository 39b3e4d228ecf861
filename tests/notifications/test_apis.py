import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.models import Escalation
from notifications.services import sweep_run
from outbox.models import OutboundMessage
from tasks.rungs import Level
from tasks.services import task_create, task_transition, task_update
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

AUTUMN = datetime.datetime(2025, 10, 10, 1, 0, tzinfo=datetime.UTC)


@pytest.fixture
def late_task(world):
    with time_machine.travel(datetime.datetime(2025, 9, 1, 1, 0, tzinfo=datetime.UTC), tick=False):
        task = task_create(
            actor=world.person("qilihe_head"),
            campaign=world.campaign,
            title="大榆树堡村两公示一公告",
            issuing_unit=world.unit("七里河镇"),
            lead_unit=world.unit("大榆树堡村"),
            responsible_person=world.person("village_a_head"),
            due_date=datetime.date(2025, 9, 29),
            assign=True,
        )
        task_transition(task_id=task.pk, actor=world.person("village_a_head"), name="accept")
    with time_machine.travel(AUTUMN, tick=False):
        sweep_run(day=AUTUMN.date(), send=False)
    return task


def test_escalations_are_listed_only_for_visible_tasks(api, late_task):
    seen = api.as_user("yi_supervisor").get("/api/v1/escalations/", {"level": "listed"})
    assert seen.status_code == 200
    assert [e["task"] for e in seen.json()["results"]] == [late_task.pk]
    assert seen.json()["results"][0]["lead_unit"]["name"] == "大榆树堡村"

    assert api.as_user("heishan_head").get("/api/v1/escalations/").json()["results"] == []
    assert api.as_user(None).get("/api/v1/escalations/").status_code == 401


def test_the_escalation_list_costs_the_same_queries_for_one_or_many(
    api, late_task, django_assert_max_num_queries
):
    with django_assert_max_num_queries(7) as one:
        api.as_user("yi_supervisor").get("/api/v1/escalations/", {"page_size": 1})
    with django_assert_max_num_queries(7) as many:
        api.as_user("yi_supervisor").get("/api/v1/escalations/", {"page_size": 50})
    assert len(one.captured_queries) == len(many.captured_queries)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"level": "admonishment", "reason": "多次催办仍未完成"}, "people_required"),
        ({"level": "accountability", "reason": "  ", "people": []}, "invalid"),
        ({"level": "overdue", "reason": "逾期"}, "invalid"),
    ],
)
def test_bad_manual_escalations_are_refused_and_change_nothing(api, world, late_task, payload, code):
    before = Escalation.objects.count()
    response = api.as_user("yi_supervisor").post(
        f"/api/v1/tasks/{late_task.pk}/escalations/", payload, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Escalation.objects.count() == before


def test_the_supervision_office_records_an_admonishment_talk(api, world, late_task):
    response = api.as_user("yi_supervisor").post(
        f"/api/v1/tasks/{late_task.pk}/escalations/",
        {
            "level": "admonishment",
            "reason": "逾期未完成入户核查",
            "people": [world.person("village_a_head").pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["manual"] is True
    assert body["actor"]["full_name"] == "吴督查"
    assert [p["full_name"] for p in body["people"]] == ["冯书记"]
    assert Escalation.objects.filter(task=late_task, level=Level.ADMONISHMENT).count() == 1


def test_only_the_supervision_office_records_and_invisible_tasks_are_missing(api, world, late_task):
    payload = {"level": "listed", "reason": "挂牌督办"}
    refused = api.as_user("yi_head").post(
        f"/api/v1/tasks/{late_task.pk}/escalations/", payload, format="json"
    )
    assert refused.status_code == 403
    hidden = api.as_user("heishan_head").post(
        f"/api/v1/tasks/{late_task.pk}/escalations/", payload, format="json"
    )
    assert hidden.status_code == 404


def test_the_trace_names_who_carried_the_task_when_it_went_overdue(api, world, late_task):
    with time_machine.travel(datetime.datetime(2025, 10, 12, 1, 0, tzinfo=datetime.UTC), tick=False):
        task_update(
            task_id=late_task.pk,
            actor=world.person("qilihe_head"),
            lead_unit=world.unit("王家屯村"),
            responsible_person=world.person("village_b_head"),
        )
    with time_machine.travel(datetime.datetime(2025, 10, 13, 1, 0, tzinfo=datetime.UTC), tick=False):
        response = api.as_user("yi_supervisor").get(f"/api/v1/tasks/{late_task.pk}/trace/")

    assert response.status_code == 200
    trace = response.json()
    assert [p["lead_unit"]["name"] for p in trace["periods"]] == ["大榆树堡村", "王家屯村"]
    assert trace["overdue_since"] == "2025-09-30"
    assert trace["responsible_when_overdue"]["lead_unit"]["name"] == "大榆树堡村"
    assert trace["responsible_when_overdue"]["responsible_person"]["full_name"] == "冯书记"
    assert {e["lead_unit"]["name"] for e in trace["escalations"]} == {"大榆树堡村"}


def test_the_trace_counts_days_in_beijing_time_across_midnight(api, world):
    """Due Thursday 27 November; handed to 王家屯村 at 00:30 on the 28th and closed at 07:00
    that morning in Beijing, which is still the 27th in UTC. Late since the 28th, and late
    under 大榆树堡村, which carried it when the 28th began."""
    beijing = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime.datetime(2025, 11, 3, 9, 0, tzinfo=beijing), tick=False):
        task = task_create(
            actor=world.person("qilihe_head"),
            campaign=world.campaign,
            title="大榆树堡村饮水安全",
            issuing_unit=world.unit("七里河镇"),
            lead_unit=world.unit("大榆树堡村"),
            responsible_person=world.person("village_a_head"),
            due_date=datetime.date(2025, 11, 27),
            assign=True,
        )
    with time_machine.travel(datetime.datetime(2025, 11, 28, 0, 30, tzinfo=beijing), tick=False):
        task_update(
            task_id=task.pk,
            actor=world.person("qilihe_head"),
            lead_unit=world.unit("王家屯村"),
            responsible_person=world.person("village_b_head"),
        )
    with time_machine.travel(datetime.datetime(2025, 11, 28, 7, 0, tzinfo=beijing), tick=False):
        for username, name, comment in [
            ("village_b_head", "accept", ""),
            ("village_b_head", "submit", "已通水"),
            ("qilihe_head", "close", ""),
        ]:
            task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)
    with time_machine.travel(datetime.datetime(2025, 12, 1, 9, 0, tzinfo=beijing), tick=False):
        trace = api.as_user("yi_supervisor").get(f"/api/v1/tasks/{task.pk}/trace/").json()

    assert trace["overdue_since"] == "2025-11-28"
    assert trace["responsible_when_overdue"]["lead_unit"]["name"] == "大榆树堡村"
    assert trace["responsible_when_overdue"]["responsible_person"]["full_name"] == "冯书记"


def test_the_outbox_shows_people_their_own_messages_and_offices_those_about_their_tasks(api, late_task):
    own = api.as_user("village_a_head").get("/api/v1/outbox/").json()["results"]
    assert own and {m["recipient_user"]["full_name"] for m in own} == {"冯书记"}
    assert own[0]["state"] == "no_address"  # nobody in this world has an e-mail address

    office = api.as_user("yi_supervisor").get("/api/v1/outbox/").json()["results"]
    assert len(office) > len(own)
    assert api.as_user("heishan_head").get("/api/v1/outbox/").json()["results"] == []


def test_an_office_reads_a_digest_only_if_it_sees_every_task_it_covers(api, world, late_task):
    with time_machine.travel(datetime.datetime(2025, 9, 1, 1, 0, tzinfo=datetime.UTC), tick=False):
        heishan_task = task_create(
            actor=world.person("heishan_head"),
            campaign=world.campaign,
            title="新立屯村道路硬化",
            issuing_unit=world.unit("黑山县"),
            lead_unit=world.unit("芳山镇"),
            due_date=datetime.date(2025, 9, 29),
            assign=True,
        )
    with time_machine.travel(AUTUMN, tick=False):
        sweep_run(day=AUTUMN.date(), send=False)
    # One digest to the city's head about both counties' late work, and one about 义县's alone.
    both = OutboundMessage.objects.create(
        recipient_user=world.person("city_head"), subject="督办汇总", body_text="两县逾期事项"
    )
    both.escalations.set(Escalation.objects.filter(task__in=[late_task, heishan_task]))
    yi_only = OutboundMessage.objects.create(
        recipient_user=world.person("city_head"), subject="义县督办", body_text="义县逾期事项"
    )
    yi_only.escalations.set(Escalation.objects.filter(task=late_task))

    def subjects(username: str) -> set[str]:
        return {m["subject"] for m in api.as_user(username).get("/api/v1/outbox/").json()["results"]}

    assert "义县督办" in subjects("yi_supervisor")
    assert "督办汇总" not in subjects("yi_supervisor")
    assert {"督办汇总", "义县督办"} <= subjects("city_supervisor")
    assert {"督办汇总", "义县督办"} <= subjects("city_head")  # their own


def test_rules_are_read_by_everyone_and_the_default_changed_by_administrators(api, world):
    rules = api.as_user("yi_member").get("/api/v1/escalation-rules/").json()["results"]
    assert [r["level"] for r in rules] == ["reminder", "overdue", "listed", "criticism"]
    listed = next(r for r in rules if r["level"] == "listed")

    for username in ("yi_member", "city_supervisor"):
        refused = api.as_user(username).patch(
            f"/api/v1/escalation-rules/{listed['id']}/", {"offset_working_days": 5}, format="json"
        )
        assert_error(refused, 403, "not_your_ladder")
    changed = api.as_user("admin").patch(
        f"/api/v1/escalation-rules/{listed['id']}/", {"offset_working_days": 5}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["offset_working_days"] == 5


def test_a_task_shows_the_highest_rung_it_reached_against_its_current_due_date(api, late_task):
    with time_machine.travel(AUTUMN, tick=False):
        detail = api.as_user("yi_supervisor").get(f"/api/v1/tasks/{late_task.pk}/").json()
        listed = api.as_user("yi_supervisor").get("/api/v1/tasks/").json()["results"]
    assert detail["escalation"] == "listed"
    assert [t["escalation"] for t in listed if t["id"] == late_task.pk] == ["listed"]
