"""Jurisdiction as a property: drawn (caller, unit, person) triples from the test world,
each write succeeding exactly when the rule written below by hand says so.

The expected answers do not call ``responsibility.jurisdiction``: the reach of every unit of
tests/conftest.py's tree is written out here, so the code and this table can only agree by
both following the rule (a unit reaches the units below it and those attached to its level;
an office or leading group acts for its level; a department only its own subtree unless it
splits a task it was given; never itself nor the level it acts for). Every call runs in a
transaction that is rolled back, so the world stays the same for the next draw; a refused
call must leave no row at all (task, unit link, history, escalation, outbox, bulletin).
"""

import datetime
import io
import random
from collections.abc import Callable

import pytest
from django.db import transaction
from openpyxl import Workbook

from bulletins.models import Bulletin, BulletinCounter
from bulletins.services import bulletin_create
from core.errors import DomainError
from imports.services import table_import
from notifications.models import Escalation
from notifications.services import escalation_record_manual
from outbox.models import OutboundMessage
from tasks.models import Task, TaskEvent, TaskUnit
from tasks.rungs import Level
from tasks.services import ChildSpec, task_create, task_decompose, task_transition, task_update
from tests.conftest import PEOPLE

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.postgres]

DRAWS = 60
UNITS = (
    "锦州市 市委督查室 市住建委 义县 县委督查室 七里河镇 大榆树堡村 王家屯村 黑山县 芳山镇 新立屯村".split()
)
CITY_BELOW = set(UNITS) - {"锦州市"}
YI_BELOW = {"县委督查室", "七里河镇", "大榆树堡村", "王家屯村"}

# The units each unit may hand work to on its own authority.
REACH = {
    "锦州市": CITY_BELOW,
    "市委督查室": CITY_BELOW - {"市委督查室"},
    "市住建委": set(),
    "义县": YI_BELOW,
    "县委督查室": YI_BELOW - {"县委督查室"},
    "七里河镇": {"大榆树堡村", "王家屯村"},
    "大榆树堡村": set(),
    "王家屯村": set(),
    "黑山县": {"芳山镇", "新立屯村"},
    "芳山镇": {"新立屯村"},
    "新立屯村": set(),
}
# Splitting a task it was given, a department reaches what its level reaches.
REACH_THROUGH_TASK = {**REACH, "市住建委": CITY_BELOW - {"市住建委"}}

MEMBERS = {unit: set() for unit in UNITS}  # members and heads, who may answer for the unit
HEADS = {unit: set() for unit in UNITS}
for _username, _name, _unit, _role in PEOPLE:
    if _role in ("member", "head"):
        MEMBERS[_unit].add(_username)
    if _role == "head":
        HEADS[_unit].add(_username)
USERNAMES = [username for username, *_ in PEOPLE]
# Who may lead (牵头) a task of the city level: its head and its deputy mayor.
CITY_LEADERS = {"city_head", "leader"}
FULL_NAMES = {username: name for username, name, *_ in PEOPLE}
# A bulletin is issued by a supervision office (its supervisors and heads) or by the head of a
# level of government (not a village), as that office or level.
BULLETIN_ISSUERS = {
    "市委督查室": {"city_supervisor"},
    "县委督查室": {"yi_supervisor"},
    "锦州市": {"city_head"},
    "义县": {"yi_head"},
    "七里河镇": {"qilihe_head"},
    "黑山县": {"heishan_head"},
}
# Copy-to (抄送) may also go up the tree: the units above the issuer (an office's own level
# among them) and the offices attached to the levels above.
COPY_UP = {
    "锦州市": set(),
    "市委督查室": {"锦州市"},
    "义县": {"锦州市", "市委督查室", "市住建委"},
    "县委督查室": {"锦州市", "市委督查室", "市住建委", "义县"},
    "七里河镇": {"锦州市", "市委督查室", "市住建委", "义县", "县委督查室"},
    "黑山县": {"锦州市", "市委督查室", "市住建委"},
}

MODELS = [Task, TaskUnit, TaskEvent, Escalation, OutboundMessage, Bulletin, BulletinCounter]


class Rollback(Exception):
    pass


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def outcome(call: Callable[[], object]) -> str | None:
    """None if the call succeeded (then undone), else the refusal's code; a refusal must
    have left every table as it was."""
    before = counts()
    try:
        with transaction.atomic():
            call()
            raise Rollback
    except Rollback:
        return None
    except DomainError as refused:
        assert counts() == before, refused.code
        return refused.code


def draws(seed: int, *pools) -> list[tuple]:
    """``DRAWS`` tuples, one element from each pool; a pool may be a function of the
    elements drawn before it, to steer draws towards the allowed side as often as not."""
    chooser = random.Random(seed)
    drawn = []
    for _ in range(DRAWS):
        row: list = []
        for pool in pools:
            row.append(chooser.choice(pool(*row) if callable(pool) else pool))
        drawn.append(tuple(row))
    return drawn


def often(allowed: set, pool: list) -> list:
    """A pool where the allowed choices weigh as much as all the others together."""
    allowed = sorted(allowed, key=str)
    return allowed * max(1, len(pool) // max(1, len(allowed))) + list(pool)


def check(results: list[tuple[tuple, bool, str | None]]) -> None:
    wrong = [(draw, expected, code) for draw, expected, code in results if expected != (code is None)]
    assert not wrong, wrong
    # Both answers occur, so the draws exercised the rule and not only one side of it.
    assert {expected for _draw, expected, _code in results} == {True, False}


def test_creating_a_task(world):
    heads = [username for unit in UNITS for username in sorted(HEADS[unit])]
    head_of = {username: unit for unit in UNITS for username in HEADS[unit]}
    results = []
    for actor, issuing, lead, person in draws(
        1,
        heads,
        lambda actor: often({head_of[actor]}, UNITS),
        lambda actor, issuing: often(REACH[issuing], UNITS),
        lambda actor, issuing, lead: often(MEMBERS[lead] | {None}, USERNAMES),
    ):
        expected = (
            actor in HEADS[issuing] and lead in REACH[issuing] and (person is None or person in MEMBERS[lead])
        )

        def call(actor=actor, issuing=issuing, lead=lead, person=person):
            task_create(
                actor=world.person(actor),
                campaign=world.campaign,
                title="危房改造",
                issuing_unit=world.unit(issuing),
                lead_unit=world.unit(lead),
                responsible_person=world.person(person) if person else None,
                due_date=datetime.date(2018, 11, 30),
                assign=True,
            )

        results.append(((actor, issuing, lead, person), expected, outcome(call)))
    check(results)


def test_naming_the_lead_leader(world):
    results = []
    for issuing, leader in draws(2, ["锦州市", "义县", "七里河镇"], USERNAMES):
        # Heads of the issuing level or above, and the city's deputy mayor, may lead.
        above = {"锦州市": [], "义县": ["锦州市"], "七里河镇": ["锦州市", "义县"]}[issuing]
        expected = leader in CITY_LEADERS | HEADS[issuing] | {h for unit in above for h in HEADS[unit]}
        actor = sorted(HEADS[issuing])[0]
        lead = sorted(REACH[issuing] - {"县委督查室", "市委督查室"})[0]

        def call(actor=actor, issuing=issuing, lead=lead, leader=leader):
            task_create(
                actor=world.person(actor),
                campaign=world.campaign,
                title="危房改造",
                issuing_unit=world.unit(issuing),
                lead_unit=world.unit(lead),
                lead_leader=world.person(leader),
                due_date=datetime.date(2018, 11, 30),
            )

        results.append(((issuing, leader), expected, outcome(call)))
    check(results)


def test_editing_who_is_responsible(world, make_task):
    task = make_task()
    results = []
    for actor, lead, person in draws(
        3,
        ["city_head", "yi_head", "admin"],
        UNITS,
        lambda actor, lead: often(MEMBERS[lead] | {None}, USERNAMES),
    ):
        expected = (
            actor in ("city_head", "admin")
            and lead in REACH["锦州市"]
            and (person is None or person in MEMBERS[lead])
        )

        def call(actor=actor, lead=lead, person=person):
            task_update(
                task_id=task.pk,
                actor=world.person(actor),
                lead_unit=world.unit(lead),
                responsible_person=world.person(person) if person else None,
            )

        results.append(((actor, lead, person), expected, outcome(call)))
    check(results)


def test_decomposing(world, make_task):
    county = make_task()
    department = make_task(lead_unit="市住建委")
    task_transition(task_id=county.pk, actor=world.person("yi_member"), name="accept")
    task_transition(task_id=department.pk, actor=world.person("housing_member"), name="accept")
    tasks = {"义县": (county, "yi_head"), "市住建委": (department, "housing_head")}
    results = []
    for splitter, lead, person in draws(
        4, sorted(tasks), UNITS, lambda splitter, lead: often(MEMBERS[lead] | {None}, USERNAMES)
    ):
        task, actor = tasks[splitter]
        expected = lead in REACH_THROUGH_TASK[splitter] and (person is None or person in MEMBERS[lead])

        def call(task=task, actor=actor, lead=lead, person=person):
            task_decompose(
                task_id=task.pk,
                actor=world.person(actor),
                children=[
                    ChildSpec(
                        title="分解",
                        lead_unit=world.unit(lead),
                        due_date=datetime.date(2018, 11, 20),
                        responsible_person=world.person(person) if person else None,
                    )
                ],
            )

        results.append(((splitter, lead, person), expected, outcome(call)))
    check(results)


def _table(lead: str, leader: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "备注"])
    sheet.append(["1", "完成D级危房改造", FULL_NAMES[leader], lead, "", "", "10月底前", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_importing_a_table(world):
    results = []
    # The table is the city campaign's: its lead units and leaders are the city's to name.
    for lead, leader in draws(5, UNITS, often(CITY_LEADERS, USERNAMES)):
        expected = lead in REACH["锦州市"] and leader in CITY_LEADERS

        def call(lead=lead, leader=leader):
            table_import(
                actor=world.person("city_head"),
                campaign=world.campaign,
                data=_table(lead, leader),
                filename="分解表.xlsx",
                dry_run=False,
            )

        results.append(((lead, leader), expected, outcome(call)))
    check(results)


def test_naming_people_in_a_talk(world, make_task):
    task = make_task(lead_unit="七里河镇")
    # The task's own units (锦州市 issues, 七里河镇 leads) and the heads and leaders above them.
    nameable = {
        "city_supervisor": {"city_head", "leader", "qilihe_head", "yi_head"},
        "yi_supervisor": {"qilihe_head", "yi_head"},
    }
    results = []
    for actor, person in draws(
        6,
        ["city_supervisor", "yi_supervisor", "yi_head"],
        lambda actor: often(nameable.get(actor, set()), USERNAMES),
    ):
        expected = person in nameable.get(actor, set())

        def call(actor=actor, person=person):
            escalation_record_manual(
                task_id=task.pk,
                actor=world.person(actor),
                level=Level.ADMONISHMENT,
                reason="约谈",
                people=[world.person(person)],
            )

        results.append(((actor, person), expected, outcome(call)))
    check(results)


def test_drafting_a_bulletin(world):
    results = []
    for issuer, actor, main, copy in draws(
        7,
        UNITS,
        lambda issuer: often(BULLETIN_ISSUERS.get(issuer, set()), USERNAMES),
        lambda issuer, actor: often(REACH[issuer], UNITS),
        lambda issuer, actor, main: often(REACH[issuer] | COPY_UP.get(issuer, set()) | {None}, UNITS),
    ):
        expected = (
            actor in BULLETIN_ISSUERS.get(issuer, set())
            and main in REACH[issuer]
            and (copy is None or copy in REACH[issuer] | COPY_UP.get(issuer, set()))
        )

        def call(actor=actor, issuer=issuer, main=main, copy=copy):
            bulletin_create(
                actor=world.person(actor),
                issuer=world.unit(issuer),
                title="督查通报",
                period_start=datetime.date(2018, 11, 1),
                period_end=datetime.date(2018, 11, 30),
                main_recipients=[world.unit(main)],
                copy_to=[world.unit(copy)] if copy else [],
            )

        results.append(((actor, issuer, main, copy), expected, outcome(call)))
    check(results)


def test_a_bulletin_covers_nothing_its_drafter_cannot_see(world, make_task):
    """Whoever may draft a bulletin as a unit sees every task its figures count."""
    from bulletins.figures import _tasks, scope_for
    from responsibility.jurisdiction import may_publish_bulletins
    from responsibility.selectors import access_for_user
    from tasks.selectors import task_list_for_user

    for lead in ("义县", "七里河镇", "黑山县", "芳山镇", "市住建委"):
        make_task(f"{lead}危房改造", lead_unit=lead)
    make_task("大榆树堡村饮水安全", lead_unit="大榆树堡村", issuer="qilihe_head", issuing_unit="七里河镇")
    drafted = counted = 0
    for username in [*USERNAMES, "admin"]:
        user = world.person(username)
        visible = set(task_list_for_user(user).values_list("pk", flat=True))
        for name in UNITS:
            issuer = world.unit(name)
            if may_publish_bulletins(access_for_user(user), issuer):
                scope = scope_for(issuer, datetime.date(2018, 11, 1), datetime.date(2018, 11, 30), None)
                covered = set(_tasks(scope).values_list("pk", flat=True))
                assert covered <= visible, (username, name)
                drafted += 1
                counted += len(covered)
    # The city's and 义县's offices and heads, 七里河镇's and 黑山县's heads, and the administrator.
    assert drafted == len(BULLETIN_ISSUERS) + len(UNITS)
    assert counted > 20
