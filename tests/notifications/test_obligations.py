"""What is owed besides the work itself, chased by the same ladder: signing for an item
(签收), procedure steps by their dates, and the issuer's verification (验收).

Issued by 七里河镇 to the village 大榆树堡村 in the autumn of 2018, with the campaign's
defaults: three working days to sign for an item, five to verify a submission.
"""

import datetime

import pytest
import time_machine

from notifications.models import Escalation
from notifications.services import sweep_run
from tasks import lateness
from tasks.models import Obligation, ObligationKind, Task
from tasks.rungs import LEVEL_RANK, Level
from tasks.services import (
    ChildSpec,
    StepSpec,
    procedure_step_complete,
    task_create,
    task_decompose,
    task_transition,
    transfer_decide,
    transfer_request_create,
)

from ..helpers import assert_error
from .conftest import at_nine, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

D = datetime.date
VILLAGE_HEAD = "village_a_head@jz.example.cn"
TOWNSHIP_HEAD = "qilihe_head@jz.example.cn"


def sweep_on(day: datetime.date) -> dict:
    with time_machine.travel(at_nine(day), tick=False):
        return sweep_run(day=day)


def act(day: datetime.date, username: str, name: str, world, task: Task, comment: str = "") -> Task:
    with time_machine.travel(at_nine(day), tick=False):
        return task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)


def issue(world, day: datetime.date, due: datetime.date, **extra) -> Task:
    with time_machine.travel(at_nine(day), tick=False):
        return task_create(
            actor=world.person("qilihe_head"),
            campaign=world.campaign,
            title=extra.pop("title", "大榆树堡村危房改造"),
            issuing_unit=world.unit("七里河镇"),
            lead_unit=world.unit("大榆树堡村"),
            responsible_person=world.person("village_a_head"),
            due_date=due,
            assign=True,
            **extra,
        )


def chased(task: Task, kind: str | None) -> list[str]:
    rows = Escalation.objects.filter(task=task)
    rows = rows.filter(obligation__isnull=True) if kind is None else rows.filter(obligation__kind=kind)
    return sorted(rows.values_list("level", flat=True))


def test_an_item_not_signed_for_within_the_limit_is_chased_once_per_rung(addressed, smtp):
    world = addressed
    # Assigned Monday 15 October: to be signed for by Thursday 18 October.
    task = issue(world, D(2018, 10, 15), D(2018, 12, 10))
    owed = Obligation.objects.get(task=task, kind=ObligationKind.SIGN_FOR)
    assert owed.due_date == D(2018, 10, 18)
    assert owed.owed_by_id == world.unit("大榆树堡村").pk

    sweep_on(D(2018, 10, 18))
    assert chased(task, ObligationKind.SIGN_FOR) == []  # no warning with the work itself
    sweep_on(D(2018, 10, 19))
    assert chased(task, ObligationKind.SIGN_FOR) == ["overdue"]
    digest = text_of(smtp.mailbox.to(VILLAGE_HEAD)[-1])
    assert "未签收（应于10月18日前签收）" in digest
    assert "大榆树堡村危房改造" in digest
    # The task's own due date is weeks away: nothing against it, and red only for 签收.
    assert chased(task, None) == []
    task.refresh_from_db()
    assert lateness.is_overdue(task, D(2018, 10, 19))
    assert Task.objects.filter(lateness.overdue_q(D(2018, 10, 19)), pk=task.pk).exists()
    assert not lateness.is_late(task, D(2018, 10, 19))

    sent = len(smtp.mailbox.messages)
    sweep_on(D(2018, 10, 19))  # again the same day: nothing new, nobody told twice
    assert chased(task, ObligationKind.SIGN_FOR) == ["overdue"]
    assert len(smtp.mailbox.messages) == sent

    # Signed for on Monday 22 October: met, the climb stops and the light is green again.
    task = act(D(2018, 10, 22), "village_a_head", "accept", world, task)
    assert Obligation.objects.get(pk=owed.pk).met_at is not None
    sweep_on(D(2018, 10, 25))
    assert chased(task, ObligationKind.SIGN_FOR) == ["overdue"]
    task.refresh_from_db()
    assert task.next_obligation_date is None
    limit = lateness.yellow_limit(D(2018, 10, 25), 3)
    assert lateness.task_light(task, D(2018, 10, 25), limit) == "green"


def test_a_late_step_is_chased_while_the_final_date_is_months_away(addressed, smtp):
    world = addressed
    steps = [
        StepSpec("入户核查", D(2018, 11, 9)),
        StepSpec("民主评议", D(2018, 11, 20)),
        StepSpec("两公示一公告", D(2018, 11, 30)),
        StepSpec("销号", D(2018, 12, 10)),
    ]
    task = issue(
        world, D(2018, 11, 1), D(2019, 3, 29), title="大榆树堡村贫困户退出", kind="procedure", steps=steps
    )
    task = act(D(2018, 11, 1), "village_a_head", "accept", world, task)
    first = task.steps.get(name="入户核查")
    with time_machine.travel(at_nine(D(2018, 11, 8)), tick=False):
        procedure_step_complete(task_id=task.pk, step_id=first.pk, actor=world.person("village_a_head"))

    sweep_on(D(2018, 11, 12))  # 入户核查 was done in time: nothing
    assert chased(task, ObligationKind.STEP) == []
    sweep_on(D(2018, 11, 21))
    appraisal = Obligation.objects.get(task=task, kind=ObligationKind.STEP, label="民主评议")
    assert sorted(Escalation.objects.filter(obligation=appraisal).values_list("level", flat=True)) == [
        "overdue",
        "reminder",
    ]
    # Its own rung history: the step climbed, the task (due in March) did not.
    appraisal.refresh_from_db()
    assert appraisal.escalation_rank == LEVEL_RANK[Level.OVERDUE]
    task.refresh_from_db()
    assert task.escalation_rank is None
    assert chased(task, None) == []
    digest = text_of(smtp.mailbox.to(VILLAGE_HEAD)[-1])
    assert "民主评议（应于11月20日前完成）" in digest
    assert digest.count("大榆树堡村贫困户退出") == 1
    assert "两公示一公告" not in digest


def test_a_unit_that_submitted_in_time_climbs_no_further_and_the_issuer_is_chased(addressed, smtp):
    world = addressed
    task = issue(world, D(2018, 11, 1), D(2018, 11, 30))
    task = act(D(2018, 11, 1), "village_a_head", "accept", world, task)
    sweep_on(D(2018, 11, 27))  # the warning, three working days before the due date
    assert chased(task, None) == ["reminder"]

    # Submitted Wednesday 28 November, two days early: the township verifies by 5 December.
    task = act(D(2018, 11, 28), "village_a_head", "submit", world, task, comment="已全部完成")
    verification = Obligation.objects.get(task=task, kind=ObligationKind.VERIFY)
    assert (verification.due_date, verification.owed_by_id) == (D(2018, 12, 5), world.unit("七里河镇").pk)

    before = len(smtp.mailbox.to(VILLAGE_HEAD))
    sweep_on(D(2018, 12, 3))  # past the due date, within the verification limit
    assert chased(task, None) == ["reminder"]  # no overdue rung for the unit
    assert len(smtp.mailbox.to(VILLAGE_HEAD)) == before
    task.refresh_from_db()
    assert not lateness.is_overdue(task, D(2018, 12, 3))
    assert not lateness.is_late(task, D(2018, 12, 3))

    sweep_on(D(2018, 12, 6))
    assert chased(task, None) == ["reminder"]
    assert chased(task, ObligationKind.VERIFY) == ["overdue"]
    row = Escalation.objects.get(obligation=verification)
    assert (row.lead_unit_id, row.responsible_person_id) == (world.unit("七里河镇").pk, None)
    # Up the issuer's chain: the township's head hears of it, the village does not.
    digest = text_of(smtp.mailbox.to(TOWNSHIP_HEAD)[-1])
    assert "待验收（应于12月5日前验收）" in digest
    assert "责任单位：七里河镇" in digest
    assert len(smtp.mailbox.to(VILLAGE_HEAD)) == before
    # Red for the issuer's delay, yet not late for the unit.
    task.refresh_from_db()
    assert lateness.is_overdue(task, D(2018, 12, 6))
    assert not lateness.is_late(task, D(2018, 12, 6))

    task = act(D(2018, 12, 7), "qilihe_head", "close", world, task)
    assert Obligation.objects.get(pk=verification.pk).met_at is not None
    assert not lateness.is_late(task, D(2018, 12, 7))


def test_the_lights_in_sql_agree_with_python_for_every_kind(addressed):
    world = addressed
    unsigned = issue(world, D(2018, 10, 15), D(2018, 12, 10), title="未签收")
    near = issue(world, D(2018, 10, 17), D(2018, 12, 10), title="临近签收")
    signed = act(
        D(2018, 10, 15),
        "village_a_head",
        "accept",
        world,
        issue(world, D(2018, 10, 15), D(2018, 12, 10), title="已签收"),
    )
    on = D(2018, 10, 19)
    limit = lateness.yellow_limit(on, 3)
    tasks = Task.objects.filter(pk__in=[unsigned.pk, near.pk, signed.pk])
    python = {task.title: lateness.task_light(task, on, limit) for task in tasks}
    # Signing for shows once missed only: an item that arrived two days ago is green.
    assert python == {"未签收": "red", "临近签收": "green", "已签收": "green"}
    for light in ("red", "yellow", "green"):
        titles = set(tasks.filter(lateness.light_q(light, on, 3)).values_list("title", flat=True))
        assert titles == {title for title, seen in python.items() if seen == light}


def test_a_decomposed_procedure_owes_its_signing_and_steps_from_its_issue(addressed):
    world = addressed
    steps = [StepSpec("入户核查", D(2018, 11, 9)), StepSpec("民主评议", D(2018, 11, 20))]
    with time_machine.travel(at_nine(D(2018, 11, 1)), tick=False):
        parent = task_create(
            actor=world.person("yi_head"),
            campaign=world.campaign,
            title="义县贫困村退出",
            issuing_unit=world.unit("义县"),
            lead_unit=world.unit("七里河镇"),
            due_date=D(2018, 11, 30),
            kind="procedure",
            steps=steps,
            assign=True,
        )
        [child] = task_decompose(
            task_id=parent.pk,
            actor=world.person("qilihe_head"),
            children=[ChildSpec("大榆树堡村退出", world.unit("大榆树堡村"), D(2018, 11, 30))],
        )
    owed = dict(Obligation.objects.filter(task=child).values_list("kind", "due_date").order_by("due_date"))
    assert owed == {ObligationKind.SIGN_FOR: D(2018, 11, 6), ObligationKind.STEP: D(2018, 11, 20)}
    assert set(Obligation.objects.filter(task=child).values_list("owed_by", flat=True)) == {
        world.unit("大榆树堡村").pk
    }
    child.refresh_from_db()
    assert (child.next_obligation_date, child.next_warned_date) == (D(2018, 11, 6), D(2018, 11, 9))


def test_backward_planning_shows_the_step_dates_and_saves_nothing(api, world):
    client = api.as_user("yi_head")
    steps = [
        {"name": "入户核查", "working_days": 5},
        {"name": "民主评议", "working_days": 3},
        {"name": "两公示一公告", "working_days": 5},
        {"name": "销号", "working_days": 2},
    ]
    before = Task.objects.count()
    response = client.post("/api/v1/step-plans/", {"due_date": "2018-11-30", "steps": steps}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "due_date": "2018-11-30",
        "steps": [
            {"name": "入户核查", "working_days": 5, "due_date": "2018-11-16"},
            {"name": "民主评议", "working_days": 3, "due_date": "2018-11-21"},
            {"name": "两公示一公告", "working_days": 5, "due_date": "2018-11-28"},
            {"name": "销号", "working_days": 2, "due_date": "2018-11-30"},
        ],
    }
    assert Task.objects.count() == before
    zero = {"due_date": "2018-11-30", "steps": [{"name": "入户核查", "working_days": 0}]}
    bad = client.post("/api/v1/step-plans/", zero, format="json")
    assert_error(bad, 400, "invalid", fields={"steps"})
    assert api.as_user(None).post("/api/v1/step-plans/", {}, format="json").status_code == 401


def test_a_refused_transfer_is_chased_on_the_original_date_and_an_approved_one_from_its_own(addressed, smtp):
    world = addressed
    # Assigned Monday 15 October to 大榆树堡村: to be signed for by Thursday 18 October.
    task = issue(world, D(2018, 10, 15), D(2018, 12, 10))
    with time_machine.travel(at_nine(D(2018, 10, 16)), tick=False):
        asked = transfer_request_create(
            task_id=task.pk,
            actor=world.person("village_a_head"),
            to_unit=world.unit("王家屯村"),
            reason="该户属王家屯村",
        )
    with time_machine.travel(at_nine(D(2018, 10, 17)), tick=False):
        transfer_decide(
            transfer_id=asked.pk, actor=world.person("qilihe_head"), approve=False, comment="属地负责"
        )
    # Refused: the village still owed it by the 18th, and is chased from the 19th.
    sweep_on(D(2018, 10, 19))
    assert chased(task, ObligationKind.SIGN_FOR) == ["overdue"]
    assert "未签收（应于10月18日前签收）" in text_of(smtp.mailbox.to(VILLAGE_HEAD)[-1])

    with time_machine.travel(at_nine(D(2018, 10, 19)), tick=False):
        asked = transfer_request_create(
            task_id=task.pk,
            actor=world.person("village_a_head"),
            to_unit=world.unit("王家屯村"),
            reason="再次申请",
        )
        transfer_decide(transfer_id=asked.pk, actor=world.person("qilihe_head"), approve=True)
    # Approved on Friday 19 October: 王家屯村 signs for it by Wednesday 24 October, and the
    # old village's climb stops with the item.
    sweep_on(D(2018, 10, 24))
    rows = Escalation.objects.filter(task=task, obligation__kind=ObligationKind.SIGN_FOR)
    assert sorted(rows.values_list("obligation__owed_by__name", "level")) == [("大榆树堡村", "overdue")]
    sweep_on(D(2018, 10, 25))
    assert sorted(rows.values_list("obligation__owed_by__name", "level")) == [
        ("大榆树堡村", "overdue"),
        ("王家屯村", "overdue"),
    ]
    assert "未签收（应于10月24日前签收）" in text_of(smtp.mailbox.to("village_b_head@jz.example.cn")[-1])


def test_an_item_returned_to_its_issuer_is_not_chased_for_signing_for_it(addressed, smtp):
    world = addressed
    task = issue(world, D(2018, 10, 15), D(2018, 12, 10))
    act(D(2018, 10, 17), "village_a_head", "return_to_issuer", world, task, "不属于本村")
    sweep_on(D(2018, 10, 22))
    assert chased(task, ObligationKind.SIGN_FOR) == []
    assert not smtp.mailbox.to(VILLAGE_HEAD)
