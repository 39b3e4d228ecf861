"""Writes of the escalation ladder and the outbox.

A sweep has three steps, each safe to repeat or to run twice at once:
1. record: for every rung, one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per campaign
   and subtree puts the tasks that reached it into ``Escalation``; the unique constraint
   keeps each (task, level, due date) to one row;
2. compose: every escalation nobody has been told about yet becomes part of one digest
   per recipient, stored in the outbox in the same transaction that marks it told;
3. deliver: each stored message is claimed with a lease, sent over SMTP and marked sent.
"""

import datetime
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, InvalidInput
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user
from tasks.models import OPEN_STATES, Campaign, Task
from tasks.selectors import today as local_today
from tasks.workdays import calendar_for

from .ladder import AUDIENCE_FLAGS, Rung, ladders_for, reached_q
from .models import (
    DECIDED_LEVELS,
    LEVEL_RANK,
    MANUAL_LEVELS,
    Escalation,
    Level,
    MessageState,
    OutboundMessage,
    Sweep,
    SweepPart,
)
from .recipients import UNIT, USER, Chain, Recipient, audience_recipients

logger = logging.getLogger(__name__)


# ---- 1. record ------------------------------------------------------------------------

ESCALATION_COLUMNS = (
    "task_id",
    "level",
    "rank",
    "due_date",
    "lead_unit_id",
    "responsible_person_id",
    "manual",
    "reason",
    "sweep_id",
    "created_at",
)


def sweep_start(*, day: datetime.date | None = None) -> Sweep:
    """A sweep for ``day``, split into parts: one per top-level unit's own tasks and one
    per subtree just below it, so that workers can share a province."""
    day = day or local_today()
    with transaction.atomic():
        sweep = Sweep.objects.create(day=day)
        roots = list(Unit.objects.filter(depth=0).values_list("pk", flat=True))
        below = list(Unit.objects.filter(depth=1).values_list("pk", flat=True))
        SweepPart.objects.bulk_create([SweepPart(sweep=sweep, unit_id=unit_id) for unit_id in roots + below])
        sweep.parts_total = len(roots) + len(below)
        sweep.save(update_fields=["parts_total"])
    return sweep


def _part_tasks_q(part: SweepPart) -> Q:
    if part.unit.depth == 0:
        return Q(lead_unit=part.unit)
    return Q(lead_unit__path__startswith=part.unit.path)


def _insert_reached(tasks_q: Q, rung: Rung, today: datetime.date, calendar, sweep: Sweep) -> int:
    now = timezone.now()
    selected = (
        Task.objects.filter(tasks_q, reached_q(rung, today, calendar), state__in=OPEN_STATES)
        # One order for every sweep: two sweeps inserting the same rows cannot deadlock.
        .order_by("pk")
        .annotate(
            e_level=Value(rung.level),
            e_rank=Value(rung.rank),
            e_manual=Value(False),
            e_reason=Value(""),
            e_sweep=Value(sweep.pk),
            e_created=Value(now, output_field=DateTimeField()),
        )
        .values_list(
            "pk",
            "e_level",
            "e_rank",
            "due_date",
            "lead_unit_id",
            "responsible_person_id",
            "e_manual",
            "e_reason",
            "e_sweep",
            "e_created",
        )
    )
    select_sql, params = selected.query.sql_with_params()
    table = connection.ops.quote_name(Escalation._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in ESCALATION_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {select_sql} ON CONFLICT DO NOTHING", params)
        return max(cursor.rowcount, 0)


def sweep_part_run(*, part_id: int) -> bool:
    """Record what one part's tasks reached. True when this was the sweep's last part."""
    with transaction.atomic():
        part = (
            SweepPart.objects.select_related("sweep", "unit").select_for_update(of=("self",)).get(pk=part_id)
        )
        if part.done_at is not None:
            return False
        sweep = part.sweep
        campaigns = Campaign.objects.filter(tasks__state__in=OPEN_STATES).distinct()
        calendar = calendar_for(sweep.day)
        recorded = 0
        for campaign_id, rungs in ladders_for(campaigns).items():
            for rung in rungs:
                recorded += _insert_reached(
                    Q(campaign_id=campaign_id) & _part_tasks_q(part), rung, sweep.day, calendar, sweep
                )
        part.done_at, part.recorded = timezone.now(), recorded
        part.save(update_fields=["done_at", "recorded"])
        # Serialise the last parts on the sweep row, so exactly one of them sees all done.
        sweep = Sweep.objects.select_for_update().get(pk=sweep.pk)
        sweep.escalations_recorded = F("escalations_recorded") + recorded
        last = not SweepPart.objects.filter(sweep=sweep, done_at__isnull=True).exists()
        if last:
            sweep.recorded_at = timezone.now()
        sweep.save(update_fields=["escalations_recorded", "recorded_at"])
    return last


# ---- manual escalation ----------------------------------------------------------------


def escalation_record_manual(
    *, task: Task, actor: User, level: str, reason: str, people: list[User] = ()
) -> Escalation:
    """The supervision office reminds now, lists an item, or records an admonishment talk
    (约谈) or accountability (问责), with a reason; the record is permanent."""
    access = access_for_user(actor)
    if not (access.is_admin or access.supervises(task.lead_unit) or access.supervises(task.issuing_unit)):
        raise Forbidden(_("只有督查室可以记录督办。"))
    if level not in MANUAL_LEVELS:
        message = _("不能手工记录该级别。")
        raise InvalidInput(message, code="invalid_level", fields={"level": [message]})
    reason = (reason or "").strip()
    if not reason:
        message = _("请填写督办理由。")
        raise InvalidInput(message, code="reason_required", fields={"reason": [message]})
    if level in DECIDED_LEVELS and not people:
        message = _("约谈和问责须写明涉及的人员。")
        raise InvalidInput(message, code="people_required", fields={"people": [message]})
    with transaction.atomic():
        escalation = Escalation.objects.create(
            task=task,
            level=level,
            rank=LEVEL_RANK[level],
            due_date=task.due_date,
            lead_unit_id=task.lead_unit_id,
            responsible_person_id=task.responsible_person_id,
            manual=True,
            reason=reason,
            actor=actor,
        )
        escalation.people.set(people)
        transaction.on_commit(_schedule_compose)
    return escalation


def _schedule_compose() -> None:
    from .jobs import escalation_digest

    escalation_digest.delay()


# ---- 2. compose -----------------------------------------------------------------------


@dataclass
class Item:
    """One unnotified escalation with what a digest and the audience need of its task."""

    id: int
    level: str
    rank: int
    manual: bool
    task_id: int
    number: str
    title: str
    due_date: datetime.date
    campaign_id: int
    lead_unit_id: int
    lead_unit_name: str
    lead_unit_path: str
    issuing_unit_id: int
    issuing_unit_path: str
    responsible_person_id: int | None
    responsible_person_name: str | None
    lead_leader_id: int | None
    reason: str


ITEM_FIELDS = {
    "id": "pk",
    "level": "level",
    "rank": "rank",
    "manual": "manual",
    "task_id": "task_id",
    "number": "task__number",
    "title": "task__title",
    "due_date": "due_date",
    "campaign_id": "task__campaign_id",
    "lead_unit_id": "task__lead_unit_id",
    "lead_unit_name": "task__lead_unit__name",
    "lead_unit_path": "task__lead_unit__path",
    "issuing_unit_id": "task__issuing_unit_id",
    "issuing_unit_path": "task__issuing_unit__path",
    "responsible_person_id": "task__responsible_person_id",
    "responsible_person_name": "task__responsible_person__full_name",
    "lead_leader_id": "task__lead_leader_id",
    "reason": "reason",
}

# What a hand-recorded rung tells, beyond the campaign's rule for the same level.
MANUAL_AUDIENCE = {
    Level.REMINDER: frozenset({"notify_responsible", "notify_unit_head"}),
    Level.ADMONISHMENT: frozenset(AUDIENCE_FLAGS),
    Level.ACCOUNTABILITY: frozenset(AUDIENCE_FLAGS),
}


def _audience(item: Item, ladders: dict[int, list[Rung]]) -> frozenset[str]:
    if item.manual and item.level in MANUAL_AUDIENCE:
        return MANUAL_AUDIENCE[item.level]
    for rung in ladders.get(item.campaign_id, []):
        if rung.level == item.level:
            return rung.audience
    return frozenset({"notify_responsible"})


def _address(recipient: Recipient, chain: Chain) -> tuple[str, str]:
    kind, pk = recipient
    if kind == USER:
        user = chain.users[pk]
        return (user.email or "").strip().lower(), user.full_name or user.username
    unit = chain.units[pk]
    return (unit.email or "").strip().lower(), unit.name


def _render(name: str, items: list[Item], today: datetime.date) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one digest: the items grouped by level, worst first."""
    best: dict[int, Item] = {}
    for item in items:
        if item.task_id not in best or item.rank > best[item.task_id].rank:
            best[item.task_id] = item
    groups = defaultdict(list)
    for item in sorted(best.values(), key=lambda i: (i.due_date, i.task_id)):
        groups[item.level].append(
            {
                "item": item,
                "days_overdue": max((today - item.due_date).days, 0),
                "url": f"{settings.DUBAN['SITE_URL']}/api/v1/tasks/{item.task_id}/",
            }
        )
    ordered = [(Level(level).label, groups[level]) for level in reversed(Level.values) if level in groups]
    context = {"name": name, "groups": ordered, "today": today, "count": len(best)}
    # E-mail goes out in the office's language, whoever's request or job composes it.
    with translation.override(settings.LANGUAGE_CODE):
        return (
            render_to_string("notifications/digest_subject.txt", context).strip(),
            render_to_string("notifications/digest.txt", context),
            render_to_string("notifications/digest.html", context),
        )


def digest_compose(*, today: datetime.date | None = None) -> list[OutboundMessage]:
    """Turn every escalation nobody was told about into one digest per recipient."""
    today = today or local_today()
    with transaction.atomic():
        pending = Escalation.objects.filter(notified_at__isnull=True).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            # A concurrent composer takes other rows; none is told twice.
            pending = pending.select_for_update(skip_locked=True, of=("self",))
        rows = list(pending.values(*ITEM_FIELDS.values()))
        if not rows:
            return []
        items = [Item(**{name: row[lookup] for name, lookup in ITEM_FIELDS.items()}) for row in rows]
        people: dict[int, set[int]] = defaultdict(set)
        through = Escalation.people.through.objects.filter(escalation_id__in=[i.id for i in items])
        for escalation_id, user_id in through.values_list("escalation_id", "user_id"):
            people[escalation_id].add(user_id)
        ladders = ladders_for(Campaign.objects.filter(pk__in={item.campaign_id for item in items}))
        user_ids = {i.responsible_person_id for i in items} | {i.lead_leader_id for i in items}
        user_ids |= {user_id for ids in people.values() for user_id in ids}
        chain = Chain.load(
            {i.lead_unit_path for i in items} | {i.issuing_unit_path for i in items},
            {pk for pk in user_ids if pk},
        )

        per_recipient: dict[Recipient, list[Item]] = defaultdict(list)
        for item in items:
            recipients = audience_recipients(item, _audience(item, ladders), chain)
            recipients |= {(USER, user_id) for user_id in people.get(item.id, ())}
            for recipient in recipients:
                per_recipient[recipient].append(item)

        messages = _messages_for(per_recipient, chain, today)
        OutboundMessage.objects.bulk_create([message for message, _items in messages])
        Through = OutboundMessage.escalations.through
        Through.objects.bulk_create(
            Through(outboundmessage_id=message.pk, escalation_id=item.id)
            for message, message_items in messages
            for item in {i.id: i for i in message_items}.values()
        )
        Escalation.objects.filter(pk__in=[item.id for item in items]).update(notified_at=timezone.now())
    return [message for message, _items in messages]


def _messages_for(
    per_recipient: dict[Recipient, list[Item]], chain: Chain, today: datetime.date
) -> list[tuple[OutboundMessage, list[Item]]]:
    """One message per address; recipients without one, or opted out, are kept visibly."""
    by_address: dict[str, tuple[Recipient, list[Item]]] = {}
    messages = []
    for recipient, items in sorted(per_recipient.items()):
        kind, pk = recipient
        if kind == USER and chain.users[pk].reminder_opt_out:
            kept = [item for item in items if not (item.level == Level.REMINDER and not item.manual)]
            if not kept:
                messages.append(
                    (_message(recipient, "", chain, items, today, MessageState.SUPPRESSED), items)
                )
                continue
            items = kept
        address, _name = _address(recipient, chain)
        if not address:
            messages.append((_message(recipient, "", chain, items, today, MessageState.NO_ADDRESS), items))
            continue
        if address in by_address:
            by_address[address][1].extend(items)
        else:
            by_address[address] = (recipient, list(items))
    for address, (recipient, items) in by_address.items():
        messages.append((_message(recipient, address, chain, items, today, MessageState.PENDING), items))
    return messages


def _message(recipient, address, chain, items, today, state) -> OutboundMessage:
    kind, pk = recipient
    _address_, name = _address(recipient, chain)
    subject, text, html = _render(name, items, today)
    return OutboundMessage(
        recipient_user_id=pk if kind == USER else None,
        recipient_unit_id=pk if kind == UNIT else None,
        to_address=address,
        subject=subject,
        body_text=text,
        body_html=html,
        state=state,
        next_attempt_at=timezone.now() if state == MessageState.PENDING else None,
    )


def outbox_store(
    *,
    kind: str,
    units: list[Unit],
    subject: str,
    body_text: str,
    body_html: str = "",
    attachment_path: str = "",
    attachment_name: str = "",
) -> list[OutboundMessage]:
    """Store one message per distinct unit address (a unit without one is kept visibly as
    ``no_address``) and have the outbox send them after the transaction commits."""
    now = timezone.now()
    messages, addresses = [], set()
    for unit in units:
        address = (unit.email or "").strip().lower()
        if address and address in addresses:
            continue
        addresses.add(address)
        messages.append(
            OutboundMessage(
                kind=kind,
                recipient_unit=unit,
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
    transaction.on_commit(_schedule_flush)
    return messages


def _schedule_flush() -> None:
    from .jobs import outbox_flush

    outbox_flush.delay()


# ---- 3. deliver -----------------------------------------------------------------------


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


def sweep_run(*, day: datetime.date | None = None, send: bool = True) -> dict:
    """The whole sweep in this process (the management command; tests)."""
    sweep = sweep_start(day=day)
    for part_id in sweep.parts.values_list("pk", flat=True):
        sweep_part_run(part_id=part_id)
    messages = digest_compose(today=sweep.day)
    sweep.refresh_from_db()
    result = {"sweep": sweep.pk, "recorded": sweep.escalations_recorded, "messages": len(messages)}
    if send:
        result["sent"] = outbox_flush()
    return result
