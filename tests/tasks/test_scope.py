"""The task scope (``TaskScope``) against visibility's definition, after every kind of change.

After each change the whole table is compared with what the definition says it holds:
under each unit, the tasks its subtree issued or is linked to (``tasks_of_units_q``),
flagged when the subtree issued them, with the task's columns as they are now; and for
every person, the list read from it holds exactly the tasks ``task_visibility_q`` shows.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine

from core.serializers import ModelSerializer
from imports.writer import TaskSpec, tasks_sync_imported
from responsibility.models import Role, Unit
from responsibility.serializers import UnitRefSerializer
from responsibility.services import membership_create, unit_move
from tasks.models import Campaign, Task, TaskScope
from tasks.scope import COPIED, scope_fill
from tasks.selectors import task_pages_for_user, task_visibility_q, tasks_of_units_q, tasks_seen_among
from tasks.services import (
    ChildSpec,
    IndicatorSpec,
    extension_decide,
    extension_request_create,
    task_decompose,
    task_recheck_record,
    task_transition,
    task_update,
    transfer_decide,
    transfer_request_create,
)

# On SQLite too: the list's branches are SQL written around the filters' compiled rows.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

D = datetime.date


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


def expected_scope() -> dict:
    rows = {}
    for unit in Unit.objects.all():
        subtree = Unit.objects.filter(path__startswith=unit.path).values("pk")
        issued = set(Task.objects.filter(issuing_unit__in=subtree).values_list("pk", flat=True))
        for task in Task.objects.filter(tasks_of_units_q(subtree)):
            rows[(unit.pk, task.pk)] = (task.pk in issued, *(getattr(task, name) for name in COPIED))
    return rows


def actual_scope() -> dict:
    return {
        (row.unit_id, row.task_id): (row.issuing, *(getattr(row, name) for name in COPIED))
        for row in TaskScope.objects.all()
    }


def assert_scope_right(world) -> None:
    assert actual_scope() == expected_scope()
    for user in world.people.values():
        pages = task_pages_for_user(user, TaskScope.objects.all(), ["due_date", "pk"])
        listed = [task.pk for task in pages[0 : pages.count() + 1]]
        defined = list(
            Task.objects.filter(task_visibility_q(user))
            .order_by("due_date", "pk")
            .values_list("pk", flat=True)
        )
        assert listed == defined, user.username
        # The API's plain rows, and the ledgers' set of tasks, from the same scope.
        rows = task_pages_for_user(user, TaskScope.objects.all(), ["due_date", "pk"], rows=True)
        assert [row["id"] for row in rows[0 : rows.count() + 1]] == defined, user.username
        seen = tasks_seen_among(user, TaskScope.objects.all()).order_by("due_date", "pk")
        assert list(seen.values_list("pk", flat=True)) == defined, user.username


def act(world, task, username, name, comment="说明"):
    return task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)


@pytest.fixture
def tasks(world, make_task):
    unit = world.unit
    made = {
        "county": make_task("义县贫困村退出", lead_unit="义县", cooperating_units=[unit("市住建委")]),
        "village": make_task(
            "大榆树堡村入户核查", lead_unit="大榆树堡村", issuer="qilihe_head", issuing_unit="七里河镇"
        ),
        "draft": make_task(
            "草拟任务", lead_unit="七里河镇", assign=False, cooperating_units=[unit("新立屯村")]
        ),
        "led": make_task(
            "新立屯村道路硬化",
            lead_unit="新立屯村",
            issuer="heishan_head",
            issuing_unit="黑山县",
            lead_leader=world.person("leader"),
        ),
    }
    assert_scope_right(world)
    return made


def test_creating_and_issuing_tasks(world, tasks):
    act(world, tasks["draft"], "city_head", "assign")
    assert_scope_right(world)


def test_every_transition_copies_the_state(world, tasks):
    task = tasks["county"]
    for username, name in [
        ("yi_head", "accept"),
        ("yi_head", "submit"),
        ("city_head", "return"),
        ("city_head", "suspend"),
        ("city_head", "resume"),
        ("yi_head", "submit"),
        ("city_head", "close"),
    ]:
        act(world, task, username, name)
        assert_scope_right(world)
    act(world, tasks["village"], "qilihe_head", "cancel")
    assert_scope_right(world)


def test_reassigning_and_editing(world, tasks):
    task_update(
        task_id=tasks["county"].pk,
        actor=world.person("city_head"),
        lead_unit=world.unit("黑山县"),
        responsible_person=world.person("heishan_member"),
        cooperating_units=[world.unit("七里河镇")],
    )
    assert_scope_right(world)
    task_update(task_id=tasks["draft"].pk, actor=world.person("city_head"), due_date=D(2018, 11, 20))
    assert_scope_right(world)


def test_an_extension_moves_the_due_date(world, tasks):
    extension = extension_request_create(
        task_id=tasks["county"].pk,
        actor=world.person("yi_head"),
        requested_due_date=D(2018, 12, 5),
        reason="汛期",
    )
    extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=True)
    assert_scope_right(world)


def test_returning_to_the_issuer_and_issuing_again(world, tasks):
    task = tasks["county"]
    act(world, task, "yi_member", "return_to_issuer", "不属于本县职责")
    assert_scope_right(world)
    task_update(task_id=task.pk, actor=world.person("city_head"), lead_unit=world.unit("黑山县"))
    assert_scope_right(world)
    act(world, task, "city_head", "assign")
    assert_scope_right(world)


def test_a_recheck_pending_warned_and_recorded(api, world, tasks, make_task):
    """A closed item owes its re-check (回头看) and is warned of it: the date is on the task
    and its scope rows as the next obligation and the next warned one, while the list shows
    the closed item without a light, in no light's filter."""
    Campaign.objects.filter(pk=world.campaign.pk).update(recheck_working_days=2)
    world.campaign.refresh_from_db()
    task = make_task("村道路灯损坏未修复", kind="rectification", lead_unit="义县")
    act(world, task, "yi_head", "accept")
    act(world, task, "yi_head", "submit")
    act(world, task, "city_head", "close")  # Monday 8 October: re-checked by the 10th
    assert_scope_right(world)
    task.refresh_from_db()
    assert (task.next_obligation_date, task.next_warned_date) == (D(2018, 10, 10), D(2018, 10, 10))
    assert set(TaskScope.objects.filter(task=task).values_list("next_warned_date", flat=True)) == {
        D(2018, 10, 10)
    }
    client = api.as_user("city_head")
    listed = client.get("/api/v1/tasks/", {"state": "closed"}).json()["results"]
    assert [(row["id"], row["light"]) for row in listed] == [(task.pk, None)]
    for light in ("red", "yellow", "green"):
        ids = [row["id"] for row in client.get("/api/v1/tasks/", {"light": light}).json()["results"]]
        assert task.pk not in ids, light

    task_recheck_record(task_id=task.pk, actor=world.person("city_head"), result="passed")
    assert_scope_right(world)
    task.refresh_from_db()
    assert (task.next_obligation_date, task.next_warned_date) == (None, None)


def test_a_transfer_approved_and_one_refused(world, tasks):
    task = tasks["county"]
    asked = transfer_request_create(
        task_id=task.pk,
        actor=world.person("yi_member"),
        to_unit=world.unit("市住建委"),
        reason="危房改造归住建",
    )
    transfer_decide(transfer_id=asked.pk, actor=world.person("city_head"), approve=True)
    # 市住建委 cooperated and now leads; 义县 no longer holds the task.
    assert_scope_right(world)
    asked = transfer_request_create(
        task_id=task.pk, actor=world.person("housing_member"), to_unit=world.unit("黑山县"), reason="属地"
    )
    transfer_decide(transfer_id=asked.pk, actor=world.person("city_head"), approve=False, comment="职责明确")
    assert_scope_right(world)


def test_decomposing(world, tasks):
    act(world, tasks["county"], "yi_head", "accept")
    task_decompose(
        task_id=tasks["county"].pk,
        actor=world.person("yi_head"),
        children=[
            ChildSpec(title="七里河镇分解", lead_unit=world.unit("七里河镇"), due_date=D(2018, 11, 20)),
            ChildSpec(
                title="王家屯村分解",
                lead_unit=world.unit("王家屯村"),
                due_date=D(2018, 11, 25),
                cooperating_units=[world.unit("大榆树堡村")],
            ),
        ],
    )
    assert_scope_right(world)


def test_moving_a_unit_moves_its_tasks(world, tasks):
    unit_move(unit_id=world.unit("七里河镇").pk, parent=world.unit("黑山县"))
    assert_scope_right(world)
    unit_move(unit_id=world.unit("黑山县").pk, parent=world.unit("义县"))
    assert_scope_right(world)


def test_importing_and_reimporting(world, tasks):
    unit = world.unit
    specs = [
        TaskSpec("1", None, "饮水安全", unit("义县"), D(2018, 11, 30), cooperating_units=[unit("市住建委")]),
        TaskSpec("1.1", "1", "饮水安全（黑山）", unit("黑山县"), D(2018, 11, 30)),
    ]
    tasks_sync_imported(actor=world.person("city_head"), campaign=world.campaign, specs=specs, apply=True)
    assert_scope_right(world)
    specs[0].lead_unit = unit("黑山县")
    specs[1].cooperating_units = [unit("市住建委")]
    tasks_sync_imported(actor=world.person("city_head"), campaign=world.campaign, specs=specs, apply=True)
    assert_scope_right(world)


def test_filling_the_whole_table_writes_the_same_rows(world, tasks):
    before = actual_scope()
    scope_fill()
    assert actual_scope() == before


def test_pages_of_a_person_with_two_subtrees_and_led_work_cover_each_task_once(world, tasks, make_task):
    person = world.person("leader")
    membership_create(user=person, unit=world.unit("七里河镇"), role=Role.MEMBER)
    membership_create(user=person, unit=world.unit("黑山县"), role=Role.MEMBER)
    make_task("全市任务", lead_unit="市住建委", lead_leader=person)
    make_task("镇村共办", lead_unit="七里河镇", cooperating_units=[world.unit("新立屯村")])
    assert_scope_right(world)
    defined = list(
        Task.objects.filter(task_visibility_q(person)).order_by("-number", "pk").values_list("pk", flat=True)
    )
    pages = task_pages_for_user(person, TaskScope.objects.all(), ["-number"])
    assert pages.count() == len(defined) == 4
    assert [task.pk for n in range(len(defined)) for task in pages[n : n + 1]] == defined


def test_listed_units_have_the_unit_references_shape(api, world, tasks):
    listed = api.as_user("yi_head").get("/api/v1/tasks/", {"title": "义县贫困村退出"}).json()["results"]
    task = next(task for task in listed if task["id"] == tasks["county"].pk)
    assert task["responsible_units"] == [UnitRefSerializer(world.unit("义县")).data]
    assert task["cooperating_units"] == [UnitRefSerializer(world.unit("市住建委")).data]


def test_the_list_writes_each_task_as_the_generic_serializer_does(api, world, tasks, make_task):
    """The list writes its JSON from plain rows (``tasks.serializers.listed_task_data``):
    each task must come out as DRF's generic ``TaskSerializer`` makes it of the task read
    with its details, whatever its links, people, indicators, times and light."""
    from tasks.apis import light_context
    from tasks.selectors import task_get_with_details
    from tasks.serializers import TaskSerializer

    make_task(
        "指标任务",
        kind="target",
        responsible_person=world.person("yi_member"),
        lead_leader=world.person("leader"),
        responsible_units=[world.unit("七里河镇")],
        cooperating_units=[world.unit("市住建委")],
        indicators=[
            IndicatorSpec(name="危房改造", target=Decimal("950.5"), unit_of_measure="户"),
            IndicatorSpec(name="饮水安全", target=Decimal(120), unit_of_measure="户"),
        ],
    )
    make_task("逾期任务", due_date=D(2018, 9, 28))
    make_task("临期任务", due_date=D(2018, 10, 9))
    make_task("长期坚持任务", due_date=None, ongoing=True)
    act(world, tasks["village"], "village_a_head", "accept")
    act(world, tasks["village"], "village_a_head", "submit")
    act(world, tasks["village"], "qilihe_head", "close")
    listed = api.as_user("city_head").get("/api/v1/tasks/", {"page_size": 200}).json()["results"]
    assert len(listed) == Task.objects.filter(task_visibility_q(world.person("city_head"))).count() >= 7
    assert {item["light"] for item in listed} >= {"red", "yellow", "green", None}
    assert any(item["indicators"] for item in listed) and any(item["lead_leader"] for item in listed)
    assert {item["ongoing"] for item in listed} == {True, False}
    context = light_context(None)
    for item in listed:
        serializer = TaskSerializer(task_get_with_details(item["id"]), context=context)
        assert item == ModelSerializer.to_representation(serializer, serializer.instance)


def test_a_listed_task_is_what_the_generic_serializer_makes_of_it(world, tasks, make_task):
    from tasks.apis import light_context
    from tasks.selectors import task_get_with_details
    from tasks.serializers import TaskDetailSerializer

    busy = make_task(
        "指标任务",
        kind="target",
        responsible_person=world.person("yi_member"),
        lead_leader=world.person("leader"),
        responsible_units=[world.unit("七里河镇")],
        cooperating_units=[world.unit("市住建委")],
        indicators=[IndicatorSpec(name="危房改造", target=Decimal("950.5"), unit_of_measure="户")],
    )
    act(world, tasks["village"], "village_a_head", "accept")
    act(world, tasks["village"], "village_a_head", "submit")
    act(world, tasks["village"], "qilihe_head", "close")
    context = light_context(None)
    for task in [busy, *tasks.values()]:
        serializer = TaskDetailSerializer(task_get_with_details(task.pk), context=context)
        generic = ModelSerializer.to_representation(serializer, serializer.instance)
        assert serializer.data == generic
