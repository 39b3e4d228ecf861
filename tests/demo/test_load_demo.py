"""The demo loader: Jinzhou's 100-day campaign, built through the services around today."""

from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from bulletins.models import Notice, NoticeUrgency
from demo.data import DEMO_PASSWORD
from notifications.ladder import DEFAULT_SMS_LEVELS
from notifications.models import Escalation, EscalationRule
from responsibility.models import ApiToken, Membership, Role, Unit, UnitKind, User
from tasks.lateness import light_q, today
from tasks.models import (
    Campaign,
    EventAction,
    ExtensionRequest,
    ExtensionState,
    Indicator,
    Obligation,
    ObligationKind,
    RecheckResult,
    Responsibility,
    Task,
    TaskEvent,
    TaskKind,
    TaskState,
)
from tasks.workdays import plan_backwards

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

# About 2,700 today (each transition opens or meets its obligations in a fixed few
# queries; issuing reads the task's report schedule, a report meets its period, a closed
# rectification item opens its re-check): the bound catches a query per row creeping into a
# service.
MAX_LOAD_QUERIES = 2900


def load(*options: str) -> str:
    out = StringIO()
    call_command("load_demo", *options, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo() -> str:
    return load("--force")


def test_the_tree_has_every_level_and_office(demo):
    kinds = Counter(Unit.objects.values_list("kind", flat=True))
    assert kinds == {
        UnitKind.CITY: 1,
        UnitKind.LEADING_GROUP: 1,
        UnitKind.SUPERVISION_OFFICE: 5,
        UnitKind.DEPARTMENT: 11,
        UnitKind.COUNTY: 4,
        UnitKind.TOWNSHIP: 10,
        UnitKind.VILLAGE: 22,
    }
    for county in Unit.objects.filter(kind=UnitKind.COUNTY):
        children = Counter(county.children.values_list("kind", flat=True))
        assert children[UnitKind.SUPERVISION_OFFICE] == 1
        assert 2 <= children[UnitKind.TOWNSHIP] <= 3
    for township in Unit.objects.filter(kind=UnitKind.TOWNSHIP):
        assert 2 <= township.children.count() <= 3
    housing = Unit.objects.get(name="市住建委")
    assert {"市住建局", "住建委"} <= set(housing.aliases)
    assert Unit.objects.get(name="市委督查室").email


def test_everybody_can_log_in_with_the_demo_password_and_token(demo):
    assert User.objects.count() == 79
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert ApiToken.objects.count() == User.objects.count()
    assert User.objects.filter(is_superuser=True).count() == 1
    for user in User.objects.all():
        assert user.username in demo
        assert user.api_token.key in demo
    assert DEMO_PASSWORD in demo

    answer = APIClient().post("/api/v1/auth/token/", {"username": "yi_staff", "password": DEMO_PASSWORD})
    assert answer.status_code == 200
    assert answer.json()["token"] == ApiToken.objects.get(user__username="yi_staff").key


def test_the_campaign_runs_around_today_with_its_eight_responsibilities(demo):
    campaign = Campaign.objects.get()
    assert campaign.starts_on < today() < campaign.ends_on
    assert Responsibility.objects.filter(campaign=campaign).count() == 8
    assert Task.objects.count() == 34
    assert not Task.objects.filter(responsibility__isnull=True).exists()
    # Everything went through the services: every task has its history from the start.
    assert TaskEvent.objects.filter(action=EventAction.CREATED).count() == Task.objects.count()


def test_the_lists_show_every_light(demo):
    campaign = Campaign.objects.get()
    on = today()
    for light in ("red", "yellow", "green"):
        assert Task.objects.filter(light_q(light, on, campaign.yellow_working_days)).exists(), light


def test_a_missed_monthly_report_is_chased_and_a_weekly_one_is_owed_this_week(demo):
    from notifications.models import Escalation
    from outbox.models import OutboundMessage
    from tasks.models import Obligation, ObligationKind

    monthly = Task.objects.get(number="13")
    assert monthly.ongoing
    missed = Obligation.objects.get(task=monthly, kind=ObligationKind.REPORT, due_date__lt=today())
    assert missed.met_at is None and missed.label == "月度进展报送"
    assert Escalation.objects.filter(obligation=missed, level="overdue").exists()
    assert OutboundMessage.objects.filter(body_text__contains="月度进展报送（应于").exists()
    weekly = Task.objects.get(number="14")
    owed = Obligation.objects.filter(task=weekly, kind=ObligationKind.REPORT, met_at__isnull=True)
    assert owed.order_by("due_date").first().due_date >= today()


def test_the_housing_target_rolls_up_from_townships_and_villages(demo):
    city = Indicator.objects.get(task__number="1")
    assert city.target == 1888
    assert sorted(city.children.values_list("target", flat=True)) == [938, 950]
    split = Indicator.objects.filter(children__isnull=False).distinct()
    assert split.count() == 4  # the city, two counties and one township
    for indicator in split:
        total = indicator.children.aggregate(total=Sum("current_value"))["total"]
        assert indicator.current_value == total, indicator.task
    assert 0 < city.current_value < city.target
    assert Task.objects.filter(parent__parent__parent=city.task).exists()  # down to villages


def test_the_exit_indicators_are_all_veto_indicators(demo):
    task = Task.objects.get(number="2")
    assert task.kind == TaskKind.TARGET
    indicators = list(task.indicators.all())
    assert len(indicators) == 6
    assert all(indicator.veto for indicator in indicators)
    assert not all(indicator.is_met for indicator in indicators)


def test_the_exit_procedure_is_planned_backwards(demo):
    task = Task.objects.get(number="3")
    steps = list(task.steps.order_by("order"))
    assert [step.name for step in steps][:3] == ["入户核查", "民主评议", "两公示一公告"]
    assert [step.due_date for step in steps] == plan_backwards(task.due_date, [10, 5, 10, 3])
    assert task.children.count() == 4
    assert Task.objects.filter(parent=task, steps__done_at__isnull=False).exists()


def test_rectification_items_include_a_recurrence(demo):
    items = Task.objects.filter(kind=TaskKind.RECTIFICATION)
    assert items.filter(state=TaskState.CLOSED).exists()
    reopened = items.filter(reopen_count__gte=1)
    assert {task.number for task in reopened} == {"Z2", "Z6"}
    for task in reopened:
        assert task.state == TaskState.IN_PROGRESS
        assert task.events.filter(action=EventAction.REOPENED).exists()
    # 回头看: one closed item's re-check due soon, one re-check failed (Z6, reopened).
    soon = Obligation.objects.get(task__number="Z1", kind=ObligationKind.RECHECK)
    assert soon.met_at is None and soon.due_date > today()
    failed = Obligation.objects.get(task__number="Z6", kind=ObligationKind.RECHECK)
    assert failed.result == RecheckResult.FAILED


def test_suspension_and_extensions_are_shown(demo):
    assert Task.objects.filter(state=TaskState.SUSPENDED).exists()
    approved = ExtensionRequest.objects.get(state=ExtensionState.APPROVED)
    assert approved.task.due_date == approved.requested_due_date
    assert approved.task.original_due_date < approved.task.due_date
    assert ExtensionRequest.objects.filter(state=ExtensionState.PENDING).exists()


def test_a_second_load_is_refused_without_reset(demo):
    with pytest.raises(CommandError, match="--reset"):
        load("--force")
    assert Campaign.objects.count() == 1


# Committed for real: PostgreSQL will not TRUNCATE rows its own transaction still checks.
# Serialized like the other transactional tests: a flush without it recreates the content
# types under new ids, which the next serialized restore would then collide with.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reset_starts_over_with_no_files_of_the_last_run(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    first = load("--force")
    stale = [
        settings.MEDIA_ROOT / "bulletins" / "2018" / "last-run.pdf",
        settings.EMAIL_FILE_PATH / "last-run.eml",
    ]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"last run")

    again = load("--force", "--reset")

    assert Campaign.objects.count() == 1
    assert Task.objects.count() == 34
    # The flush took the rows the migrations wrote; the ladder and schedule are back, so
    # the sweep chases as much as on a fresh database.
    swept = [line for line in again.splitlines() if line.startswith("Escalation sweep:")]
    assert swept == [line for line in first.splitlines() if line.startswith("Escalation sweep:")]
    assert "Escalation sweep: 0 " not in swept[0]
    assert set(EscalationRule.objects.filter(by_sms=True).values_list("level", flat=True)) == set(
        DEFAULT_SMS_LEVELS
    )
    assert PeriodicTask.objects.filter(task="notifications.jobs.escalation_sweep").exists()
    assert not any(path.exists() for path in stale)
    assert not (settings.MEDIA_ROOT / "bulletins" / "2018").exists()
    # This run's bulletin PDF is there.
    assert list(settings.MEDIA_ROOT.rglob("*.pdf"))


def test_bin_demo_starts_each_run_from_a_clean_var_folder():
    script = (Path(__file__).resolve().parents[2] / "bin" / "demo").read_text()
    assert "manage.py load_demo --reset" in script


def test_the_printed_curl_quotes_its_query(demo):
    assert "'http://127.0.0.1:8000/api/v1/tasks/?light=red'" in demo
    assert " http://127.0.0.1:8000/api/v1/tasks/?light=red" not in demo


def test_it_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        load()
    assert not Unit.objects.exists()


def test_it_loads_into_an_empty_database_when_debug_is_on(settings):
    settings.DEBUG = True
    load()
    assert Campaign.objects.exists()


def test_the_load_takes_a_bounded_number_of_queries(django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_LOAD_QUERIES):
        load("--force")


def test_the_office_has_sent_notices_and_one_reply_is_chased(demo):
    notices = {notice.urgency: notice for notice in Notice.objects.select_related("obligation", "task")}
    assert set(notices) == {NoticeUrgency.LISTED, NoticeUrgency.PROMPT}
    listed, prompt = notices[NoticeUrgency.LISTED], notices[NoticeUrgency.PROMPT]
    # Today inside the 挂牌 notice's dates: its 回执 is owed, not yet late.
    assert listed.task.number == "Z3" and listed.reply_by > today() and listed.obligation.met_at is None
    assert (listed.number, prompt.number) == (1, 2)
    # The 提示 notice's 回执 was due yesterday: the sweep chased it at the overdue rung.
    assert prompt.task.number == "Z5" and prompt.reply_by < today()
    chased = Escalation.objects.filter(obligation=prompt.obligation, manual=False)
    assert chased.exists()
