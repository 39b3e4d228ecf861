"""督办通知单: issued by the office that supervises an item, numbered per office and year,
a rung of the ladder, mailed as a PDF with a detachable 回执, and chased until the unit
returns the 回执.

The city's office (市委督查室) follows 义县's housing item of the 100-day campaign, due Friday
30 November 2018; the county's office (县委督查室) follows it too, 黑山县 does not see it."""

import datetime
import hashlib
import re

import pytest
import time_machine
from django.core.files.storage import default_storage

from bulletins.models import Notice, NoticeCounter
from bulletins.notice_services import notice_issue, notice_render, notice_reply
from bulletins.render import NOTICE_COLOURS, notice_html
from core.errors import Conflict, Forbidden, NotFound
from notifications.models import Escalation
from notifications.services import sweep_run
from outbox.models import MessageState, OutboundMessage
from outbox.services import outbox_flush
from tasks.models import EventAction, Obligation, ObligationKind, Task, TaskEvent
from tasks.rungs import LEVEL_RANK, Level
from tasks.services import extension_decide, extension_request_create
from tests.helpers import assert_error
from tests.notifications.conftest import text_of

from .conftest import at, poppler, squeezed

pytestmark = pytest.mark.django_db

D = datetime.date
ISSUED = D(2018, 11, 20)  # a Tuesday
REPLY_BY = D(2018, 11, 23)  # the Friday after
URL = "/api/v1/notices/"
REQUEST = "该项任务进度滞后，请于11月23日前报送整改措施，确保11月底前完成危房改造验收。"


def on(day: datetime.date, hour: int = 9):
    return time_machine.travel(at(day, hour), tick=False)


def issue(world, task, *, by="city_supervisor", urgency="urge", day=ISSUED, reply_by=REPLY_BY, **extra):
    with on(day):
        return notice_issue(
            actor=world.person(by),
            task_id=task.pk,
            urgency=urgency,
            request=REQUEST,
            reply_by=reply_by,
            **extra,
        )


def sweep_on(day: datetime.date) -> dict:
    with on(day):
        return sweep_run(day=day)


def test_a_notice_is_numbered_per_office_and_year(world, item, make_task):
    first = issue(world, item)
    second = issue(world, item, urgency="listed")
    county = issue(world, item, by="yi_supervisor", office=world.unit("县委督查室"))
    next_year = issue(world, item, day=D(2019, 1, 3), reply_by=D(2019, 1, 8))

    assert [(n.office.name, n.numbering) for n in (first, second, county, next_year)] == [
        ("市委督查室", "〔2018〕第1号"),
        ("市委督查室", "〔2018〕第2号"),
        ("县委督查室", "〔2018〕第1号"),
        ("市委督查室", "〔2019〕第1号"),
    ]
    assert first.to_unit == world.unit("义县") and first.due_date == D(2018, 11, 30)
    assert first.issued_on == ISSUED


def test_issuing_is_a_rung_of_the_ladder_and_opens_the_reply_owed(world, item):
    notice = issue(world, item, urgency="listed")

    escalation = notice.escalation
    assert (escalation.level, escalation.manual, escalation.task_id) == (Level.LISTED, True, item.pk)
    assert escalation.notified_at is not None  # told by the notice, not by a digest
    assert "〔2018〕第1号" in escalation.reason
    item.refresh_from_db()
    assert item.escalation_rank == LEVEL_RANK[Level.LISTED]

    owed = Obligation.objects.get(task=item, kind=ObligationKind.REPLY)
    assert owed.pk == notice.obligation_id
    assert (owed.owed_by_id, owed.due_date, owed.met_at) == (world.unit("义县").pk, REPLY_BY, None)
    assert owed.label == "督办通知单〔2018〕第1号回执"
    assert item.next_obligation_date == REPLY_BY

    (event,) = TaskEvent.objects.filter(task=item, action=EventAction.NOTICE_ISSUED)
    assert event.actor == world.person("city_supervisor")
    assert event.comment == REQUEST
    assert event.data["number"] == "〔2018〕第1号" and event.data["urgency"] == "listed"


@pytest.mark.parametrize(
    ("urgency", "level"), [("prompt", Level.REMINDER), ("urge", Level.OVERDUE), ("listed", Level.LISTED)]
)
def test_each_urgency_takes_its_rung(world, item, urgency, level):
    assert issue(world, item, urgency=urgency).escalation.level == level


@pytest.mark.parametrize(
    ("by", "office", "error"),
    [
        ("yi_head", None, Forbidden),  # sees the item, is no office
        ("city_supervisor", "县委督查室", Forbidden),  # not the caller's office
        ("heishan_head", None, NotFound),  # does not see the item
    ],
)
def test_only_an_office_over_the_item_issues_and_nothing_is_numbered_otherwise(
    world, item, by, office, error
):
    with pytest.raises(error):
        issue(world, item, by=by, **({"office": world.unit(office)} if office else {}))

    assert not Notice.objects.exists() and not NoticeCounter.objects.exists()
    assert not Obligation.objects.filter(kind=ObligationKind.REPLY).exists()


def test_an_office_of_another_county_does_not_issue_about_the_item(world, make_task):
    with on(D(2018, 10, 15)):
        task = make_task("芳山镇危房改造", lead_unit="芳山镇")
    # The county office of 义县 sees nothing of 黑山县.
    with pytest.raises(NotFound):
        issue(world, task, by="yi_supervisor")


def test_the_pdf_reads_back_with_number_unit_item_deadline_and_the_reply_part(world, item, tmp_path):
    notice = notice_render(notice_id=issue(world, item, urgency="listed").pk)

    pdf = tmp_path / "notice.pdf"
    with default_storage.open(notice.pdf.name, "rb") as stored:
        pdf.write_bytes(stored.read())
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == notice.pdf_sha256
    text = squeezed(poppler("pdftotext", pdf))
    notice_part, reply_part = text.split("沿此线剪下")
    for fact in ("市委督查室", "督办通知单", "【挂牌】〔2018〕第1号", "承办单位义县", "义县危房改造验收"):
        assert fact in notice_part, fact
    assert "完成时限2018年11月30日" in notice_part
    assert squeezed(REQUEST) in notice_part
    assert "请于2018年11月23日前将回执报送市委督查室" in notice_part
    assert notice_part.endswith("市委督查室2018年11月20日")
    assert reply_part.startswith(
        "督办通知单回执（市委督查室〔2018〕第1号）承办单位义县督办事项义县危房改造验收"
    )
    for blank in ("办理情况/措施", "完成或承诺完成日期", "签发人", "日期"):
        assert blank in reply_part, blank

    header, dashes, *lines = poppler("pdffonts", pdf).splitlines()
    assert lines and all(" yes yes " in f" {' '.join(line.split())} " for line in lines), lines
    names = " ".join(line.split()[0] for line in lines)
    assert "UMing" in names and "UKai" in names
    info = poppler("pdfinfo", pdf)
    assert "A4" in info and re.search(r"^Pages:\s+1$", info, re.MULTILINE)  # one sheet, cut in two


def test_the_notice_is_printed_in_the_colour_of_its_urgency(world, item):
    html = {urgency: notice_html(issue(world, item, urgency=urgency)) for urgency in NOTICE_COLOURS}

    assert NOTICE_COLOURS == {"prompt": "#1f5fbf", "urge": "#c99700", "listed": "#c00000"}
    for urgency, colour in NOTICE_COLOURS.items():
        others = set(NOTICE_COLOURS.values()) - {colour}
        assert f".band {{ background: {colour}; }}" in html[urgency]
        assert not any(other in html[urgency] for other in others)
    assert "【提示】" in html["prompt"] and "【催办】" in html["urge"] and "【挂牌】" in html["listed"]


def test_a_notice_is_mailed_with_its_pdf_to_the_unit_and_is_the_telling_of_its_rung(
    addressed, item, smtp, django_capture_on_commit_callbacks
):
    world = addressed
    with django_capture_on_commit_callbacks() as scheduled:
        notice = issue(world, item, urgency="listed")
    assert len(scheduled) == 1  # the render job, after the commit; run here
    notice = notice_render(notice_id=notice.pk)
    assert outbox_flush() == {MessageState.SENT: 3}

    unit, head, person = (
        f"unit{world.unit('义县').pk}@jz.example.cn",
        "yi_head@jz.example.cn",
        "yi_member@jz.example.cn",
    )
    assert sorted(str(m["To"]) for m in smtp.mailbox.messages) == sorted([unit, head, person])
    for address in (unit, head, person):
        (message,) = smtp.mailbox.to(address)
        assert (
            str(message["Subject"]).strip() == "【挂牌】市委督查室督办通知单〔2018〕第1号：义县危房改造验收"
        )
        assert "请查收附件" in text_of(message) and "2018-11-23" in text_of(message)
        (attachment,) = message.iter_attachments()
        assert attachment.get_filename() == "督办通知单〔2018〕第1号.pdf"
        assert hashlib.sha256(attachment.get_content()).hexdigest() == notice.pdf_sha256
    told = notice.escalation.messages.all()
    assert sorted(told.values_list("kind", flat=True)) == ["notice"] * 3

    # Rendering again mails nothing again; the digest job finds nothing to tell.
    notice_render(notice_id=notice.pk)
    assert OutboundMessage.objects.count() == 3
    sweep_on(ISSUED)
    assert OutboundMessage.objects.count() == 3


def test_the_rung_a_notice_took_is_not_sent_again_by_the_sweep(addressed, item, smtp):
    world = addressed
    # Listed by notice on Monday 3 December, the first working day overdue.
    issue(world, item, urgency="listed", day=D(2018, 12, 3), reply_by=D(2018, 12, 7))
    sweep_on(D(2018, 12, 3))
    sweep_on(D(2018, 12, 5))  # three working days overdue: the ladder's own listing

    rows = Escalation.objects.filter(task=item, obligation__isnull=True)
    assert set(rows.values_list("level", "manual")) == {
        (Level.REMINDER, False),
        (Level.OVERDUE, False),
        (Level.LISTED, True),
    }
    assert not any("【挂牌督办】" in text_of(message) for message in smtp.mailbox.messages)


def test_after_an_approved_extension_the_ladder_lists_the_item_against_its_new_date(addressed, item, smtp):
    world = addressed
    issue(world, item, urgency="listed", day=D(2018, 12, 3), reply_by=D(2018, 12, 7))
    with on(D(2018, 12, 3)):
        extension = extension_request_create(
            task_id=item.pk, actor=world.person("yi_member"), requested_due_date=D(2018, 12, 7), reason="雨雪"
        )
        extension_decide(extension_id=extension.pk, actor=world.person("city_head"), approve=True)
    sweep_on(D(2018, 12, 12))  # three working days past the new date

    listed = Escalation.objects.filter(task=item, obligation__isnull=True, level=Level.LISTED)
    assert sorted(listed.values_list("due_date", "manual")) == [
        (D(2018, 11, 30), True),
        (D(2018, 12, 7), False),
    ]


def test_a_missing_reply_is_chased_once_per_rung_until_it_comes(addressed, item, smtp):
    world = addressed
    notice = issue(world, item)

    def chased() -> list[str]:
        rows = Escalation.objects.filter(obligation__kind=ObligationKind.REPLY, obligation__task=item)
        return sorted(rows.values_list("level", flat=True))

    sweep_on(REPLY_BY)
    assert chased() == []  # due today: neither warned before nor chased yet
    sweep_on(D(2018, 11, 26))  # Monday: the 回执 of Friday is missing
    assert chased() == ["overdue"]
    digest = text_of(smtp.mailbox.to("yi_head@jz.example.cn")[-1])
    assert "督办通知单〔2018〕第1号回执未报送（应于11月23日前报送）" in digest
    assert "义县危房改造验收" in digest

    def told() -> int:
        return sum("回执未报送" in text_of(message) for message in smtp.mailbox.messages)

    sent = told()
    sweep_on(D(2018, 11, 26))  # again the same day: nothing new, nobody told twice
    sweep_on(D(2018, 11, 27))
    assert chased() == ["overdue"]
    assert told() == sent
    sweep_on(D(2018, 11, 28))  # the third working day: listed
    assert chased() == ["listed", "overdue"]
    sweep_on(D(2018, 11, 28))
    assert chased() == ["listed", "overdue"]
    sent = told()

    with on(D(2018, 11, 29)):
        notice_reply(
            notice_id=notice.pk,
            actor=world.person("yi_member"),
            measures="已组织复核，11月30日前完成验收。",
            reply_date=D(2018, 11, 30),
            completed=False,
            signer="孙县长",
        )
    sweep_on(D(2018, 12, 5))  # seven working days after its date: no criticism, it was met
    assert chased() == ["listed", "overdue"]
    assert told() == sent
    assert Obligation.objects.get(pk=notice.obligation_id).met_at is not None


def test_the_reply_is_recorded_once_by_the_receiving_unit_and_meets_what_was_owed(world, item):
    notice = issue(world, item)

    with on(D(2018, 11, 22)):
        replied = notice_reply(
            notice_id=notice.pk,
            actor=world.person("yi_member"),
            measures="已完成入户核查938户。",
            reply_date=D(2018, 11, 21),
            completed=True,
            signer="孙县长",
        )
    assert (replied.reply_signer, replied.reply_completed, replied.replied_by) == (
        "孙县长",
        True,
        world.person("yi_member"),
    )
    item.refresh_from_db()
    assert item.next_obligation_date is None

    for by, error in [("yi_member", Conflict), ("city_head", Forbidden), ("heishan_head", NotFound)]:
        with pytest.raises(error), on(D(2018, 11, 22)):
            notice_reply(
                notice_id=notice.pk,
                actor=world.person(by),
                measures="再报一次",
                reply_date=D(2018, 11, 21),
                completed=True,
                signer="某某",
            )
    assert TaskEvent.objects.filter(task=item, action=EventAction.NOTICE_REPLIED).count() == 1


@pytest.fixture
def office(api):
    return api.as_user("city_supervisor")


def payload(task: Task, **changes) -> dict:
    return {
        "task": task.pk,
        "urgency": "urge",
        "request": REQUEST,
        "reply_by": REPLY_BY.isoformat(),
        **changes,
    }


def post_notice(client, task, **changes):
    with on(ISSUED):
        return client.post(URL, payload(task, **changes), format="json")


def test_the_office_issues_a_notice_through_the_api(world, item, office):
    response = post_notice(office, item)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["office"]["name"] == "市委督查室"  # the caller's office over the item, by default
    assert (body["year"], body["number"], body["numbering"]) == (2018, 1, "〔2018〕第1号")
    assert body["task"] == {"id": item.pk, "number": item.number, "title": "义县危房改造验收"}
    assert body["to_unit"]["name"] == "义县"
    assert (body["urgency"], body["due_date"], body["reply_by"]) == ("urge", "2018-11-30", "2018-11-23")
    assert body["pdf_url"] is None and body["replied_at"] is None
    assert body["issued_by"]["full_name"] == "李督查"


@pytest.mark.parametrize(
    ("username", "changes", "status", "code"),
    [
        ("yi_head", {}, 403, "not_a_notice_issuer"),
        ("heishan_head", {}, 404, "not_found"),
        ("city_supervisor", {"office": "县委督查室"}, 403, "not_a_notice_issuer"),
        ("city_supervisor", {"reply_by": "2018-11-19"}, 400, "reply_by_past"),
        ("city_supervisor", {"request": "  "}, 400, "invalid"),
        ("city_supervisor", {"urgency": "purple"}, 400, "invalid"),
        ("city_supervisor", {"task": 99999999}, 404, "not_found"),
    ],
)
def test_bad_notices_are_refused_and_change_nothing(world, api, item, username, changes, status, code):
    if "office" in changes:
        changes["office"] = world.unit(changes["office"]).pk
    with on(ISSUED):
        response = api.as_user(username).post(URL, {**payload(item), **changes}, format="json")

    assert_error(response, status, code)
    assert not Notice.objects.exists() and not NoticeCounter.objects.exists()
    assert not Escalation.objects.exists()


def test_a_closed_item_gets_no_notice(world, item, office, act):
    with on(D(2018, 11, 9)):
        act(item, "yi_member", "submit", "已完成")
        act(item, "city_head", "close")

    assert_error(post_notice(office, item), 409, "invalid_transition")


def test_a_retried_post_with_its_key_issues_one_notice(world, item, office):
    with on(ISSUED):
        answers = [
            office.post(URL, payload(item), format="json", HTTP_IDEMPOTENCY_KEY="notice-义县-1")
            for _ in range(2)
        ]

    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Notice.objects.count() == 1 and NoticeCounter.objects.get().last_number == 1


def test_notices_are_listed_to_those_who_see_the_item(world, api, item, make_task, office):
    with on(D(2018, 10, 15)):
        other = make_task("黑山县产业扶贫项目", lead_unit="黑山县")
    for task in (item, item, other):
        assert post_notice(office, task).status_code == 201

    def listed(username: str, **params) -> list[str]:
        response = api.as_user(username).get(URL, params)
        assert response.status_code == 200, response.content
        return [notice["numbering"] for notice in response.json()["results"]]

    assert listed("city_supervisor") == ["〔2018〕第3号", "〔2018〕第2号", "〔2018〕第1号"]
    assert listed("yi_member") == ["〔2018〕第2号", "〔2018〕第1号"]
    assert listed("heishan_member") == ["〔2018〕第3号"]
    assert listed("qilihe_head") == []
    assert listed("city_supervisor", task=item.pk, replied="false") == ["〔2018〕第2号", "〔2018〕第1号"]
    notice = Notice.objects.get(number=3)
    assert api.as_user("yi_member").get(f"{URL}{notice.pk}/").status_code == 404
    assert api.as_user("heishan_member").get(f"{URL}{notice.pk}/").json()["to_unit"]["name"] == "黑山县"
    assert_error(api.as_user("city_supervisor").get(URL, {"replied": "maybe"}), 400, "invalid")


def test_the_list_costs_the_same_queries_for_one_notice_or_many(
    world, item, office, django_assert_num_queries
):
    # The caller's memberships, the count and the page with its units and people.
    post_notice(office, item)
    with django_assert_num_queries(3):
        assert len(office.get(URL).json()["results"]) == 1
    for _ in range(5):
        post_notice(office, item)
    with django_assert_num_queries(3):
        assert len(office.get(URL).json()["results"]) == 6


def test_the_reply_through_the_api_shows_in_the_task_history(world, api, item, office):
    notice = post_notice(office, item).json()
    reply = {
        "measures": "已组织复核。\n11月30日前完成验收。",
        "reply_date": "2018-11-30",
        "completed": False,
        "signer": "孙县长",
    }

    with on(D(2018, 11, 22)):
        refused = api.as_user("city_head").post(f"{URL}{notice['id']}/reply/", reply, format="json")
        outside = api.as_user("heishan_head").post(f"{URL}{notice['id']}/reply/", reply, format="json")
        unsigned = api.as_user("yi_member").post(
            f"{URL}{notice['id']}/reply/", {**reply, "signer": ""}, format="json"
        )
        done_tomorrow = api.as_user("yi_member").post(
            f"{URL}{notice['id']}/reply/", {**reply, "completed": True}, format="json"
        )
        promised_yesterday = api.as_user("yi_member").post(
            f"{URL}{notice['id']}/reply/", {**reply, "reply_date": "2018-11-21"}, format="json"
        )
        answered = api.as_user("yi_member").post(f"{URL}{notice['id']}/reply/", reply, format="json")
        again = api.as_user("yi_member").post(f"{URL}{notice['id']}/reply/", reply, format="json")

    assert_error(refused, 403, "not_the_receiving_unit")
    assert_error(outside, 404, "not_found")
    assert_error(unsigned, 400, "invalid", fields={"signer"})
    assert_error(done_tomorrow, 400, "completed_in_future", fields={"reply_date"})
    assert_error(promised_yesterday, 400, "promised_in_past", fields={"reply_date"})
    assert answered.status_code == 200, answered.content
    body = answered.json()
    assert (body["reply_signer"], body["reply_date"], body["reply_completed"]) == (
        "孙县长",
        "2018-11-30",
        False,
    )
    assert body["replied_by"]["full_name"] == "周干事"
    assert_error(again, 409, "notice_replied")

    history = api.as_user("city_supervisor").get(f"/api/v1/tasks/{item.pk}/history/").json()["results"]
    issued, replied = [event for event in history if event["action"].startswith("notice_")]
    assert issued["action"] == "notice_issued" and issued["actor"]["full_name"] == "李督查"
    assert replied["action"] == "notice_replied"
    assert replied["comment"] == reply["measures"]
    assert replied["data"] == {
        "notice": notice["id"],
        "number": "〔2018〕第1号",
        "reply_date": "2018-11-30",
        "completed": False,
        "signer": "孙县长",
    }


def test_the_pdf_is_downloaded_once_rendered(world, api, item, office):
    notice = post_notice(office, item).json()
    url = f"{URL}{notice['id']}/pdf/"

    assert_error(office.get(url), 409, "pdf_not_ready")
    notice_render(notice_id=notice["id"])
    response = api.as_user("yi_member").get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == response["X-Checksum-SHA256"]
    assert api.as_user("yi_member").get(f"{URL}{notice['id']}/").json()["pdf_url"] == url
    assert api.as_user("qilihe_head").get(url).status_code == 404
