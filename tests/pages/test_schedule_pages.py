"""The report schedule (按期反馈) on the task page: the issuing side sets, changes and removes
it through the same service as the API; a split may leave it behind."""

from decimal import Decimal

import pytest

from tasks.models import Obligation, ObligationKind, ReportSchedule, Task

from .conftest import due_in
from .test_pages import text

pytestmark = pytest.mark.django_db


def test_the_issuer_sets_changes_and_removes_the_schedule_on_the_task_page(browser_client, world, tasks3):
    task = tasks3["green"]
    client = browser_client.as_user("qilihe_head")
    page = text(client.get(f"/tasks/{task.pk}/"))
    assert "报送要求（按期反馈）" in page and "设置报送要求" in page
    answer = client.post(
        f"/tasks/{task.pk}/report-schedule/", {"cadence": "monthly", "day": "28", "wording": "每月28日前"}
    )
    assert answer.status_code == 302
    page = text(client.get(answer.url))
    assert "报送要求已保存。" in page and "报送要求 每月28日前" in page and "修改报送要求" in page
    assert Obligation.objects.filter(task=task, kind=ObligationKind.REPORT, met_at__isnull=True).exists()

    # Changed to weekly on Friday: the form shows what is set.
    answer = client.post(f"/tasks/{task.pk}/report-schedule/", {"cadence": "weekly", "day": "5"})
    assert answer.status_code == 302
    schedule = ReportSchedule.objects.get(task=task)
    assert (schedule.cadence, schedule.day, schedule.wording) == ("weekly", 5, "")
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'id="id_schedule_day"' in page and 'value="5"' in page

    # A monthly schedule without its day is refused with the service's words, nothing changed.
    refused = client.post(f"/tasks/{task.pk}/report-schedule/", {"cadence": "monthly"})
    assert refused.status_code == 400
    assert "按月报送须写明每月几日" in text(refused)
    assert ReportSchedule.objects.get(task=task).cadence == "weekly"

    answer = client.post(f"/tasks/{task.pk}/report-schedule/remove/")
    assert answer.status_code == 302
    assert "报送要求已取消。" in text(client.get(answer.url))
    assert not ReportSchedule.objects.filter(task=task).exists()
    assert not Obligation.objects.filter(
        task=task, kind=ObligationKind.REPORT, met_at__isnull=True, due_date__gt=due_in(0)
    ).exists()


def test_the_lead_unit_has_no_schedule_form_and_is_refused(browser_client, world, tasks3):
    task = tasks3["green"]
    village = browser_client.as_user("village_a_head")
    assert "设置报送要求" not in text(village.get(f"/tasks/{task.pk}/"))
    refused = village.post(f"/tasks/{task.pk}/report-schedule/", {"cadence": "monthly", "day": "28"})
    assert refused.status_code == 403
    assert village.post(f"/tasks/{task.pk}/report-schedule/remove/").status_code == 403
    assert not ReportSchedule.objects.filter(task=task).exists()
    # Outside the task's units, the page is missing altogether.
    outside = browser_client.as_user("heishan_head")
    answer = outside.post(f"/tasks/{task.pk}/report-schedule/", {"cadence": "monthly", "day": "28"})
    assert answer.status_code == 404
    assert not ReportSchedule.objects.filter(task=task).exists()


def test_a_split_on_the_page_copies_the_schedule_unless_told_not_to(browser_client, world, campaign):
    from tasks.services import IndicatorSpec, report_schedule_set, task_create

    task = task_create(
        actor=world.person("yi_head"),
        campaign=campaign,
        title="乡镇危房改造",
        issuing_unit=world.unit("义县"),
        lead_unit=world.unit("七里河镇"),
        due_date=due_in(40),
        kind="target",
        indicators=[IndicatorSpec(name="危房改造", target=Decimal(30), unit_of_measure="户")],
        assign=True,
    )
    report_schedule_set(task_id=task.pk, actor=world.person("yi_head"), cadence="monthly", day=28)
    client = browser_client.as_user("qilihe_head")
    page = text(client.get(f"/tasks/{task.pk}/"))
    assert "子任务不沿用本任务的报送要求（每月28日前）" in page
    village_a, village_b = world.unit("大榆树堡村"), world.unit("王家屯村")
    split = {"title": "危房改造", "due_date": due_in(30).isoformat()}
    assert (
        client.post(f"/tasks/{task.pk}/decompose/", {**split, f"unit_{village_a.pk}": "on"}).status_code
        == 302
    )
    answer = client.post(
        f"/tasks/{task.pk}/decompose/", {**split, f"unit_{village_b.pk}": "on", "no_report_schedule": "on"}
    )
    assert answer.status_code == 302
    children = dict(Task.objects.filter(parent=task).values_list("lead_unit__name", "pk"))
    assert ReportSchedule.objects.get(task_id=children["大榆树堡村"]).day == 28
    assert not ReportSchedule.objects.filter(task_id=children["王家屯村"]).exists()
