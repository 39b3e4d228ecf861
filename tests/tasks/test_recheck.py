"""回头看: a closed rectification item is re-checked by its issuer some working days after
销号; a failed re-check reopens it (屡改屡犯).

七里河镇 issues rectification items to 大榆树堡村 in the autumn of 2018, across the National
Day holiday (1–7 October, with Saturday 29 and Sunday 30 September worked) and New Year
(30 December – 1 January, with Saturday 29 December worked).
"""

import datetime
import hashlib

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks import lateness, obligations
from tasks.models import (
    Campaign,
    EventAction,
    Obligation,
    ObligationKind,
    RecheckAttachment,
    RecheckResult,
    Task,
    TaskKind,
    TaskScope,
    TaskState,
)
from tasks.services import task_create, task_transition

from ..helpers import assert_error

pytestmark = pytest.mark.django_db

D = datetime.date


def at_nine(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(1, 0), tzinfo=datetime.UTC)  # 09:00 in Shanghai


def act(world, day, username, name, task, comment=""):
    with time_machine.travel(at_nine(day), tick=False):
        return task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)


def closed_item(world, closed_on: datetime.date, *, kind=TaskKind.RECTIFICATION, title="村道路灯损坏未修复"):
    """An item of 大榆树堡村 issued by 七里河镇 a week before ``closed_on`` and closed that day."""
    issued = closed_on - datetime.timedelta(days=7)
    with time_machine.travel(at_nine(issued), tick=False):
        task = task_create(
            actor=world.person("qilihe_head"),
            campaign=world.campaign,
            title=title,
            kind=kind,
            issuing_unit=world.unit("七里河镇"),
            lead_unit=world.unit("大榆树堡村"),
            responsible_person=world.person("village_a_head"),
            due_date=closed_on,
            assign=True,
        )
    act(world, issued, "village_a_head", "accept", task)
    act(world, closed_on, "village_a_head", "submit", task, "已修复并验收")
    return act(world, closed_on, "qilihe_head", "close", task)


def recheck(task: Task) -> Obligation:
    return Obligation.objects.filter(task=task, kind=ObligationKind.RECHECK).latest("pk")


def post(api, username, task, day, body, **headers):
    with time_machine.travel(at_nine(day), tick=False):
        return api.as_user(username).post(f"/api/v1/tasks/{task.pk}/recheck/", body, format="json", **headers)


def test_the_default_recheck_falls_due_forty_working_days_after_closing_across_new_year(world):
    assert world.campaign.recheck_working_days == 40
    # Closed Friday 9 November: 15 working days in November, 21 in December (Saturday the
    # 29th worked, Monday the 31st a holiday), then 2, 3, 4 and 7 January.
    task = closed_item(world, D(2018, 11, 9))
    row = recheck(task)
    assert (row.due_date, row.owed_by_id, row.met_at) == (D(2019, 1, 7), world.unit("七里河镇").pk, None)
    task.refresh_from_db()
    assert task.state == TaskState.CLOSED
    assert task.next_obligation_date == D(2019, 1, 7)


def test_a_short_recheck_falls_due_across_national_day_and_is_missed_the_day_after(world):
    Campaign.objects.filter(pk=world.campaign.pk).update(recheck_working_days=5)
    world.campaign.refresh_from_db()
    # Closed Friday 28 September: the worked weekend, then 8, 9 and 10 October.
    task = closed_item(world, D(2018, 9, 28))
    assert recheck(task).due_date == D(2018, 10, 10)

    task.refresh_from_db()
    for day, missed in [(D(2018, 10, 10), False), (D(2018, 10, 11), True)]:
        # A closed item is neither red nor late for its unit, whatever its re-check.
        assert not lateness.is_overdue(task, day)
        assert lateness.task_light(task, day, day) is None
        assert not Task.objects.filter(lateness.overdue_q(day), pk=task.pk).exists()
        # The office's missed re-check, the same answer on the task, its scope rows and the row.
        assert Task.objects.filter(obligations.recheck_missed_q(day), pk=task.pk).exists() == missed
        assert TaskScope.objects.filter(obligations.recheck_missed_q(day), task=task).exists() == missed
        assert Obligation.objects.filter(obligations.recheck_missed_rows_q(day), task=task).exists() == missed


def test_only_rectification_items_are_rechecked_and_a_campaign_may_recheck_none(world):
    task = closed_item(world, D(2018, 11, 9), kind=TaskKind.TASK, title="村级活动场所建设")
    assert not Obligation.objects.filter(task=task, kind=ObligationKind.RECHECK).exists()
    Campaign.objects.filter(pk=world.campaign.pk).update(recheck_working_days=0)
    world.campaign.refresh_from_db()
    item = closed_item(world, D(2018, 11, 9))
    assert not Obligation.objects.filter(task=item, kind=ObligationKind.RECHECK).exists()


def test_a_passed_recheck_meets_it_and_the_item_stays_closed(api, world):
    task = closed_item(world, D(2018, 11, 9))
    response = post(api, "qilihe_head", task, D(2018, 12, 20), {"result": "passed", "notes": "路灯正常"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "closed"
    assert body["reopen_count"] == 0
    assert body["recheck"]["result"] == "passed"
    assert body["recheck"]["due_date"] == "2019-01-07"
    assert body["recheck"]["missed"] is False
    row = recheck(task)
    assert row.met_at is not None and row.result == RecheckResult.PASSED
    task.refresh_from_db()
    assert task.next_obligation_date is None
    event = task.events.get(action=EventAction.RECHECKED)
    assert (event.comment, event.data["result"], event.data["late"]) == ("路灯正常", "passed", False)

    # The same finding sent again records nothing twice.
    again = post(api, "qilihe_head", task, D(2018, 12, 20), {"result": "passed"})
    assert_error(again, 409, "no_recheck_due")
    assert task.events.filter(action=EventAction.RECHECKED).count() == 1


def test_a_failed_recheck_reopens_the_item_counts_it_and_a_new_close_owes_a_new_recheck(api, world):
    task = closed_item(world, D(2018, 11, 9))
    body = {"result": "failed", "notes": "回头看发现路灯再次损坏", "due_date": "2019-01-31"}
    # Recorded late, two days past the re-check's date.
    response = post(api, "qilihe_head", task, D(2019, 1, 9), body)
    assert response.status_code == 200, response.content
    shown = response.json()
    assert (shown["state"], shown["reopen_count"], shown["due_date"]) == ("in_progress", 1, "2019-01-31")
    assert shown["recheck"]["result"] == "failed"

    task.refresh_from_db()
    assert (task.state, task.reopen_count, task.closed_at, task.escalation_rank) == (
        TaskState.IN_PROGRESS,
        1,
        None,
        None,
    )
    assert recheck(task).result == RecheckResult.FAILED
    assert task.next_obligation_date is None
    # Both in the history: the finding, then the reopening with the new date.
    rechecked, reopened = task.events.filter(
        action__in=[EventAction.RECHECKED, EventAction.REOPENED]
    ).order_by("pk")
    assert (rechecked.action, rechecked.data["result"], rechecked.data["late"]) == (
        "rechecked",
        "failed",
        True,
    )
    assert (reopened.from_state, reopened.to_state) == ("closed", "in_progress")
    assert reopened.data["due_date"] == ["2018-11-09", "2019-01-31"]
    assert reopened.comment == "回头看发现路灯再次损坏"
    # 屡改屡犯: counted where repeated problems are.
    assert Task.objects.filter(kind=TaskKind.RECTIFICATION, reopen_count__gt=0).get() == task

    # Fixed again and closed on Monday 28 January: a new re-check, 40 working days on
    # (across the Spring Festival of 2019, 4–10 February, with 2 and 3 February worked).
    act(world, D(2019, 1, 25), "village_a_head", "submit", task, "已更换灯具")
    act(world, D(2019, 1, 28), "qilihe_head", "close", task)
    rows = list(Obligation.objects.filter(task=task, kind=ObligationKind.RECHECK).order_by("pk"))
    assert len(rows) == 2 and rows[1].met_at is None
    assert rows[1].due_date == D(2019, 3, 28)


def test_a_failed_recheck_needs_a_new_date_and_notes_and_changes_nothing_when_refused(api, world):
    task = closed_item(world, D(2018, 11, 9))
    day = D(2018, 12, 20)
    cases = [
        ({"result": "failed", "notes": "问题反弹"}, "required", {"due_date"}),
        ({"result": "failed", "due_date": "2019-01-31"}, "required", {"notes"}),
        ({"result": "failed", "notes": "问题反弹", "due_date": "2018-12-20"}, "not_later", {"due_date"}),
        (
            {"result": "failed", "notes": "问题反弹", "due_date": "2021-01-31"},
            "due_date_outside_campaign",
            None,
        ),
        ({"result": "passed", "due_date": "2019-01-31"}, "not_allowed", {"due_date"}),
        ({"result": "maybe"}, "invalid", {"result"}),
    ]
    for body, code, fields in cases:
        response = post(api, "qilihe_head", task, day, body)
        assert_error(response, 400, code, fields=fields)
    task.refresh_from_db()
    assert (task.state, task.reopen_count) == (TaskState.CLOSED, 0)
    assert recheck(task).met_at is None
    assert not task.events.filter(action=EventAction.RECHECKED).exists()


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("village_a_head", 403),  # the unit that did the work
        ("yi_head", 403),  # the county above the issuer sees the item, but did not issue it
        ("city_supervisor", 403),  # the office over them sees it, but the re-check is the issuer's
        ("heishan_head", 404),  # another county does not see it
    ],
)
def test_only_the_issuing_side_records_a_recheck(api, world, username, status):
    task = closed_item(world, D(2018, 11, 9))
    response = post(api, username, task, D(2018, 12, 20), {"result": "passed"})
    assert_error(response, status, "permission_denied" if status == 403 else "not_found")
    assert recheck(task).met_at is None


def test_an_open_item_has_no_recheck_to_record(api, world):
    task = closed_item(world, D(2018, 11, 9))
    act(world, D(2018, 11, 20), "qilihe_head", "reopen", task, "群众反映路灯不亮")
    # Reopened by hand: the pending re-check is moot, met without a finding.
    row = recheck(task)
    assert row.met_at is not None and row.result == ""
    response = post(api, "qilihe_head", task, D(2018, 12, 20), {"result": "passed"})
    assert_error(response, 409, "no_recheck_due")


def test_recording_a_recheck_costs_a_fixed_number_of_queries(api, world, django_assert_num_queries):
    counts = []
    for result in ("passed", "failed"):
        task = closed_item(world, D(2018, 11, 9), title=f"问题{result}")
        body = {"result": result, "notes": "回头看", "due_date": "2019-01-31" if result == "failed" else None}
        api.as_user("qilihe_head")
        with time_machine.travel(at_nine(D(2018, 12, 20)), tick=False):
            with django_assert_num_queries(NUM_QUERIES[result]) as captured:
                response = api.post(
                    f"/api/v1/tasks/{task.pk}/recheck/", body, format="json", HTTP_PREFER="return=minimal"
                )
        assert response.status_code == 204, response.content
        counts.append(len(captured))
    assert counts == [NUM_QUERIES["passed"], NUM_QUERIES["failed"]]


# Passed: savepoint; lock the task (the campaign read with it); memberships; lock the
# re-check; meet it; history; the next obligation dates read and written to the task and its
# scope rows; release. Failed, instead of those dates: the reopen's own obligations (nothing
# left to meet), the next dates read, the reopened row written with them, its scope rows,
# its history row.
NUM_QUERIES = {"passed": 10, "failed": 12}


def test_the_dashboard_counts_a_missed_recheck_for_the_unit_and_above(api, world):
    Campaign.objects.filter(pk=world.campaign.pk).update(recheck_working_days=5)
    world.campaign.refresh_from_db()
    task = closed_item(world, D(2018, 9, 28))  # re-checked by 10 October
    client = api.as_user("yi_head")
    for day, missed in [(D(2018, 10, 10), 0), (D(2018, 10, 11), 1)]:
        with time_machine.travel(at_nine(day), tick=False):
            body = client.get(f"/api/v1/units/{world.unit('义县').pk}/dashboard/").json()
        assert body["unit"]["recheck_missed"] == missed
        township = next(row for row in body["children"] if row["unit"]["name"] == "七里河镇")
        assert township["recheck_missed"] == missed
        # Closed, not red: the missed re-check is the office's, counted apart.
        assert (body["unit"]["closed"], body["unit"]["red"], body["unit"]["overdue"]) == (1, 0, 0)
    with time_machine.travel(at_nine(D(2018, 10, 11)), tick=False):
        post(api, "qilihe_head", task, D(2018, 10, 11), {"result": "passed"})
        body = api.as_user("yi_head").get(f"/api/v1/units/{world.unit('义县').pk}/dashboard/").json()
    assert body["unit"]["recheck_missed"] == 0


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def post_files(api, username, task, day, body):
    with time_machine.travel(at_nine(day), tick=False):
        return api.as_user(username).post(f"/api/v1/tasks/{task.pk}/recheck/", body, format="multipart")


def test_a_recheck_keeps_its_files_served_only_to_those_who_see_the_item(api, world, media_root):
    task = closed_item(world, D(2018, 11, 9))
    body = {
        "result": "failed",
        "notes": "回头看发现路灯再次损坏",
        "due_date": "2019-01-31",
        "files": [
            SimpleUploadedFile("现场照片.png", PNG, content_type="image/png"),
            SimpleUploadedFile("复查记录.pdf", PDF, content_type="application/pdf"),
        ],
    }
    response = post_files(api, "qilihe_head", task, D(2018, 12, 20), body)
    assert response.status_code == 200, response.content
    files = response.json()["recheck"]["attachments"]
    assert [(f["original_name"], f["content_type"], f["size"]) for f in files] == [
        ("现场照片.png", "image/png", len(PNG)),
        ("复查记录.pdf", "application/pdf", len(PDF)),
    ]
    assert files[0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    # Kept against the re-check itself, and named in its history row.
    row = recheck(task)
    assert list(row.attachments.values_list("original_name", flat=True)) == ["现场照片.png", "复查记录.pdf"]
    event = task.events.get(action=EventAction.RECHECKED)
    assert event.data["files"] == ["现场照片.png", "复查记录.pdf"]

    # Whoever sees the item downloads them: the issuer, the unit that fixes it, the county
    # above and the city's office; the detail shows them to each.
    for username in ("qilihe_head", "village_a_head", "yi_head", "city_supervisor"):
        download = api.as_user(username).get(files[0]["url"])
        assert download.status_code == 200, username
        assert b"".join(download.streaming_content) == PNG
        assert download["Content-Type"] == "image/png"
        assert download["Content-Disposition"].startswith("attachment")
        assert download["X-Content-Type-Options"] == "nosniff"
        detail = api.as_user(username).get(f"/api/v1/tasks/{task.pk}/").json()
        # Reopened, the item shows the re-check that reopened it, with its files.
        assert [f["id"] for f in detail["recheck"]["attachments"]] == [f["id"] for f in files]
    # Anybody else is told the file does not exist.
    for username in ("heishan_head", "village_b_head"):
        assert_error(api.as_user(username).get(files[1]["url"]), 404, "not_found")
    assert_error(api.as_user("qilihe_head").get("/api/v1/recheck-attachments/987654/"), 404, "not_found")


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("照片.png", b"GIF89a not really a png", "invalid_attachment"),
        ("记录.exe", b"MZ\x90\x00", "invalid_attachment"),
        ("空白.pdf", b"", "invalid"),
    ],
)
def test_a_bad_file_refuses_the_recheck_and_nothing_is_kept(api, world, media_root, name, content, code):
    task = closed_item(world, D(2018, 11, 9))
    files = [SimpleUploadedFile("好的.png", PNG), SimpleUploadedFile(name, content)]
    body = {"result": "passed", "files": files}
    response = post_files(api, "qilihe_head", task, D(2018, 12, 20), body)
    assert_error(response, 400, code, fields={"files"})
    assert recheck(task).met_at is None
    assert not RecheckAttachment.objects.exists()
    assert not task.events.filter(action=EventAction.RECHECKED).exists()
    assert not media_root.exists() or not any(path.is_file() for path in media_root.rglob("*"))


def test_a_caller_who_may_not_record_the_recheck_learns_nothing_from_a_file(api, world, media_root):
    task = closed_item(world, D(2018, 11, 9))

    def bad():
        return {"result": "passed", "files": [SimpleUploadedFile("记录.exe", b"MZ\x90\x00")]}

    assert_error(post_files(api, "village_a_head", task, D(2018, 12, 20), bad()), 403, "permission_denied")
    assert_error(post_files(api, "heishan_head", task, D(2018, 12, 20), bad()), 404, "not_found")
    good = {"result": "passed", "files": [SimpleUploadedFile("现场照片.png", PNG)]}
    assert_error(post_files(api, "yi_head", task, D(2018, 12, 20), good), 403, "permission_denied")
    assert recheck(task).met_at is None
    assert not RecheckAttachment.objects.exists()


def test_a_recheck_with_files_costs_a_fixed_number_of_queries(
    api, world, media_root, django_assert_num_queries
):
    counts = []
    for n in (1, 3):
        task = closed_item(world, D(2018, 11, 9), title=f"问题{n}")
        files = [SimpleUploadedFile(f"照片{i}.png", PNG + bytes([i])) for i in range(n)]
        api.as_user("qilihe_head")
        with time_machine.travel(at_nine(D(2018, 12, 20)), tick=False):
            with django_assert_num_queries(NUM_QUERIES["passed"] + n) as captured:
                response = api.post(
                    f"/api/v1/tasks/{task.pk}/recheck/",
                    {"result": "passed", "files": files},
                    format="multipart",
                    HTTP_PREFER="return=minimal",
                )
        assert response.status_code == 204, response.content
        counts.append(len(captured) - n)
    # One INSERT a file, as for evidence; the rest does not grow.
    assert counts == [NUM_QUERIES["passed"], NUM_QUERIES["passed"]]
