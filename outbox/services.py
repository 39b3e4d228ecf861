"""The outbox: messages stored first, then claimed with a lease, sent and marked.

Every channel goes through the same steps (store, claim with a lease, deliver, mark or
back off or fail for good); only the last mile differs: SMTP for e-mail, a robot's
webhook (within the robot's rate limit) or the SMS gateway (outside quiet hours)."""

import datetime
import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.jobs import enqueue_on_commit
from responsibility.models import Unit, User

from . import vault
from .models import ROBOT_CHANNELS, Channel, MessageState, OutboundMessage, Robot
from .senders import SendError, robot_parts, robot_send, sms_gateway

logger = logging.getLogger(__name__)


def outbox_store(
    *,
    kind: str,
    units: Iterable[Unit],
    subject: str,
    body_text: str,
    body_html: str = "",
    attachment_path: str = "",
    attachment_name: str = "",
    users: Iterable[User] = (),
) -> list[OutboundMessage]:
    """Store one message per distinct unit and person address (one without an address is
    kept visibly as ``no_address``) and have the outbox send them after the transaction
    commits."""
    now = timezone.now()
    messages, addresses = [], set()
    recipients = [(unit, None) for unit in units] + [(None, user) for user in users]
    for unit, user in recipients:
        address = ((unit or user).email or "").strip().lower()
        if address and address in addresses:
            continue
        addresses.add(address)
        messages.append(
            OutboundMessage(
                kind=kind,
                recipient_unit=unit,
                recipient_user=user,
                to_address=address,
                subject=subject,
                body_text=body_text,
                body_html=body_html,
                attachment_path=attachment_path,
                attachment_name=attachment_name,
                state=MessageState.PENDING if address else MessageState.NO_ADDRESS,
                next_attempt_at=now if address else None,
            )
        )
    OutboundMessage.objects.bulk_create(messages)
    enqueue_on_commit("outbox.jobs.outbox_flush")
    return messages


def _due_q(now: datetime.datetime) -> Q:
    return Q(state=MessageState.PENDING, next_attempt_at__lte=now) | Q(
        state=MessageState.SENDING, lease_until__lt=now
    )


def outbox_claim(*, message_id: int) -> OutboundMessage | None:
    """Take a due message for sending; None if another worker holds it or it is done."""
    now = timezone.now()
    lease = now + datetime.timedelta(seconds=settings.DUBAN["OUTBOX_LEASE_SECONDS"])
    claimed = OutboundMessage.objects.filter(_due_q(now), pk=message_id).update(
        state=MessageState.SENDING, lease_until=lease, attempts=F("attempts") + 1
    )
    return OutboundMessage.objects.select_related("robot").get(pk=message_id) if claimed else None


def _email(message: OutboundMessage, connection_) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        to=[message.to_address],
        headers={"Message-ID": message.message_id},
        connection=connection_,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    files = [(message.attachment_path, message.attachment_name)] if message.attachment_path else []
    for path, name in [*files, *(message.attachments or [])]:
        with default_storage.open(path, "rb") as attachment:
            email.attach(name, attachment.read(), "application/pdf")
    return email


def _permanent(error: Exception) -> bool:
    if isinstance(error, ValueError):
        return True  # a message that cannot be built (a bad header) never will be
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _retry_or_fail(message: OutboundMessage, error: str, permanent: bool) -> str:
    """A failed attempt: for good if the channel refused it or the attempts are used up,
    else due again after a delay that doubles with each attempt."""
    give_up = permanent or message.attempts >= settings.DUBAN["OUTBOX_MAX_ATTEMPTS"]
    delay = settings.DUBAN["OUTBOX_BACKOFF_SECONDS"] * 2 ** max(message.attempts - 1, 0)
    OutboundMessage.objects.filter(pk=message.pk).update(
        state=MessageState.FAILED if give_up else MessageState.PENDING,
        next_attempt_at=None if give_up else timezone.now() + datetime.timedelta(seconds=delay),
        lease_until=None,
        last_error=error[:2000],
    )
    logger.warning("Message %s not sent (%s): %s", message.pk, "refused" if permanent else "retry", error)
    return MessageState.FAILED if give_up else MessageState.PENDING


def _hold(message: OutboundMessage, until: datetime.datetime, reason: str) -> str:
    """Not now, and not a failure: a robot at its rate limit, an earlier message of the
    same robot still waiting, quiet hours. The attempt is given back."""
    OutboundMessage.objects.filter(pk=message.pk).update(
        state=MessageState.PENDING,
        next_attempt_at=until,
        lease_until=None,
        attempts=F("attempts") - 1,
        last_error=reason,
    )
    return MessageState.PENDING


def _sent(message: OutboundMessage) -> str:
    OutboundMessage.objects.filter(pk=message.pk).update(
        state=MessageState.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    return MessageState.SENT


def _deliver_email(message: OutboundMessage, connection_=None) -> str:
    try:
        if connection_ is not None:
            # The caller's connection is opened by its first message and kept for the rest,
            # so that a server that is down is a failed attempt of each message.
            connection_.open()
        _email(message, connection_ or get_connection()).send()
    except (smtplib.SMTPException, OSError, ValueError) as error:
        if connection_ is not None:
            # The session may be dead (the server hung up); the next message opens a new one.
            connection_.close()
        return _retry_or_fail(message, f"{type(error).__name__}: {error}", _permanent(error))
    # The window between the server's acceptance and this update is where a crash would
    # send the message again; the stable Message-ID lets the receiving side spot it.
    return _sent(message)


def robot_take_slot(robot_id: int) -> datetime.datetime | None:
    """Take one of the robot's sends in the current window; None if taken, else when the
    next one frees.

    The bucket lives in PostgreSQL, in the robot's row (``recent_sends``: the times of its
    last posts), locked while it is read and written: every worker sees the same window
    without a second store, the embedded default (SQLite, no Redis) works the same, and
    a robot's rate is a few posts a minute, far below what a row lock costs. A sliding
    window rather than a refilling bucket: 20 sends in any 60 seconds, whichever way the
    service counts its minute."""
    count, seconds = settings.DUBAN["ROBOT_RATE"]
    window = datetime.timedelta(seconds=seconds)
    now = timezone.now()
    with transaction.atomic():
        sends = Robot.objects.select_for_update().values_list("recent_sends", flat=True).get(pk=robot_id)
        recent = sorted(t for t in map(datetime.datetime.fromisoformat, sends) if t > now - window)
        if len(recent) >= count:
            return recent[-count] + window
        Robot.objects.filter(pk=robot_id).update(recent_sends=[t.isoformat() for t in [*recent, now]])
    return None


def _earlier_waiting(message: OutboundMessage) -> datetime.datetime | None:
    """When the robot's earliest unsent message before this one is due, if there is one:
    a group reads its messages in the order they were composed."""
    earlier = (
        OutboundMessage.objects.filter(
            robot_id=message.robot_id,
            pk__lt=message.pk,
            state__in=[MessageState.PENDING, MessageState.SENDING],
        )
        .order_by("pk")
        .values_list("next_attempt_at", "lease_until")
        .first()
    )
    if earlier is None:
        return None
    return max(moment for moment in (*earlier, timezone.now()) if moment is not None)


def _deliver_robot(message: OutboundMessage) -> str:
    robot = message.robot
    waiting = _earlier_waiting(message)
    if waiting is not None:
        return _hold(message, waiting, "等待本机器人之前的消息发出")
    try:
        if not robot.active:
            raise SendError("机器人已停用", permanent=True)
        webhook, secret = vault.decrypt(robot.webhook_encrypted), vault.decrypt(robot.secret_encrypted)
        parts = robot_parts(robot.kind, message.subject, message.body_text)
        for index in range(message.parts_sent, len(parts)):
            free_at = robot_take_slot(robot.pk)
            if free_at is not None:
                return _hold(message, free_at, "机器人已达每分钟发送上限，稍后发送")
            robot_send(robot.kind, webhook, secret, message.subject, parts[index])
            OutboundMessage.objects.filter(pk=message.pk).update(parts_sent=index + 1)
    except SendError as error:
        if error.hold_seconds:
            until = timezone.now() + datetime.timedelta(seconds=error.hold_seconds)
            return _hold(message, until, str(error))
        return _retry_or_fail(message, str(error), error.permanent)
    except ValueError as error:
        return _retry_or_fail(message, str(error), True)
    return _sent(message)


def sms_quiet_until(now: datetime.datetime) -> datetime.datetime | None:
    """The end of the quiet hours ``now`` falls in (local time), or None outside them."""
    start, end = (
        datetime.time.fromisoformat(bound) for bound in settings.DUBAN["SMS_QUIET_HOURS"].split("-")
    )
    local = timezone.localtime(now)
    moment = local.time()
    quiet = (start <= moment or moment < end) if start > end else (start <= moment < end)
    if not quiet:
        return None
    day = local.date() + datetime.timedelta(days=1) if start > end and moment >= start else local.date()
    return datetime.datetime.combine(day, end, tzinfo=local.tzinfo)


def first_attempt_at(channel: str, now: datetime.datetime) -> datetime.datetime:
    """When a new message of the channel is first due: an SMS composed at night waits."""
    return (sms_quiet_until(now) if channel == Channel.SMS else None) or now


def _deliver_sms(message: OutboundMessage) -> str:
    until = sms_quiet_until(timezone.now())
    if until is not None:
        return _hold(message, until, "免打扰时段，短信待次日发送")
    try:
        sms_gateway().send(
            mobile=message.to_address,
            template=message.sms_template,
            params=message.sms_params,
            out_id=message.message_id,
        )
    except SendError as error:
        if error.hold_seconds:
            until = timezone.now() + datetime.timedelta(seconds=error.hold_seconds)
            return _hold(message, until, str(error))
        return _retry_or_fail(message, str(error), error.permanent)
    return _sent(message)


def outbox_deliver(*, message: OutboundMessage, connection_=None) -> str:
    """Send one claimed message. A refusal (an SMTP 5xx, a bad robot key, an unknown
    number) fails it for good; anything else is retried later with a doubling delay, up
    to the configured number of attempts."""
    if message.channel in ROBOT_CHANNELS:
        return _deliver_robot(message)
    if message.channel == Channel.SMS:
        return _deliver_sms(message)
    return _deliver_email(message, connection_)


def outbox_due_ids(*, limit: int = 500) -> list[int]:
    return list(
        OutboundMessage.objects.filter(_due_q(timezone.now()))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_flush(*, limit: int = 500) -> dict[str, int]:
    """Send every due message, the e-mails over one SMTP connection; returns counts by outcome."""
    outcomes: dict[str, int] = defaultdict(int)
    # Not opened here: a server that is down must not fail the flush before any message
    # has counted the attempt, or nothing would back off and nothing would ever fail.
    smtp = get_connection()
    try:
        for message_id in outbox_due_ids(limit=limit):
            message = outbox_claim(message_id=message_id)
            if message is not None:
                outcomes[outbox_deliver(message=message, connection_=smtp)] += 1
    finally:
        smtp.close()
    return dict(outcomes)
