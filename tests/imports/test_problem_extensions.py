"""A problem list restated after an item was granted an extension: a 整改时限 earlier than the
approved date does not take it back (the item keeps it, the result says so); a later one
applies."""

import datetime

import pytest
import time_machine

from tasks.models import EventAction, Task
from tasks.services import extension_decide, extension_request_create, task_transition
from tests.imports.test_problems import TODAY, problem_rows, run, snapshot, xlsx

pytestmark = pytest.mark.django_db


def extend(world, task: Task, date: datetime.date) -> None:
    with time_machine.travel(TODAY, tick=False):
        extension = extension_request_create(
            task_id=task.pk,
            actor=world.person("qilihe_head"),
            requested_due_date=date,
            reason="入户核查未完成",
        )
        extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=True)


def listed(deadline: str, measures: str | None = None) -> list[list[str]]:
    """The list of ten with row 6's (item 4's, 七里河镇's) 整改时限, and its 整改措施."""
    rows = problem_rows(10)
    rows[3][5] = deadline
    if measures:
        rows[3][4] = measures
    return rows


def test_a_restated_deadline_before_an_approved_extension_keeps_the_extended_date(world):
    run(world, xlsx(listed("10月底前")))
    run(world, xlsx(listed("11月10日前")))
    item = Task.objects.get(number="4")
    task_transition(task_id=item.pk, actor=world.person("qilihe_head"), name="accept")
    extend(world, item, datetime.date(2018, 11, 20))

    # The first version of the list again: its 10月底前 is the date the extension replaced.
    dry = run(world, xlsx(listed("10月底前")), dry_run=True)

    assert dry.errors == []
    assert dry.counts == {"created": 0, "updated": 0, "unchanged": 10, "headings": 0}
    assert [(kept["row"], kept["column"], kept["code"]) for kept in dry.kept] == [
        (6, "deadline", "extension_kept")
    ]
    assert dry.kept[0]["message"] == (
        "整改时限“10月底前”（2018-10-31）早于已批准的延期，该事项仍按延期后的 2018-11-20 办理。"
        "如需再改时限，请在清单中写明晚于 2018-11-20 的日期。"
    )

    before = snapshot()
    result = run(world, xlsx(listed("10月底前", measures="逐户补齐档案")))

    assert result.kept == dry.kept
    assert [(row["row"], row["action"], row["changes"]) for row in result.rows if row["changes"]] == [
        (6, "updated", ["measures"])
    ]
    item.refresh_from_db()
    assert item.due_date == datetime.date(2018, 11, 20)
    assert "逐户补齐档案" in item.description
    edit = item.events.latest("pk")
    assert edit.action == EventAction.EDITED and edit.data["changed"] == ["description"]
    # One edit, of the measures; the due date is not written.
    assert snapshot() == {**before, "TaskEvent": before["TaskEvent"] + 1}
    # The record keeps the list's words: the same list again changes nothing, and says nothing.
    again = run(world, xlsx(listed("10月底前", measures="逐户补齐档案")))
    assert again.kept == [] and again.counts["unchanged"] == 10
    assert item.problem.deadline == "10月底前"


def test_a_restated_deadline_after_the_extension_still_applies(world):
    run(world, xlsx(listed("10月底前")))
    item = Task.objects.get(number="4")
    task_transition(task_id=item.pk, actor=world.person("qilihe_head"), name="accept")
    extend(world, item, datetime.date(2018, 11, 20))

    result = run(world, xlsx(listed("11月30日前")))

    assert result.kept == []
    assert [(row["row"], row["changes"]) for row in result.rows if row["changes"]] == [(6, ["deadline"])]
    item.refresh_from_db()
    assert (item.due_date, item.original_due_date) == (
        datetime.date(2018, 11, 30),
        datetime.date(2018, 10, 31),
    )


def test_without_an_approved_extension_a_restated_earlier_deadline_applies(world):
    run(world, xlsx(listed("11月30日前")))
    item = Task.objects.get(number="4")
    task_transition(task_id=item.pk, actor=world.person("qilihe_head"), name="accept")
    with time_machine.travel(TODAY, tick=False):
        extension = extension_request_create(
            task_id=item.pk,
            actor=world.person("qilihe_head"),
            requested_due_date=datetime.date(2018, 12, 10),
            reason="入户核查未完成",
        )
        extension_decide(
            extension_id=extension.pk, actor=world.person("city_head"), approve=False, comment="不符合"
        )

    result = run(world, xlsx(listed("11月20日前")))

    assert result.kept == []
    item.refresh_from_db()
    assert item.due_date == datetime.date(2018, 11, 20)
