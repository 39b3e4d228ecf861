"""The demo's robots and mobiles post to a local stand-in, so a newcomer sees the messages."""

from io import StringIO

import pytest
from django.core.management import call_command

from demo.channels import DEMO_SECRET, SMS_KEY_ID, SMS_KEY_SECRET
from outbox.models import Channel, MessageState, OutboundMessage, Robot
from tests.outbox import conftest as outbox_fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def stand_in(settings):
    for server in outbox_fixtures.serve(settings):
        server.fake.any_key_secret = DEMO_SECRET
        server.fake.sms_keys[SMS_KEY_ID] = SMS_KEY_SECRET
        settings.DUBAN = {
            **settings.DUBAN,
            "SMS_ACCESS_KEY_ID": SMS_KEY_ID,
            "SMS_ACCESS_KEY_SECRET": SMS_KEY_SECRET,
        }
        yield server


def test_the_demo_posts_its_sweep_to_the_stand_in(stand_in):
    out = StringIO()
    call_command("load_demo", "--force", "--channels", stand_in.base, stdout=out)

    assert (
        Robot.objects.filter(kind="wecom").count() > 10 and Robot.objects.filter(kind="dingtalk").count() == 1
    )
    posted = OutboundMessage.objects.filter(channel__in=[Channel.WECOM, Channel.DINGTALK])
    assert posted.exists()
    assert stand_in.fake.refused == []
    robot_posts = [item for item in stand_in.fake.received if item.channel != "sms"]
    assert len(robot_posts) == posted.filter(state=MessageState.SENT).count()
    # Each post links the task's page (core.links), not the API.
    assert all("【督办】" in item.text and "/tasks/" in item.text for item in robot_posts)
    assert not any("/api/v1/tasks/" in item.text for item in robot_posts)
    assert "GET /api/v1/outbox/?channel=wecom" in out.getvalue()
