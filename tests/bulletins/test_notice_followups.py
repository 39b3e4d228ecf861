"""A withdrawn notice's PDF marked 已撤销, the PDF with its 回执 mailed, and the rung the
notice took closed by its withdrawal.

The same city, item and dates as ``test_notices``: 市委督查室 issues about 义县's housing
item on Tuesday 20 November 2018, the 回执 owed by Friday the 23rd."""

import datetime
import hashlib

import pytest

from bulletins.models import Notice
from bulletins.notice_services import (
    notice_render,
    notice_render_reply,
    notice_render_withdrawn,
    notices_render_pending,
)
from notifications.models import Escalation
from notifications.services import digest_compose, escalation_record_manual, sweep_part_run, sweep_start
from outbox.models import MessageState, OutboundMessage
from outbox.services import outbox_flush
from tasks.models import ObligationKind, Task
from tasks.rungs import Level
from tests.notifications.conftest import text_of

from .conftest import poppler
from .test_notice_withdrawal import REASON, pdf_text, reply, withdraw
from .test_notices import issue, on, post_notice, sweep_on

pytestmark = pytest.mark.django_db

D = datetime.date


# The withdrawn notice's PDF --------------------------------------------------------------


def test_withdrawal_renders_the_pdf_again_marked_withdrawn_with_its_day_reason_and_number(
    world, item, tmp_path, django_capture_on_commit_callbacks
):
    issued = notice_render(notice_id=issue(world, item).pk)
    sent_path, sent_sha = issued.pdf.name, issued.pdf_sha256
    assert "已撤销" not in pdf_text(issued, tmp_path)

    with django_capture_on_commit_callbacks() as scheduled:
        withdraw(world, issued)
    # The withdrawal's e-mails are flushed, and the PDF rendered again, after the commit.
    assert len(scheduled) == 2
    notice = notice_render_withdrawn(notice_id=issued.pk)

    assert notice.pdf_withdrawn and notice.pdf.name != sent_path and notice.pdf_sha256 != sent_sha
    stamp, rest = pdf_text(notice, tmp_path).split("市委督查室督办通知单", 1)
    assert stamp.startswith("已撤销")
    assert "本通知单已于2018年11月21日由市委督查室撤销" in stamp
    assert f"撤销理由：{REASON}" in stamp
    # The notice below is the one issued, with its number.
    assert "【催办】〔2018〕第1号" in rest and "承办单位义县" in rest
    info = poppler("pdfinfo", tmp_path / f"notice-{notice.pdf_sha256[:8]}.pdf")
    assert "Pages:           1" in info
    # Running it again changes nothing; the download gives the marked file.
    assert notice_render_withdrawn(notice_id=notice.pk).pdf.name == notice.pdf.name
    assert Notice.objects.get(pk=notice.pk).pdf_sha256 == notice.pdf_sha256


def test_a_notice_withdrawn_before_its_job_ran_is_rendered_marked_once(addressed, item, tmp_path):
    world = addressed
    notice = issue(world, item)
    withdraw(world, notice)

    rendered = notice_render_withdrawn(notice_id=notice.pk)

    assert rendered.pdf_withdrawn and pdf_text(rendered, tmp_path).startswith("已撤销")
    assert notice_render(notice_id=notice.pk).pdf.name == rendered.pdf.name
    # Nothing mailed but the withdrawal.
    subjects = OutboundMessage.objects.filter(kind="notice").values_list("subject", flat=True)
    assert len(subjects) == 3 and all(subject.startswith("【撤销】") for subject in subjects)


def test_the_pending_run_marks_a_withdrawn_notice_whose_job_never_ran(world, item, tmp_path):
    notice = notice_render(notice_id=issue(world, item).pk)
    withdraw(world, notice)  # its job is queued on commit, which a test's transaction never does

    assert notices_render_pending() == 1
    notice = Notice.objects.get(pk=notice.pk)
    assert notice.pdf_withdrawn and pdf_text(notice, tmp_path).startswith("已撤销")
    assert notices_render_pending() == 0


# The PDF with its 回执, mailed -----------------------------------------------------------


def test_the_pdf_with_the_reply_is_mailed_to_the_office_and_to_whom_the_notice_went(
    addressed, item, smtp, tmp_path
):
    world = addressed
    notice = notice_render(notice_id=issue(world, item).pk)
    outbox_flush()
    smtp.mailbox.messages.clear()
    reply(world, notice, day=D(2018, 11, 22), hour=23)

    notice = notice_render_reply(notice_id=notice.pk)

    assert outbox_flush() == {MessageState.SENT: 4}
    office = f"unit{world.unit('市委督查室').pk}@jz.example.cn"
    unit = f"unit{world.unit('义县').pk}@jz.example.cn"
    for address in (office, unit, "yi_head@jz.example.cn", "yi_member@jz.example.cn"):
        (message,) = smtp.mailbox.to(address)
        subject = str(message["Subject"]).strip()
        assert subject == "【回执】市委督查室督办通知单〔2018〕第1号：义县危房改造验收"
        body = text_of(message)
        assert "义县已于2018-11-22 23:00（北京时间）经督办系统报送市委督查室" in body
        assert "承诺于2018-11-30前完成" in body and "已组织复核938户" in body
        ((name, content),) = [(a.get_filename(), a.get_content()) for a in message.iter_attachments()]
        assert name == "督办通知单〔2018〕第1号（回执）.pdf"
        assert hashlib.sha256(content).hexdigest() == notice.pdf_sha256
    assert "签发人孙县长" in pdf_text(notice, tmp_path)

    # Running the job again, or the pending run, mails nothing more.
    notice_render_reply(notice_id=notice.pk)
    assert notices_render_pending() == 0
    assert OutboundMessage.objects.filter(subject__startswith="【回执】").count() == 4


def test_a_reply_whose_job_never_ran_is_mailed_by_the_pending_run(addressed, item):
    world = addressed
    notice = notice_render(notice_id=issue(world, item).pk)
    reply(world, notice)

    assert notices_render_pending() == 1

    mailed = OutboundMessage.objects.filter(subject__startswith="【回执】")
    assert mailed.count() == 4
    assert {m.attachment_path for m in mailed} == {Notice.objects.get(pk=notice.pk).pdf.name}


# The rung the notice took ------------------------------------------------------------------


def escalation_of(api, task) -> str | None:
    return api.as_user("city_supervisor").get(f"/api/v1/tasks/{task.pk}/").json()["escalation"]


def test_withdrawal_closes_the_notices_rung_and_the_task_falls_back_to_what_still_stands(world, api, item):
    office = api.as_user("city_supervisor")
    urged = post_notice(office, item, urgency="urge").json()
    listed = post_notice(office, item, urgency="listed").json()
    assert escalation_of(api, item) == "listed"

    with on(D(2018, 11, 21)):
        response = office.post(f"/api/v1/notices/{listed['id']}/withdraw/", {"reason": REASON}, format="json")
    assert response.status_code == 200, response.content

    # The 催办 notice still stands: the item is urged, no longer listed.
    assert escalation_of(api, item) == "overdue"
    history = {
        row["reason"].split("：")[0]: row
        for row in office.get(f"/api/v1/tasks/{item.pk}/escalations/").json()["results"]
    }
    assert history["督办通知单〔2018〕第2号"]["withdrawn_at"] is not None  # kept in the record, marked
    assert history["督办通知单〔2018〕第1号"]["withdrawn_at"] is None

    with on(D(2018, 11, 21)):
        office.post(f"/api/v1/notices/{urged['id']}/withdraw/", {"reason": REASON}, format="json")
    assert escalation_of(api, item) is None
    assert Task.objects.get(pk=item.pk).escalation_rank is None
    assert not Escalation.objects.filter(task=item, withdrawn_at__isnull=True).exists()


def test_a_rung_taken_by_hand_stands_after_a_notice_of_the_same_rung_is_withdrawn(world, api, item):
    with on(D(2018, 11, 20)):
        escalation_record_manual(
            task_id=item.pk, actor=world.person("city_supervisor"), level=Level.LISTED, reason="进度滞后"
        )
    notice = issue(world, item, urgency="listed")

    withdraw(world, notice)

    assert escalation_of(api, item) == "listed"
    assert Escalation.objects.filter(task=item, withdrawn_at__isnull=False).count() == 1


def test_the_ladder_takes_itself_the_rung_a_withdrawn_notice_had_taken(addressed, api, item, smtp):
    world = addressed
    # Listed by notice on Monday 3 December, the first working day overdue: on the 5th the
    # ladder's own listing is left to the notice.
    notice = issue(world, item, urgency="listed", day=D(2018, 12, 3), reply_by=D(2018, 12, 7))
    sweep_on(D(2018, 12, 3))
    sweep_on(D(2018, 12, 5))
    assert not Escalation.objects.filter(task=item, level=Level.LISTED, manual=False).exists()

    withdraw(world, notice, day=D(2018, 12, 5))
    assert escalation_of(api, item) == "overdue"  # what the ladder recorded itself
    smtp.mailbox.messages.clear()
    sweep_on(D(2018, 12, 6))

    ((level, manual, withdrawn),) = Escalation.objects.filter(
        task=item, level=Level.LISTED, manual=False
    ).values_list("level", "manual", "withdrawn_at")
    assert withdrawn is None
    assert escalation_of(api, item) == "listed"
    assert any("挂牌督办" in text_of(message) for message in smtp.mailbox.messages)


def test_a_chase_of_the_reply_not_yet_told_is_not_told_once_the_notice_is_withdrawn(addressed, item, smtp):
    world = addressed
    notice = issue(world, item)
    outbox_flush()
    # Monday: the sweep records the missing 回执; its digest is not composed yet.
    with on(D(2018, 11, 26)):
        sweep = sweep_start(day=D(2018, 11, 26))
        for part_id in sweep.parts.values_list("pk", flat=True):
            sweep_part_run(part_id=part_id)
    (chase,) = Escalation.objects.filter(obligation_id=notice.obligation_id)
    assert chase.notified_at is None

    withdraw(world, notice, day=D(2018, 11, 26))
    with on(D(2018, 11, 26)):
        digest_compose(today=D(2018, 11, 26))
    outbox_flush()

    chase.refresh_from_db()
    assert chase.withdrawn_at is not None and chase.notified_at is None
    assert not any("回执未报送" in text_of(message) for message in smtp.mailbox.messages)
    assert not Escalation.objects.filter(
        obligation__kind=ObligationKind.REPLY, withdrawn_at__isnull=True
    ).exists()


def test_a_bulletin_no_longer_lists_the_rung_of_a_withdrawn_notice(world, item):
    from bulletins.figures import bulletin_figures, scope_for

    notice = issue(world, item, urgency="listed")

    def listed() -> tuple[list[int], int]:
        scope = scope_for(world.unit("市委督查室"), D(2018, 11, 1), D(2018, 11, 30), D(2018, 11, 30))
        figures = bulletin_figures(scope)
        return [row["task"] for row in figures["listed"]["items"]], figures["listed"]["total"]

    assert listed() == ([item.pk], 1)
    withdraw(world, notice)
    assert listed() == ([], 0)
