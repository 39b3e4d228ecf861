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
from outbox.models import MessageState, OutboundMessage
from outbox.services import outbox_flush
from tests.notifications.conftest import text_of

from .conftest import poppler
from .test_notice_withdrawal import REASON, pdf_text, reply, withdraw
from .test_notices import issue

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
