"""A sweep's digests on every channel: e-mail, the groups' robots and SMS, through the
outbox to a local server speaking the robots' and the gateway's protocols.

Who receives what: each unit told that has a robot gets one group message per robot;
each person told who has a mobile, whose rung goes by SMS, gets at most one SMS, unless
their own unit's group was told of every such item and they put the group first."""

import datetime

import pytest
import time_machine

from core.links import task_page_url
from notifications.models import EscalationRule, Level
from notifications.services import sweep_run
from outbox.models import Channel, Contact, MessageState, OutboundMessage
from outbox.services import outbox_flush
from tests.outbox import conftest as outbox_fixtures

from .conftest import SWEEP_DAY

pytestmark = pytest.mark.django_db

MORNING = datetime.datetime(2025, 9, 30, 1, 0, tzinfo=datetime.UTC)  # 09:00 in Shanghai
NIGHT = datetime.datetime(2025, 9, 30, 14, 30, tzinfo=datetime.UTC)  # 22:30 in Shanghai


@pytest.fixture
def server(settings):
    yield from outbox_fixtures.serve(settings)


@pytest.fixture
def groups(server, world, overdue_tasks):
    """Robots on the township that issued two tasks, on the village that leads one, and a
    signed 钉钉 robot on 黑山县; an overdue notice also goes by SMS; four heads have mobiles."""
    EscalationRule.objects.filter(campaign=None, level=Level.OVERDUE).update(by_sms=True)
    robots = {
        "七里河镇": outbox_fixtures.wecom_robot(server, world.unit("七里河镇"), "qilihe"),
        "王家屯村": outbox_fixtures.wecom_robot(server, world.unit("王家屯村"), "wangjiatun"),
        "黑山县": outbox_fixtures.dingtalk_robot(server, world.unit("黑山县"), "heishan", "SECheishan"),
    }
    for username, mobile, order in [
        ("qilihe_head", "13900000001", ["sms", "robot"]),  # wants SMS even when the group is told
        ("village_b_head", "13900000002", []),  # the group first (default): 王家屯村's group is told
        ("heishan_head", "13900000003", []),  # the group first: 黑山县's group is told
        ("village_a_head", "13900000004", []),  # 大榆树堡村 has no group robot: SMS
    ]:
        Contact.objects.create(user=world.person(username), mobile=mobile, channel_order=order)
    return robots


def titles_in(text: str, tasks) -> set[str]:
    return {name for name, task in tasks.items() if task.title in text}


def test_each_group_and_each_person_is_told_once_on_their_channels(server, groups, overdue_tasks, settings):
    with time_machine.travel(MORNING, tick=False):
        first = sweep_run(day=SWEEP_DAY)
        again = sweep_run(day=SWEEP_DAY)
    assert again["messages"] == 0

    fake = server.fake
    assert fake.refused == []
    [qilihe] = fake.of("qilihe")
    assert titles_in(qilihe.text, overdue_tasks) == {"houses", "water"}
    assert f"({task_page_url(overdue_tasks['water'].pk)})" in qilihe.text
    [wangjiatun] = fake.of("wangjiatun")
    assert titles_in(wangjiatun.text, overdue_tasks) == {"water"}
    [heishan] = fake.of("heishan")  # signed: the server checked it
    assert titles_in(heishan.text, overdue_tasks) == {"roads"}
    assert heishan.body["markdown"]["title"].startswith("【督办】黑山县")

    texted = {item.key: item.body for item in fake.received if item.channel == "sms"}
    assert set(texted) == {"13900000001", "13900000004"}
    qilihe_sms = OutboundMessage.objects.get(channel=Channel.SMS, to_address="13900000001")
    assert texted["13900000001"]["OutId"] == qilihe_sms.message_id
    assert texted["13900000001"]["TemplateCode"] == settings.DUBAN["SMS_TEMPLATES"]["overdue"]
    assert set(qilihe_sms.escalations.values_list("task_id", flat=True)) == {
        overdue_tasks["houses"].pk,
        overdue_tasks["water"].pk,
    }

    by_channel = {
        channel: OutboundMessage.objects.filter(channel=channel).count()
        for channel in (Channel.WECOM, Channel.DINGTALK, Channel.SMS)
    }
    assert by_channel == {Channel.WECOM: 2, Channel.DINGTALK: 1, Channel.SMS: 2}
    assert (
        not OutboundMessage.objects.exclude(state=MessageState.SENT).exclude(channel=Channel.EMAIL).exists()
    )
    assert first["sent"][MessageState.SENT] == OutboundMessage.objects.filter(state=MessageState.SENT).count()


def test_a_rung_not_meant_for_the_groups_or_sms_goes_by_e_mail_only(server, groups):
    EscalationRule.objects.filter(campaign=None).update(by_robot=False, by_sms=False)
    with time_machine.travel(MORNING, tick=False):
        result = sweep_run(day=SWEEP_DAY)
    assert result["messages"] > 0
    assert server.fake.received == []
    assert set(OutboundMessage.objects.values_list("channel", flat=True)) == {Channel.EMAIL}


def test_a_night_sweep_posts_to_the_groups_and_holds_sms_until_morning(server, groups):
    with time_machine.travel(NIGHT, tick=False) as clock:
        sweep_run(day=SWEEP_DAY)
        assert {item.channel for item in server.fake.received} == {"wecom", "dingtalk"}
        held = OutboundMessage.objects.filter(channel=Channel.SMS)
        morning = datetime.datetime(2025, 9, 30, 0, 0, tzinfo=datetime.UTC) + datetime.timedelta(days=1)
        assert {(m.state, m.next_attempt_at, m.attempts) for m in held} == {
            (MessageState.PENDING, morning, 0)
        }

        clock.move_to(morning)
        assert outbox_flush() == {MessageState.SENT: 2}
    assert {item.key for item in server.fake.received if item.channel == "sms"} == {
        "13900000001",
        "13900000004",
    }
