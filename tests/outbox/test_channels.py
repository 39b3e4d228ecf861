"""Robots and SMS through the outbox, against a local server speaking their protocols.

The clock is set with time_machine (the server reads the same clock for its own rate
limit and 钉钉's timestamp check); a held message becomes due when the clock passes it.
"""

import datetime
from collections import Counter

import pytest
import time_machine
from django.utils import timezone

from outbox.models import Channel, MessageState, OutboundMessage
from outbox.senders import WECOM_MAX_BYTES, split_markdown
from outbox.services import outbox_claim, outbox_flush
from responsibility.models import Unit

from .conftest import dingtalk_robot, wecom_robot

pytestmark = [pytest.mark.django_db]

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


@pytest.fixture
def unit(db) -> Unit:
    return Unit.objects.create(name="义县", kind="county")


def to_robot(robot, body: str = "**【督办】义县：1 项任务需要关注**\n1. 王家屯村饮水安全", **fields):
    return OutboundMessage.objects.create(
        channel=robot.kind,
        robot=robot,
        recipient_unit=robot.unit,
        to_address=robot.name,
        subject=fields.pop("subject", "【督办】义县：1 项任务需要关注"),
        body_text=body,
        next_attempt_at=timezone.now(),
        **fields,
    )


def sms_to(mobile: str, **fields) -> OutboundMessage:
    return OutboundMessage.objects.create(
        channel=Channel.SMS,
        to_address=mobile,
        subject="挂牌督办 · 王家屯村饮水安全",
        body_text="",
        sms_template="SMS_DUBAN_LISTED",
        sms_params={"name": "孙县长", "level": "挂牌督办", "count": "1", "task": "王家屯村饮水安全"},
        next_attempt_at=fields.pop("next_attempt_at", timezone.now()),
        **fields,
    )


def refreshed(*messages):
    for message in messages:
        message.refresh_from_db()
    return list(messages)


def test_a_wecom_digest_arrives_once_as_markdown(channels, unit, clock):
    robot = wecom_robot(channels, unit, "key-yi")
    message = to_robot(robot)

    assert outbox_flush() == {MessageState.SENT: 1}
    assert outbox_flush() == {}
    [received] = channels.fake.of("key-yi")
    assert received.body == {"msgtype": "markdown", "markdown": {"content": message.body_text}}
    [message] = refreshed(message)
    assert message.state == MessageState.SENT and message.attempts == 1 and message.parts_sent == 1
    assert channels.fake.refused == []


def test_a_dingtalk_robot_signs_every_post_and_a_wrong_secret_fails_for_good(channels, unit, clock):
    signed = dingtalk_robot(channels, unit, "token-a", "SECright")
    wrong = dingtalk_robot(channels, unit, "token-b", "SECwrong", server_secret="SECother")
    good, bad = to_robot(signed), to_robot(wrong)

    assert outbox_flush() == {MessageState.SENT: 1, MessageState.FAILED: 1}
    [received] = channels.fake.of("token-a")
    assert received.body["markdown"] == {"title": good.subject, "text": good.body_text}
    good, bad = refreshed(good, bad)
    assert good.state == MessageState.SENT
    assert bad.state == MessageState.FAILED and bad.attempts == 1 and bad.next_attempt_at is None
    assert "310000" in bad.last_error and "签名" in bad.last_error
    assert channels.fake.refused == [("dingtalk", "token-b", "sign")]


def test_a_bad_key_fails_the_message_for_good_and_says_why(channels, unit, clock):
    robot = wecom_robot(channels, unit, "removed-key", known=False)
    message = to_robot(robot)

    assert outbox_flush() == {MessageState.FAILED: 1}
    clock.shift(datetime.timedelta(days=1))
    assert outbox_flush() == {}
    [message] = refreshed(message)
    assert message.state == MessageState.FAILED and message.attempts == 1
    assert "93000" in message.last_error and "机器人地址无效" in message.last_error


@pytest.mark.sqlite  # the robot's window is locked by a row lock on PostgreSQL, by SQLite's one writer
def test_the_sender_keeps_each_robot_within_20_a_minute_and_in_order(channels, unit, clock):
    yi = wecom_robot(channels, unit, "key-yi")
    other = dingtalk_robot(channels, Unit.objects.create(name="黑山县", kind="county"), "token-h", "SEC1")
    messages = [to_robot(yi, f"第 {n} 条") for n in range(45)]
    others = [to_robot(other, f"黑山 {n}") for n in range(3)]

    assert outbox_flush() == {MessageState.SENT: 23, MessageState.PENDING: 25}
    waiting = refreshed(*messages)[20:]
    assert {m.next_attempt_at for m in waiting} == {START + datetime.timedelta(seconds=60)}
    assert {m.attempts for m in waiting} == {0}  # waiting is not a failed attempt
    assert "每分钟发送上限" in waiting[0].last_error

    clock.shift(59)
    assert outbox_flush() == {}
    clock.shift(1)
    assert outbox_flush() == {MessageState.SENT: 20, MessageState.PENDING: 5}
    clock.shift(60)
    assert outbox_flush() == {MessageState.SENT: 5}

    texts = [item.text for item in channels.fake.of("key-yi")]
    assert texts == [f"第 {n} 条" for n in range(45)]  # in order, each once
    assert [item.text for item in channels.fake.of("token-h")] == [f"黑山 {n}" for n in range(3)]
    per_minute = Counter(int(item.at - START.timestamp()) // 60 for item in channels.fake.of("key-yi"))
    assert per_minute == {0: 20, 1: 20, 2: 5}
    assert channels.fake.refused == []
    assert all(m.state == MessageState.SENT for m in refreshed(*messages, *others))


def test_a_robot_the_service_rate_limits_gets_every_message_after_the_limit_lifts_in_order(
    channels, unit, clock
):
    robot = wecom_robot(channels, unit, "busy-key")
    channels.fake.modes["busy-key"] = "rate_limited"  # someone else's posts used the minute
    messages = [to_robot(robot, f"消息 {n}") for n in range(4)]

    assert outbox_flush() == {MessageState.PENDING: 4}
    first, *later = refreshed(*messages)
    assert "45009" in first.last_error
    assert first.next_attempt_at == START + datetime.timedelta(seconds=60)
    assert {m.attempts for m in refreshed(*messages)} == {0}
    assert all("之前的消息" in m.last_error for m in later)

    channels.fake.modes["busy-key"] = "ok"
    clock.shift(60)
    assert outbox_flush() == {MessageState.SENT: 4}
    assert outbox_flush() == {}
    assert [item.text for item in channels.fake.of("busy-key")] == [f"消息 {n}" for n in range(4)]


def test_a_robot_that_hangs_is_retried_with_backoff_and_the_message_arrives_once(channels, unit, clock):
    robot = wecom_robot(channels, unit, "slow-key")
    channels.fake.modes["slow-key"] = "hang"
    message = to_robot(robot)

    assert outbox_flush() == {MessageState.PENDING: 1}
    [message] = refreshed(message)
    assert message.attempts == 1 and "timed out" in message.last_error
    assert message.next_attempt_at == START + datetime.timedelta(seconds=BACKOFF)

    channels.fake.modes["slow-key"] = "ok"
    clock.shift(BACKOFF)
    assert outbox_flush() == {MessageState.SENT: 1}
    assert len(channels.fake.of("slow-key")) == 1


def test_a_worker_killed_mid_send_leaves_the_message_to_be_sent_once_after_its_lease(channels, unit, clock):
    robot = wecom_robot(channels, unit, "key-yi")
    posted = to_robot(robot)
    texted = sms_to("13800000001")
    # A worker claims both and dies before sending.
    assert outbox_claim(message_id=posted.pk) and outbox_claim(message_id=texted.pk)

    assert outbox_flush() == {}  # the lease holds them
    clock.shift(301)
    assert outbox_flush() == {MessageState.SENT: 2}
    assert outbox_flush() == {}
    assert len(channels.fake.of("key-yi")) == 1
    [sms] = channels.fake.of("13800000001")
    texted.refresh_from_db()
    assert sms.body["OutId"] == texted.message_id  # the gateway can match a resend to it
    assert texted.attempts == 2


def test_a_long_digest_goes_in_parts_cut_at_line_ends_and_resumes_after_the_parts_sent(
    channels, unit, clock, settings
):
    settings.DUBAN = {**settings.DUBAN, "ROBOT_RATE": (2, 60)}
    robot = wecom_robot(channels, unit, "key-yi")
    line = "{n}. [王家屯村饮水安全工程第 {n} 项](http://duban.example/tasks/{n}/) 责任单位：王家屯村"
    lines = [line.format(n=n) for n in range(150)]
    message = to_robot(robot, "**【督办】义县：150 项任务需要关注**\n" + "\n".join(lines))

    assert outbox_flush() == {MessageState.PENDING: 1}
    [message] = refreshed(message)
    assert message.parts_sent == 2
    clock.shift(60)
    assert outbox_flush() == {MessageState.PENDING: 1}
    clock.shift(60)
    assert outbox_flush() == {MessageState.SENT: 1}

    parts = [item.text for item in channels.fake.of("key-yi")]
    assert len(parts) == len(split_markdown(message.subject, message.body_text, WECOM_MAX_BYTES)) == 5
    assert all(len(part.encode()) <= WECOM_MAX_BYTES for part in parts)
    assert all(part.startswith(f"**{message.subject}（续）**\n") for part in parts[1:])
    received_lines = [line for part in parts for line in part.splitlines() if not line.endswith("（续）**")]
    assert received_lines == message.body_text.splitlines()  # every line whole, once, in order
    assert channels.fake.refused == []


def test_sms_waits_out_quiet_hours_and_is_signed(channels, clock):
    clock.move_to(datetime.datetime(2025, 9, 30, 14, 30, tzinfo=datetime.UTC))  # 22:30 in Shanghai
    message = sms_to("13800000002")

    assert outbox_flush() == {MessageState.PENDING: 1}
    [message] = refreshed(message)
    morning = datetime.datetime(2025, 10, 1, 0, 0, tzinfo=datetime.UTC)  # 08:00 in Shanghai
    assert message.next_attempt_at == morning and message.attempts == 0
    assert channels.fake.received == []

    clock.move_to(morning - datetime.timedelta(seconds=1))
    assert outbox_flush() == {}
    clock.move_to(morning)
    assert outbox_flush() == {MessageState.SENT: 1}
    [sms] = channels.fake.of("13800000002")
    assert sms.body["TemplateCode"] == "SMS_DUBAN_LISTED"
    assert sms.body["SignName"] == "督查室"
    assert channels.fake.refused == []  # the server checked the signature


def test_an_sms_to_a_number_the_gateway_refuses_fails_for_good(channels, clock):
    message = sms_to("12345")
    assert outbox_flush() == {MessageState.FAILED: 1}
    [message] = refreshed(message)
    assert "isv.MOBILE_NUMBER_ILLEGAL" in message.last_error


def test_a_split_never_cuts_a_line():
    text = "\n".join(f"第 {n} 行：" + "字" * (n % 50) for n in range(400))
    parts = split_markdown("标题", text, 1000)
    assert all(len(part.encode()) <= 1000 for part in parts)
    lines = [line for part in parts for line in part.splitlines() if line != "**标题（续）**"]
    assert lines == text.splitlines()
