"""A problem list's 责任人 column: the named person answers for the item in its lead unit, a
name that is nobody's (or several people's) there is a row error, and a re-import may name
another person. Its 责任领导 column names the item's lead leader (牵头领导) among the issuing
level's leaders, as a task table's 牵头领导 does."""

import pytest

from imports.services import ImportInvalid
from responsibility.models import Role
from responsibility.services import membership_create, user_create
from tasks.models import EventAction, Task
from tests.imports.test_problems import HEADER, csv_bytes, problem_rows, run, snapshot, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    """A member of 七里河镇 whose name is typeset with a space, and two namesakes in 芳山镇."""
    liu = user_create(username="liu", full_name="刘 洋", password="x-Duban-2018")
    membership_create(user=liu, unit=world.unit("七里河镇"), role=Role.MEMBER)
    for username in ("zhang_a", "zhang_b"):
        user = user_create(username=username, full_name="张伟", password="x-Duban-2018")
        membership_create(user=user, unit=world.unit("芳山镇"), role=Role.MEMBER)
    return {"liu": liu}


def with_people(rows, names, header_label="责任人"):
    return [[*row, names.get(index, "")] for index, row in enumerate(rows)], [*HEADER, header_label]


def test_the_named_person_answers_for_the_item_in_its_lead_unit(world, people):
    # Rows 1 and 2 are 七里河镇's, row 3 芳山镇's (``problem_rows``).
    rows, header = with_people(problem_rows(4), {0: "刘洋", 1: "郑镇长"})

    dry = run(world, xlsx(rows, header=header), dry_run=True)

    assert dry.errors == []
    assert [row["responsible_person"] for row in dry.rows] == ["刘 洋", "郑镇长", "", ""]
    assert not any("责任人" in note for note in dry.notes)

    result = run(world, xlsx(rows, header=header))

    assert result.counts["created"] == 4
    persons = dict(Task.objects.values_list("number", "responsible_person__username"))
    assert persons == {"1": "liu", "2": "qilihe_head", "3": None, "4": None}
    assert Task.objects.get(number="1").problem.responsible_person == "刘洋"
    # The same list again, as CSV, changes nothing.
    again = run(world, csv_bytes(rows, header=header), filename="问题清单.csv")
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 4, "headings": 0}


@pytest.mark.parametrize("label", ["具体责任人", "整改责任人", "责任人（姓名）"])
def test_the_column_goes_by_the_headings_lists_give_it(world, people, label):
    rows, header = with_people(problem_rows(2), {1: "郑 镇长；"}, label)

    result = run(world, xlsx(rows, header=header), dry_run=True)

    assert result.errors == [] and result.rows[1]["responsible_person"] == "郑镇长"


def test_a_name_that_is_nobodys_or_several_peoples_is_a_row_error_and_nothing_is_written(world, people):
    rows, header = with_people(
        problem_rows(6),
        {
            0: "周干事",  # a member of 义县, not of 七里河镇
            2: "张伟",  # two people of 芳山镇
            3: "刘洋、郑镇长",  # one person only
            4: "刘洋",  # fine, but the list is refused as a whole
        },
    )
    data = xlsx(rows, header=header)

    dry = run(world, data, dry_run=True)

    found = [(e["row"], e["column"], e["code"], e["column_label"]) for e in dry.errors]
    assert found == [
        (3, "responsible_person", "unknown_person", "责任人"),
        (5, "responsible_person", "ambiguous_person", "责任人"),
        (6, "responsible_person", "one_person", "责任人"),
    ]
    messages = [e["message"] for e in dry.errors]
    assert messages[0] == "七里河镇的成员或负责人中没有“周干事”，不能担任该事项的责任人。"
    assert "芳山镇有多位人员名为“张伟”" in messages[1]
    assert [row["row"] for row in dry.rows] == [4, 7, 8]
    with pytest.raises(ImportInvalid) as refused:
        run(world, data)
    assert "3:responsible_person" in refused.value.fields
    assert snapshot() == dict.fromkeys(snapshot(), 0)


def test_a_re_import_names_another_person_and_an_empty_cell_keeps_the_one_named(world, people):
    rows, header = with_people(problem_rows(4), {0: "刘洋"})
    run(world, xlsx(rows, header=header))
    item, other = Task.objects.get(number="1"), Task.objects.get(number="2")
    # 七里河镇 named its own person for row 2's item after the import.
    Task.objects.filter(pk=other.pk).update(responsible_person=people["liu"])

    rows, header = with_people(problem_rows(4), {0: "郑镇长"})
    dry = run(world, xlsx(rows, header=header), dry_run=True)
    assert [(row["row"], row["changes"]) for row in dry.rows if row["action"] == "updated"] == [
        (3, ["responsible_person"])
    ]
    run(world, xlsx(rows, header=header))

    item.refresh_from_db()
    other.refresh_from_db()
    assert item.responsible_person == world.person("qilihe_head")
    assert item.events.latest("pk").action == EventAction.REASSIGNED
    assert item.problem.responsible_person == "郑镇长"
    assert other.responsible_person == people["liu"]


def with_leaders(rows, names):
    return [[*row, names.get(index, "")] for index, row in enumerate(rows)], [*HEADER, "责任领导"]


def test_the_named_leader_leads_the_item_and_an_unknown_name_is_a_row_error(world):
    rows, header = with_leaders(problem_rows(3), {0: "蒋 副市长", 1: "蒋市长", 2: "郑镇长"})

    dry = run(world, xlsx(rows, header=header), dry_run=True)

    # 郑镇长 heads 七里河镇: a person, but no leader of the city that issues the list.
    found = [(e["row"], e["column"], e["code"], e["column_label"]) for e in dry.errors]
    assert found == [
        (4, "lead_leader", "unknown_leader", "责任领导"),
        (5, "lead_leader", "leader_not_of_level", "责任领导"),
    ]
    assert "蒋副市长" in dry.errors[0]["message"]
    assert not any("责任领导" in note for note in dry.notes)

    rows, header = with_leaders(problem_rows(3), {0: "蒋 副市长"})
    result = run(world, xlsx(rows, header=header))

    leaders = dict(Task.objects.values_list("number", "lead_leader__username"))
    assert leaders == {"1": "leader", "2": None, "3": None}
    assert result.rows[0]["lead_leader"] == "蒋副市长"
    assert Task.objects.get(number="1").problem.lead_leader == "蒋 副市长"


def test_a_re_import_names_another_leader_and_an_empty_cell_keeps_the_one_named(world):
    other = user_create(username="wang", full_name="王副市长", password="x-Duban-2018")
    membership_create(user=other, unit=world.unit("锦州市"), role=Role.LEADER)
    rows, header = with_leaders(problem_rows(2), {0: "蒋副市长", 1: "蒋副市长"})
    run(world, xlsx(rows, header=header))

    rows, header = with_leaders(problem_rows(2), {0: "王副市长"})
    dry = run(world, xlsx(rows, header=header), dry_run=True)
    assert [(row["row"], row["action"], row["changes"]) for row in dry.rows] == [
        (3, "updated", ["lead_leader"]),
        (4, "unchanged", []),
    ]
    run(world, xlsx(rows, header=header))

    leaders = dict(Task.objects.values_list("number", "lead_leader__username"))
    assert leaders == {"1": "wang", "2": "leader"}
    assert Task.objects.get(number="1").problem.lead_leader == "王副市长"
