"""Clients racing each other through the HTTP API, each in its own thread with its own
database connection, released together.

- Two clients posting the same transition at the same moment, a hundred times on one task
  (submitting and sending back in turn): exactly one of them changes the task each time
  and the other is told 409 with a code; the task's history has one event per change, no
  gap and no duplicate, and its states follow on from each other.
- Progress reports on the indicators of one decomposed target at the same moment, on
  sibling tasks and twice on the same task: no report's figure is lost, every leaf holds
  the figure of the last report on it and every indicator above holds the sum of its
  children.
"""

import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

import pytest
from rest_framework.test import APIClient

from tasks.models import Indicator, ProgressReport, Task, TaskEvent, TaskKind, TaskState
from tasks.services import ChildSpec, IndicatorSpec, task_decompose, task_transition
from tests.conftest import World
from tests.helpers import RACES_NEED_POSTGRES, race, split_target

pytestmark = RACES_NEED_POSTGRES

TRANSITION_ROUNDS = 100
REPORT_ROUNDS = 40
# The answers a client that lost a race for a transition may get.
LOST_RACE_CODES = {"invalid_transition", "concurrent_change"}


@pytest.fixture
def racing_world(transactional_db, django_db_serialized_rollback, world) -> World:
    """The world committed, so that the racers' own connections see it."""
    return world


def client_as(world: World, username: str) -> APIClient:
    """A client of its own for one racer: the test client is not shared between threads."""
    client = APIClient()
    client.force_authenticate(user=world.person(username))
    return client


# Transitions


def race_transition(task: Task, clients: dict[str, APIClient], name: str, to_state: str) -> str:
    """Every client posts the same transition at once; returns the username of the one
    that made it, after checking that every other was refused with a 409."""
    url = f"/api/v1/tasks/{task.pk}/transitions/{name}/"

    def post(username: str, client: APIClient):
        return lambda: client.post(url, {"comment": f"{username}: {name}"}, format="json")

    responses = dict(zip(clients, race(*(post(*item) for item in clients.items())), strict=True))
    answers = {username: (response.status_code, response.content) for username, response in responses.items()}
    winners = [username for username, response in responses.items() if response.status_code == 200]
    assert len(winners) == 1, answers
    [winner] = winners
    assert responses[winner].json()["state"] == to_state
    for loser in set(responses) - {winner}:
        assert responses[loser].status_code == 409, answers
        body = responses[loser].json()
        assert set(body) == {"code", "message", "fields"} and body["message"], answers
        assert body["code"] in LOST_RACE_CODES, answers
    return winner


def history_through_api(client: APIClient, task: Task) -> list[dict]:
    rows, url = [], f"/api/v1/tasks/{task.pk}/history/?page_size=200"
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.content
        rows += page.json()["results"]
        url = page.json()["next"]
    return rows


def test_two_clients_racing_the_same_transition_change_the_task_once_each_time(racing_world, make_task):
    world = racing_world
    task = make_task("危房改造", lead_unit="义县")
    task_transition(task_id=task.pk, actor=world.person("yi_member"), name="accept")
    # Both sides of the task have two people who may act: the responsible unit's member
    # and head submit, the issuing unit's head and an administrator send back.
    responsible = {username: client_as(world, username) for username in ("yi_member", "yi_head")}
    issuing = {username: client_as(world, username) for username in ("city_head", "admin")}

    expected = [
        ("created", "city_head", "", TaskState.DRAFT),
        ("assigned", "city_head", TaskState.DRAFT, TaskState.ASSIGNED),
        ("accepted", "yi_member", TaskState.ASSIGNED, TaskState.IN_PROGRESS),
    ]
    # Each race leaves the task ready for the next: submitted, sent back, submitted, ...
    moves = [
        ("submit", responsible, "submitted", TaskState.IN_PROGRESS, TaskState.SUBMITTED),
        ("return", issuing, "returned", TaskState.SUBMITTED, TaskState.IN_PROGRESS),
    ]
    for round_number in range(TRANSITION_ROUNDS):
        name, clients, action, from_state, to_state = moves[round_number % len(moves)]
        winner = race_transition(task, clients, name, to_state)
        expected.append((action, winner, from_state, to_state))

    events = list(
        TaskEvent.objects.filter(task=task)
        .order_by("at", "pk")
        .values_list("action", "actor__username", "from_state", "to_state")
    )
    assert events == expected
    assert all(before[3] == after[2] for before, after in pairwise(events))
    assert Task.objects.get(pk=task.pk).state == TaskState.IN_PROGRESS

    through_api = history_through_api(issuing["city_head"], task)
    people = {world.person(username).pk: username for username in (*responsible, *issuing)}
    assert [
        (row["action"], people[row["actor"]["id"]], row["from_state"], row["to_state"]) for row in through_api
    ] == expected


# Progress reports


@dataclass(frozen=True)
class Reporter:
    username: str
    task: Task
    indicator: Indicator
    client: APIClient


@pytest.fixture
def housing_target(racing_world, make_task) -> Task:
    """The city's 1,888 houses, split three levels down.

    锦州市 1888 (led by 市住建委)
    ├── 义县 950
    │   └── 七里河镇 600
    │       ├── 大榆树堡村 300
    │       └── 王家屯村 300
    └── 黑山县 938
    """
    world = racing_world
    city = make_task(
        "农村D级危房改造",
        lead_unit="市住建委",
        kind=TaskKind.TARGET,
        indicators=[IndicatorSpec(name="D级危房改造", target=Decimal(1888), unit_of_measure="户")],
    )
    task_transition(task_id=city.pk, actor=world.person("housing_member"), name="accept")
    yi, heishan = split_target(world, city, by="housing_head", shares={"义县": 950, "黑山县": 938})
    task_transition(task_id=yi.pk, actor=world.person("yi_member"), name="accept")
    task_transition(task_id=heishan.pk, actor=world.person("heishan_member"), name="accept")
    [qilihe] = split_target(world, yi, by="yi_head", shares={"七里河镇": 600})
    task_transition(task_id=qilihe.pk, actor=world.person("qilihe_head"), name="accept")
    for village in split_target(world, qilihe, by="qilihe_head", shares={"大榆树堡村": 300, "王家屯村": 300}):
        head = "village_a_head" if village.lead_unit.name == "大榆树堡村" else "village_b_head"
        task_transition(task_id=village.pk, actor=world.person(head), name="accept")
    return city


def reporters(world: World, city: Task) -> list[Reporter]:
    """The two village heads, each on their own village, and two people of 黑山县 on the same
    task and indicator."""
    tasks = {task.lead_unit.name: task for task in Task.objects.filter(campaign=city.campaign)}
    people = [
        ("village_a_head", "大榆树堡村"),
        ("village_b_head", "王家屯村"),
        ("heishan_head", "黑山县"),
        ("heishan_member", "黑山县"),
    ]
    return [
        Reporter(username, tasks[unit], tasks[unit].indicators.get(), client_as(world, username))
        for username, unit in people
    ]


def report(reporter: Reporter, value: Decimal):
    return lambda: reporter.client.post(
        f"/api/v1/tasks/{reporter.task.pk}/reports/",
        {"text": "本周进展", "figures": [{"indicator": reporter.indicator.pk, "value": str(value)}]},
        format="json",
    )


def assert_every_indicator_is_the_sum_of_its_children(city: Task) -> None:
    tree = list(Indicator.objects.filter(task__campaign=city.campaign))
    children: dict[int, list[Indicator]] = {}
    for indicator in tree:
        children.setdefault(indicator.parent_id, []).append(indicator)
    parents = [indicator for indicator in tree if indicator.pk in children]
    assert len(parents) == 3  # 锦州市, 义县 and 七里河镇
    for parent in parents:
        total = sum((child.current_value for child in children[parent.pk]), Decimal(0))
        assert parent.current_value == total, (parent.task.lead_unit.name, parent.current_value, total)


def test_reports_racing_on_one_target_tree_lose_no_figure(racing_world, housing_target):
    racers = reporters(racing_world, housing_target)
    figures = random.Random(2018)
    last_report_pk = 0
    for round_number in range(REPORT_ROUNDS):
        # Distinct values, so that the two reports on 黑山县 can be told apart.
        values = [Decimal(value) for value in figures.sample(range(300), len(racers))]
        responses = race(*(report(racer, value) for racer, value in zip(racers, values, strict=True)))
        assert [response.status_code for response in responses] == [201] * len(racers), [
            response.content for response in responses
        ]

        reported: dict[int, set[Decimal]] = {}
        for racer, value in zip(racers, values, strict=True):
            reported.setdefault(racer.indicator.pk, set()).add(value)
        for indicator_pk, values_this_round in reported.items():
            last = (
                ProgressReport.objects.filter(task__indicators=indicator_pk, pk__gt=last_report_pk)
                .order_by("pk")
                .last()
            )
            current = Indicator.objects.get(pk=indicator_pk).current_value
            assert current in values_this_round, (round_number, indicator_pk, current, values_this_round)
            assert current == Decimal(last.figures[str(indicator_pk)]), (round_number, indicator_pk)
        assert_every_indicator_is_the_sum_of_its_children(housing_target)
        last_report_pk = ProgressReport.objects.order_by("pk").last().pk

    for task_pk, racing in Counter(racer.task.pk for racer in racers).items():
        assert ProgressReport.objects.filter(task=task_pk).count() == REPORT_ROUNDS * racing
        assert TaskEvent.objects.filter(task=task_pk, action="reported").count() == REPORT_ROUNDS * racing


# A parent and its child


PARENT_CHILD_ROUNDS = 20


def test_a_parent_submitted_while_its_child_is_reopened_never_keeps_an_open_child(racing_world, make_task):
    """Submitting a parent locks its children while it checks them, and reopening a child
    reads its parent's state once it holds the child's lock: whichever comes first, the
    other is refused, and a submitted parent never has an open child."""
    world = racing_world
    parent = make_task("整改：危房鉴定不准确", kind=TaskKind.RECTIFICATION)

    def move(task: Task, username: str, name: str) -> None:
        task_transition(task_id=task.pk, actor=world.person(username), name=name, comment="理由")

    move(parent, "yi_head", "accept")
    [child] = task_decompose(
        task_id=parent.pk,
        actor=world.person("yi_head"),
        children=[
            ChildSpec(title="七里河镇整改", lead_unit=world.unit("七里河镇"), due_date=parent.due_date)
        ],
    )
    move(child, "qilihe_head", "accept")
    move(child, "qilihe_head", "submit")
    move(child, "yi_head", "close")
    submitter, reopener = client_as(world, "yi_member"), client_as(world, "city_supervisor")

    winners = Counter()
    for _ in range(PARENT_CHILD_ROUNDS):
        submitted, reopened = race(
            lambda: submitter.post(
                f"/api/v1/tasks/{parent.pk}/transitions/submit/", {"comment": "全县整改完成"}, format="json"
            ),
            lambda: reopener.post(
                f"/api/v1/tasks/{child.pk}/transitions/reopen/", {"comment": "回头看发现反弹"}, format="json"
            ),
        )
        answers = sorted((submitted.status_code, reopened.status_code))
        assert answers == [200, 409], (submitted.content, reopened.content)
        parent_state = Task.objects.get(pk=parent.pk).state
        child_state = Task.objects.get(pk=child.pk).state
        if submitted.status_code == 200:
            winners["submit"] += 1
            assert reopened.json()["code"] == "parent_closed"
            assert (parent_state, child_state) == (TaskState.SUBMITTED, TaskState.CLOSED)
            move(parent, "city_head", "return")
        else:
            winners["reopen"] += 1
            assert submitted.json()["code"] == "children_open"
            assert (parent_state, child_state) == (TaskState.IN_PROGRESS, TaskState.IN_PROGRESS)
            move(child, "qilihe_head", "submit")
            move(child, "yi_head", "close")
    assert sum(winners.values()) == PARENT_CHILD_ROUNDS
