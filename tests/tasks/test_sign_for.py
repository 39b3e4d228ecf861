"""Before signing for an item (签收): returning it to the issuer (退回) and asking for its
transfer to another unit (转办), which the issuer approves or refuses.

锦州市 issues 危房改造 to 义县 on Monday 8 October 2018 (the campaign's default: three working
days to sign for it, by Thursday 11 October); 黑山县 and 市住建委 are other units the city
hands work to.
"""

import datetime

import pytest
import time_machine

from core.errors import Conflict, InvalidInput
from tasks.models import EventAction, Obligation, ObligationKind, Task, TaskState, TransferRequest
from tasks.services import (
    ChildSpec,
    StepSpec,
    task_decompose,
    task_transition,
    task_update,
    transfer_decide,
    transfer_request_create,
)
from tasks.worklist import work_items_for_user

from ..helpers import assert_error

pytestmark = pytest.mark.django_db

D = datetime.date


def at_nine(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(1, 0), tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(at_nine(D(2018, 10, 8)), tick=False) as traveller:
        yield traveller


@pytest.fixture
def housing(make_task) -> Task:
    return make_task("危房改造")


def sign_for(task: Task, *, met: bool = False) -> list[tuple]:
    rows = Obligation.objects.filter(task=task, kind=ObligationKind.SIGN_FOR)
    rows = rows.filter(met_at__isnull=not met)
    return list(rows.values_list("owed_by__name", "due_date"))


def history(task: Task) -> list[tuple]:
    return list(task.events.order_by("at", "pk").values_list("action", "actor__username", "comment"))


# 退回


def test_the_lead_unit_returns_an_item_to_its_issuer_who_issues_it_again(world, housing, clock, api):
    assert sign_for(housing) == [("义县", D(2018, 10, 11))]
    clock.move_to(at_nine(D(2018, 10, 9)))
    task = task_transition(
        task_id=housing.pk, actor=world.person("yi_member"), name="return_to_issuer", comment="不属于本县职责"
    )
    assert (task.state, task.assigned_at) == (TaskState.DRAFT, None)
    # Met, not chased: the item is with its issuer now.
    assert sign_for(task) == [] and sign_for(task, met=True) == [("义县", D(2018, 10, 11))]
    task.refresh_from_db()
    assert task.next_obligation_date is None
    # The county no longer sees the draft; the issuer does.
    assert_error(api.as_user("yi_member").get(f"/api/v1/tasks/{task.pk}/"), 404, "not_found")
    assert api.as_user("city_head").get(f"/api/v1/tasks/{task.pk}/").json()["state"] == "draft"

    clock.move_to(at_nine(D(2018, 10, 10)))
    task_update(task_id=task.pk, actor=world.person("city_head"), lead_unit=world.unit("黑山县"))
    task = task_transition(task_id=task.pk, actor=world.person("city_head"), name="assign")
    # A new window for the new lead unit, from the day it is issued again.
    assert sign_for(task) == [("黑山县", D(2018, 10, 15))]
    # The history is whole: who returned it, when and why, and each step around it.
    assert history(task) == [
        (EventAction.CREATED, "city_head", ""),
        (EventAction.ASSIGNED, "city_head", ""),
        ("returned_to_issuer", "yi_member", "不属于本县职责"),
        (EventAction.EDITED, "city_head", ""),
        (EventAction.ASSIGNED, "city_head", ""),
    ]
    returned = task.events.get(action="returned_to_issuer")
    assert (returned.from_state, returned.to_state) == ("assigned", "draft")
    assert returned.at.date() == D(2018, 10, 9)


def test_returning_closes_the_step_dates_too(world, make_task):
    task = make_task(
        "贫困户退出",
        kind="procedure",
        steps=[StepSpec("入户核查", D(2018, 10, 31)), StepSpec("民主评议", D(2018, 11, 20))],
    )
    assert task.obligations.filter(met_at__isnull=True).count() == 3
    yi_head = world.person("yi_head")
    task_transition(task_id=task.pk, actor=yi_head, name="return_to_issuer", comment="重复交办")
    assert not task.obligations.filter(met_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("username", "comment", "status_code", "code"),
    [
        ("yi_member", " ", 400, "required"),
        # The issuer does not return its own item; a cooperating unit does not decide for the lead.
        ("city_head", "理由", 403, "permission_denied"),
        ("housing_member", "理由", 403, "permission_denied"),
        ("heishan_head", "理由", 404, "not_found"),
    ],
)
def test_a_refused_return_changes_nothing(api, world, make_task, username, comment, status_code, code):
    task = make_task(cooperating_units=[world.unit("市住建委")])
    response = api.as_user(username).post(
        f"/api/v1/tasks/{task.pk}/transitions/return_to_issuer/", {"comment": comment}, format="json"
    )
    assert_error(response, status_code, code)
    task.refresh_from_db()
    assert task.state == TaskState.ASSIGNED
    assert sign_for(task) == [("义县", D(2018, 10, 11))]


def test_a_signed_for_or_split_item_is_not_returned(api, world, housing, make_task):
    task_transition(task_id=housing.pk, actor=world.person("yi_head"), name="accept")
    url = f"/api/v1/tasks/{housing.pk}/transitions/return_to_issuer/"
    refused = api.as_user("yi_head").post(url, {"comment": "理由"}, format="json")
    assert_error(refused, 409, "invalid_transition")

    split = make_task("饮水安全")
    task_decompose(
        task_id=split.pk,
        actor=world.person("yi_head"),
        children=[ChildSpec(title="饮水安全", lead_unit=world.unit("七里河镇"), due_date=D(2018, 11, 20))],
    )
    url = f"/api/v1/tasks/{split.pk}/transitions/return_to_issuer/"
    assert_error(api.as_user("yi_head").post(url, {"comment": "理由"}, format="json"), 409, "children_open")
    assert Task.objects.get(pk=split.pk).state == TaskState.ASSIGNED


# 转办


def test_a_transfer_approved_hands_the_item_and_a_new_sign_for_window_to_the_named_unit(
    world, housing, clock, api
):
    clock.move_to(at_nine(D(2018, 10, 9)))
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属黑山县"
    )
    # Waiting on the issuer, the county still owes the sign-for by its date.
    assert sign_for(housing) == [("义县", D(2018, 10, 11))]
    waiting = {item.task.pk: item.actions for item in work_items_for_user(world.person("city_head"))}
    assert waiting == {housing.pk: ["decide_transfer"]}
    assert work_items_for_user(world.person("city_head"))[0].pending_transfers == [asked]

    clock.move_to(at_nine(D(2018, 10, 10)))
    decided = transfer_decide(transfer_id=asked.pk, actor=world.person("city_head"), approve=True)
    assert decided.state == "approved"
    task = Task.objects.get(pk=housing.pk)
    assert (task.state, task.lead_unit.name, task.responsible_person) == (TaskState.ASSIGNED, "黑山县", None)
    assert sign_for(task) == [("黑山县", D(2018, 10, 15))]
    assert sign_for(task, met=True) == [("义县", D(2018, 10, 11))]
    assert task.next_obligation_date == D(2018, 10, 15)
    assert sorted(task.task_units.values_list("unit__name", "role")) == [("黑山县", "responsible")]
    # The new lead unit signs for it; the old one no longer sees it, nor is asked anything.
    assert_error(api.as_user("yi_member").get(f"/api/v1/tasks/{task.pk}/"), 404, "not_found")
    assert work_items_for_user(world.person("city_head")) == []
    assert [item.actions for item in work_items_for_user(world.person("heishan_member"))] == [["accept"]]
    assert history(task)[-2:] == [
        (EventAction.TRANSFER_REQUESTED, "yi_member", "属黑山县"),
        (EventAction.TRANSFER_APPROVED, "city_head", ""),
    ]
    approved = task.events.get(action=EventAction.TRANSFER_APPROVED)
    assert approved.data == {
        "transfer": asked.pk,
        "from_unit": world.unit("义县").pk,
        "to_unit": world.unit("黑山县").pk,
        "sign_for_due": "2018-10-15",
    }


def test_a_transfer_refused_leaves_the_sign_for_owed_on_its_original_date(world, housing, clock):
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_head"), to_unit=world.unit("市住建委"), reason="危房归住建"
    )
    owed = Obligation.objects.get(task=housing, kind=ObligationKind.SIGN_FOR)
    clock.move_to(at_nine(D(2018, 10, 10)))
    with pytest.raises(InvalidInput) as refused:
        transfer_decide(transfer_id=asked.pk, actor=world.person("city_head"), approve=False)
    assert refused.value.code == "required"
    transfer_decide(transfer_id=asked.pk, actor=world.person("city_head"), approve=False, comment="属地负责")
    task = Task.objects.get(pk=housing.pk)
    assert task.lead_unit.name == "义县"
    assert Obligation.objects.get(task=housing, kind=ObligationKind.SIGN_FOR, met_at__isnull=True) == owed
    assert sign_for(task) == [("义县", D(2018, 10, 11))]
    assert history(task)[-1] == (EventAction.TRANSFER_REFUSED, "city_head", "属地负责")
    # Refused, the county may ask again, or sign for it.
    transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_head"), to_unit=world.unit("黑山县"), reason="再议"
    )


def test_a_transfer_outside_the_issuers_jurisdiction_is_refused(api, world, make_task):
    # 七里河镇 hands work to its villages, not to a village of another county.
    task = make_task("入户核查", lead_unit="大榆树堡村", issuer="qilihe_head", issuing_unit="七里河镇")
    url = f"/api/v1/tasks/{task.pk}/transfers/"
    api.as_user("village_a_head")
    outside = api.post(url, {"to_unit": world.unit("新立屯村").pk, "reason": "属地"}, format="json")
    assert_error(outside, 403, "outside_jurisdiction", fields={"to_unit"})
    itself = api.post(url, {"to_unit": world.unit("大榆树堡村").pk, "reason": "属地"}, format="json")
    assert_error(itself, 400, "same_unit", fields={"to_unit"})
    assert not TransferRequest.objects.exists()
    inside = api.post(url, {"to_unit": world.unit("王家屯村").pk, "reason": "该户属王家屯村"}, format="json")
    assert inside.status_code == 201, inside.content


@pytest.mark.parametrize(
    ("username", "body", "status_code", "code", "fields"),
    [
        ("city_head", {"reason": "理由"}, 403, "permission_denied", None),
        ("housing_member", {"reason": "理由"}, 403, "permission_denied", None),
        ("city_supervisor", {"reason": "理由"}, 403, "permission_denied", None),
        ("heishan_head", {"reason": "理由"}, 404, "not_found", None),
        ("yi_member", {"reason": " "}, 400, "invalid", {"reason"}),
        ("yi_member", {"to_unit": 987654, "reason": "理由"}, 400, "invalid", {"to_unit"}),
    ],
)
def test_refused_transfer_requests_create_nothing(
    api, world, make_task, username, body, status_code, code, fields
):
    task = make_task(cooperating_units=[world.unit("市住建委")])
    body = {"to_unit": world.unit("黑山县").pk, **body}
    response = api.as_user(username).post(f"/api/v1/tasks/{task.pk}/transfers/", body, format="json")
    assert_error(response, status_code, code, fields=fields)
    assert not TransferRequest.objects.exists()
    assert not task.events.filter(action=EventAction.TRANSFER_REQUESTED).exists()


def test_one_pending_transfer_and_returning_closes_it(api, world, housing):
    url = f"/api/v1/tasks/{housing.pk}/transfers/"
    api.as_user("yi_member")
    first = api.post(url, {"to_unit": world.unit("黑山县").pk, "reason": "属地"}, format="json")
    assert first.status_code == 201
    again = api.post(url, {"to_unit": world.unit("市住建委").pk, "reason": "行业"}, format="json")
    assert_error(again, 409, "transfer_pending")
    # The unit sends the item back instead: its request is moot, closed with the return.
    back = api.post(
        f"/api/v1/tasks/{housing.pk}/transitions/return_to_issuer/", {"comment": "退回"}, format="json"
    )
    assert back.status_code == 200, back.content
    asked = TransferRequest.objects.get()
    assert (asked.state, asked.closed_because, asked.decided_by.username) == (
        "superseded",
        "return_to_issuer",
        "yi_member",
    )
    assert Task.objects.get(pk=housing.pk).state == TaskState.DRAFT
    assert history(housing)[-2:] == [
        (EventAction.RETURNED_TO_ISSUER, "yi_member", "退回"),
        (EventAction.TRANSFER_SUPERSEDED, "yi_member", "任务已退回下达单位，转办申请自动失效。"),
    ]
    decision = api.as_user("city_head").post(
        f"/api/v1/transfers/{asked.pk}/decision/", {"approve": False, "comment": "不同意"}, format="json"
    )
    assert_error(decision, 409, "transfer_closed")


def test_a_signed_for_item_is_not_transferred(api, world, housing):
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    task_transition(task_id=housing.pk, actor=world.person("yi_head"), name="accept")
    # Signing for it closes the request, in the task's history.
    asked.refresh_from_db()
    closed = (asked.state, asked.closed_because, asked.decided_by.username)
    assert closed == ("superseded", "accept", "yi_head")
    superseded = housing.events.get(action=EventAction.TRANSFER_SUPERSEDED)
    assert (superseded.comment, superseded.from_state, superseded.to_state) == (
        "任务已签收，转办申请自动失效。",
        TaskState.IN_PROGRESS,
        TaskState.IN_PROGRESS,
    )
    assert superseded.data == {
        "transfer": asked.pk,
        "from_unit": world.unit("义县").pk,
        "to_unit": world.unit("黑山县").pk,
        "because": "accept",
    }
    url = f"/api/v1/tasks/{housing.pk}/transfers/"
    body = {"to_unit": world.unit("黑山县").pk, "reason": "x"}
    late = api.as_user("yi_member").post(url, body, format="json")
    assert_error(late, 409, "invalid_transition")
    decision = api.as_user("city_head").post(
        f"/api/v1/transfers/{asked.pk}/decision/", {"approve": True}, format="json"
    )
    assert_error(decision, 409, "transfer_closed")
    assert api.get(url).json()["results"][0]["state"] == "superseded"
    assert Task.objects.get(pk=housing.pk).lead_unit.name == "义县"
    # Signed for, the request waits on nobody's workbench.
    assert work_items_for_user(world.person("city_head")) == []


@pytest.mark.parametrize(("actor", "name"), [("city_head", "suspend"), ("city_head", "cancel")])
def test_suspending_or_cancelling_closes_a_pending_transfer(world, housing, actor, name):
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    task_transition(task_id=housing.pk, actor=world.person(actor), name=name, comment="理由")
    asked.refresh_from_db()
    assert (asked.state, asked.closed_because) == ("superseded", name)
    assert history(housing)[-1][:2] == (EventAction.TRANSFER_SUPERSEDED, actor)
    with pytest.raises(Conflict) as closed:
        transfer_decide(transfer_id=asked.pk, actor=world.person("city_head"), approve=True)
    assert closed.value.code == "transfer_closed"
    if name == "suspend":
        # Resumed, the item waits for its sign-for again and the unit may ask anew.
        task_transition(task_id=housing.pk, actor=world.person(actor), name="resume")
        transfer_request_create(
            task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="再议"
        )


def test_the_issuer_naming_another_lead_unit_closes_a_pending_transfer(world, housing):
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    task_update(task_id=housing.pk, actor=world.person("city_head"), lead_unit=world.unit("市住建委"))
    asked.refresh_from_db()
    assert (asked.state, asked.closed_because) == ("superseded", "edit")
    assert [action for action, *_ in history(housing)[-2:]] == [
        EventAction.REASSIGNED,
        EventAction.TRANSFER_SUPERSEDED,
    ]


def test_the_asking_unit_withdraws_its_request(api, world, housing):
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    url = f"/api/v1/transfers/{asked.pk}/withdraw/"
    withdrawn = api.as_user("yi_head").post(url, {"comment": "本县办理"}, format="json")
    assert withdrawn.status_code == 200, withdrawn.content
    body = withdrawn.json()
    assert (body["state"], body["decided_by"]["full_name"], body["decision_comment"]) == (
        "withdrawn",
        world.person("yi_head").full_name,
        "本县办理",
    )
    assert history(housing)[-1] == (EventAction.TRANSFER_WITHDRAWN, "yi_head", "本县办理")
    # Nothing waits on the issuer; the county still owes the sign-for by its date.
    assert work_items_for_user(world.person("city_head")) == []
    assert sign_for(housing) == [("义县", D(2018, 10, 11))]
    assert_error(api.post(url, {}, format="json"), 409, "transfer_closed")
    decision = api.as_user("city_head").post(
        f"/api/v1/transfers/{asked.pk}/decision/", {"approve": True}, format="json"
    )
    assert_error(decision, 409, "transfer_closed")
    # Withdrawn, the unit may ask again.
    again = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("市住建委"), reason="行业"
    )
    assert again.state == "pending"


@pytest.mark.parametrize(
    ("username", "status_code", "code"),
    [
        ("city_head", 403, "permission_denied"),
        ("housing_member", 403, "permission_denied"),
        ("city_supervisor", 403, "permission_denied"),
        ("heishan_head", 404, "not_found"),
    ],
)
def test_only_the_asking_unit_withdraws(api, world, make_task, username, status_code, code):
    task = make_task(cooperating_units=[world.unit("市住建委")])
    asked = transfer_request_create(
        task_id=task.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    response = api.as_user(username).post(f"/api/v1/transfers/{asked.pk}/withdraw/", {}, format="json")
    assert_error(response, status_code, code)
    asked.refresh_from_db()
    assert asked.state == "pending"
    assert not task.events.filter(action=EventAction.TRANSFER_WITHDRAWN).exists()


def test_after_a_hand_over_the_new_lead_unit_cannot_withdraw_the_request(api, world, housing):
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    transfer_decide(transfer_id=asked.pk, actor=world.person("city_head"), approve=True)
    response = api.as_user("heishan_head").post(f"/api/v1/transfers/{asked.pk}/withdraw/", {}, format="json")
    assert_error(response, 403, "permission_denied")


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
def test_refused_transfer_decisions_change_nothing(
    api, world, housing, username, body, status_code, code, fields
):
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    response = api.as_user(username).post(f"/api/v1/transfers/{asked.pk}/decision/", body, format="json")
    assert_error(response, status_code, code, fields=fields)
    asked.refresh_from_db()
    assert asked.state == "pending"
    assert Task.objects.get(pk=housing.pk).lead_unit.name == "义县"


def test_the_transfer_operations_answer_at_fixed_query_counts(api, world, housing, django_assert_num_queries):
    api.as_user("yi_member")
    url = f"/api/v1/tasks/{housing.pk}/transfers/"
    # The unit named; savepoint; lock the task; memberships; the issuing unit (jurisdiction);
    # savepoint, insert, release; history; release; the asking unit, for the answer.
    with django_assert_num_queries(11):
        created = api.post(url, {"to_unit": world.unit("黑山县").pk, "reason": "属地"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["from_unit"]["name"], body["to_unit"]["name"]) == ("义县", "黑山县")
    assert body["state"] == "pending"
    assert body["requested_by"]["full_name"] == "周干事"
    with django_assert_num_queries(4):
        listed = api.get(url)
    assert [row["id"] for row in listed.json()["results"]] == [body["id"]]

    api.as_user("city_head")
    decision = f"/api/v1/transfers/{body['id']}/decision/"
    # The idempotency record; memberships; the request (visible?) and its task; the locked task,
    # the locked request and the issuing unit; the request, the links, the task and its scope
    # rows rewritten; the sign-for met, the rows re-owned, the calendar (the campaign came
    # with the locked task), the new sign-for, the dates refreshed on the task and its rows;
    # history; the answer.
    with django_assert_num_queries(30):
        decided = api.post(decision, {"approve": True}, format="json", HTTP_IDEMPOTENCY_KEY="transfer-1")
    assert decided.status_code == 200, decided.content
    assert (decided.json()["state"], decided.json()["decided_by"]["full_name"]) == ("approved", "王市长")
    again = api.post(decision, {"approve": True}, format="json", HTTP_IDEMPOTENCY_KEY="transfer-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == decided.json()
    assert housing.events.filter(action=EventAction.TRANSFER_APPROVED).count() == 1


def test_withdrawing_and_closing_a_transfer_take_fixed_query_counts(
    api, world, housing, django_assert_num_queries
):
    asked = transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    api.as_user("yi_member")
    # Memberships; the request (visible?); savepoint; its task id, the task locked; the request
    # locked; its update; history; release; the answer.
    with django_assert_num_queries(10):
        withdrawn = api.post(f"/api/v1/transfers/{asked.pk}/withdraw/", {}, format="json")
    assert withdrawn.status_code == 200, withdrawn.content
    transfer_request_create(
        task_id=housing.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    # Signing for it closes the request with its history row: one statement more than when
    # nothing waits (tests/tasks/test_apis.py, 10).
    with django_assert_num_queries(11):
        accepted = api.post(
            f"/api/v1/tasks/{housing.pk}/transitions/accept/", {}, format="json", HTTP_PREFER="return=minimal"
        )
    assert accepted.status_code == 204, accepted.content


# 暂缓 → 恢复


def test_resuming_moves_the_unmet_obligation_dates_by_the_working_days_suspended(world, make_task, clock):
    task = make_task(
        "贫困户退出",
        kind="procedure",
        steps=[StepSpec("入户核查", D(2018, 10, 31)), StepSpec("民主评议", D(2018, 11, 20))],
    )
    task_transition(task_id=task.pk, actor=world.person("city_head"), name="suspend", comment="汛期")
    # Suspended Monday 8 October, resumed Monday 15 October: five working days stood still.
    clock.move_to(at_nine(D(2018, 10, 15)))
    task = task_transition(task_id=task.pk, actor=world.person("city_head"), name="resume")
    assert task.due_date == D(2018, 12, 7)
    unmet = dict(task.obligations.filter(met_at__isnull=True).values_list("label", "due_date"))
    assert unmet == {"": D(2018, 10, 18), "入户核查": D(2018, 11, 7), "民主评议": D(2018, 11, 27)}
    task.refresh_from_db()
    assert task.next_obligation_date == D(2018, 10, 18)
    assert task.scopes.values_list("next_obligation_date", flat=True).distinct().get() == D(2018, 10, 18)
