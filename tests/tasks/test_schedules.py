"""Report schedules (按期反馈): the periods' dates under the holiday calendar, which report
meets which period, and the API that sets a schedule.

"各牵头单位要于每月28日前将各项工作任务进展情况报送" (a published city plan): 2018 is the year
checked, with its holidays and the weekends worked in their place (调休) as the State
Council published them: 28 April (a Saturday) and 30 September (a Sunday) were worked; 30
April and 31 December (Mondays) were not.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from tasks import lateness
from tasks.models import (
    Obligation,
    ObligationKind,
    ReportCadence,
    ReportSchedule,
    Task,
    TaskEvent,
    TaskScope,
)
from tasks.schedules import due_dates, met_late_q
from tasks.services import (
    ChildSpec,
    extension_decide,
    extension_request_create,
    progress_report_create,
    report_schedule_set,
    task_create,
    task_decompose,
    task_transition,
)

from ..helpers import assert_error

pytestmark = pytest.mark.django_db

D = datetime.date
YEAR_2018 = (D(2017, 12, 31), D(2018, 12, 31))


def at_nine(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(1, 0), tzinfo=datetime.UTC)  # 09:00 in Shanghai


def dates(cadence: str, day: int | None, after: datetime.date, until: datetime.date) -> list[str]:
    return [d.isoformat() for d in due_dates(ReportSchedule(cadence=cadence, day=day), after, until)]


def test_every_month_by_the_28th_over_2018_moves_back_off_weekends_and_holidays():
    assert dates(ReportCadence.MONTHLY, 28, *YEAR_2018) == [
        "2018-01-26",  # the 28th a Sunday: the Friday before
        "2018-02-28",
        "2018-03-28",
        "2018-04-28",  # a Saturday worked in lieu of the May Day holiday (调休): kept
        "2018-05-28",
        "2018-06-28",
        "2018-07-27",  # Saturday → Friday
        "2018-08-28",
        "2018-09-28",
        "2018-10-26",  # Sunday → Friday
        "2018-11-28",
        "2018-12-28",
    ]


def test_a_day_beyond_a_short_month_is_its_last_day_then_the_working_day_before():
    assert dates(ReportCadence.MONTHLY, 31, *YEAR_2018) == [
        "2018-01-31",
        "2018-02-28",  # 28 days
        "2018-03-30",  # Saturday 31 → Friday
        "2018-04-28",  # 30 April a holiday, 29 April a Sunday off, 28 April worked (调休)
        "2018-05-31",
        "2018-06-29",
        "2018-07-31",
        "2018-08-31",
        "2018-09-30",  # a Sunday worked before National Day
        "2018-10-31",
        "2018-11-30",
        "2018-12-29",  # 31 December a holiday, 29 December a Saturday worked
    ]


def test_quarterly_at_the_quarters_end_or_on_a_day_of_its_last_month():
    assert dates(ReportCadence.QUARTERLY, None, *YEAR_2018) == [
        "2018-03-30",
        "2018-06-29",
        "2018-09-30",
        "2018-12-29",
    ]
    assert dates(ReportCadence.QUARTERLY, 20, *YEAR_2018) == [
        "2018-03-20",
        "2018-06-20",
        "2018-09-20",
        "2018-12-20",
    ]


def test_weekly_on_friday_moves_into_the_week_when_friday_is_a_holiday():
    # 16 February 2018 fell in the Spring Festival holiday (15–21 February).
    assert dates(ReportCadence.WEEKLY, 5, D(2018, 2, 2), D(2018, 3, 2)) == [
        "2018-02-09",
        "2018-02-14",
        "2018-02-23",
        "2018-03-02",
    ]


def test_a_day_the_office_entered_as_a_holiday_moves_the_date_too():
    from tasks.models import CalendarDay, CalendarDayKind

    CalendarDay.objects.create(date=D(2018, 11, 28), kind=CalendarDayKind.HOLIDAY, name="测试")
    assert dates(ReportCadence.MONTHLY, 28, D(2018, 11, 1), D(2018, 11, 30)) == ["2018-11-27"]


# Periods owed and met


@pytest.fixture
def monthly_task(world) -> Task:
    """Issued by 锦州市 to 义县 in a draft, a monthly report by the 28th set, assigned on
    1 October 2018 and signed for; due 10 December, the campaign's end."""
    with time_machine.travel(at_nine(D(2018, 10, 1)), tick=False):
        task = task_create(
            actor=world.person("city_head"),
            campaign=world.campaign,
            title="农村危房改造进展报送",
            issuing_unit=world.unit("锦州市"),
            lead_unit=world.unit("义县"),
            due_date=D(2018, 12, 10),
        )
        report_schedule_set(task_id=task.pk, actor=world.person("city_head"), cadence="monthly", day=28)
        assert not Obligation.objects.filter(task=task, kind=ObligationKind.REPORT).exists()
        task_transition(task_id=task.pk, actor=world.person("city_head"), name="assign")
        return task_transition(task_id=task.pk, actor=world.person("yi_head"), name="accept")


def report(world, task: Task, day: datetime.date) -> None:
    with time_machine.travel(at_nine(day), tick=False):
        progress_report_create(task_id=task.pk, actor=world.person("yi_head"), text="已完成危房改造 950 户")


def periods(task: Task) -> list[tuple[str, bool]]:
    rows = Obligation.objects.filter(task=task, kind=ObligationKind.REPORT).order_by("due_date")
    return [(row.due_date.isoformat(), row.met_at is not None) for row in rows]


def test_assigning_writes_each_period_up_to_the_due_date(monthly_task):
    assert periods(monthly_task) == [("2018-10-26", False), ("2018-11-28", False)]
    labels = set(Obligation.objects.filter(task=monthly_task, kind="report").values_list("label", flat=True))
    assert labels == {"月度进展报送"}
    monthly_task.refresh_from_db()
    assert monthly_task.next_warned_date == D(2018, 10, 26)


# The period a report meets is found by hand-written SQL: run on SQLite too.
@pytest.mark.sqlite
def test_a_report_on_the_29th_meets_the_missed_period_late_and_leaves_the_next_owed(world, monthly_task):
    # Nothing reported by 26 October: the period is missed, the task red from the 27th.
    monthly_task.refresh_from_db()
    assert lateness.is_overdue(monthly_task, D(2018, 10, 29))
    report(world, monthly_task, D(2018, 10, 29))  # a late report (补报) for October
    assert periods(monthly_task) == [("2018-10-26", True), ("2018-11-28", False)]
    monthly_task.refresh_from_db()
    # No longer chased: the next thing owed is November's report, not yet due.
    assert monthly_task.next_obligation_date == D(2018, 11, 28)
    assert not lateness.is_overdue(monthly_task, D(2018, 10, 29))
    assert not Task.objects.filter(lateness.overdue_q(D(2018, 10, 29)), pk=monthly_task.pk).exists()
    # The fact that it was late is kept: met on the 29th, due on the 26th.
    late = Obligation.objects.filter(met_late_q(), task=monthly_task)
    assert list(late.values_list("due_date", flat=True)) == [D(2018, 10, 26)]
    report(world, monthly_task, D(2018, 11, 28))  # on time for November
    assert periods(monthly_task) == [("2018-10-26", True), ("2018-11-28", True)]
    report(world, monthly_task, D(2018, 11, 28))  # the same period again: nothing more
    assert Obligation.objects.filter(met_late_q(), task=monthly_task).count() == 1
    monthly_task.refresh_from_db()
    assert monthly_task.next_obligation_date is None


# The period a report meets is found by hand-written SQL: run on SQLite too.
@pytest.mark.sqlite
def test_late_reports_meet_the_missed_periods_earliest_first(world, monthly_task):
    # Weekly from 1 October: by 20 October two Fridays passed without a report.
    with time_machine.travel(at_nine(D(2018, 10, 1)), tick=False):
        report_schedule_set(task_id=monthly_task.pk, actor=world.person("city_head"), cadence="weekly", day=5)
    assert periods(monthly_task)[:3] == [("2018-10-12", False), ("2018-10-19", False), ("2018-10-26", False)]
    report(world, monthly_task, D(2018, 10, 22))
    assert periods(monthly_task)[:3] == [("2018-10-12", True), ("2018-10-19", False), ("2018-10-26", False)]
    report(world, monthly_task, D(2018, 10, 23))
    assert periods(monthly_task)[:3] == [("2018-10-12", True), ("2018-10-19", True), ("2018-10-26", False)]
    report(world, monthly_task, D(2018, 10, 24))  # nothing missed left: this week's period
    assert periods(monthly_task)[:3] == [("2018-10-12", True), ("2018-10-19", True), ("2018-10-26", True)]
    late = Obligation.objects.filter(met_late_q(), task=monthly_task).order_by("due_date")
    assert list(late.values_list("due_date", flat=True)) == [D(2018, 10, 12), D(2018, 10, 19)]


# The period a report meets is found by hand-written SQL: run on SQLite too.
@pytest.mark.sqlite
def test_a_report_on_the_due_day_itself_meets_the_period(world):
    with time_machine.travel(at_nine(D(2018, 10, 1)), tick=False):
        task = task_create(
            actor=world.person("city_head"),
            campaign=world.campaign,
            title="产业项目进展",
            issuing_unit=world.unit("锦州市"),
            lead_unit=world.unit("义县"),
            due_date=D(2018, 12, 10),
            assign=True,
        )
        task_transition(task_id=task.pk, actor=world.person("yi_head"), name="accept")
        # Set on an open task: the periods after today are written at once.
        report_schedule_set(task_id=task.pk, actor=world.person("city_head"), cadence="monthly", day=28)
    # 26 October 2018, a Friday, at 23:30 in Beijing (15:30 UTC): still the 26th.
    with time_machine.travel(datetime.datetime(2018, 10, 26, 15, 30, tzinfo=datetime.UTC), tick=False):
        progress_report_create(task_id=task.pk, actor=world.person("yi_head"), text="十月进展")
    assert periods(task) == [("2018-10-26", True), ("2018-11-28", False)]
    assert not Obligation.objects.filter(met_late_q(), task=task).exists()  # on time
    # The 27th already on Kiritimati's clock (UTC+14): the office's day is what counts.
    with timezone.override(ZoneInfo("Pacific/Kiritimati")):
        assert not Obligation.objects.filter(met_late_q(), task=task).exists()
    task.refresh_from_db()
    assert task.next_obligation_date == D(2018, 11, 28)
    history = TaskEvent.objects.filter(task=task, action="edited").get()
    assert history.data == {"report_schedule": ["", "每月28日前"]}


def test_replacing_the_schedule_keeps_missed_periods_and_rewrites_the_rest(world, monthly_task):
    with time_machine.travel(at_nine(D(2018, 11, 5)), tick=False):
        report_schedule_set(
            task_id=monthly_task.pk,
            actor=world.person("city_head"),
            cadence="weekly",
            day=5,
            wording="每周五",
        )
    due = periods(monthly_task)
    assert due[0] == ("2018-10-26", False)  # missed before the change: still owed
    assert due[1:] == [
        ("2018-11-09", False),
        ("2018-11-16", False),
        ("2018-11-23", False),
        ("2018-11-30", False),
        ("2018-12-07", False),
    ]
    assert ReportSchedule.objects.get(task=monthly_task).wording == "每周五"


def extend(world, task: Task, day: datetime.date, until: datetime.date) -> None:
    with time_machine.travel(at_nine(day), tick=False):
        extension = extension_request_create(
            task_id=task.pk, actor=world.person("yi_head"), requested_due_date=until, reason="资金晚到"
        )
        extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=True)


def test_an_extension_adds_the_periods_up_to_the_new_due_date(world, monthly_task):
    extend(world, monthly_task, D(2018, 11, 2), D(2019, 1, 31))
    assert periods(monthly_task) == [
        ("2018-10-26", False),  # missed before the extension: still owed
        ("2018-11-28", False),
        ("2018-12-28", False),
        ("2019-01-28", False),
    ]
    monthly_task.refresh_from_db()
    assert monthly_task.due_date == D(2019, 1, 31)
    assert monthly_task.next_warned_date == D(2018, 10, 26)
    # A second extension continues the series, never writing a period twice.
    extend(world, monthly_task, D(2018, 11, 5), D(2019, 3, 1))
    assert [day for day, _met in periods(monthly_task)][3:] == ["2019-01-28", "2019-02-28"]


def test_an_extension_after_a_suspension_continues_the_moved_series(world, monthly_task):
    with time_machine.travel(at_nine(D(2018, 10, 29)), tick=False):
        task_transition(
            task_id=monthly_task.pk, actor=world.person("city_head"), name="suspend", comment="汛期"
        )
    with time_machine.travel(at_nine(D(2018, 11, 5)), tick=False):
        task_transition(task_id=monthly_task.pk, actor=world.person("city_head"), name="resume")
    # Five working days suspended (30 October to 5 November): every unmet date moved by them.
    assert periods(monthly_task) == [("2018-11-02", False), ("2018-12-05", False)]
    monthly_task.refresh_from_db()
    assert monthly_task.due_date == D(2018, 12, 17)
    extend(world, monthly_task, D(2018, 11, 6), D(2019, 1, 31))
    # 28 December moved by the same five working days (29 December worked, New Year off) is
    # 7 January; 28 January so moved is 4 February, after the new date: not owed.
    assert periods(monthly_task) == [("2018-11-02", False), ("2018-12-05", False), ("2019-01-07", False)]
    keys = Obligation.objects.filter(task=monthly_task, kind="report").order_by("due_date")
    assert list(keys.values_list("key", flat=True)) == ["2018-10-26", "2018-11-28", "2018-12-28"]


def test_an_extension_costs_the_same_queries_however_many_periods_it_adds(world, make_task):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for until in (D(2018, 12, 20), D(2019, 6, 30)):
        with time_machine.travel(at_nine(D(2018, 10, 1)), tick=False):
            task = make_task("周报任务", due_date=D(2018, 12, 10))
            report_schedule_set(task_id=task.pk, actor=world.person("city_head"), cadence="weekly", day=5)
            extension = extension_request_create(
                task_id=task.pk, actor=world.person("yi_head"), requested_due_date=until, reason="资金晚到"
            )
            with CaptureQueriesContext(connection) as queries:
                extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=True)
        counts.append(len(queries))
        assert Obligation.objects.filter(task=task, kind="report", due_date__gt=D(2018, 12, 10)).count() > 0
    assert counts[0] == counts[1]


def test_split_pieces_report_on_a_copy_of_the_schedule_unless_told_not_to(world, monthly_task):
    with time_machine.travel(at_nine(D(2018, 11, 1)), tick=False):
        town, village = task_decompose(
            task_id=monthly_task.pk,
            actor=world.person("yi_head"),
            children=[
                ChildSpec(
                    title="七里河镇危房改造", lead_unit=world.unit("七里河镇"), due_date=D(2018, 12, 5)
                ),
                ChildSpec(
                    title="大榆树堡村危房改造",
                    lead_unit=world.unit("大榆树堡村"),
                    due_date=D(2018, 12, 5),
                    inherit_report_schedule=False,
                ),
            ],
        )
    copy = ReportSchedule.objects.get(task=town)
    assert (copy.cadence, copy.day) == (ReportCadence.MONTHLY, 28)
    # Its own periods, from its issue to its own due date, owed by its own lead unit.
    rows = Obligation.objects.filter(task=town, kind=ObligationKind.REPORT)
    assert list(rows.values_list("due_date", "owed_by__name", "label")) == [
        (D(2018, 11, 28), "七里河镇", "月度进展报送")
    ]
    town.refresh_from_db()
    assert town.next_warned_date == D(2018, 11, 28)
    assert not ReportSchedule.objects.filter(task=village).exists()
    assert not Obligation.objects.filter(task=village, kind=ObligationKind.REPORT).exists()
    # The parent keeps its own.
    assert periods(monthly_task) == [("2018-10-26", False), ("2018-11-28", False)]
    # A report of the piece meets the piece's period, not the whole's.
    with time_machine.travel(at_nine(D(2018, 11, 2)), tick=False):
        task_transition(task_id=town.pk, actor=world.person("qilihe_head"), name="accept")
        progress_report_create(task_id=town.pk, actor=world.person("qilihe_head"), text="已完成 120 户")
    assert periods(town) == [("2018-11-28", True)]
    assert periods(monthly_task) == [("2018-10-26", False), ("2018-11-28", False)]


def test_a_split_through_the_api_may_leave_the_schedule_behind(api, world, monthly_task):
    child = {"title": "七里河镇危房改造", "lead_unit": world.unit("七里河镇").pk, "due_date": "2018-12-05"}
    with time_machine.travel(at_nine(D(2018, 11, 1)), tick=False):
        response = api.as_user("yi_head").post(
            f"/api/v1/tasks/{monthly_task.pk}/decompose/",
            {"children": [child, {**child, "inherit_report_schedule": False}]},
            format="json",
        )
    assert response.status_code == 201, response.content
    inheriting, alone = (item["id"] for item in response.json())
    assert ReportSchedule.objects.filter(task_id__in=[inheriting, alone]).count() == 1
    assert ReportSchedule.objects.filter(task_id=inheriting).exists()


@pytest.fixture
def ongoing_task(api, world) -> Task:
    """长期坚持 work of 义县 created through the API on 1 October 2018, reporting by the 28th
    of every month, signed for."""
    payload = {
        "title": "扶贫领域作风建设",
        "issuing_unit": world.unit("锦州市").pk,
        "lead_unit": world.unit("义县").pk,
        "ongoing": True,
        "campaign": world.campaign.pk,
    }
    with time_machine.travel(at_nine(D(2018, 10, 1)), tick=False):
        response = api.as_user("city_head").post("/api/v1/tasks/", payload, format="json")
        assert response.status_code == 201, response.content
        task_id = response.json()["id"]
        report_schedule_set(task_id=task_id, actor=world.person("city_head"), cadence="monthly", day=28)
        task_transition(task_id=task_id, actor=world.person("city_head"), name="assign")
        return task_transition(task_id=task_id, actor=world.person("yi_head"), name="accept")


def test_the_pieces_of_ongoing_work_are_ongoing_unless_the_split_says_otherwise(api, world, ongoing_task):
    assert (ongoing_task.ongoing, ongoing_task.due_date) == (True, D(2018, 12, 10))
    town = {"title": "七里河镇作风建设", "lead_unit": world.unit("七里河镇").pk}
    village = {"title": "大榆树堡村作风建设", "lead_unit": world.unit("大榆树堡村").pk}
    children = [
        town,  # no date: ongoing, as the whole
        {**village, "due_date": "2018-12-10"},  # the whole's date, as the task page fills it in
        {**town, "title": "七里河镇专项整治", "ongoing": False, "due_date": "2018-11-20"},
    ]
    with time_machine.travel(at_nine(D(2018, 11, 1)), tick=False):
        response = api.as_user("yi_head").post(
            f"/api/v1/tasks/{ongoing_task.pk}/decompose/", {"children": children}, format="json"
        )
    assert response.status_code == 201, response.content
    assert [(item["ongoing"], item["due_date"]) for item in response.json()] == [
        (True, "2018-12-10"),
        (True, "2018-12-10"),
        (False, "2018-11-20"),
    ]
    ongoing, dated, final = (Task.objects.get(pk=item["id"]) for item in response.json())
    assert ongoing.original_due_date == D(2018, 12, 10)
    # The lists read the copy of the task in its scope rows.
    assert set(TaskScope.objects.filter(task=ongoing).values_list("ongoing", flat=True)) == {True}
    assert set(TaskScope.objects.filter(task=final).values_list("ongoing", flat=True)) == {False}
    # Ongoing pieces report to the campaign's end on the copied schedule; the dated one to its date.
    assert periods(ongoing) == periods(dated) == [("2018-11-28", False)]
    assert periods(final) == []
    # Never overdue by the date they hold, only by what they owe.
    late = D(2018, 12, 20)
    assert not lateness.work_overdue(ongoing, late) and lateness.work_overdue(final, late)
    listed = api.as_user("yi_head").get("/api/v1/tasks/", {"parent": ongoing_task.pk}).json()["results"]
    assert sorted(item["ongoing"] for item in listed) == [False, True, True]


@pytest.mark.parametrize(
    ("ongoing", "child", "message"),
    [
        # A piece of ongoing work given an earlier date without saying it is not ongoing.
        (True, {"due_date": "2018-11-20"}, "长期坚持的子任务不设完成时限"),
        (True, {"ongoing": True, "due_date": "2018-11-20"}, "长期坚持的子任务不设完成时限"),
        (True, {"ongoing": False}, "请填写完成时限"),
        (False, {}, "请填写完成时限"),
        (False, {"ongoing": True}, "上级任务有完成时限"),
    ],
)
def test_a_split_that_mistakes_ongoing_work_is_refused_and_changes_nothing(
    api, world, make_task, ongoing_task, ongoing, child, message
):
    task = ongoing_task
    if not ongoing:
        task = make_task("农村危房改造", due_date=D(2018, 12, 5))
        task_transition(task_id=task.pk, actor=world.person("yi_head"), name="accept")
    before = (Task.objects.count(), TaskEvent.objects.count(), Obligation.objects.count())
    piece = {"title": "七里河镇作风建设", "lead_unit": world.unit("七里河镇").pk, **child}
    response = api.as_user("yi_head").post(
        f"/api/v1/tasks/{task.pk}/decompose/", {"children": [piece]}, format="json"
    )
    body = assert_error(response, 400, "invalid_decomposition", fields={"children"})
    assert message in body["fields"]["children"]["0"][0]
    assert (Task.objects.count(), TaskEvent.objects.count(), Obligation.objects.count()) == before


def test_ongoing_work_is_never_overdue_by_its_date_only_by_its_reports(world):
    with time_machine.travel(at_nine(D(2018, 10, 1)), tick=False):
        task = task_create(
            actor=world.person("city_head"),
            campaign=world.campaign,
            title="扶贫领域作风建设",
            issuing_unit=world.unit("锦州市"),
            lead_unit=world.unit("义县"),
            due_date=D(2018, 12, 10),
            assign=True,
        )
    with time_machine.travel(at_nine(D(2018, 10, 2)), tick=False):
        task = task_transition(task_id=task.pk, actor=world.person("yi_head"), name="accept")
    Task.objects.filter(pk=task.pk).update(ongoing=True)
    task.refresh_from_db()
    late = D(2018, 12, 20)
    assert not lateness.is_overdue(task, late) and not lateness.work_overdue(task, late)
    assert not Task.objects.filter(lateness.overdue_q(late), pk=task.pk).exists()
    # A missed report is what makes it red.
    Obligation.objects.create(
        task=task,
        kind=ObligationKind.REPORT,
        key="2018-11-28",
        owed_by=task.lead_unit,
        due_date=D(2018, 11, 28),
    )
    Task.objects.filter(pk=task.pk).update(next_obligation_date=D(2018, 11, 28))
    task.refresh_from_db()
    assert lateness.is_overdue(task, late)
    assert Task.objects.filter(lateness.overdue_q(late), pk=task.pk).exists()


# API


def test_the_issuer_sets_and_reads_a_schedule(api, world, make_task, django_assert_num_queries):
    task = make_task("农村危房改造")
    api.as_user("city_head")
    with time_machine.travel(at_nine(D(2018, 10, 1)), tick=False):
        response = api.put(
            f"/api/v1/tasks/{task.pk}/report-schedule/",
            {"cadence": "quarterly", "day": 20, "wording": "每季度最后一个月20日前"},
            format="json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["wording"] == "每季度最后一个月20日前"
        assert body["label"] == "季度进展报送"
        assert body["next_due_date"] == "2018-12-20" or body["next_due_date"] is None
        # Memberships, the visible task, the schedule, its periods.
        with django_assert_num_queries(4):
            response = api.get(f"/api/v1/tasks/{task.pk}/report-schedule/")
    assert response.json()["cadence"] == "quarterly"
    assert response.json()["missed"] == []


def test_the_next_report_date_and_missed_periods_are_read(api, world, monthly_task):
    api.as_user("yi_head")
    with time_machine.travel(at_nine(D(2018, 11, 1)), tick=False):
        body = api.get(f"/api/v1/tasks/{monthly_task.pk}/report-schedule/").json()
    assert body["wording"] == "每月28日前"
    assert body["next_due_date"] == "2018-11-28"
    assert body["missed"] == ["2018-10-26"]
    assert body["met_late"] == []
    report(world, monthly_task, D(2018, 11, 2))
    with time_machine.travel(at_nine(D(2018, 11, 2)), tick=False):
        body = api.get(f"/api/v1/tasks/{monthly_task.pk}/report-schedule/").json()
    assert (body["missed"], body["met_late"]) == ([], ["2018-10-26"])


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"cadence": "monthly"}, "invalid_report_day", "day"),
        ({"cadence": "monthly", "day": 32}, "invalid", "day"),
        ({"cadence": "weekly", "day": 0}, "invalid_report_day", "day"),
        ({"cadence": "once"}, "required", "once_on"),
        ({"cadence": "once", "once_on": "2030-01-01"}, "due_date_outside_campaign", "once_on"),
        ({"cadence": "daily", "day": 1}, "invalid", "cadence"),
    ],
)
def test_a_bad_schedule_is_refused_and_nothing_changes(api, make_task, payload, code, field):
    task = make_task("农村危房改造")
    response = api.as_user("city_head").put(
        f"/api/v1/tasks/{task.pk}/report-schedule/", payload, format="json"
    )
    body = assert_error(response, 400, code, fields={field})
    assert body["fields"][field]
    assert not ReportSchedule.objects.filter(task=task).exists()


def test_only_the_issuing_side_within_its_jurisdiction_may_set_it(api, make_task):
    task = make_task("农村危房改造")
    payload = {"cadence": "monthly", "day": 28}
    # The lead unit sees the task but may not set its schedule.
    assert_error(
        api.as_user("yi_head").put(f"/api/v1/tasks/{task.pk}/report-schedule/", payload),
        403,
        "permission_denied",
    )
    # A county outside the task's units does not see it at all.
    response = api.as_user("heishan_head").put(f"/api/v1/tasks/{task.pk}/report-schedule/", payload)
    assert response.status_code == 404
    assert api.as_user("heishan_head").get(f"/api/v1/tasks/{task.pk}/report-schedule/").status_code == 404
    assert not ReportSchedule.objects.filter(task=task).exists()


def test_removing_a_schedule_ends_the_periods_not_yet_due(api, world, monthly_task):
    api.as_user("city_head")
    with time_machine.travel(at_nine(D(2018, 11, 1)), tick=False):
        assert api.delete(f"/api/v1/tasks/{monthly_task.pk}/report-schedule/").status_code == 204
    assert periods(monthly_task) == [("2018-10-26", False)]
    assert not ReportSchedule.objects.filter(task=monthly_task).exists()
