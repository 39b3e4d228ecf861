"""Ledgers (台账) as .xlsx: columns, visibility, filters, fixed queries, text kept as text.

The clock stands on Monday 8 October 2018, as in the task API tests.
"""

import datetime
import zipfile
from io import BytesIO
from urllib.parse import quote

import pytest
import time_machine
from django.utils import translation
from openpyxl import load_workbook

from notifications.services import escalation_record_manual
from tasks import ledgers
from tasks.models import TaskKind
from tasks.services import (
    extension_decide,
    extension_request_create,
    progress_report_create,
    report_schedule_set,
    task_transition,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TASKS_URL = "/api/v1/ledgers/tasks.xlsx"
RECTIFICATIONS_URL = "/api/v1/ledgers/rectifications.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Where the work came from, after each ledger's own columns; empty for a task without one.
SOURCE_HEADERS = ["来源", "来源文号", "来源文件", "来文单位", "成文日期"]
NO_SOURCE = [None] * len(SOURCE_HEADERS)
# The report periods (按期反馈) missed and met late (补报), last.
REPORT_HEADERS = ["漏报期数", "补报期数"]
NO_PERIODS = [0, 0]
TASK_HEADERS = [
    "序号",
    "任务内容",
    "牵头领导",
    "牵头单位",
    "责任单位",
    "配合单位",
    "责任人",
    "完成时限",
    "原定时限",
    "状态",
    "进展",
    "逾期天数",
    "督办级别",
    *SOURCE_HEADERS,
    *REPORT_HEADERS,
]
RECTIFICATION_HEADERS = [
    "序号",
    "问题",
    "整改责任单位",
    "责任人",
    "整改时限",
    "状态",
    "重新整改次数",
    "整改进展",
    "逾期天数",
    "销号日期",
    *SOURCE_HEADERS,
    *REPORT_HEADERS,
]
D = datetime.date


def day(*args) -> datetime.datetime:
    """A date as openpyxl reads it back from a cell."""
    return datetime.datetime(*args)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def default_language():
    yield
    # LocaleMiddleware leaves the last request's language active in the thread.
    translation.deactivate()


@pytest.fixture
def act(world):
    def act(task, username: str, name: str, comment: str = ""):
        return task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)

    return act


@pytest.fixture
def report(world):
    def report(task, username: str, text: str):
        return progress_report_create(task_id=task.pk, actor=world.person(username), text=text)

    return report


@pytest.fixture
def ledger_tasks(world, make_task, act, report) -> dict:
    """An overdue, listed housing task of 义县; a water task of 黑山县 with an extension;
    a rectification item closed once and reopened; one closed for good."""
    houses = make_task(
        "危房改造",
        number="1",
        description="完成950户危房改造任务。",
        due_date=D(2018, 9, 28),
        lead_leader=world.person("leader"),
        responsible_person=world.person("yi_member"),
        responsible_units=[world.unit("七里河镇"), world.unit("王家屯村")],
        cooperating_units=[world.unit("市住建委")],
    )
    act(houses, "yi_member", "accept")
    report(houses, "yi_member", "已开工620户。")
    report(houses, "yi_member", "已竣工800户，剩余150户在建。")
    escalation_record_manual(
        task_id=houses.pk, actor=world.person("city_supervisor"), level="listed", reason="逾期未完成"
    )

    water = make_task("饮水安全", number="2", lead_unit="黑山县", due_date=D(2018, 10, 31))
    act(water, "heishan_member", "accept")
    extension = extension_request_create(
        task_id=water.pk,
        actor=world.person("heishan_member"),
        requested_due_date=D(2018, 11, 30),
        reason="冬季施工受限",
    )
    extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=True)

    reopened = make_task(
        "村部环境脏乱差",
        number="3",
        kind=TaskKind.RECTIFICATION,
        due_date=D(2018, 10, 31),
        responsible_person=world.person("yi_member"),
        responsible_units=[world.unit("七里河镇")],
    )
    act(reopened, "yi_member", "accept")
    act(reopened, "yi_member", "submit", "已清理")
    act(reopened, "city_head", "close")
    act(reopened, "city_supervisor", "reopen", "回头看发现反弹")
    report(reopened, "yi_member", "重新组织清理，建立长效保洁机制。")

    closed = make_task("扶贫公示栏缺失", number="4", kind=TaskKind.RECTIFICATION, due_date=D(2018, 10, 15))
    act(closed, "yi_member", "accept")
    act(closed, "yi_member", "submit", "已设立")
    act(closed, "city_head", "close")
    return {"houses": houses, "water": water, "reopened": reopened, "closed": closed}


def download(api, username: str, url: str = TASKS_URL, params: dict | None = None, **extra):
    response = api.as_user(username).get(url, params or {}, **extra)
    assert response.status_code == 200, response.content
    return response


def read(response):
    return load_workbook(BytesIO(b"".join(response.streaming_content))).active


def rows(sheet) -> list[list]:
    """The data rows, below the title and the header."""
    return [list(row) for row in sheet.iter_rows(min_row=3, values_only=True)]


def by_number(sheet) -> dict[str, list]:
    return {row[0]: row for row in rows(sheet)}


def test_the_task_ledger_has_the_columns_an_office_expects(api, ledger_tasks):
    response = download(api, "city_head")
    assert response["Content-Type"] == XLSX
    sheet = read(response)
    assert sheet.title == "任务台账"
    assert sheet["A1"].value == "任务台账（截至2018年10月8日）"
    assert [cell.value for cell in sheet[2]] == TASK_HEADERS
    assert all(cell.font.b for cell in sheet[2])
    assert sheet.freeze_panes == "A3"
    assert sheet.column_dimensions["B"].width == 48

    ledger = by_number(sheet)
    assert set(ledger) == {"1", "2", "3", "4"}
    assert ledger["1"] == [
        "1",
        "危房改造\n完成950户危房改造任务。",
        "蒋副市长",
        "义县",
        "七里河镇、王家屯村",
        "市住建委",
        "周干事",
        day(2018, 9, 28),
        None,
        "办理中",
        "已竣工800户，剩余150户在建。",
        10,
        "挂牌督办",
        *NO_SOURCE,
        *NO_PERIODS,
    ]
    # The extension moved the due date; the original stays beside it.
    assert ledger["2"][7:13] == [day(2018, 11, 30), day(2018, 10, 31), "办理中", None, None, None]
    assert ledger["4"][9] == "已销号"
    assert ledger["4"][11] is None


def test_an_item_never_signed_for_is_overdue_in_the_ledger_as_its_light_is_red(api, make_task):
    # Issued Tuesday 25 September, to be signed for by Friday 28 September; due in November.
    with time_machine.travel(datetime.datetime(2018, 9, 25, 1, 0, tzinfo=datetime.UTC), tick=False):
        make_task("危房改造", number="5", due_date=D(2018, 11, 30))
    listed = api.as_user("city_head").get("/api/v1/tasks/").json()["results"]
    assert [(row["number"], row["light"], row["overdue"]) for row in listed] == [("5", "red", True)]
    (row,) = rows(read(download(api, "city_head")))
    assert (row[9], row[11]) == ("已下达", 10)


def test_the_rectification_ledger_lists_only_rectification_items(api, ledger_tasks):
    response = download(api, "city_head", RECTIFICATIONS_URL)
    sheet = read(response)
    assert sheet["A1"].value == "整改台账（截至2018年10月8日）"
    assert [cell.value for cell in sheet[2]] == RECTIFICATION_HEADERS
    ledger = by_number(sheet)
    assert set(ledger) == {"3", "4"}
    assert ledger["3"] == [
        "3",
        "村部环境脏乱差",
        "义县、七里河镇",
        "周干事",
        day(2018, 10, 31),
        "办理中",
        1,
        "重新组织清理，建立长效保洁机制。",
        None,
        None,
        *NO_SOURCE,
        *NO_PERIODS,
    ]
    assert ledger["4"][5:] == ["已销号", 0, None, None, day(2018, 10, 8), *NO_SOURCE, *NO_PERIODS]


def _weekly(world, make_task, number: str, kind: str = TaskKind.TASK):
    """Issued on Monday 3 September 2018 to 义县 with a report due every Friday, signed for."""
    with time_machine.travel(datetime.datetime(2018, 9, 3, 1, 0, tzinfo=datetime.UTC), tick=False):
        task = make_task(f"周报任务{number}", number=number, kind=kind, assign=False)
        report_schedule_set(task_id=task.pk, actor=world.person("city_head"), cadence="weekly", day=5)
        task_transition(task_id=task.pk, actor=world.person("city_head"), name="assign")
        task_transition(task_id=task.pk, actor=world.person("yi_head"), name="accept")
    return task


def _at(world, task, on: datetime.date, action: str = "report") -> None:
    moment = datetime.datetime(on.year, on.month, on.day, 1, 0, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        if action == "report":
            progress_report_create(task_id=task.pk, actor=world.person("yi_head"), text="本周进展")
        elif action == "close":
            task_transition(task_id=task.pk, actor=world.person("yi_head"), name="submit", comment="已完成")
            task_transition(task_id=task.pk, actor=world.person("city_head"), name="close")
        else:  # suspended or cancelled by the issuer
            task_transition(task_id=task.pk, actor=world.person("city_head"), name=action, comment="暂缓")


def test_the_ledgers_count_the_report_periods_missed_and_met_late(api, world, make_task):
    # Reported on Thursday 6 September (on time for the 7th), nothing for the 14th, a late
    # report (补报) on Monday the 17th for it, then nothing: the Fridays since are missed.
    behind = _weekly(world, make_task, "1")
    _at(world, behind, D(2018, 9, 6))
    _at(world, behind, D(2018, 9, 17))
    # On time every week until done: closed on Thursday 13 September; the Fridays after
    # that day were never owed, so they are not missed.
    done = _weekly(world, make_task, "2", TaskKind.RECTIFICATION)
    _at(world, done, D(2018, 9, 6))
    _at(world, done, D(2018, 9, 13), "close")
    # No schedule at all.
    make_task("无报送要求", number="3")
    # Suspended on Tuesday 18 September with the 14th missed: the clock stands still since.
    suspended = _weekly(world, make_task, "4")
    _at(world, suspended, D(2018, 9, 6))
    _at(world, suspended, D(2018, 9, 18), "suspend")
    # Cancelled on the 18th with the 14th unmet: owed by nobody, it has missed nothing.
    cancelled = _weekly(world, make_task, "5")
    _at(world, cancelled, D(2018, 9, 18), "cancel")

    client = api.as_user("city_head")
    shown = {}
    for task in (behind, done, suspended, cancelled):
        body = client.get(f"/api/v1/tasks/{task.pk}/report-schedule/").json()
        shown[task.number] = [len(body["missed"]), len(body["met_late"])]
    # 21 and 28 September and the week of the National Day holiday are missed; the 14th was met late.
    assert shown == {"1": [3, 1], "2": [0, 0], "4": [1, 0], "5": [0, 0]}

    ledger = by_number(read(download(api, "city_head")))
    assert {number: row[-2:] for number, row in ledger.items()} == {
        "1": [3, 1],
        "2": [0, 0],
        "3": [0, 0],
        "4": [1, 0],
        "5": [0, 0],
    }
    rectifications = by_number(read(download(api, "city_head", RECTIFICATIONS_URL)))
    assert {number: row[-2:] for number, row in rectifications.items()} == {"2": [0, 0]}
    # A county sees its own periods the same way.
    assert by_number(read(download(api, "yi_head")))["1"][-2:] == [3, 1]


def test_the_file_is_an_attachment_with_a_chinese_name(api, world, ledger_tasks):
    response = download(api, "city_head", params={"campaign": world.campaign.pk})
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="task-ledger-20181008.xlsx"; ')
    assert disposition.endswith("filename*=UTF-8''" + quote("百日攻坚任务台账20181008.xlsx"))
    assert int(response["Content-Length"]) > 0
    assert read(response)["A1"].value == '精准脱贫"百日攻坚行动"任务台账（截至2018年10月8日）'

    response = download(api, "city_head", RECTIFICATIONS_URL)
    assert "rectification-ledger-20181008.xlsx" in response["Content-Disposition"]
    assert quote("整改台账20181008.xlsx") in response["Content-Disposition"]


@pytest.mark.parametrize("url", [TASKS_URL, RECTIFICATIONS_URL])
def test_a_client_stating_the_workbook_type_gets_it_and_another_type_a_406(api, ledger_tasks, url):
    client = api.as_user("city_head")

    response = client.get(url, HTTP_ACCEPT=XLSX)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert_error(client.get(url, HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_a_county_ledger_holds_only_what_the_county_may_see(api, ledger_tasks):
    assert set(by_number(read(download(api, "heishan_head")))) == {"2"}
    assert set(by_number(read(download(api, "heishan_head", RECTIFICATIONS_URL)))) == set()
    assert set(by_number(read(download(api, "yi_head")))) == {"1", "3", "4"}
    assert set(by_number(read(download(api, "yi_head", RECTIFICATIONS_URL)))) == {"3", "4"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "closed"}, {"4"}),
        ({"state": ["closed", "in_progress"]}, {"1", "2", "3", "4"}),
        ({"overdue": "true"}, {"1"}),
        ({"kind": "rectification"}, {"3", "4"}),
        ({"due_before": "2018-10-20"}, {"1", "4"}),
        ({"light": "red"}, {"1"}),
        ({"unit": "七里河镇"}, {"1", "3"}),
    ],
)
def test_the_ledger_takes_the_task_list_filters(api, world, ledger_tasks, params, expected):
    if params.get("unit"):
        params = {"unit": world.unit(params["unit"]).pk}
    assert set(by_number(read(download(api, "city_head", params=params)))) == expected


def test_the_rectification_ledger_takes_the_filters_too(api, ledger_tasks):
    sheet = read(download(api, "city_head", RECTIFICATIONS_URL, {"state": "closed"}))
    assert set(by_number(sheet)) == {"4"}


def test_the_ledger_keeps_the_list_order(api, ledger_tasks):
    numbers = [row[0] for row in rows(read(download(api, "city_head")))]
    assert numbers == ["1", "4", "3", "2"]  # by due date, as the list
    numbers = [row[0] for row in rows(read(download(api, "city_head", params={"ordering": "-number"})))]
    assert numbers == ["4", "3", "2", "1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "finished"}, "state"),
        ({"due_after": "2018-13-01"}, "due_after"),
        ({"campaign": "999999"}, "campaign"),
        ({"unit": "义县"}, "unit"),
        ({"light": "blue"}, "light"),
    ],
)
@pytest.mark.parametrize("url", [TASKS_URL, RECTIFICATIONS_URL])
def test_a_bad_filter_is_a_400_in_the_error_shape(api, ledger_tasks, url, params, field):
    response = api.as_user("city_head").get(url, params)
    assert_error(response, 400, "invalid", fields={field})


@pytest.mark.parametrize("url", [TASKS_URL, RECTIFICATIONS_URL])
def test_a_ledger_needs_a_signed_in_user(api, url):
    assert_error(api.as_user(None).get(url), 401, "not_authenticated")


def test_asking_for_the_spreadsheet_type_is_not_refused(api, ledger_tasks):
    response = download(api, "city_head", HTTP_ACCEPT=XLSX)
    assert response["Content-Type"] == XLSX
    response = api.as_user("city_head").get(TASKS_URL, {"state": "finished"}, HTTP_ACCEPT=XLSX)
    assert_error(response, 400, "invalid", fields={"state"})


def test_formula_and_markup_looking_text_is_kept_as_plain_text(api, make_task, act, report):
    formula = "=cmd|' /C calc'!A0"
    task = make_task(formula, number="=1+1", description="<b>加粗</b>", due_date=D(2018, 9, 30))
    act(task, "yi_member", "accept")
    report(task, "yi_member", "+SUM(A1:A9)")
    response = download(api, "city_head")
    content = b"".join(response.streaming_content)
    sheet = load_workbook(BytesIO(content)).active

    number, text, *_ = sheet[3]
    progress = sheet.cell(row=3, column=TASK_HEADERS.index("进展") + 1)
    assert (number.value, text.value, progress.value) == ("=1+1", f"{formula}\n<b>加粗</b>", "+SUM(A1:A9)")
    for cell in (number, text, progress):
        assert cell.data_type == "s"
        assert cell.quotePrefix
    with zipfile.ZipFile(BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml
    assert b"&lt;b&gt;" in xml


def test_characters_a_workbook_cannot_hold_are_dropped(api, make_task):
    make_task("危房\x0b改造\x1f", number="1")
    sheet = read(download(api, "city_head"))
    assert sheet["B3"].value == "危房改造"


def _tasks(world, make_task, count: int, kind: str = TaskKind.TASK) -> None:
    for n in range(count):
        task = make_task(
            f"第{n}项攻坚任务",
            number=str(n),
            kind=kind,
            lead_leader=world.person("leader"),
            responsible_person=world.person("yi_member"),
            responsible_units=[world.unit("七里河镇"), world.unit("王家屯村")],
            cooperating_units=[world.unit("市住建委")],
        )
        task_transition(task_id=task.pk, actor=world.person("yi_member"), name="accept")
        progress_report_create(task_id=task.pk, actor=world.person("yi_member"), text=f"第{n}项进展")


@pytest.mark.parametrize(
    ("url", "kind"), [(TASKS_URL, TaskKind.TASK), (RECTIFICATIONS_URL, TaskKind.RECTIFICATION)]
)
def test_a_ledger_costs_the_same_queries_for_3_tasks_or_30(
    api, world, make_task, url, kind, django_assert_num_queries
):
    # Memberships, the tasks with their latest reports and rungs, units of the tasks.
    _tasks(world, make_task, 3, kind)
    client = api.as_user("yi_head")
    with django_assert_num_queries(3):
        first = client.get(url)
    _tasks(world, make_task, 27, kind)
    client = api.as_user("yi_head")
    with django_assert_num_queries(3):
        second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert (len(rows(read(first))), len(rows(read(second)))) == (3, 30)


def test_a_large_ledger_costs_a_fixed_number_of_queries_per_chunk(
    api, world, make_task, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(ledgers, "CHUNK_SIZE", 10)
    # Small enough that the finished file moves from memory to disk.
    monkeypatch.setattr(ledgers, "SPOOL_BYTES", 1024)
    _tasks(world, make_task, 25)
    client = api.as_user("yi_head")
    # Memberships and the tasks, then the units of each chunk of ten.
    with django_assert_num_queries(2 + 3):
        response = client.get(TASKS_URL)
    ledger = rows(read(response))
    assert len(ledger) == 25
    assert all(row[4] == "七里河镇、王家屯村" for row in ledger)
    assert {row[10] for row in ledger} == {f"第{n}项进展" for n in range(25)}
