"""A local server speaking the robots' and the SMS gateway's protocols, and robots on it."""

import pytest

from demo.fake_channels import FakeChannels, FakeChannelServer
from outbox import vault
from outbox.models import Robot

SMS_KEY_ID, SMS_KEY_SECRET = "LTAI-test", "test-secret-of-the-gateway"


def serve(settings):
    """A fresh fake server with the settings pointing at it; ``server.fake`` holds what it
    received and refused. A generator for fixtures here and in other test packages."""
    fake = FakeChannels(sms_keys={SMS_KEY_ID: SMS_KEY_SECRET})
    server = FakeChannelServer(fake).start()
    settings.DUBAN = {
        **settings.DUBAN,
        "ROBOT_HOSTS": [*settings.DUBAN["ROBOT_HOSTS"], "127.0.0.1"],
        "CHANNEL_TIMEOUT_SECONDS": 1,
        "SMS_ENDPOINT": server.sms_url,
        "SMS_ACCESS_KEY_ID": SMS_KEY_ID,
        "SMS_ACCESS_KEY_SECRET": SMS_KEY_SECRET,
    }
    yield server
    server.stop()


@pytest.fixture
def channels(settings):
    yield from serve(settings)


def wecom_robot(server: FakeChannelServer, unit, key: str, *, known: bool = True, name: str = "") -> Robot:
    if known:
        server.fake.wecom_keys.add(key)
    return Robot.objects.create(
        unit=unit,
        kind="wecom",
        name=name or f"企业微信群 {key}",
        webhook_encrypted=vault.encrypt(server.wecom_url(key)),
    )


def dingtalk_robot(
    server: FakeChannelServer, unit, token: str, secret: str, *, server_secret: str | None = None
) -> Robot:
    server.fake.dingtalk_secrets[token] = secret if server_secret is None else server_secret
    return Robot.objects.create(
        unit=unit,
        kind="dingtalk",
        name=f"钉钉群 {token}",
        webhook_encrypted=vault.encrypt(server.dingtalk_url(token)),
        secret_encrypted=vault.encrypt(secret),
    )
