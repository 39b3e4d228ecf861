"""What was left of 督办通知单: a notice withdrawn by its office, the 回执 printed into the
notice's PDF once it is in, and the chase of a missing 回执 carrying the notice again.

The same city, item and dates as ``test_notices``: 市委督查室 issues about 义县's housing
item on Tuesday 20 November 2018, the 回执 owed by Friday the 23rd."""

import datetime
import hashlib

import pytest
from django.core.files.storage import default_storage

from bulletins.models import Notice
from bulletins.notice_services import (
    notice_pdfs_for_obligations,
    notice_render,
    notice_render_reply,
    notice_reply,
    notice_withdraw,
    notices_render_pending,
)
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from notifications.models import Escalation
from outbox.models import MessageState, OutboundMessage
from outbox.services import outbox_flush
from tasks.models import EventAction, Obligation, ObligationKind, TaskEvent
from tests.helpers import assert_error
from tests.notifications.conftest import text_of

from .conftest import poppler, squeezed
from .test_notices import URL, issue, on, post_notice, sweep_on

pytestmark = pytest.mark.django_db

D = datetime.date
WITHDRAWN_ON = D(2018, 11, 21)
REPLIED_ON = D(2018, 11, 22)
REASON = "该事项已并入市级挂牌督办，本通知单撤销。"


def withdraw(world, notice, *, by="city_supervisor", reason=REASON, day=WITHDRAWN_ON):
    with on(day):
        return notice_withdraw(notice_id=notice.pk, actor=world.person(by), reason=reason)


def reply(world, notice, *, by="yi_member", day=REPLIED_ON, hour=9):
    with on(day, hour):
        return notice_reply(
            notice_id=notice.pk,
            actor=world.person(by),
            measures="已组织复核938户。\n11月30日前完成验收。",
            reply_date=D(2018, 11, 30),
            completed=False,
            signer="孙县长",
        )


def chased(task) -> list[str]:
    rows = Escalation.objects.filter(obligation__kind=ObligationKind.REPLY, obligation__task=task)
    return sorted(rows.values_list("level", flat=True))


# 撤销 -------------------------------------------------------------------------------


def test_a_withdrawn_notice_keeps_its_number_owes_nothing_and_tells_the_unit(addressed, item, smtp):
    world = addressed
    notice = notice_render(notice_id=issue(world, item).pk)
    outbox_flush()
    smtp.mailbox.messages.clear()

    withdrawn = withdraw(world, notice)

    assert withdrawn.is_withdrawn and withdrawn.withdrawn_by == world.person("city_supervisor")
    assert withdrawn.withdraw_reason == REASON
    # The number stays used: the next notice of the office is the second.
    assert issue(world, item, day=D(2018, 11, 21), reply_by=D(2018, 11, 26)).numbering == "〔2018〕第2号"
    owed = Obligation.objects.get(pk=notice.obligation_id)
    assert owed.met_at is not None

    (event,) = TaskEvent.objects.filter(task=item, action=EventAction.NOTICE_WITHDRAWN)
    assert (event.actor, event.comment) == (world.person("city_supervisor"), REASON)
    assert event.data == {
        "notice": notice.pk,
        "office": world.unit("市委督查室").pk,
        "number": "〔2018〕第1号",
    }

    assert outbox_flush() == {MessageState.SENT: 3}
    unit = f"unit{world.unit('义县').pk}@jz.example.cn"
    for address in (unit, "yi_head@jz.example.cn", "yi_member@jz.example.cn"):
        (message,) = smtp.mailbox.to(address)
        assert (
            str(message["Subject"]).strip() == "【撤销】市委督查室督办通知单〔2018〕第1号：义县危房改造验收"
        )
        body = text_of(message)
        assert "督办通知单〔2018〕第1号已撤销，无需再报送回执" in body and REASON in body


def test_the_sweep_stops_chasing_the_reply_of_a_withdrawn_notice(addressed, item, smtp):
    world = addressed
    withdrawn = issue(world, item)
    kept = issue(world, item, urgency="prompt")
    withdraw(world, withdrawn)

    sweep_on(D(2018, 11, 26))  # Monday: the 回执 of Friday is missing
    sweep_on(D(2018, 11, 28))  # the third working day: listed

    rows = Escalation.objects.filter(obligation__kind=ObligationKind.REPLY)
    assert set(rows.values_list("obligation_id", flat=True)) == {kept.obligation_id}
    digests = [text_of(m) for m in smtp.mailbox.messages if "回执未报送" in text_of(m)]
    assert digests and all("第1号回执" not in text for text in digests)


@pytest.mark.parametrize(
    ("by", "reason", "error", "code"),
    [
        ("city_supervisor", "  ", InvalidInput, "required"),
        ("yi_head", REASON, Forbidden, "not_the_notice_issuer"),  # sees the item, is no office
        ("yi_supervisor", REASON, Forbidden, "not_the_notice_issuer"),  # an office, not the issuer
        ("yi_member", REASON, Forbidden, "not_the_notice_issuer"),  # the receiving unit
        ("heishan_head", REASON, NotFound, "not_found"),  # does not see the item
    ],
)
def test_only_the_issuing_office_withdraws_with_a_reason(world, item, by, reason, error, code):
    notice = issue(world, item)

    with pytest.raises(error) as refused:
        withdraw(world, notice, by=by, reason=reason)

    assert refused.value.code == code
    notice.refresh_from_db()
    assert not notice.is_withdrawn
    assert Obligation.objects.get(pk=notice.obligation_id).met_at is None
    assert not TaskEvent.objects.filter(action=EventAction.NOTICE_WITHDRAWN).exists()
    assert not OutboundMessage.objects.filter(subject__startswith="【撤销】").exists()


def test_an_office_over_a_county_withdraws_only_its_own_notices(world, item):
    county = issue(world, item, by="yi_supervisor", office=world.unit("县委督查室"))

    with pytest.raises(Forbidden):
        withdraw(world, county, by="city_supervisor")  # the city's office did not issue it
    assert withdraw(world, county, by="yi_supervisor").is_withdrawn


def test_a_withdrawn_notice_is_not_withdrawn_again_nor_replied_to_and_a_replied_one_stays(world, item):
    withdrawn, replied = issue(world, item), issue(world, item)
    withdraw(world, withdrawn)
    reply(world, replied)

    with pytest.raises(Conflict) as again:
        withdraw(world, withdrawn)
    assert again.value.code == "notice_withdrawn"
    with pytest.raises(Conflict) as answered:
        reply(world, withdrawn)
    assert answered.value.code == "notice_withdrawn"
    with pytest.raises(Conflict) as too_late:
        withdraw(world, replied)
    assert too_late.value.code == "notice_replied"
    assert TaskEvent.objects.filter(action=EventAction.NOTICE_WITHDRAWN).count() == 1


def test_the_office_withdraws_through_the_api_and_a_reply_to_it_is_a_conflict(world, api, item):
    office = api.as_user("city_supervisor")
    notice = post_notice(office, item).json()
    url = f"{URL}{notice['id']}/withdraw/"

    with on(D(2018, 11, 21)):
        unit = api.as_user("yi_head").post(url, {"reason": REASON}, format="json")
        outside = api.as_user("heishan_head").post(url, {"reason": REASON}, format="json")
        office = api.as_user("city_supervisor")  # one client, signed in as each in turn
        blank = office.post(url, {"reason": ""}, format="json")
        done = office.post(url, {"reason": REASON}, format="json")
        again = office.post(url, {"reason": REASON}, format="json")
        replied = api.as_user("yi_member").post(
            f"{URL}{notice['id']}/reply/",
            {"measures": "已办", "reply_date": "2018-11-21", "completed": True, "signer": "孙县长"},
            format="json",
        )

    assert_error(unit, 403, "not_the_notice_issuer")
    assert_error(outside, 404, "not_found")
    assert_error(blank, 400, "invalid", fields={"reason"})
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["withdraw_reason"] == REASON and body["withdrawn_at"] is not None
    assert body["withdrawn_by"]["full_name"] == "李督查"
    assert body["numbering"] == "〔2018〕第1号"
    assert_error(again, 409, "notice_withdrawn")
    assert_error(replied, 409, "notice_withdrawn")

    history = api.as_user("city_supervisor").get(f"/api/v1/tasks/{item.pk}/history/").json()["results"]
    assert [e["action"] for e in history if e["action"].startswith("notice_")] == [
        "notice_issued",
        "notice_withdrawn",
    ]


def test_withdrawn_notices_are_listed_and_filtered_at_the_same_cost(
    world, api, item, django_assert_num_queries
):
    office = api.as_user("city_supervisor")
    ids = [post_notice(office, item).json()["id"] for _ in range(3)]
    with on(D(2018, 11, 21)):
        for pk in ids[:2]:
            assert office.post(f"{URL}{pk}/withdraw/", {"reason": REASON}, format="json").status_code == 200

    with django_assert_num_queries(3):
        withdrawn = office.get(URL, {"withdrawn": "true"}).json()["results"]
    assert sorted(n["id"] for n in withdrawn) == ids[:2]
    assert {n["withdrawn_by"]["full_name"] for n in withdrawn} == {"李督查"}
    assert [n["id"] for n in office.get(URL, {"withdrawn": "false"}).json()["results"]] == ids[2:]


# The 回执 in the PDF -----------------------------------------------------------------


def pdf_text(notice, tmp_path) -> str:
    pdf = tmp_path / f"notice-{notice.pdf_sha256[:8]}.pdf"
    with default_storage.open(notice.pdf.name, "rb") as stored:
        pdf.write_bytes(stored.read())
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == notice.pdf_sha256
    return squeezed(poppler("pdftotext", pdf))


def test_the_returned_reply_is_printed_into_the_notices_pdf(
    addressed, item, tmp_path, django_capture_on_commit_callbacks
):
    world = addressed
    issued = notice_render(notice_id=issue(world, item).pk)
    sent_path, sent_sha = issued.pdf.name, issued.pdf_sha256
    blank = pdf_text(issued, tmp_path).split("沿此线剪下")[1]
    assert "孙县长" not in blank and "北京时间" not in blank

    # 23:30 on Thursday in Beijing is still Thursday 15:30 in UTC: the slip says Beijing's.
    with django_capture_on_commit_callbacks() as scheduled:
        reply(world, issued, day=D(2018, 11, 22), hour=23)
    assert len(scheduled) == 1  # the job that renders the PDF again, after the commit
    notice = notice_render_reply(notice_id=issued.pk)

    assert notice.pdf_replied and notice.pdf.name != sent_path and notice.pdf_sha256 != sent_sha
    notice_part, reply_part = pdf_text(notice, tmp_path).split("沿此线剪下")
    assert "已组织复核938户" not in notice_part
    assert "办理情况/措施已组织复核938户。11月30日前完成验收。" in reply_part
    assert "完成或承诺完成日期2018年11月30日（承诺完成）" in reply_part
    assert "签发人孙县长" in reply_part
    assert "日期2018年11月22日23:00（北京时间）" in reply_part
    assert "报送人周干事" in reply_part
    # The file mailed at issue is kept as it was sent: the outbox's messages name it.
    assert OutboundMessage.objects.filter(kind="notice", attachment_path=sent_path).count() == 3
    with default_storage.open(sent_path, "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == sent_sha

    # Running the job again changes nothing.
    assert notice_render_reply(notice_id=notice.pk).pdf.name == notice.pdf.name
    info = poppler("pdfinfo", tmp_path / f"notice-{notice.pdf_sha256[:8]}.pdf")
    assert "Pages:           1" in info  # still one sheet, cut in two


def test_the_pdf_download_gives_the_notice_with_its_reply(world, api, item):
    notice = notice_render(notice_id=issue(world, item).pk)
    reply(world, notice)
    notice_render_reply(notice_id=notice.pk)

    response = api.as_user("city_supervisor").get(f"{URL}{notice.pk}/pdf/")
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == Notice.objects.get(pk=notice.pk).pdf_sha256


# The chase carries the notice ---------------------------------------------------------


def test_the_chase_of_a_missing_reply_carries_the_notice_pdf(addressed, item, smtp):
    world = addressed
    first = notice_render(notice_id=issue(world, item).pk)
    second = issue(world, item, urgency="prompt")  # its job never ran: rendered by the chase
    outbox_flush()
    smtp.mailbox.messages.clear()

    sweep_on(D(2018, 11, 26))

    assert chased(item) == ["overdue", "overdue"]
    second.refresh_from_db()
    assert second.pdf  # rendered once for the run, and mailed as at issue
    digests = [m for m in smtp.mailbox.to("yi_head@jz.example.cn") if "回执未报送" in text_of(m)]
    (digest,) = digests
    attached = {
        a.get_filename(): hashlib.sha256(a.get_content()).hexdigest() for a in digest.iter_attachments()
    }
    assert attached == {
        "督办通知单〔2018〕第1号.pdf": first.pdf_sha256,
        "督办通知单〔2018〕第2号.pdf": second.pdf_sha256,
    }
    # Every digest that carries a file carries these two notices' PDFs and nothing else.
    chases = OutboundMessage.objects.filter(kind="digest").exclude(attachments=[])
    assert {path for m in chases for path, _name in m.attachments} == {first.pdf.name, second.pdf.name}


def test_the_documents_of_a_run_are_read_in_one_query(world, item, django_assert_num_queries):
    notices = [notice_render(notice_id=issue(world, item).pk) for _ in range(3)]
    withdraw(world, notices[2])

    with django_assert_num_queries(1):
        documents = notice_pdfs_for_obligations([n.obligation_id for n in notices])

    assert documents == {n.obligation_id: (n.pdf.name, f"督办通知单{n.numbering}.pdf") for n in notices[:2]}


def test_a_reply_whose_job_never_ran_is_printed_by_the_pending_run(world, item):
    notice = notice_render(notice_id=issue(world, item).pk)
    reply(world, notice)  # its job is queued on commit, which a test's transaction never does

    assert notices_render_pending() == 1
    assert Notice.objects.get(pk=notice.pk).pdf_replied
    assert notices_render_pending() == 0


def test_a_notice_withdrawn_before_its_job_ran_is_not_mailed_afterwards(addressed, item):
    world = addressed
    notice = issue(world, item)
    withdraw(world, notice)

    rendered = notice_render(notice_id=notice.pk)

    assert rendered.pdf  # the document exists, to download
    subjects = list(OutboundMessage.objects.filter(kind="notice").values_list("subject", flat=True))
    assert len(subjects) == 3 and all(subject.startswith("【撤销】") for subject in subjects)
