"""Who sees which task, what counts as overdue, and the traffic lights."""

import datetime

import pytest
import time_machine

from core.errors import NotFound
from responsibility.selectors import access_for_user
from tasks.lateness import light_q, overdue_q, task_light, yellow_limit
from tasks.models import Task, TaskEvent, TaskState
from tasks.selectors import (
    period_at,
    responsibility_trace,
    task_get_for_user,
    task_history,
    task_list_for_user,
    task_row_visibility_q,
    task_visibility_q,
    task_visible_get,
    task_visible_to,
)
from tasks.services import task_transition, task_update

from ..conftest import PEOPLE

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def tasks(world, make_task) -> dict[str, Task]:
    """One task per level, issued from above."""
    return {
        "city": make_task("全市危房改造", lead_unit="市住建委"),
        "yi": make_task("义县贫困村退出", lead_unit="义县"),
        "village_a": make_task(
            "大榆树堡村入户核查", lead_unit="大榆树堡村", issuer="qilihe_head", issuing_unit="七里河镇"
        ),
        "village_b": make_task(
            "王家屯村入户核查", lead_unit="王家屯村", issuer="qilihe_head", issuing_unit="七里河镇"
        ),
        "heishan": make_task("黑山县饮水安全", lead_unit="黑山县"),
        "led": make_task(
            "新立屯村道路硬化",
            lead_unit="新立屯村",
            issuer="heishan_head",
            issuing_unit="黑山县",
            lead_leader=world.person("leader"),
        ),
    }


def visible(world, username: str) -> set[str]:
    titles = task_list_for_user(world.person(username)).values_list("title", flat=True)
    return set(titles)


def test_a_village_head_does_not_see_a_sibling_villages_task(world, tasks):
    assert visible(world, "village_a_head") == {"大榆树堡村入户核查"}
    assert visible(world, "village_b_head") == {"王家屯村入户核查"}


def test_the_county_head_sees_the_tasks_of_villages_below(world, tasks):
    assert visible(world, "yi_head") == {"义县贫困村退出", "大榆树堡村入户核查", "王家屯村入户核查"}


def test_a_cooperating_unit_sees_the_task(world, make_task):
    make_task("危房鉴定", lead_unit="市住建委", cooperating_units=[world.unit("新立屯村")])
    assert visible(world, "heishan_member") == {"危房鉴定"}


def test_the_city_supervision_office_sees_the_whole_city(world, tasks):
    assert visible(world, "city_supervisor") == {task.title for task in tasks.values()}


def test_the_county_supervision_office_sees_only_its_county(world, tasks):
    assert visible(world, "yi_supervisor") == {"义县贫困村退出", "大榆树堡村入户核查", "王家屯村入户核查"}


def test_a_leader_sees_only_the_tasks_they_lead(world, tasks):
    assert visible(world, "leader") == {"新立屯村道路硬化"}


def test_the_superuser_sees_everything(world, tasks):
    assert visible(world, "admin") == {task.title for task in tasks.values()}


def test_each_visible_task_is_listed_once(world, make_task):
    # Issued by, led by and cooperated on by units of the same county.
    make_task(
        "义县危房改造",
        lead_unit="七里河镇",
        issuer="yi_head",
        issuing_unit="义县",
        responsible_units=[world.unit("大榆树堡村")],
        cooperating_units=[world.unit("王家屯村")],
    )
    assert task_list_for_user(world.person("yi_head")).count() == 1


def test_a_draft_is_seen_only_by_the_issuing_side(world, make_task):
    draft = make_task(
        "全市危房改造（草稿）",
        lead_unit="义县",
        responsible_units=[world.unit("七里河镇")],
        cooperating_units=[world.unit("黑山县")],
        lead_leader=world.person("leader"),
        assign=False,
    )
    assert draft.state == TaskState.DRAFT
    for username in ("city_head", "city_supervisor", "leader", "admin"):
        assert visible(world, username) == {draft.title}, username
    for username in ("yi_head", "yi_supervisor", "qilihe_head", "heishan_member", "housing_head"):
        assert visible(world, username) == set(), username
        with pytest.raises(NotFound):
            task_get_for_user(world.person(username), draft.pk)
    task_transition(task_id=draft.pk, actor=world.person("city_head"), name="assign")
    for username in ("yi_head", "yi_supervisor", "qilihe_head", "heishan_member"):
        assert visible(world, username) == {draft.title}, username


def test_an_invisible_task_is_not_found(world, tasks):
    village_a_head = world.person("village_a_head")
    assert task_get_for_user(village_a_head, tasks["village_a"].pk) == tasks["village_a"]
    for other in ("village_b", "yi", "city"):
        with pytest.raises(NotFound):
            task_get_for_user(village_a_head, tasks[other].pk)
    with pytest.raises(NotFound):
        task_get_for_user(village_a_head, "not-a-number")
    with pytest.raises(NotFound):
        task_get_for_user(village_a_head, 10**9)


@pytest.mark.parametrize("username", [*(person[0] for person in PEOPLE), "admin"])
def test_the_three_forms_of_visibility_agree(world, tasks, make_task, username):
    # A cooperating unit and an issuer without a link, so that every branch of both forms
    # decides for some task.
    make_task("七里河镇协办任务", lead_unit="黑山县", cooperating_units=[world.unit("七里河镇")])
    # Drafts, which only the issuing side sees, linked to units of every branch.
    make_task(
        "义县草稿",
        lead_unit="大榆树堡村",
        issuer="yi_head",
        issuing_unit="义县",
        cooperating_units=[world.unit("王家屯村")],
        assign=False,
    )
    make_task("全市草稿", lead_unit="七里河镇", lead_leader=world.person("leader"), assign=False)
    user = world.person(username)
    as_set = set(Task.objects.filter(task_visibility_q(user)).values_list("pk", flat=True))
    row_by_row = set(Task.objects.filter(task_row_visibility_q(user)).values_list("pk", flat=True))
    assert as_set == row_by_row
    read = Task.objects.select_related("issuing_unit").prefetch_related("task_units__unit")
    access = access_for_user(user)
    assert {task.pk for task in read if task_visible_to(access, task)} == as_set
    for task in Task.objects.all():
        if task.pk in as_set:
            assert task_visible_get(user, task.pk) == task
        else:
            with pytest.raises(NotFound):
                task_visible_get(user, task.pk)


def test_overdue_means_open_and_past_the_due_date(world, make_task):
    late = make_task("逾期任务", due_date=D(2018, 11, 20))
    make_task("到期当日", due_date=D(2018, 11, 26))
    make_task("草稿不算", due_date=D(2018, 11, 20), assign=False)
    cancelled = make_task("撤销不算", due_date=D(2018, 11, 20))
    task_transition(task_id=cancelled.pk, actor=world.person("city_head"), name="cancel", comment="合并办理")
    overdue = Task.objects.filter(overdue_q(D(2018, 11, 26)))
    assert list(overdue) == [late]


def test_the_yellow_limit_counts_working_days_across_national_day():
    # Friday 28 September 2018, then Saturday and Sunday worked, then 8 October.
    assert yellow_limit(D(2018, 9, 28), 3) == D(2018, 10, 8)


@pytest.fixture
def lights(world, make_task) -> dict[str, Task]:
    due = {
        "red": D(2018, 11, 23),
        "today": D(2018, 11, 26),
        "limit": D(2018, 11, 29),
        "green": D(2018, 11, 30),
        "far": D(2018, 12, 10),
    }
    made = {name: make_task(f"危房改造 {name}", due_date=day) for name, day in due.items()}
    made["closed_late"] = make_task("已撤销", due_date=D(2018, 11, 23))
    task_transition(
        task_id=made["closed_late"].pk, actor=world.person("city_head"), name="cancel", comment="撤销"
    )
    return made


def light_of(on, working_days) -> dict[str, set[str]]:
    return {
        light: set(Task.objects.filter(light_q(light, on, working_days)).values_list("title", flat=True))
        for light in ("red", "yellow", "green")
    }


def test_lights_use_the_campaigns_yellow_working_days(world, lights):
    on = D(2018, 11, 26)  # Monday
    days = world.campaign.yellow_working_days
    assert days == 3
    assert light_of(on, days) == {
        "red": {"危房改造 red"},
        "yellow": {"危房改造 today", "危房改造 limit"},
        "green": {"危房改造 green", "危房改造 far"},
    }

    world.campaign.yellow_working_days = 4
    world.campaign.save()
    assert light_of(on, world.campaign.yellow_working_days)["yellow"] == {
        "危房改造 today",
        "危房改造 limit",
        "危房改造 green",
    }


def test_task_light_agrees_with_the_query(world, lights):
    on = D(2018, 11, 26)
    limit = yellow_limit(on, 3)
    by_query = {
        task.pk: light
        for light, titles in light_of(on, 3).items()
        for task in Task.objects.filter(title__in=titles)
    }
    for task in Task.objects.all():
        assert task_light(task, on, limit) == by_query.get(task.pk)
    assert task_light(Task.objects.get(pk=lights["closed_late"].pk), on, limit) is None


def test_history_is_in_the_order_things_happened(world, make_task):
    task = make_task()
    task_transition(task_id=task.pk, actor=world.person("yi_member"), name="accept")
    # Entered later (a higher id) for something that happened first.
    TaskEvent.objects.create(
        task=task,
        actor=world.person("city_head"),
        action="edited",
        at=datetime.datetime(2018, 9, 1, tzinfo=datetime.UTC),
        from_state=TaskState.DRAFT,
        to_state=TaskState.DRAFT,
    )
    assert [event.action for event in task_history(task)] == ["edited", "created", "assigned", "accepted"]


def test_the_trace_reads_back_the_arrangements_task_update_records(world, make_task):
    with time_machine.travel(datetime.datetime(2018, 9, 3, 1, 0, tzinfo=datetime.UTC), tick=False):
        task = make_task(
            "七里河镇危房改造",
            lead_unit="七里河镇",
            responsible_person=world.person("qilihe_head"),
            cooperating_units=[world.unit("大榆树堡村")],
        )
    # Before any change, the one period is read from the task itself.
    (unchanged,) = responsibility_trace(task)
    moved_at = datetime.datetime(2018, 10, 9, 1, 0, tzinfo=datetime.UTC)
    with time_machine.travel(moved_at, tick=False):
        task_update(
            task_id=task.pk,
            actor=world.person("city_head"),
            lead_unit=world.unit("王家屯村"),
            responsible_person=world.person("village_b_head"),
        )

    before, after = responsibility_trace(task)
    # What the service recorded as "before" is what the selector read from the task.
    assert (before.start, before.lead_unit, before.responsible_person, before.units) == (
        unchanged.start,
        unchanged.lead_unit,
        unchanged.responsible_person,
        unchanged.units,
    )
    assert (before.end, after.start, after.end) == (moved_at, moved_at, None)
    assert after.lead_unit == world.unit("王家屯村")
    assert after.responsible_person == world.person("village_b_head")
    links = Task.objects.get(pk=task.pk).task_units.order_by("unit_id")
    assert sorted((u["unit_id"], u["role"]) for u in after.units) == [(x.unit_id, x.role) for x in links]
    assert {u["unit"] for u in after.units} == {"王家屯村", "大榆树堡村"}
    assert period_at([before, after], moved_at - datetime.timedelta(seconds=1)) is before
    assert period_at([before, after], moved_at) is after
