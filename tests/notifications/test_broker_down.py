"""With the broker down, the API still accepts work; what it would have queued is done by
the beat jobs once the broker is back (here: called directly, as beat would)."""

import datetime

import kombu.pools
import pytest
import time_machine

from backend.celery import app
from bulletins.models import BulletinState
from bulletins.services import bulletin_create, bulletins_render_pending
from notifications.models import Escalation
from notifications.services import digest_compose
from outbox.models import OutboundMessage
from outbox.services import outbox_flush
from responsibility.models import Unit, User

pytestmark = pytest.mark.django_db

NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def broker_down():
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=NOWHERE, task_always_eager=False)
    app._pool = None
    kombu.pools.reset()
    yield
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


def test_a_manual_escalation_is_accepted_and_mailed_when_the_broker_returns(
    world, make_task, api, broker_down, django_capture_on_commit_callbacks, smtp, caplog
):
    User.objects.filter(username="village_a_head").update(email="village_a_head@jz.example.cn")
    task = make_task(
        "大榆树堡村危房改造", lead_unit="大榆树堡村", responsible_person=world.person("village_a_head")
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user("yi_supervisor").post(
            f"/api/v1/tasks/{task.pk}/escalations/",
            {"level": "reminder", "reason": "请加快进度"},
            format="json",
        )

    assert response.status_code == 201
    assert Escalation.objects.filter(task=task, manual=True).count() == 1
    assert not OutboundMessage.objects.exists()  # the digest job could not be queued
    assert any("escalation_digest" in record.getMessage() or record.exc_info for record in caplog.records)

    digest_compose()
    outbox_flush()
    assert len(smtp.mailbox.to("village_a_head@jz.example.cn")) == 1


def test_a_bulletin_published_while_the_broker_is_down_is_rendered_later(
    world, api, broker_down, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(datetime.datetime(2018, 12, 1, 1, 0, tzinfo=datetime.UTC), tick=False):
        bulletin = bulletin_create(
            actor=world.person("city_supervisor"),
            issuer=Unit.objects.get(name="市委督查室"),
            title="关于百日攻坚行动进展情况的通报",
            period_start=datetime.date(2018, 11, 1),
            period_end=datetime.date(2018, 11, 30),
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = api.as_user("city_supervisor").post(f"/api/v1/bulletins/{bulletin.pk}/publish/")

    assert response.status_code == 200
    bulletin.refresh_from_db()
    assert bulletin.state == BulletinState.PUBLISHED and not bulletin.pdf

    assert bulletins_render_pending() == 1
    bulletin.refresh_from_db()
    assert bulletin.pdf and len(bulletin.pdf_sha256) == 64
