"""``manage.py escalation_sweep`` as an office runs it: it reports in words, fails when
something went wrong, and a day after today is a rehearsal unless sending is asked for."""

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command

from notifications.models import Escalation, Sweep
from outbox.models import MessageState, OutboundMessage

from .conftest import SWEEP_DAY

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 9, 30)
LATER = datetime.date(2025, 10, 20)  # every rung of the tasks due 29 September reached


def at_nine(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(1, 0), tzinfo=datetime.UTC)


def sweep(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(at_nine(TODAY), tick=False):
        call_command("escalation_sweep", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_sweep_reports_in_words(overdue_tasks, smtp):
    out, _err = sweep("--date", SWEEP_DAY.isoformat())

    sent = OutboundMessage.objects.filter(state=MessageState.SENT).count()
    assert sent > 1
    recorded = Escalation.objects.count()
    assert f"{recorded} escalations recorded" in out
    assert f"{sent} sent." in out
    assert "MessageState" not in out and "{" not in out


def test_a_message_not_delivered_makes_the_sweep_fail(overdue_tasks, settings):
    # Nothing listens on this port: every message stays pending for a retry.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1

    with pytest.raises(CommandError) as failed:
        sweep("--date", SWEEP_DAY.isoformat())

    pending = OutboundMessage.objects.filter(state=MessageState.PENDING).count()
    assert pending > 0
    assert failed.value.returncode == 1
    assert f"{pending} messages not delivered" in str(failed.value)


def test_a_later_day_is_refused_without_the_flag(overdue_tasks, smtp):
    with pytest.raises(CommandError) as refused:
        sweep("--date", LATER.isoformat())

    assert "--future" in str(refused.value)
    assert not Sweep.objects.exists()
    assert not Escalation.objects.exists()
    assert smtp.mailbox.messages == []


def test_a_later_day_with_the_flag_is_a_rehearsal_that_keeps_and_sends_nothing(overdue_tasks, smtp):
    out, _err = sweep("--date", LATER.isoformat(), "--future")

    assert out.startswith("rehearsal (rolled back, nothing kept or sent) as of 2025-10-20:")
    # It counted what the day would bring …
    assert "0 escalations" not in out and "0 messages" not in out
    # … and kept none of it.
    assert not Sweep.objects.exists()
    assert not Escalation.objects.exists()
    assert not OutboundMessage.objects.exists()
    assert smtp.mailbox.messages == []


def test_a_later_day_is_swept_for_real_only_when_sending_is_asked_for(overdue_tasks, smtp):
    out, _err = sweep("--date", LATER.isoformat(), "--future", "--send")

    assert Sweep.objects.get().day == LATER
    assert Escalation.objects.filter(level="criticism").exists()
    assert smtp.mailbox.messages
    assert "sent." in out


def test_send_without_a_later_day_is_refused(overdue_tasks, smtp):
    with pytest.raises(CommandError, match="--future"):
        sweep("--date", SWEEP_DAY.isoformat(), "--send")
    assert not Sweep.objects.exists()
