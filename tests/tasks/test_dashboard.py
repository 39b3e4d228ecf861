"""A unit's dashboard: figures per child unit by the lateness rules, jurisdiction, and a
fixed number of queries.

The clock stands on Monday 8 October 2018; with the campaign's 3 working days of warning,
due dates up to Thursday 11 October show yellow.
"""

import datetime

import pytest
import time_machine

from tasks.dashboard import unit_dashboard
from tasks.services import task_transition

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


def play(world, task, *steps):
    for username, name in steps:
        task_transition(task_id=task.pk, actor=world.person(username), name=name, comment="说明")


@pytest.fixture
def work(world, make_task):
    """义县's work: 七里河镇 with one task of each kind of standing, a village's work below it."""
    unit = world.unit
    close_qilihe = [("qilihe_head", "accept"), ("qilihe_head", "submit"), ("city_head", "close")]
    make_task("逾期任务", lead_unit="七里河镇", due_date=D(2018, 10, 1))
    make_task("临期任务", lead_unit="大榆树堡村", due_date=D(2018, 10, 10))
    make_task("县本级任务", lead_unit="义县")
    on_time = make_task("按期销号", lead_unit="王家屯村", due_date=D(2018, 10, 20))
    play(world, on_time, ("village_b_head", "accept"), ("village_b_head", "submit"), ("city_head", "close"))
    late = make_task("逾期销号", lead_unit="七里河镇", due_date=D(2018, 10, 1))
    play(world, late, *close_qilihe)
    play(world, make_task("撤销任务", lead_unit="七里河镇"), ("city_head", "cancel"))
    make_task("草稿任务", lead_unit="七里河镇", assign=False)
    make_task("配合任务", lead_unit="市住建委", cooperating_units=[unit("大榆树堡村")])
    # Two units of one child: counted once in its row.
    make_task("镇村共办", lead_unit="七里河镇", cooperating_units=[unit("王家屯村")])
    make_task("黑山县任务", lead_unit="黑山县")


def figures(row) -> dict:
    names = ("red", "yellow", "green", "closed", "closed_on_time", "suspended", "cancelled", "total")
    names = (*names, "overdue")
    return {name: getattr(row, name) for name in names if getattr(row, name)}


def test_each_child_counts_its_subtrees_work_by_light(world, work):
    own, office, qilihe = unit_dashboard(world.person("yi_head"), world.unit("义县").pk)
    assert (own.name, own.is_total, office.name, qilihe.name) == ("义县", True, "县委督查室", "七里河镇")
    assert figures(qilihe) == {
        "red": 1,
        "yellow": 1,
        "green": 2,
        "closed": 2,
        "closed_on_time": 1,
        "cancelled": 1,
        "total": 7,
        "overdue": 1,
    }
    assert qilihe.on_time_rate == 0.5
    assert figures(office) == {} and office.on_time_rate is None
    # The county's own row: its subtree's tasks once each, its own task too.
    assert figures(own) == {**figures(qilihe), "green": 3, "total": 8}


def test_a_task_of_two_children_counts_in_each_and_once_in_the_total(world, work):
    own, village_a, village_b = unit_dashboard(world.person("qilihe_head"), world.unit("七里河镇").pk)
    assert (village_a.name, village_b.name) == ("大榆树堡村", "王家屯村")
    assert figures(village_a) == {"yellow": 1, "green": 1, "total": 2}
    assert figures(village_b) == {"green": 1, "closed": 1, "closed_on_time": 1, "total": 2}
    assert village_b.on_time_rate == 1.0
    assert own.total == 7


def test_the_api_answers_the_units_figures_and_its_childrens(api, world, work):
    response = api.as_user("yi_head").get(f"/api/v1/units/{world.unit('七里河镇').pk}/dashboard/")
    assert response.status_code == 200
    body = response.json()
    assert body["unit"]["unit"] == {"id": world.unit("七里河镇").pk, "name": "七里河镇", "kind": "township"}
    assert body["unit"]["total"] == 7 and body["unit"]["on_time_rate"] == 0.5
    assert [child["unit"]["name"] for child in body["children"]] == ["大榆树堡村", "王家屯村"]
    assert body["children"][1] == {
        "unit": {"id": world.unit("王家屯村").pk, "name": "王家屯村", "kind": "village"},
        "red": 0,
        "yellow": 0,
        "green": 1,
        "closed": 1,
        "closed_on_time": 1,
        "suspended": 0,
        "cancelled": 0,
        "total": 2,
        "overdue": 0,
        "recheck_missed": 0,
        "on_time_rate": 1.0,
    }


@pytest.mark.parametrize(
    ("username", "unit", "status_code"),
    [
        ("yi_head", "义县", 200),
        ("yi_supervisor", "七里河镇", 200),
        ("city_supervisor", "黑山县", 200),
        ("admin", "黑山县", 200),
        ("heishan_head", "义县", 403),
        ("village_a_head", "七里河镇", 403),
        ("qilihe_head", "义县", 403),
        ("leader", "义县", 403),
    ],
)
def test_only_a_unit_within_the_callers_subtrees_answers(api, world, username, unit, status_code):
    response = api.as_user(username).get(f"/api/v1/units/{world.unit(unit).pk}/dashboard/")
    assert response.status_code == status_code
    if status_code == 403:
        assert response.json()["code"] == "outside_jurisdiction"


def test_a_unit_that_does_not_exist_is_not_found(api, world):
    assert api.as_user("yi_head").get("/api/v1/units/999999/dashboard/").status_code == 404
    anonymous = api.as_user(None).get(f"/api/v1/units/{world.unit('义县').pk}/dashboard/")
    assert anonymous.status_code in (401, 403)


def test_the_dashboard_costs_the_same_queries_for_few_tasks_or_many(
    api, world, make_task, django_assert_num_queries
):
    url = f"/api/v1/units/{world.unit('义县').pk}/dashboard/"
    counts = []
    # The unit with its children, the caller's memberships, the holiday calendar, the
    # campaigns' warning days, the figures.
    for n in range(3):
        make_task(f"第{n}项", lead_unit="大榆树堡村" if n % 2 else "七里河镇")
        api.as_user("yi_head")
        with django_assert_num_queries(5) as captured:
            assert api.get(url).status_code == 200
        counts.append(len(captured))
    assert len(set(counts)) == 1
