"""The outbox against a real SMTP server: retries, refusals, dead workers' leases, headers.

The clock is set with time_machine; a retry becomes due when the clock passes
``next_attempt_at``, never by waiting.
"""

import datetime
from collections import Counter
from contextlib import contextmanager
from email.header import decode_header, make_header

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.utils import timezone

from outbox.models import MessageState, OutboundMessage
from outbox.services import outbox_flush

from .conftest import Mailbox, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

START = datetime.datetime(2025, 9, 30, 1, 0, tzinfo=datetime.UTC)  # 09:00 in Shanghai
BACKOFF = 60


@pytest.fixture(autouse=True)
def outbox_settings(settings):
    settings.DUBAN = {
        **settings.DUBAN,
        "OUTBOX_BACKOFF_SECONDS": BACKOFF,
        "OUTBOX_MAX_ATTEMPTS": 4,
        "OUTBOX_LEASE_SECONDS": 300,
    }


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def store(to: str, subject: str = "【督办】孙县长：1 项任务需要您关注", **fields) -> OutboundMessage:
    return OutboundMessage.objects.create(
        to_address=to,
        subject=subject,
        body_text=fields.pop("body_text", "孙县长：\n\n【逾期催办】王家屯村饮水安全，已逾期 1 天。\n"),
        body_html=fields.pop("body_html", "<p>孙县长：</p><p>【逾期催办】王家屯村饮水安全</p>"),
        next_attempt_at=fields.pop("next_attempt_at", timezone.now()),
        **fields,
    )


def serve(smtp, mailbox: Mailbox) -> None:
    """Restart the server on the same port with another handler."""
    smtp.stop()
    smtp.mailbox = mailbox
    smtp.controller = Controller(mailbox, hostname="127.0.0.1", port=smtp.port)
    smtp.start()


@contextmanager
def server_down(smtp):
    """Nothing listens on the server's port until the block ends; then it is back."""
    smtp.stop()
    try:
        yield
    finally:
        smtp.controller = Controller(smtp.mailbox, hostname="127.0.0.1", port=smtp.port)
        smtp.start()


def received(smtp) -> Counter:
    return Counter(smtp.mailbox.message_ids())


def refreshed(*messages: OutboundMessage) -> list[OutboundMessage]:
    for message in messages:
        message.refresh_from_db()
    return list(messages)


class FlakyMailbox(Mailbox):
    """Reads every message to the end, then answers 451 to the first ``failures`` of them."""

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures
        self.turned_away: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        if len(self.turned_away) < self.failures:
            message = envelope.original_content.decode()
            self.turned_away.append(
                next(line for line in message.splitlines() if line.startswith("Message-ID"))
            )
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_server_that_is_down_delays_every_message_with_a_doubling_backoff_and_loses_none(smtp, clock):
    messages = [store(f"{name}@jz.example.cn") for name in ("yi_head", "qilihe_head", "village_b_head")]
    with server_down(smtp):
        assert outbox_flush() == {MessageState.PENDING: 3}
        for message in refreshed(*messages):
            assert message.state == MessageState.PENDING
            assert message.attempts == 1
            assert "Connection refused" in message.last_error
            assert message.next_attempt_at == START + datetime.timedelta(seconds=BACKOFF)
            assert message.lease_until is None

        clock.shift(BACKOFF - 1)  # not due yet: nothing is tried
        assert outbox_flush() == {}
        assert {m.attempts for m in refreshed(*messages)} == {1}

        clock.shift(1)
        assert outbox_flush() == {MessageState.PENDING: 3}
        for message in refreshed(*messages):
            assert message.attempts == 2
            assert message.next_attempt_at == timezone.now() + datetime.timedelta(seconds=2 * BACKOFF)

    clock.shift(2 * BACKOFF - 1)
    assert outbox_flush() == {}
    assert smtp.mailbox.messages == []

    clock.shift(1)
    assert outbox_flush() == {MessageState.SENT: 3}
    assert outbox_flush() == {}
    assert received(smtp) == Counter({m.message_id: 1 for m in messages})
    for message in refreshed(*messages):
        assert message.state == MessageState.SENT
        assert message.attempts == 3
        assert message.sent_at == timezone.now()
        assert message.last_error == ""


def test_a_refused_recipient_fails_for_good_and_is_not_retried(smtp, clock):
    refused = store("nobody@jz.example.cn")
    fine = store("yi_head@jz.example.cn")
    smtp.mailbox.refuse.add("nobody@jz.example.cn")

    assert outbox_flush() == {MessageState.FAILED: 1, MessageState.SENT: 1}
    refused.refresh_from_db()
    assert refused.state == MessageState.FAILED
    assert refused.attempts == 1
    assert "550" in refused.last_error and "No such user" in refused.last_error
    assert refused.next_attempt_at is None

    clock.shift(datetime.timedelta(days=1))
    assert outbox_flush() == {}
    refused.refresh_from_db()
    assert (refused.state, refused.attempts) == (MessageState.FAILED, 1)
    assert received(smtp) == Counter({fine.message_id: 1})
    assert OutboundMessage.objects.filter(state=MessageState.FAILED).exclude(last_error="").get() == refused


def test_a_message_fails_after_the_configured_number_of_transient_failures(smtp, clock, settings):
    message = store("yi_head@jz.example.cn")
    with server_down(smtp):
        for attempt in range(1, 4):
            assert outbox_flush() == {MessageState.PENDING: 1}
            message.refresh_from_db()
            assert (message.state, message.attempts) == (MessageState.PENDING, attempt)
            clock.move_to(message.next_attempt_at)

        assert outbox_flush() == {MessageState.FAILED: 1}
        message.refresh_from_db()
        assert message.state == MessageState.FAILED
        assert message.attempts == settings.DUBAN["OUTBOX_MAX_ATTEMPTS"] == 4
        assert message.next_attempt_at is None
        assert "Connection refused" in message.last_error

    clock.shift(datetime.timedelta(days=1))
    assert outbox_flush() == {}
    assert smtp.mailbox.messages == []


def test_a_temporary_refusal_at_the_server_is_retried(smtp, clock):
    message = store("yi_head@jz.example.cn")
    serve(smtp, FlakyMailbox(failures=1))

    assert outbox_flush() == {MessageState.PENDING: 1}
    message.refresh_from_db()
    assert message.attempts == 1 and "451" in message.last_error

    clock.move_to(message.next_attempt_at)
    assert outbox_flush() == {MessageState.SENT: 1}
    assert received(smtp) == Counter({message.message_id: 1})


def test_a_message_left_by_a_dead_worker_is_taken_again_once_its_lease_has_run_out(smtp, clock):
    now = timezone.now()
    abandoned = store(
        "yi_head@jz.example.cn",
        state=MessageState.SENDING,
        attempts=1,
        lease_until=now - datetime.timedelta(seconds=1),
    )
    held = store(
        "qilihe_head@jz.example.cn",
        state=MessageState.SENDING,
        attempts=1,
        lease_until=now + datetime.timedelta(seconds=30),
    )

    assert outbox_flush() == {MessageState.SENT: 1}
    abandoned, held = refreshed(abandoned, held)
    assert (abandoned.state, abandoned.attempts, abandoned.lease_until) == (MessageState.SENT, 2, None)
    assert (held.state, held.attempts) == (MessageState.SENDING, 1)
    assert received(smtp) == Counter({abandoned.message_id: 1})

    clock.shift(30)  # a lease that ends now is still held
    assert outbox_flush() == {}
    clock.shift(1)
    assert outbox_flush() == {MessageState.SENT: 1}
    assert received(smtp) == Counter({abandoned.message_id: 1, held.message_id: 1})


def test_the_message_id_is_the_stored_one_on_every_attempt(smtp, clock):
    message = store("yi_head@jz.example.cn")
    flaky = FlakyMailbox(failures=2)
    serve(smtp, flaky)

    for _attempt in range(3):
        outbox_flush()
        message.refresh_from_db()
        if message.state == MessageState.PENDING:
            clock.move_to(message.next_attempt_at)

    assert message.state == MessageState.SENT and message.attempts == 3
    assert flaky.turned_away == [f"Message-ID: {message.message_id}"] * 2
    (delivered,) = smtp.mailbox.messages
    assert delivered["Message-ID"] == message.message_id
    assert message.message_id.endswith("@duban.localhost>")


def test_subject_and_both_bodies_arrive_as_correctly_encoded_chinese(smtp, clock):
    subject = "【督办】七里河镇人民政府：3 项任务需要您关注——大榆树堡村危房改造入户核查、王家屯村饮水安全"
    text = "郑镇长：\n\n【挂牌督办】\n  3. 大榆树堡村危房改造入户核查（完成时限 2025-09-29，已逾期 11 天）\n"
    html = "<p>郑镇长：</p><h2>挂牌督办</h2><p>大榆树堡村危房改造入户核查——已逾期 11 天</p>"
    message = store("qilihe_head@jz.example.cn", subject=subject, body_text=text, body_html=html)

    assert outbox_flush() == {MessageState.SENT: 1}

    (delivered,) = smtp.mailbox.to(message.to_address)
    raw_subject = dict(delivered.raw_items())["Subject"]
    assert str(make_header(decode_header(raw_subject))) == subject
    # The folded header begins on its second line; the parser keeps that fold as a space.
    assert delivered["Subject"].strip() == subject
    assert delivered["From"].addresses[0].display_name == "督查室"
    # Lines travel with SMTP's CRLF endings.
    assert text_of(delivered).replace("\r\n", "\n") == text
    assert text_of(delivered, "html").rstrip() == html
    for part in (delivered.get_body(("plain",)), delivered.get_body(("html",))):
        assert part.get_content_charset() == "utf-8"
    # On the wire every header is ASCII: the Chinese travels as RFC 2047 encoded words.
    for name, raw in delivered.raw_items():
        assert raw.isascii(), name
    assert raw_subject.lstrip().startswith("=?utf-8?")


class HangUpMailbox(Mailbox):
    """Hangs up in the middle of the first message, as a server that restarts would."""

    def __init__(self):
        super().__init__()
        self.hung_up = False

    async def handle_DATA(self, server, session, envelope):
        if not self.hung_up:
            self.hung_up = True
            server.transport.close()
            return "421 4.3.2 Shutting down"
        return await super().handle_DATA(server, session, envelope)


def test_a_dropped_connection_delays_only_the_message_it_was_sending(smtp, clock):
    first, *others = [store(f"{name}@jz.example.cn") for name in ("yi_head", "qilihe_head", "village_b_head")]
    serve(smtp, HangUpMailbox())

    assert outbox_flush() == {MessageState.PENDING: 1, MessageState.SENT: 2}
    first.refresh_from_db()
    assert (first.state, first.attempts) == (MessageState.PENDING, 1)
    assert received(smtp) == Counter({m.message_id: 1 for m in others})

    clock.move_to(first.next_attempt_at)
    assert outbox_flush() == {MessageState.SENT: 1}
    assert received(smtp) == Counter({m.message_id: 1 for m in [first, *others]})
