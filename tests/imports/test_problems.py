"""Importing a problem list (问题清单) into a campaign's rectification items: the dry run, row
errors by column, one transaction, and a re-import that changes nothing.

The list is built from the seeds' wording: Jinzhou's 百日攻坚 found 1,396 problems in 560
villages (seed 000), seed 002 names them (档案填写不完整、收入漏统错统、“三上墙”不到位 …),
and Hunan's 通报 lists problems under each county's heading.
"""

import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from core.errors import Forbidden
from imports.models import ProblemRecord
from imports.problems.services import problem_list_import
from imports.services import ImportInvalid
from tasks.models import (
    Campaign,
    EventAction,
    Obligation,
    ObligationKind,
    Task,
    TaskEvent,
    TaskKind,
    TaskScope,
    TaskState,
    TaskUnit,
)
from tasks.services import sources_for_texts, task_transition

pytestmark = pytest.mark.django_db

HEADER = ["序号", "存在问题", "所在单位", "整改责任单位", "整改措施", "完成时限", "问题来源"]
# Seed 002's list of what the 回头看 found, and seed 003's 屡改屡犯 kinds.
PROBLEMS = [
    "贫困户脱贫档案填写不完整、不规范",
    "相关收入数据缺乏合理性、逻辑性",
    "村级会议记录不准确",
    "贫困户信息“三上墙”不到位",
    "贫困户收入漏统、错统",
    "贫困人口识别不够精准，未做到应纳尽纳",
    "将户口簿上已分家单过的子女算作建档立卡人口",
]
MEASURES = "逐户核查，补齐资料，乡镇审核后报县扶贫办备案"
PLACES = [("大榆树堡村", "七里河镇"), ("王家屯村", "七里河镇"), ("新立屯村", "芳山镇")]
DEADLINES = ["11月30日前", "2018年12月底", "立行立改", "10月底前"]
SOURCES = ["脱贫质量“回头看”", "抽查暗访", "中省第三方评估"]
TODAY = datetime.datetime(2018, 10, 15, 9, tzinfo=datetime.UTC)


def problem_rows(count: int) -> list[list[str]]:
    rows = []
    for n in range(count):
        village, township = PLACES[n % len(PLACES)]
        rows.append(
            [
                str(n + 1),
                f"第{n // len(PROBLEMS) + 1}组{PROBLEMS[n % len(PROBLEMS)]}",
                village,
                township,
                MEASURES,
                DEADLINES[n % len(DEADLINES)],
                SOURCES[n % len(SOURCES)],
            ]
        )
    return rows


def xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["锦州市脱贫攻坚问题排查整改清单"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, header=HEADER) -> bytes:
    lines = [",".join(header), *(",".join(f'"{cell}"' for cell in row) for row in rows)]
    return "\n".join(lines).encode()


def run(world, data, *, dry_run=False, actor="city_head", filename="问题清单.xlsx", campaign=None):
    with time_machine.travel(TODAY, tick=False):
        return problem_list_import(
            actor=world.person(actor),
            campaign=campaign or world.campaign,
            data=data,
            filename=filename,
            dry_run=dry_run,
        )


def snapshot() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Task, TaskUnit, TaskEvent, TaskScope, Obligation, ProblemRecord)
    }


def test_a_list_of_1400_problems_imports_in_one_transaction_after_a_dry_run(world):
    data = xlsx(problem_rows(1400))

    dry = run(world, data, dry_run=True)

    assert dry.errors == [] and dry.counts["created"] == 1400
    assert Task.objects.count() == 0 and ProblemRecord.objects.count() == 0

    result = run(world, data)

    assert result.counts == {"created": 1400, "updated": 0, "unchanged": 0, "headings": 0}
    items = Task.objects.filter(kind=TaskKind.RECTIFICATION)
    assert items.count() == 1400
    assert set(items.values_list("state", flat=True)) == {TaskState.ASSIGNED}
    first = items.get(number="1")
    assert first.title == "第1组贫困户脱贫档案填写不完整、不规范"
    assert (first.lead_unit.name, first.due_date) == ("七里河镇", datetime.date(2018, 11, 30))
    assert "整改措施：逐户核查" in first.description and "问题来源" not in first.description
    assert (first.source.kind, first.source.title) == ("inspection", "脱贫质量“回头看”")
    assert first.problem.location_unit.name == "大榆树堡村"
    # 立行立改: five working days from the import (Monday 15 October 2018).
    immediate = items.get(number="3")
    assert (immediate.due_date, immediate.deadline_text) == (datetime.date(2018, 10, 22), "立行立改")
    assert items.get(number="2").due_date == datetime.date(2018, 12, 31)
    # Issued at once: each owes its 签收, and the units below see it.
    assert Obligation.objects.filter(kind=ObligationKind.SIGN_FOR).count() == 1400
    assert first.next_obligation_date == datetime.date(2018, 10, 18)
    assert TaskScope.objects.filter(task=first, unit=world.unit("七里河镇")).exists()
    assert TaskScope.objects.filter(task=first, unit=world.unit("黑山县")).exists() is False
    assert list(first.events.order_by("pk").values_list("action", flat=True)) == [
        EventAction.CREATED,
        EventAction.ASSIGNED,
    ]


def test_immediate_rectification_takes_the_campaigns_working_days(world):
    """立行立改 is the campaign's setting: two working days from Monday 15 October, the 17th;
    the words are kept, and a re-import on the same terms is unchanged."""
    Campaign.objects.filter(pk=world.campaign.pk).update(immediate_working_days=2)
    world.campaign.refresh_from_db()
    rows = problem_rows(4)

    result = run(world, xlsx(rows))

    immediate = Task.objects.get(number="3")
    assert (immediate.due_date, immediate.deadline_text) == (datetime.date(2018, 10, 17), "立行立改")
    assert result.rows[2]["due_date"] == "2018-10-17"
    assert run(world, xlsx(rows), dry_run=True).counts["unchanged"] == 4


def test_importing_the_list_again_changes_nothing(world):
    data = xlsx(problem_rows(60))
    run(world, data)
    before = snapshot()

    again = run(world, csv_bytes(problem_rows(60)), filename="问题清单.csv", dry_run=False)

    assert again.errors == [] and again.counts == {"created": 0, "updated": 0, "unchanged": 60, "headings": 0}
    assert snapshot() == before


def test_a_new_problem_in_a_longer_list_is_the_only_one_created(world):
    run(world, xlsx(problem_rows(20)))
    # The same list sorted otherwise, with other spacing and a closing full stop, and one more.
    rows = problem_rows(21)[::-1]
    rows[1][1] = rows[1][1].replace("组", " 组") + "。"

    result = run(world, xlsx(rows))

    assert result.counts == {"created": 1, "updated": 0, "unchanged": 20, "headings": 0}
    assert Task.objects.count() == 21


def test_the_same_wording_in_two_places_is_two_problems(world):
    rows = [
        ["1", "贫困户信息“三上墙”不到位", "义县", "", "", "11月30日前", "抽查暗访"],
        ["2", "贫困户信息“三上墙”不到位", "黑山县", "", "", "11月30日前", "抽查暗访"],
        ["3", "贫困户信息“三上墙”不到位。", "义县", "", "", "11月30日前", "抽查暗访"],
    ]

    result = run(world, xlsx(rows), dry_run=True)

    found = [(e["row"], e["column"], e["code"]) for e in result.errors]
    assert found == [(5, "problem", "duplicate_problem")]
    assert "第 3 行" in result.errors[0]["message"]


def test_every_bad_row_is_named_with_its_column_and_nothing_is_written(world):
    rows = problem_rows(30)
    rows[4][5] = "尽快"  # no deadline one can read
    rows[9][2] = "锦州市政府办"  # no such unit
    rows[14][1] = ""  # no problem
    rows[19][5] = "2030年6月底"  # beyond the campaign's years
    rows[24][2], rows[24][3] = "", ""  # nobody to fix it
    data = xlsx(rows)

    dry = run(world, data, dry_run=True)

    found = {(e["row"], e["column"], e["code"]) for e in dry.errors}
    assert found == {
        (7, "deadline", "unrecognised_deadline"),
        (12, "location", "unknown_unit"),
        (17, "problem", "problem_missing"),
        (22, "deadline", "deadline_outside_campaign"),
        (27, "responsible_units", "unit_missing"),
    }
    labels = {e["column"]: e["column_label"] for e in dry.errors}
    assert labels == {
        "deadline": "整改时限",
        "location": "所在单位",
        "problem": "问题",
        "responsible_units": "责任单位",
    }
    messages = {e["row"]: e["message"] for e in dry.errors}
    assert "无法识别整改时限“尽快”" in messages[7]
    assert messages[17] == "问题为空。"

    with pytest.raises(ImportInvalid) as refused:
        run(world, data)

    assert "7:deadline" in refused.value.fields and "27:responsible_units" in refused.value.fields
    assert snapshot() == dict.fromkeys(snapshot(), 0)


def test_a_failure_in_the_middle_of_writing_leaves_nothing(world):
    """PostgreSQL refuses the record of the 700th problem, after the items, their unit
    links, scope rows and the first records were written: the import takes them all back."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_problem() RETURNS trigger AS $$
            BEGIN
                IF NEW.row = 701 THEN RAISE EXCEPTION 'disk full'; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_problem BEFORE INSERT ON imports_problemrecord
                FOR EACH ROW EXECUTE FUNCTION refuse_problem();
            """
        )

    with pytest.raises(Exception, match="disk full"):
        run(world, xlsx(problem_rows(1400)))

    assert snapshot() == dict.fromkeys(snapshot(), 0)


def changed_rows() -> list[list[str]]:
    """The list of ten again, restated: row 6 (十月底 → 12月15日), row 9 (七里河镇 → 义县) and
    row 4 (its 整改措施)."""
    rows = problem_rows(10)
    rows[3][5] = "12月15日前"
    rows[6][3] = "义县"
    rows[1][4] = "逐户重新核算家庭收入，入户签字确认"
    return rows


def test_a_changed_list_updates_the_items_not_yet_closed_through_the_issuers_edit(world):
    run(world, xlsx(problem_rows(10)))
    moved, reassigned, measured = (Task.objects.get(number=n) for n in ("4", "7", "2"))
    task_transition(task_id=moved.pk, actor=world.person("qilihe_head"), name="accept")
    before = snapshot()

    dry = run(world, xlsx(changed_rows()), dry_run=True)

    assert dry.errors == []
    assert dry.counts == {"created": 0, "updated": 3, "unchanged": 7, "headings": 0}
    assert {row["row"]: row["changes"] for row in dry.rows if row["action"] == "updated"} == {
        4: ["measures"],
        6: ["deadline"],
        9: ["responsible_units"],
    }
    assert snapshot() == before
    assert Task.objects.get(pk=moved.pk).due_date == datetime.date(2018, 10, 31)

    result = run(world, xlsx(changed_rows()))

    assert result.errors == [] and result.counts["updated"] == 3
    # The new 整改时限 on an item already signed for: the ladder starts again from it, the
    # original date is kept and the history says the list restated it.
    moved.refresh_from_db()
    assert (moved.due_date, moved.original_due_date, moved.state) == (
        datetime.date(2018, 12, 15),
        datetime.date(2018, 10, 31),
        TaskState.IN_PROGRESS,
    )
    event = moved.events.latest("pk")
    assert event.action == EventAction.EDITED and event.actor == world.person("city_head")
    assert event.data["restated_by"] == "problem_list"
    assert event.data["due_date"] == ["2018-10-31", "2018-12-15"]
    assert event.data["changed"] == ["deadline_text", "due_date"]
    # Another responsible unit: a reassignment, its 签收 owed by the new unit, its scope rows
    # under the county.
    reassigned.refresh_from_db()
    assert reassigned.lead_unit == world.unit("义县")
    assert reassigned.events.latest("pk").action == EventAction.REASSIGNED
    sign_for = Obligation.objects.get(task=reassigned, kind=ObligationKind.SIGN_FOR, met_at__isnull=True)
    assert sign_for.owed_by == world.unit("义县")
    assert TaskScope.objects.filter(task=reassigned, unit=world.unit("义县")).exists()
    assert not TaskScope.objects.filter(task=reassigned, unit=world.unit("七里河镇")).exists()
    # New measures: the description the item shows.
    measured.refresh_from_db()
    assert "整改措施：逐户重新核算家庭收入，入户签字确认" in measured.description
    assert measured.problem.measures == "逐户重新核算家庭收入，入户签字确认"

    # The same list again changes nothing.
    after = snapshot()
    events = TaskEvent.objects.count()
    again = run(world, xlsx(changed_rows()))
    assert again.errors == [] and again.counts == {"created": 0, "updated": 0, "unchanged": 10, "headings": 0}
    assert snapshot() == after and TaskEvent.objects.count() == events


def test_an_immediate_deadline_restated_is_dated_from_the_import(world):
    rows = problem_rows(4)
    run(world, xlsx(rows))
    rows[0][5] = "立行立改"  # was 11月30日前

    result = run(world, xlsx(rows))

    assert result.counts["updated"] == 1
    item = Task.objects.get(number="1")
    # Five working days from Monday 15 October, the words kept.
    assert (item.due_date, item.deadline_text) == (datetime.date(2018, 10, 22), "立行立改")
    # A day later the same list is still the same: 立行立改 is not dated again.
    with time_machine.travel(TODAY + datetime.timedelta(days=1), tick=False):
        again = problem_list_import(
            actor=world.person("city_head"),
            campaign=world.campaign,
            data=xlsx(rows),
            filename="x.xlsx",
            dry_run=False,
        )
    assert again.counts["unchanged"] == 4
    assert Task.objects.get(number="1").due_date == datetime.date(2018, 10, 22)


def test_a_closed_item_changed_in_the_list_is_a_row_error_and_nothing_is_written(world):
    run(world, xlsx(problem_rows(10)))
    closed = Task.objects.get(number="4")
    for username, name in [("qilihe_head", "accept"), ("qilihe_head", "submit"), ("city_head", "close")]:
        task_transition(task_id=closed.pk, actor=world.person(username), name=name, comment="已整改")
    before = snapshot()
    events = TaskEvent.objects.count()

    dry = run(world, xlsx(changed_rows()), dry_run=True)

    assert [(e["row"], e["column"], e["code"]) for e in dry.errors] == [(6, "deadline", "problem_changed")]
    assert "原为“10月底前”，现为“12月15日前”" in dry.errors[0]["message"]
    assert "已办结" in dry.errors[0]["message"]
    with pytest.raises(ImportInvalid):
        run(world, xlsx(changed_rows()))
    # All or nothing: the items not closed are not updated either.
    assert snapshot() == before and TaskEvent.objects.count() == events
    assert Task.objects.get(number="7").lead_unit == world.unit("七里河镇")


def test_a_restated_item_keeps_the_editing_rules(world):
    """The list's new 责任单位 goes through the issuer's edit: a responsible person the old
    unit named is cleared for the new unit to name its own, as after a transfer."""
    run(world, xlsx(problem_rows(10)))
    item = Task.objects.get(number="7")
    Task.objects.filter(pk=item.pk).update(responsible_person=world.person("qilihe_head"))

    run(world, xlsx(changed_rows()))

    item.refresh_from_db()
    assert (item.lead_unit, item.responsible_person) == (world.unit("义县"), None)


def test_an_issued_item_that_moved_on_is_still_the_same_problem(world):
    run(world, xlsx(problem_rows(5)))
    item = Task.objects.get(number="1")
    task_transition(task_id=item.pk, actor=world.person("qilihe_head"), name="accept")

    result = run(world, xlsx(problem_rows(5)))

    assert result.counts["unchanged"] == 5 and Task.objects.count() == 5


def test_a_unit_outside_the_importers_jurisdiction_is_a_row_error(world):
    county = Campaign.objects.create(
        name="义县百日攻坚",
        issuing_unit=world.unit("义县"),
        starts_on=datetime.date(2018, 9, 1),
        ends_on=datetime.date(2018, 12, 10),
    )
    rows = [
        ["1", "贫困户档案不规范", "大榆树堡村", "七里河镇", "", "11月30日前", "暗访"],
        ["2", "贫困户信息“三上墙”不到位", "新立屯村", "芳山镇", "", "11月30日前", "暗访"],
        ["3", "小额信贷放贷缓慢", "", "市住建委", "", "11月30日前", "暗访"],
    ]

    result = run(world, xlsx(rows), actor="yi_head", campaign=county, dry_run=True)

    assert {(e["row"], e["column"], e["code"]) for e in result.errors} == {
        (4, "location", "outside_jurisdiction"),
        (4, "responsible_units", "outside_jurisdiction"),
        (5, "responsible_units", "outside_jurisdiction"),
    }
    assert "“芳山镇”不在义县的管辖范围内，不能承担本清单的整改事项。" in [e["message"] for e in result.errors]
    with pytest.raises(ImportInvalid):
        run(world, xlsx(rows), actor="yi_head", campaign=county)
    assert Task.objects.count() == 0


def test_only_the_campaigns_issuing_unit_imports_a_problem_list(world):
    with pytest.raises(Forbidden):
        run(world, xlsx(problem_rows(3)), actor="yi_head", dry_run=True)


def test_a_list_by_county_takes_the_heading_as_the_problems_place(world):
    """Hunan's 通报 lists problems under each county: a heading row names where they are."""
    header = ["序号", "问题描述", "责任单位", "整改时限", "来源"]
    rows = [
        ["一", "义县", "", "", ""],
        ["1", "贫困户脱贫档案填写不完整", "", "11月30日前", "第三方评估"],
        ["2", "危房改造入住率低", "市住建委", "10月底前", "第三方评估"],
        ["二", "黑山县", "", "", ""],
        ["1", "贫困户脱贫档案填写不完整", "", "立行立改", "暗访"],
    ]

    result = run(world, xlsx(rows, header=header))

    assert result.errors == [] and result.counts == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "headings": 2,
    }
    leads = sorted(Task.objects.values_list("title", "lead_unit__name", "problem__location_unit__name"))
    assert leads == [
        ("危房改造入住率低", "市住建委", "义县"),
        ("贫困户脱贫档案填写不完整", "义县", "义县"),
        ("贫困户脱贫档案填写不完整", "黑山县", "黑山县"),
    ]


def _queries(world, count: int, *, dry_run: bool, campaign=None) -> int:
    data = csv_bytes(problem_rows(count))
    with CaptureQueriesContext(connection) as queries:
        run(world, data, dry_run=dry_run, filename="问题清单.csv", campaign=campaign)
    return len(queries)


def test_the_queries_of_an_import_do_not_grow_with_its_rows(world):
    other = Campaign.objects.create(
        name="问题整改", issuing_unit=world.unit("锦州市"), starts_on=TODAY.date(), ends_on=TODAY.date()
    )
    small_dry, large_dry = _queries(world, 20, dry_run=True), _queries(world, 1400, dry_run=True)
    # The lists' sources registered once, before: either import then finds them (registering
    # them is one statement more, whatever their number).
    sources_for_texts(actor=world.person("city_head"), registered_by=world.unit("锦州市"), texts=SOURCES)
    small = _queries(world, 20, dry_run=False)
    large = _queries(world, 1400, dry_run=False, campaign=other)

    assert small_dry == large_dry
    assert small == large
    assert Task.objects.filter(campaign=other).count() == 1400
