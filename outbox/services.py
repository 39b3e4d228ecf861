"""The outbox: messages stored first, then claimed with a lease, sent and marked."""

import datetime
import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Q
from django.utils import timezone

from core.jobs import enqueue_on_commit
from responsibility.models import Unit, User

from .models import MessageState, OutboundMessage

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
    return OutboundMessage.objects.get(pk=message_id) if claimed else None


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
    if message.attachment_path:
        with default_storage.open(message.attachment_path, "rb") as attachment:
            email.attach(message.attachment_name, attachment.read(), "application/pdf")
    return email


def _permanent(error: Exception) -> bool:
    if isinstance(error, ValueError):
        return True  # a message that cannot be built (a bad header) never will be
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def outbox_deliver(*, message: OutboundMessage, connection_=None) -> str:
    """Send one claimed message. A refusal (5xx) fails it for good; anything else is
    retried later with a doubling delay, up to the configured number of attempts."""
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
        permanent = _permanent(error)
        give_up = permanent or message.attempts >= settings.DUBAN["OUTBOX_MAX_ATTEMPTS"]
        delay = settings.DUBAN["OUTBOX_BACKOFF_SECONDS"] * 2 ** max(message.attempts - 1, 0)
        OutboundMessage.objects.filter(pk=message.pk).update(
            state=MessageState.FAILED if give_up else MessageState.PENDING,
            next_attempt_at=None if give_up else timezone.now() + datetime.timedelta(seconds=delay),
            lease_until=None,
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        logger.warning("Message %s not sent (%s): %s", message.pk, "refused" if permanent else "retry", error)
        return MessageState.FAILED if give_up else MessageState.PENDING
    # The window between the server's acceptance and this update is where a crash would
    # send the message again; the stable Message-ID lets the receiving side spot it.
    OutboundMessage.objects.filter(pk=message.pk).update(
        state=MessageState.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    return MessageState.SENT


def outbox_due_ids(*, limit: int = 500) -> list[int]:
    return list(
        OutboundMessage.objects.filter(_due_q(timezone.now()))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_flush(*, limit: int = 500) -> dict[str, int]:
    """Send every due message over one SMTP connection; returns counts by outcome."""
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
