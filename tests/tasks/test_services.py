"""Every change to a task, through the services the API, admin and jobs all call."""

import datetime
import hashlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from tasks.attachments import clean_filename
from tasks.models import (
    Attachment,
    ExtensionRequest,
    ExtensionState,
    Indicator,
    ProcedureStep,
    ProgressReport,
    Task,
    TaskEvent,
    TaskKind,
    TaskState,
    TaskUnit,
    TaskUnitRole,
)
from tasks.services import (
    ChildSpec,
    IndicatorSpec,
    StepSpec,
    extension_decide,
    extension_request_create,
    procedure_step_complete,
    progress_report_create,
    task_available_transitions,
    task_decompose,
    task_transition,
    task_update,
)
from tests.helpers import split_target

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

D = datetime.date
SHANGHAI = ZoneInfo("Asia/Shanghai")
EXIT_STEPS = [
    StepSpec("入户核查", D(2018, 11, 9)),
    StepSpec("民主评议", D(2018, 11, 16)),
    StepSpec("两公示一公告", D(2018, 11, 23)),
    StepSpec("销号", D(2018, 11, 30)),
]
CHILD_DUE = D(2018, 11, 20)
HOUSES_DUE = D(2018, 10, 31)  # house renovation: by the end of October
EXTENDED_DUE = D(2018, 12, 10)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def act(world):
    def act(task: Task, username: str, name: str, comment: str = "") -> Task:
        return task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)

    return act


def actions(task: Task) -> list[str]:
    return list(TaskEvent.objects.filter(task=task).order_by("pk").values_list("action", flat=True))


def reload(task: Task) -> Task:
    return Task.objects.get(pk=task.pk)


@pytest.fixture
def running(make_task, act) -> Task:
    """A task 义县 has signed for."""
    return act(make_task("危房改造"), "yi_member", "accept")


@pytest.fixture
def procedure(make_task, act) -> Task:
    return act(make_task("贫困村退出", kind=TaskKind.PROCEDURE, steps=EXIT_STEPS), "yi_member", "accept")


@pytest.fixture
def rectification(make_task) -> Task:
    return make_task("整改：危房鉴定不准确", kind=TaskKind.RECTIFICATION)


# task_create


def test_a_new_task_is_a_draft_of_the_issuer(world, make_task):
    task = make_task(
        "危房改造",
        assign=False,
        responsible_units=[world.unit("义县"), world.unit("黑山县")],
        cooperating_units=[world.unit("市住建委")],
        lead_leader=world.person("leader"),
    )
    assert task.state == TaskState.DRAFT
    assert task.original_due_date == task.due_date == D(2018, 11, 30)
    assert task.assigned_at is None
    links = set(TaskUnit.objects.filter(task=task).values_list("unit__name", "role"))
    assert links == {
        ("义县", TaskUnitRole.RESPONSIBLE),
        ("黑山县", TaskUnitRole.RESPONSIBLE),
        ("市住建委", TaskUnitRole.COOPERATING),
    }
    event = TaskEvent.objects.get(task=task)
    assert (event.action, event.actor, event.to_state) == ("created", world.person("city_head"), "draft")


def test_creating_with_assign_issues_at_once(make_task):
    task = make_task(assign=True)
    assert reload(task).state == TaskState.ASSIGNED
    assert reload(task).assigned_at is not None
    assert actions(task) == ["created", "assigned"]


def test_a_target_task_keeps_its_indicators(make_task):
    task = make_task(
        "贫困县退出",
        kind=TaskKind.TARGET,
        indicators=[
            IndicatorSpec(
                name="贫困发生率", target=Decimal(2), unit_of_measure="%", comparison="lte", veto=True
            ),
            IndicatorSpec(name="住房安全保障率", target=Decimal(98), unit_of_measure="%", veto=True),
        ],
    )
    rows = list(task.indicators.order_by("pk").values_list("name", "comparison", "target", "veto"))
    assert rows == [("贫困发生率", "lte", Decimal(2), True), ("住房安全保障率", "gte", Decimal(98), True)]


def test_a_target_task_needs_an_indicator(make_task):
    with pytest.raises(InvalidInput) as refused:
        make_task(kind=TaskKind.TARGET)
    assert refused.value.code == "indicators_required"
    assert not Task.objects.exists()


def test_a_procedure_needs_steps_and_keeps_their_order(make_task):
    with pytest.raises(InvalidInput) as refused:
        make_task(kind=TaskKind.PROCEDURE)
    assert refused.value.code == "steps_required"

    task = make_task(kind=TaskKind.PROCEDURE, steps=EXIT_STEPS)
    assert list(task.steps.values_list("order", "name")) == [
        (1, "入户核查"),
        (2, "民主评议"),
        (3, "两公示一公告"),
        (4, "销号"),
    ]


@pytest.mark.parametrize(
    "steps",
    [
        [StepSpec("入户核查", D(2018, 11, 16)), StepSpec("民主评议", D(2018, 11, 9))],
        [StepSpec("入户核查", D(2018, 11, 9)), StepSpec("销号", D(2018, 12, 3))],
    ],
    ids=["earlier-than-the-step-before", "after-the-task"],
)
def test_steps_out_of_order_are_refused(make_task, steps):
    with pytest.raises(InvalidInput) as refused:
        make_task(kind=TaskKind.PROCEDURE, steps=steps)
    assert refused.value.code == "steps_out_of_order"
    assert not Task.objects.exists()


def test_a_unit_cannot_be_both_responsible_and_cooperating(world, make_task):
    with pytest.raises(InvalidInput) as refused:
        make_task(lead_unit="义县", cooperating_units=[world.unit("义县")])
    assert refused.value.code == "unit_twice"
    assert not Task.objects.exists()


def test_only_a_head_of_the_issuing_unit_creates_its_tasks(world, make_task):
    for username in ("city_supervisor", "housing_head", "yi_head"):
        with pytest.raises(Forbidden):
            make_task(issuer=username)
    assert not Task.objects.exists()


# task_transition


def test_a_task_travels_through_its_life(world, make_task, act):
    task = make_task()
    act(task, "yi_member", "accept")
    act(task, "yi_member", "submit", "已完成改造")
    returned = act(task, "city_head", "return", "缺少验收材料")
    assert returned.submitted_at is None
    act(task, "yi_member", "submit", "补充验收材料")
    closed = act(task, "city_head", "close")
    assert closed.state == TaskState.CLOSED
    assert closed.closed_at is not None
    events = list(TaskEvent.objects.filter(task=task).order_by("pk"))
    assert [(e.action, e.from_state, e.to_state) for e in events[2:]] == [
        ("accepted", "assigned", "in_progress"),
        ("submitted", "in_progress", "submitted"),
        ("returned", "submitted", "in_progress"),
        ("submitted", "in_progress", "submitted"),
        ("closed", "submitted", "closed"),
    ]
    assert events[4].comment == "缺少验收材料"
    assert events[4].actor == world.person("city_head")


def test_an_unknown_transition_is_refused(running, act):
    with pytest.raises(InvalidInput) as refused:
        act(running, "city_head", "approve")
    assert refused.value.code == "unknown_transition"


@pytest.mark.parametrize(
    ("username", "name"),
    [
        ("yi_member", "submit"),
        ("city_head", "suspend"),
        ("city_head", "cancel"),
    ],
)
def test_these_transitions_need_a_reason(running, act, username, name):
    with pytest.raises(InvalidInput) as refused:
        act(running, username, name, "   ")
    assert refused.value.code == "required"
    assert reload(running).state == TaskState.IN_PROGRESS
    assert actions(running)[-1] == "accepted"


def test_returning_and_reopening_need_a_reason(running, rectification, act):
    act(running, "yi_member", "submit", "已完成")
    with pytest.raises(InvalidInput):
        act(running, "city_head", "return")
    act(rectification, "yi_member", "accept")
    act(rectification, "yi_member", "submit", "已整改")
    act(rectification, "city_head", "close")
    with pytest.raises(InvalidInput):
        act(rectification, "city_supervisor", "reopen")
    assert reload(rectification).state == TaskState.CLOSED


@pytest.mark.parametrize(
    ("state_after", "username", "name"),
    [
        ("assigned", "yi_member", "submit"),
        ("assigned", "city_head", "close"),
        ("assigned", "city_head", "assign"),
        ("in_progress", "yi_member", "accept"),
        ("in_progress", "city_head", "resume"),
    ],
)
def test_a_transition_from_the_wrong_state_is_invalid(make_task, act, state_after, username, name):
    task = make_task()
    if state_after == "in_progress":
        act(task, "yi_member", "accept")
    with pytest.raises(InvalidTransition):
        act(task, username, name, "说明")
    assert reload(task).state == state_after


@pytest.mark.parametrize(
    ("username", "name"),
    [
        ("city_head", "submit"),  # the issuer does not do the work
        ("yi_head", "suspend"),  # the responsible side does not suspend its own task
        ("yi_head", "cancel"),
        ("city_supervisor", "cancel"),
        ("admin", "submit"),
    ],
)
def test_each_side_performs_only_its_own_transitions(running, act, username, name):
    with pytest.raises(Forbidden):
        act(running, username, name, "说明")
    assert reload(running).state == TaskState.IN_PROGRESS


@pytest.mark.parametrize(
    "username",
    [
        "village_a_head",  # a unit below the responsible unit does not see its task
        "heishan_head",  # nor does another county
    ],
)
def test_a_task_the_actor_cannot_see_is_not_found(running, act, username):
    with pytest.raises(NotFound):
        act(running, username, "submit", "说明")
    assert reload(running).state == TaskState.IN_PROGRESS


def test_the_issuer_verifies_and_the_responsible_unit_signs(make_task, act):
    task = make_task()
    with pytest.raises(Forbidden):
        act(task, "city_head", "accept")
    act(task, "yi_head", "accept")
    act(task, "yi_head", "submit", "已完成")
    with pytest.raises(Forbidden):
        act(task, "yi_head", "close")
    assert act(task, "admin", "close").state == TaskState.CLOSED


def test_available_transitions_follow_state_and_side(world, running):
    assert task_available_transitions(task=running, actor=world.person("yi_member")) == ["submit"]
    assert task_available_transitions(task=running, actor=world.person("city_head")) == ["suspend", "cancel"]
    assert task_available_transitions(task=running, actor=world.person("village_a_head")) == []


def _close_rectification(task, act):
    act(task, "yi_member", "accept")
    act(task, "yi_member", "submit", "已整改到位")
    return act(task, "city_head", "close")


def test_the_supervision_office_reopens_a_recurring_problem(rectification, act):
    _close_rectification(rectification, act)
    reopened = act(rectification, "city_supervisor", "reopen", "回头看发现问题反弹")
    assert reopened.state == TaskState.IN_PROGRESS
    assert reopened.reopen_count == 1
    assert reopened.closed_at is None
    act(reopened, "yi_member", "submit", "再次整改")
    act(reopened, "city_head", "close")
    assert act(rectification, "city_head", "reopen", "抽查暗访发现反弹").reopen_count == 2
    assert actions(rectification).count("reopened") == 2


@pytest.mark.parametrize(
    ("username", "refusal"),
    [
        ("yi_supervisor", Forbidden),
        ("yi_head", Forbidden),
        ("yi_member", Forbidden),
        ("village_a_head", NotFound),  # a village does not see its county's task
    ],
)
def test_only_the_issuer_or_a_supervisor_above_it_reopens(rectification, act, username, refusal):
    _close_rectification(rectification, act)
    with pytest.raises(refusal):
        act(rectification, username, "reopen", "回头看")
    assert reload(rectification).state == TaskState.CLOSED


def test_an_ordinary_task_cannot_be_reopened(running, act):
    act(running, "yi_member", "submit", "已完成")
    act(running, "city_head", "close")
    with pytest.raises(InvalidTransition):
        act(running, "city_supervisor", "reopen", "回头看")
    with pytest.raises(InvalidTransition):
        act(running, "city_head", "reopen", "回头看")


def _split(world, task, *names, by="yi_head", due=CHILD_DUE) -> list[Task]:
    return task_decompose(
        task_id=task.pk,
        actor=world.person(by),
        children=[
            ChildSpec(title=f"{name}危房改造", lead_unit=world.unit(name), due_date=due) for name in names
        ],
    )


def test_open_children_block_submitting_and_cancelling_the_parent(world, running, act):
    [child] = _split(world, running, "七里河镇")
    with pytest.raises(Conflict) as refused:
        act(running, "yi_member", "submit", "全县完成")
    assert refused.value.code == "children_open"
    with pytest.raises(Conflict) as refused:
        act(running, "city_head", "cancel", "任务调整")
    assert refused.value.code == "children_open"

    act(child, "yi_head", "cancel", "并入其他任务")
    assert act(running, "yi_member", "submit", "全县完成").state == TaskState.SUBMITTED


def test_a_reopened_child_blocks_closing_the_parent(world, rectification, act):
    act(rectification, "yi_head", "accept")
    [child] = _split(world, rectification, "七里河镇")
    act(child, "qilihe_head", "accept")
    act(child, "qilihe_head", "submit", "已整改")
    act(child, "yi_head", "close")

    # Reopened while the parent is still in progress; a submitted parent refuses it
    # (test_a_child_is_not_reopened_under_a_finished_parent).
    act(child, "city_supervisor", "reopen", "抽查暗访发现问题反弹")
    for actor, name in (("yi_head", "submit"), ("city_head", "cancel")):
        with pytest.raises(Conflict) as refused:
            act(rectification, actor, name, "全县整改完成")
        assert refused.value.code == "children_open"
    assert reload(rectification).state == TaskState.IN_PROGRESS


@pytest.fixture
def closed_child(world, rectification, act) -> Task:
    """A rectification item of 义县 with its 七里河镇 part closed, the county's still open."""
    act(rectification, "yi_head", "accept")
    [child] = _split(world, rectification, "七里河镇")
    act(child, "qilihe_head", "accept")
    act(child, "qilihe_head", "submit", "已整改")
    return act(child, "yi_head", "close")


@pytest.mark.parametrize("parent_step", ["submit", "close", "cancel"])
def test_a_child_is_not_reopened_under_a_finished_parent(rectification, closed_child, act, parent_step):
    if parent_step == "cancel":
        act(rectification, "city_head", "cancel", "并入其他整改事项")
    else:
        act(rectification, "yi_head", "submit", "全县整改完成")
    if parent_step == "close":
        act(rectification, "city_head", "close")
    parent_state = reload(rectification).state
    with pytest.raises(Conflict) as refused:
        act(closed_child, "city_supervisor", "reopen", "抽查暗访发现问题反弹")
    assert refused.value.code == "parent_closed"
    assert reload(closed_child).state == TaskState.CLOSED
    assert reload(closed_child).reopen_count == 0
    assert "reopened" not in actions(closed_child)
    assert reload(rectification).state == parent_state


def test_the_recurrence_reopens_the_parent_first_then_the_child(world, rectification, closed_child, act):
    act(rectification, "yi_head", "submit", "全县整改完成")
    act(rectification, "city_head", "close")
    act(rectification, "city_supervisor", "reopen", "回头看发现七里河镇问题反弹")
    reopened = act(closed_child, "city_supervisor", "reopen", "回头看发现问题反弹")
    assert (reopened.state, reopened.reopen_count) == (TaskState.IN_PROGRESS, 1)
    # And the rule holds the other way round: the reopened child keeps the parent open.
    with pytest.raises(Conflict) as refused:
        act(rectification, "yi_head", "submit", "全县整改完成")
    assert refused.value.code == "children_open"


def test_a_procedure_is_submitted_only_when_every_step_is_done(world, procedure, act):
    with pytest.raises(Conflict) as refused:
        act(procedure, "yi_member", "submit", "已完成退出程序")
    assert refused.value.code == "steps_incomplete"
    for step in procedure.steps.order_by("order"):
        procedure_step_complete(task_id=procedure.pk, step_id=step.pk, actor=world.person("yi_member"))
    assert act(procedure, "yi_member", "submit", "已完成退出程序").state == TaskState.SUBMITTED


def test_resume_moves_the_due_date_by_the_working_days_spent_suspended(running, act):
    with time_machine.travel(at(2018, 9, 28), tick=False):
        suspended = act(running, "city_head", "suspend", "汛期暂缓施工")
    assert (suspended.state, suspended.suspended_on) == (TaskState.SUSPENDED, D(2018, 9, 28))

    with time_machine.travel(at(2018, 10, 9), tick=False):
        resumed = act(running, "city_head", "resume")
    # (28 Sep, 9 Oct] holds four working days: the weekend worked, then 8 and 9 October.
    assert resumed.state == TaskState.IN_PROGRESS
    assert resumed.due_date == D(2018, 12, 6)
    assert resumed.original_due_date == D(2018, 11, 30)
    assert (resumed.state_before_suspension, resumed.suspended_on) == ("", None)
    event = TaskEvent.objects.filter(task=running).latest("pk")
    assert (event.action, event.from_state, event.to_state) == ("resumed", "suspended", "in_progress")
    assert event.data == {"due_date": ["2018-11-30", "2018-12-06"]}


def test_resuming_on_the_same_day_keeps_the_due_date(make_task, act):
    task = make_task()
    with time_machine.travel(at(2018, 10, 8), tick=False):
        act(task, "city_head", "suspend", "等待资金下达")
        resumed = act(task, "city_head", "resume")
    assert (resumed.state, resumed.due_date) == (TaskState.ASSIGNED, D(2018, 11, 30))
    assert TaskEvent.objects.filter(task=task).latest("pk").data == {}


def test_a_suspended_task_can_be_cancelled(running, act):
    act(running, "city_head", "suspend", "政策调整")
    assert act(running, "city_head", "cancel", "不再实施").state == TaskState.CANCELLED


# task_update


def test_a_draft_may_change_its_due_date(world, make_task):
    task = make_task(assign=False)
    updated = task_update(
        task_id=task.pk, actor=world.person("city_head"), due_date=D(2018, 10, 31), title="危房改造"
    )
    assert (updated.due_date, updated.original_due_date) == (D(2018, 10, 31), D(2018, 10, 31))
    event = TaskEvent.objects.filter(task=task).latest("pk")
    assert event.action == "edited"
    assert event.data["changed"] == ["due_date", "title"]


@pytest.mark.parametrize("changes", [{"due_date": D(2018, 12, 10)}, {"kind": "target"}, {"state": "closed"}])
def test_after_assignment_these_fields_are_locked(world, make_task, changes):
    task = make_task()
    with pytest.raises(InvalidInput) as refused:
        task_update(task_id=task.pk, actor=world.person("city_head"), **changes)
    assert refused.value.code == "field_locked"
    assert reload(task).due_date == D(2018, 11, 30)
    assert actions(task) == ["created", "assigned"]


def test_changing_who_is_responsible_after_assignment_is_a_reassignment(world, make_task):
    task = make_task()
    task_update(task_id=task.pk, actor=world.person("city_head"), title="农村危房改造")
    task_update(
        task_id=task.pk, actor=world.person("city_head"), responsible_person=world.person("yi_member")
    )
    edited, reassigned = TaskEvent.objects.filter(task=task).order_by("pk")[2:]
    assert edited.action == "edited"
    assert reassigned.action == "reassigned"
    assert reassigned.data["before"]["responsible_person"] is None
    assert reassigned.data["after"]["responsible_person"] == world.person("yi_member").pk
    assert reload(task).title == "农村危房改造"


def test_changing_who_is_responsible_in_a_draft_is_an_edit(world, make_task):
    task = make_task(assign=False)
    task_update(
        task_id=task.pk, actor=world.person("city_head"), responsible_person=world.person("yi_member")
    )
    assert actions(task) == ["created", "edited"]


def test_moving_the_lead_unit_moves_the_responsibility(world, make_task, act):
    task = make_task(lead_unit="义县", cooperating_units=[world.unit("市住建委")])
    task_update(task_id=task.pk, actor=world.person("city_head"), lead_unit=world.unit("黑山县"))
    links = set(TaskUnit.objects.filter(task=task).values_list("unit__name", "role"))
    assert links == {("黑山县", TaskUnitRole.RESPONSIBLE), ("市住建委", TaskUnitRole.COOPERATING)}
    assert actions(task)[-1] == "reassigned"
    with pytest.raises(NotFound):  # 义县 no longer sees the task
        act(task, "yi_member", "accept")
    assert act(task, "heishan_member", "accept").state == TaskState.IN_PROGRESS


def test_a_cooperating_unit_can_be_made_the_lead(world, make_task):
    task = make_task(lead_unit="义县", cooperating_units=[world.unit("市住建委")])
    task_update(task_id=task.pk, actor=world.person("city_head"), lead_unit=world.unit("市住建委"))
    links = set(TaskUnit.objects.filter(task=task).values_list("unit__name", "role"))
    assert links == {("市住建委", TaskUnitRole.RESPONSIBLE)}
    assert reload(task).lead_unit == world.unit("市住建委")


def test_other_responsible_units_stay_when_the_lead_moves(world, make_task):
    task = make_task(lead_unit="义县", responsible_units=[world.unit("黑山县")])
    task_update(task_id=task.pk, actor=world.person("city_head"), lead_unit=world.unit("市住建委"))
    links = set(TaskUnit.objects.filter(task=task).values_list("unit__name", "role"))
    assert links == {("市住建委", TaskUnitRole.RESPONSIBLE), ("黑山县", TaskUnitRole.RESPONSIBLE)}


def test_only_the_issuer_edits_and_only_unfinished_tasks(world, running, act):
    with pytest.raises(Forbidden):
        task_update(task_id=running.pk, actor=world.person("yi_head"), title="改标题")
    act(running, "city_head", "cancel", "撤销")
    with pytest.raises(InvalidTransition):
        task_update(task_id=running.pk, actor=world.person("city_head"), title="改标题")


# task_decompose


def test_decomposition_issues_numbered_children(world, make_task, act):
    task = act(make_task("危房改造", number="3"), "yi_head", "accept")
    children = _split(world, task, "七里河镇", "大榆树堡村")
    assert [c.number for c in children] == ["3.1", "3.2"]
    for child in children:
        child = reload(child)
        assert child.state == TaskState.ASSIGNED
        assert child.assigned_at is not None
        assert child.issuing_unit == world.unit("义县")
        assert child.parent_id == task.pk
        assert actions(child) == ["created", "assigned"]
    assert [c.number for c in _split(world, task, "王家屯村")] == ["3.3"]
    decomposed = TaskEvent.objects.filter(task=task, action="decomposed").first()
    assert decomposed.data == {"children": [c.pk for c in children]}


def test_children_of_an_unnumbered_task_are_numbered_from_one(world, running):
    assert [c.number for c in _split(world, running, "七里河镇", "大榆树堡村")] == ["1", "2"]


@pytest.mark.parametrize("unit", ["义县", "芳山镇", "新立屯村", "市住建委", "锦州市"])
def test_a_county_decomposes_only_to_units_below_it(world, running, unit):
    with pytest.raises(Forbidden) as refused:
        _split(world, running, unit)
    assert refused.value.code == "outside_jurisdiction"
    assert not Task.objects.filter(parent=running).exists()


def test_a_department_decomposes_to_other_units_of_its_level(world, make_task, act):
    task = act(make_task(lead_unit="市住建委"), "housing_member", "accept")
    children = _split(world, task, "义县", "黑山县", by="housing_head")
    assert [c.issuing_unit.name for c in children] == ["市住建委", "市住建委"]
    with pytest.raises(Forbidden):
        _split(world, task, "市住建委", by="housing_head")


def test_a_child_is_due_no_later_than_its_parent(world, running):
    with pytest.raises(InvalidInput) as refused:
        _split(world, running, "七里河镇", due=D(2018, 12, 3))
    assert refused.value.code == "invalid_decomposition"
    assert _split(world, running, "七里河镇", due=D(2018, 11, 30))


def test_only_a_head_of_the_responsible_unit_decomposes(world, running, make_task):
    for username in ("yi_member", "city_head"):
        with pytest.raises(Forbidden):
            _split(world, running, "七里河镇", by=username)
    with pytest.raises(NotFound):  # the township below does not see the county's task
        _split(world, running, "七里河镇", by="qilihe_head")
    with pytest.raises(NotFound):  # a draft is not issued yet: 义县 does not see it
        _split(world, make_task(assign=False), "七里河镇")


@pytest.fixture
def city_target(make_task, act) -> Task:
    """The city's 1,888 D-grade houses, led by the housing commission."""
    task = make_task(
        "农村D级危房改造",
        number="5",
        lead_unit="市住建委",
        kind=TaskKind.TARGET,
        indicators=[IndicatorSpec(name="D级危房改造", target=Decimal(1888), unit_of_measure="户")],
    )
    return act(task, "housing_member", "accept")


def _split_target(world, task, shares: dict[str, int], by="housing_head", due=HOUSES_DUE) -> list[Task]:
    return split_target(world, task, shares, by=by, due=due)


def test_children_share_the_parents_target(world, city_target):
    yi, heishan = _split_target(world, city_target, {"义县": 950, "黑山县": 938})
    parent = city_target.indicators.get()
    for child, share in ((yi, 950), (heishan, 938)):
        indicator = child.indicators.get()
        assert (indicator.parent_id, indicator.target, indicator.unit_of_measure) == (parent.pk, share, "户")
    assert reload(yi).kind == TaskKind.TARGET


def test_children_may_not_share_out_more_than_the_parent(world, city_target):
    with pytest.raises(InvalidInput) as refused:
        _split_target(world, city_target, {"义县": 950, "黑山县": 939})
    assert "targets" in refused.value.fields["children"]
    _split_target(world, city_target, {"义县": 950})
    # What is already shared out counts against a later split.
    with pytest.raises(InvalidInput):
        _split_target(world, city_target, {"黑山县": 939})
    assert _split_target(world, city_target, {"黑山县": 938})


def test_a_decomposed_procedure_copies_its_steps_within_the_childs_due_date(world, procedure):
    [child] = _split(world, procedure, "七里河镇", due=D(2018, 11, 20))
    steps = list(child.steps.values_list("order", "name", "due_date"))
    assert steps == [
        (1, "入户核查", D(2018, 11, 9)),
        (2, "民主评议", D(2018, 11, 16)),
        (3, "两公示一公告", D(2018, 11, 20)),
        (4, "销号", D(2018, 11, 20)),
    ]


# progress_report_create


def _report(world, task, username, figures=None, files=None, text="本月进展"):
    return progress_report_create(
        task_id=task.pk, actor=world.person(username), text=text, figures=figures, files=files
    )


def test_only_a_running_task_takes_reports(world, make_task):
    task = make_task()
    with pytest.raises(InvalidTransition):
        _report(world, task, "yi_member")
    assert not ProgressReport.objects.exists()


def test_a_report_needs_text_and_a_responsible_author(world, running):
    with pytest.raises(InvalidInput) as refused:
        _report(world, running, "yi_member", text=" ")
    assert refused.value.code == "required"
    with pytest.raises(Forbidden):
        _report(world, running, "city_head")
    for username in ("qilihe_head", "heishan_member"):  # they do not see the task
        with pytest.raises(NotFound):
            _report(world, running, username)
    report = _report(world, running, "yi_member", text="已入户核查120户")
    assert (report.author, report.text) == (world.person("yi_member"), "已入户核查120户")
    event = TaskEvent.objects.filter(task=running).latest("pk")
    assert (event.action, event.comment, event.data["report"]) == ("reported", "已入户核查120户", report.pk)


def test_a_second_responsible_unit_reports_with_its_links_read_once(
    world, make_task, act, django_assert_num_queries
):
    task = make_task(lead_unit="义县", responsible_units=[world.unit("黑山县")])
    act(task, "yi_member", "accept")
    # 黑山县 is neither the issuer nor the lead unit: seeing the task and being responsible
    # for it are both decided on its unit links, read once for both.
    heishan_member = world.person("heishan_member")
    # Savepoint, lock, memberships, the issuing unit, the links, report, history, release.
    # The report meets no report period: the task owes none (no warned date), so none is
    # looked for.
    with django_assert_num_queries(8):
        report = progress_report_create(task_id=task.pk, actor=heishan_member, text="本月进展")
    assert report.author == heishan_member
    yi_member = world.person("yi_member")
    # The lead unit's member: savepoint, lock, memberships, report, history, release.
    with django_assert_num_queries(6):
        progress_report_create(task_id=task.pk, actor=yi_member, text="本月进展")


def test_a_report_sets_a_leaf_indicator(world, target_task, act):
    act(target_task, "yi_member", "accept")
    indicator = target_task.indicators.get()
    report = _report(world, target_task, "yi_member", figures={indicator.pk: Decimal(300)})
    indicator.refresh_from_db()
    assert indicator.current_value == 300
    assert not indicator.is_met
    assert report.figures == {str(indicator.pk): "300"}


def test_figures_only_for_this_tasks_leaf_indicators(world, city_target, target_task, act):
    parent = city_target.indicators.get()
    [yi] = _split_target(world, city_target, {"义县": 950})
    with pytest.raises(InvalidInput) as refused:
        _report(world, city_target, "housing_member", figures={parent.pk: Decimal(950)})
    assert refused.value.code == "unknown_indicator"
    act(yi, "yi_member", "accept")
    with pytest.raises(InvalidInput):
        _report(world, yi, "yi_member", figures={target_task.indicators.get().pk: Decimal(1)})
    assert not ProgressReport.objects.exists()
    parent.refresh_from_db()
    assert parent.current_value == 0


def test_figures_roll_up_the_tree_950_and_938_make_1888(world, city_target, act):
    yi, heishan = _split_target(world, city_target, {"义县": 950, "黑山县": 938})
    act(yi, "yi_member", "accept")
    act(heishan, "heishan_member", "accept")
    [qilihe] = _split_target(world, yi, {"七里河镇": 950}, by="yi_head", due=D(2018, 10, 25))
    act(qilihe, "qilihe_head", "accept")

    _report(world, qilihe, "qilihe_head", figures={qilihe.indicators.get().pk: Decimal(600)})
    values = {t.title: reload(t).indicators.get().current_value for t in (city_target, yi, qilihe)}
    assert list(values.values()) == [600, 600, 600]

    _report(world, qilihe, "qilihe_head", figures={qilihe.indicators.get().pk: Decimal(950)})
    _report(world, heishan, "heishan_member", figures={heishan.indicators.get().pk: Decimal(938)})
    city = Indicator.objects.get(task=city_target)
    assert city.current_value == 1888
    assert city.is_met
    assert Indicator.objects.get(task=yi).current_value == 950


def _kept_counts() -> dict[int, tuple[int, int]]:
    """Each task's kept counts of unmet indicators (others, veto), where either is not 0."""
    kept = Task.objects.values_list("pk", "targets_not_met", "veto_not_met")
    return {pk: (targets, veto) for pk, targets, veto in kept if targets or veto}


def _unmet_by_task() -> dict[int, tuple[int, int]]:
    """The same counts from the indicators themselves, by ``Indicator.is_met``."""
    unmet: dict[int, list[int]] = {}
    for indicator in Indicator.objects.all():
        if not indicator.is_met:
            unmet.setdefault(indicator.task_id, [0, 0])[indicator.veto] += 1
    return {pk: tuple(counts) for pk, counts in unmet.items()}


def test_each_task_keeps_the_count_of_its_unmet_indicators_through_splits_and_reports(
    world, city_target, make_task, act
):
    exit_task = make_task(
        "贫困县退出指标",
        kind=TaskKind.TARGET,
        indicators=[
            IndicatorSpec(
                name="综合贫困发生率", target=Decimal(2), unit_of_measure="%", comparison="lte", veto=True
            ),
            IndicatorSpec(name="住房安全有保障", target=Decimal(100), unit_of_measure="%", veto=True),
            IndicatorSpec(name="村级集体经济收入", target=Decimal(5), unit_of_measure="万元"),
        ],
    )
    # A rate of 0 is within an at-most target; the two at-least ones start short.
    assert _kept_counts() == _unmet_by_task() == {city_target.pk: (1, 0), exit_task.pk: (1, 1)}

    yi, heishan = _split_target(world, city_target, {"义县": 950, "黑山县": 938})
    act(yi, "yi_member", "accept")
    act(heishan, "heishan_member", "accept")
    assert _kept_counts() == _unmet_by_task()
    assert _kept_counts()[yi.pk] == (1, 0)

    _report(world, yi, "yi_member", figures={yi.indicators.get().pk: Decimal(950)})
    assert _kept_counts() == _unmet_by_task()
    assert yi.pk not in _kept_counts() and city_target.pk in _kept_counts()

    # 938 more make the city's 1888: met at both levels at once, by the roll-up.
    _report(world, heishan, "heishan_member", figures={heishan.indicators.get().pk: Decimal(938)})
    assert _kept_counts() == _unmet_by_task() == {exit_task.pk: (1, 1)}

    act(exit_task, "yi_member", "accept")
    rate, housing, income = exit_task.indicators.order_by("pk")
    _report(world, exit_task, "yi_member", figures={rate.pk: Decimal("2.5"), housing.pk: Decimal(100)})
    assert _kept_counts() == _unmet_by_task() == {exit_task.pk: (1, 1)}
    _report(world, exit_task, "yi_member", figures={rate.pk: Decimal("1.7"), income.pk: Decimal(6)})
    assert _kept_counts() == _unmet_by_task() == {}


@pytest.mark.parametrize(
    "value",
    [
        Decimal(-1),
        Decimal("-1E11"),  # what a township once reported
        Decimal(9501),  # more than ten times 义县's share of 950
        Decimal("1E12"),  # more than the column stores
        Decimal("NaN"),
    ],
)
def test_a_figure_outside_what_its_indicator_can_mean_changes_nothing(world, city_target, act, value):
    [yi] = _split_target(world, city_target, {"义县": 950})
    act(yi, "yi_member", "accept")
    leaf = yi.indicators.get()
    _report(world, yi, "yi_member", figures={leaf.pk: Decimal(300)})
    before = (ProgressReport.objects.count(), TaskEvent.objects.count())
    with pytest.raises(InvalidInput) as refused:
        _report(world, yi, "yi_member", figures={leaf.pk: value})
    assert refused.value.code == "figure_out_of_range"
    assert "D级危房改造" in str(refused.value.fields["figures"][0])
    assert (ProgressReport.objects.count(), TaskEvent.objects.count()) == before
    assert [i.current_value for i in Indicator.objects.filter(pk__in=[leaf.pk, leaf.parent_id])] == [300, 300]


def test_a_figure_may_reach_the_multiple_of_its_target_set_in_the_settings(world, target_task, act, settings):
    act(target_task, "yi_member", "accept")
    indicator = target_task.indicators.get()
    _report(world, target_task, "yi_member", figures={indicator.pk: Decimal(18880)})
    settings.DUBAN = {**settings.DUBAN, "FIGURE_MAX_MULTIPLE": 2}
    with pytest.raises(InvalidInput):
        _report(world, target_task, "yi_member", figures={indicator.pk: Decimal(3777)})
    _report(world, target_task, "yi_member", figures={indicator.pk: Decimal(3776)})
    indicator.refresh_from_db()
    assert indicator.current_value == 3776


def test_a_percentage_stays_within_0_and_100_and_a_limit_only_non_negative(world, make_task, act):
    task = make_task(
        "贫困发生率与安全住房",
        kind=TaskKind.TARGET,
        indicators=[
            IndicatorSpec(name="贫困发生率", target=Decimal(2), unit_of_measure="%", comparison="lte"),
            IndicatorSpec(name="危房存量", target=Decimal(0), unit_of_measure="户", comparison="lte"),
        ],
    )
    act(task, "yi_member", "accept")
    incidence, houses = task.indicators.order_by("pk")
    with pytest.raises(InvalidInput) as refused:
        _report(world, task, "yi_member", figures={incidence.pk: Decimal("100.5"), houses.pk: Decimal(-3)})
    assert refused.value.code == "figure_out_of_range"
    assert len(refused.value.fields["figures"]) == 2
    _report(world, task, "yi_member", figures={incidence.pk: Decimal("1.7"), houses.pk: Decimal(40)})
    assert sorted(Indicator.objects.filter(task=task).values_list("current_value", flat=True)) == [
        Decimal("1.7"),
        Decimal(40),
    ]


# attachments


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_evidence_is_stored_under_its_hash(world, running, media):
    report = _report(
        world,
        running,
        "yi_member",
        files=[upload("C:\\照片\\..\\验收照片.png", PNG), upload("验收报告.PDF", PDF)],
    )
    photo, document = Attachment.objects.filter(report=report)
    digest = hashlib.sha256(PNG).hexdigest()
    assert (photo.original_name, photo.content_type, photo.size, photo.sha256) == (
        "验收照片.png",
        "image/png",
        len(PNG),
        digest,
    )
    assert photo.file.name == f"evidence/{running.pk}/{digest[:2]}/{digest}"
    assert (media / photo.file.name).read_bytes() == PNG
    assert document.content_type == "application/pdf"


def test_the_same_evidence_twice_is_stored_once(world, running, media):
    first = _report(world, running, "yi_member", files=[upload("a.png", PNG)]).attachments.get()
    second = _report(world, running, "yi_member", files=[upload("b.png", PNG)]).attachments.get()
    assert first.file.name == second.file.name
    stored = [path.name for path in (media / "evidence").rglob("*") if path.is_file()]
    assert stored == [hashlib.sha256(PNG).hexdigest()]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("验收照片.png", PDF),  # the content is not what the name says
        ("验收报告.pdf", b"MZ\x90\x00" + b"\x00" * 60),
        ("台账.xlsx", PDF),
        ("setup.exe", b"MZ\x90\x00"),
        ("脚本.html", b"<html><script></script></html>"),
        ("无扩展名", PNG),
        ("空文件.pdf", b""),
    ],
)
def test_evidence_of_the_wrong_kind_is_refused_with_the_report(world, running, media, name, content):
    with pytest.raises(InvalidInput) as refused:
        _report(
            world,
            running,
            "yi_member",
            files=[upload("照片.jpg", b"\xff\xd8\xff\xe0"), upload(name, content)],
        )
    assert refused.value.code == "invalid_attachment"
    assert not ProgressReport.objects.exists()
    assert not Attachment.objects.exists()
    assert actions(running)[-1] == "accepted"


def test_evidence_above_the_size_limit_is_refused(world, running, media, settings):
    settings.DUBAN = {**settings.DUBAN, "ATTACHMENT_MAX_BYTES": len(PDF)}
    assert _report(world, running, "yi_member", files=[upload("验收报告.pdf", PDF)])
    with pytest.raises(InvalidInput) as refused:
        _report(world, running, "yi_member", files=[upload("验收报告.pdf", PDF + b"%%EOF")])
    assert refused.value.code == "invalid_attachment"
    assert ProgressReport.objects.count() == 1


def test_too_many_files_at_once_are_refused(world, running, media, settings):
    settings.DUBAN = {**settings.DUBAN, "ATTACHMENTS_PER_REPORT": 2}
    files = [upload(f"照片{n}.png", PNG + bytes([n])) for n in range(3)]
    with pytest.raises(InvalidInput) as refused:
        _report(world, running, "yi_member", files=files)
    assert refused.value.code == "invalid_attachment"
    assert not ProgressReport.objects.exists()
    assert _report(world, running, "yi_member", files=files[:2]).attachments.count() == 2


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\村委会\\验收照片.jpg", "验收照片.jpg"),
        (".htaccess.png", "htaccess.png"),
        ("验收\x00报告\r\n.pdf", "验收报告.pdf"),
        ("\u202egpj.exe", "gpj.exe"),
        ("", "attachment"),
        ("../", "attachment"),
        ("长" * 300 + ".pdf", "长" * 196 + ".pdf"),
    ],
)
def test_uploaded_names_are_cleaned(raw, clean):
    assert clean_filename(raw) == clean


# procedure_step_complete


def test_steps_are_completed_in_order_by_the_responsible_unit(world, procedure):
    first, second, *_ = procedure.steps.order_by("order")
    with pytest.raises(Conflict) as refused:
        procedure_step_complete(task_id=procedure.pk, step_id=second.pk, actor=world.person("yi_member"))
    assert refused.value.code == "step_out_of_order"
    with pytest.raises(Forbidden):
        procedure_step_complete(task_id=procedure.pk, step_id=first.pk, actor=world.person("city_head"))

    done = procedure_step_complete(task_id=procedure.pk, step_id=first.pk, actor=world.person("yi_member"))
    assert (done.done_by, done.done_at is not None) == (world.person("yi_member"), True)
    with pytest.raises(Conflict) as refused:
        procedure_step_complete(task_id=procedure.pk, step_id=first.pk, actor=world.person("yi_member"))
    assert refused.value.code == "step_done"
    event = TaskEvent.objects.filter(task=procedure).latest("pk")
    assert (event.action, event.data) == (
        "step_completed",
        {"step": first.pk, "name": "入户核查", "order": 1},
    )


def test_steps_of_a_task_not_running_cannot_be_completed(world, make_task):
    task = make_task(kind=TaskKind.PROCEDURE, steps=EXIT_STEPS)
    with pytest.raises(InvalidTransition):
        procedure_step_complete(
            task_id=task.pk, step_id=task.steps.get(order=1).pk, actor=world.person("yi_member")
        )
    assert not ProcedureStep.objects.filter(done_at__isnull=False).exists()


# extensions


def test_a_step_is_named_with_its_own_task(world, procedure, make_task, act):
    other = act(make_task("另一村退出", kind=TaskKind.PROCEDURE, steps=EXIT_STEPS), "yi_member", "accept")
    foreign = other.steps.get(order=1)
    with pytest.raises(NotFound):
        procedure_step_complete(task_id=procedure.pk, step_id=foreign.pk, actor=world.person("yi_member"))
    assert not ProcedureStep.objects.filter(done_at__isnull=False).exists()


def _request(world, task, day=EXTENDED_DUE, username="yi_member", reason="汛期影响施工进度"):
    return extension_request_create(
        task_id=task.pk, actor=world.person(username), requested_due_date=day, reason=reason
    )


def test_an_extension_request_is_checked(world, running, make_task):
    with pytest.raises(InvalidInput) as refused:
        _request(world, running, reason="")
    assert refused.value.code == "required"
    with pytest.raises(InvalidInput) as refused:
        _request(world, running, day=D(2018, 11, 30))
    assert refused.value.code == "not_later"
    with pytest.raises(Forbidden):
        _request(world, running, username="city_head")
    with pytest.raises(NotFound):  # a draft is not issued yet: 义县 does not see it
        _request(world, make_task(assign=False))
    assert not ExtensionRequest.objects.exists()


def test_a_child_cannot_ask_for_more_time_than_its_parent_has(world, running):
    [child] = _split(world, running, "七里河镇", due=D(2018, 11, 20))
    with pytest.raises(InvalidInput) as refused:
        _request(world, child, day=D(2018, 12, 3), username="qilihe_head")
    assert refused.value.code == "due_date_after_parent"
    assert _request(world, child, day=D(2018, 11, 30), username="qilihe_head")


def test_one_pending_extension_per_task(world, running):
    first = _request(world, running)
    with pytest.raises(Conflict) as refused:
        _request(world, running, day=D(2018, 12, 5))
    assert refused.value.code == "extension_pending"
    extension_decide(
        extension_id=first.pk, actor=world.person("city_head"), approve=False, comment="不予延期"
    )
    assert _request(world, running, day=D(2018, 12, 5)).state == ExtensionState.PENDING
    assert actions(running).count("extension_requested") == 2


def test_approval_moves_the_due_date_and_keeps_the_original(world, running):
    extension = _request(world, running)
    with time_machine.travel(at(2018, 11, 20), tick=False):
        decided = extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=True)
    assert decided.state == ExtensionState.APPROVED
    assert decided.decided_by == world.person("city_head")
    task = reload(running)
    assert (task.due_date, task.original_due_date) == (D(2018, 12, 10), D(2018, 11, 30))
    event = TaskEvent.objects.filter(task=running).latest("pk")
    assert event.action == "extension_approved"
    assert event.data == {
        "extension": extension.pk,
        "due_date": ["2018-11-30", "2018-12-10"],
        "was_overdue": False,
    }


def test_approval_records_that_the_task_was_already_overdue(world, running):
    extension = _request(world, running)
    with time_machine.travel(at(2018, 12, 3), tick=False):
        extension_decide(
            extension_id=extension.pk, actor=world.person("city_head"), approve=True, comment="特殊情况"
        )
    assert TaskEvent.objects.filter(task=running).latest("pk").data["was_overdue"] is True


def test_rejection_needs_a_reason_and_keeps_the_due_date(world, running):
    extension = _request(world, running)
    with pytest.raises(InvalidInput):
        extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=False)
    with pytest.raises(Forbidden):
        extension_decide(extension_id=extension.pk, actor=world.person("yi_head"), approve=True)
    rejected = extension_decide(
        extension_id=extension.pk, actor=world.person("city_head"), approve=False, comment="理由不充分"
    )
    assert (rejected.state, rejected.decision_comment) == (ExtensionState.REJECTED, "理由不充分")
    assert reload(running).due_date == D(2018, 11, 30)
    assert actions(running)[-1] == "extension_rejected"
    with pytest.raises(InvalidTransition):
        extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=True)
    assert reload(running).due_date == D(2018, 11, 30)


def test_an_extension_nobody_asked_for_or_of_an_unseen_task_is_missing(world, running):
    extension = _request(world, running)
    with pytest.raises(NotFound):
        extension_decide(extension_id=extension.pk + 1000, actor=world.person("city_head"), approve=True)
    with pytest.raises(NotFound):  # 黑山县 does not see 义县's task
        extension_decide(extension_id=extension.pk, actor=world.person("heishan_head"), approve=True)
    assert ExtensionRequest.objects.get().state == ExtensionState.PENDING
