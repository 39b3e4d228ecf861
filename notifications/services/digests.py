"""Composing digests: every escalation nobody was told about, one message per address."""

import datetime
import functools
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.links import task_page_url
from outbox.models import Contact, MessageState, OutboundMessage, PersonChannel, Robot
from outbox.services import first_attempt_at
from responsibility.models import Membership
from tasks import lateness, obligations
from tasks.models import Campaign, ObligationKind
from tasks.workdays import calendar_for

from ..documents import documents_for
from ..ladder import AUDIENCE_FLAGS, ROBOT, SMS, Rung, ladders_for
from ..models import Escalation, Level
from ..recipients import UNIT, USER, Chain, Recipient, audience_recipients

logger = logging.getLogger(__name__)

# Working days a due date lies behind the run's day, counted once per due date.
DaysPast = Callable[[datetime.date], int]


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
    issuing_unit_name: str
    obligation_id: int | None = None
    obligation_kind: str | None = None
    obligation_label: str = ""
    issuing_parent_id: int | None = None

    def __post_init__(self):
        # A verification is owed by the issuing unit: the rung's audience climbs from it
        # (its head, the unit above it, the office nearest it) instead of the lead unit's.
        if self.obligation_kind in obligations.OWED_BY_ISSUER:
            self.lead_unit_id, self.lead_unit_path = self.issuing_unit_id, self.issuing_unit_path
            self.lead_unit_name, self.responsible_person_id, self.responsible_person_name = (
                self.issuing_unit_name,
                None,
                None,
            )
            self.issuing_unit_id = self.issuing_parent_id or self.issuing_unit_id

    @property
    def owed(self) -> str:
        """What is owed, for an obligation's line: "民主评议（应于11月20日前完成）"."""
        if self.obligation_kind is None:
            return ""
        day = f"{self.due_date.month}月{self.due_date.day}日"
        if self.obligation_kind == ObligationKind.SIGN_FOR:
            return _("未签收（应于%(day)s前签收）") % {"day": day}
        if self.obligation_kind == ObligationKind.VERIFY:
            return _("待验收（应于%(day)s前验收）") % {"day": day}
        if self.obligation_kind == ObligationKind.REPORT:
            # One line per missed period, named by its cadence: "月度进展报送（应于11月27日前报送）".
            return _("%(label)s（应于%(day)s前报送）") % {"label": self.obligation_label, "day": day}
        if self.obligation_kind == ObligationKind.REPLY:
            return _("%(label)s未报送（应于%(day)s前报送）") % {"label": self.obligation_label, "day": day}
        if self.obligation_kind == ObligationKind.RECHECK:
            return _("回头看复查（应于%(day)s前完成）") % {"day": day}
        return _("%(label)s（应于%(day)s前完成）") % {"label": self.obligation_label, "day": day}


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
    "issuing_unit_name": "task__issuing_unit__name",
    "obligation_id": "obligation_id",
    "obligation_kind": "obligation__kind",
    "obligation_label": "obligation__label",
    "issuing_parent_id": "task__issuing_unit__parent_id",
}

# What a hand-recorded rung tells, beyond the campaign's rule for the same level.
MANUAL_AUDIENCE = {
    Level.REMINDER: frozenset({"notify_responsible", "notify_unit_head"}),
    Level.ADMONISHMENT: frozenset(AUDIENCE_FLAGS),
    Level.ACCOUNTABILITY: frozenset(AUDIENCE_FLAGS),
}


# The channels of a hand-recorded rung with no rule of its level: a reminder goes to the
# group; a talk or accountability also by SMS to the people it concerns.
MANUAL_CHANNELS = {
    Level.REMINDER: frozenset({ROBOT}),
    Level.ADMONISHMENT: frozenset({ROBOT, SMS}),
    Level.ACCOUNTABILITY: frozenset({ROBOT, SMS}),
}
# A person who never said otherwise is told by their unit's group before SMS: 减负.
DEFAULT_CHANNEL_ORDER = (PersonChannel.ROBOT, PersonChannel.SMS)


def _rung(item: Item, ladders: dict[int, list[Rung]]) -> Rung | None:
    return next((rung for rung in ladders.get(item.campaign_id, []) if rung.level == item.level), None)


def _audience(item: Item, ladders: dict[int, list[Rung]]) -> frozenset[str]:
    if item.manual and item.level in MANUAL_AUDIENCE:
        return MANUAL_AUDIENCE[item.level]
    rung = _rung(item, ladders)
    return rung.audience if rung else frozenset({"notify_responsible"})


def _channels(item: Item, ladders: dict[int, list[Rung]]) -> frozenset[str]:
    rung = _rung(item, ladders)
    if rung is not None:
        return rung.channels
    return MANUAL_CHANNELS.get(item.level, frozenset({ROBOT}))


def _address(recipient: Recipient, chain: Chain) -> tuple[str, str]:
    kind, pk = recipient
    if kind == USER:
        user = chain.users[pk]
        return (user.email or "").strip().lower(), user.full_name or user.username
    unit = chain.units[pk]
    return (unit.email or "").strip().lower(), unit.name


def _context(name: str, items: list[Item], today: datetime.date, days_past: DaysPast) -> dict:
    """What every channel's digest says: the items grouped by level, worst first, each
    task once at its highest rung.

    How late an item is is said in working days, as the ladder counts them (listed at 3
    working days overdue): "已逾期 3 个工作日", never calendar days that would disagree
    with the rung named above it. An item whose due date has passed with no working day
    since (a weekend, a holiday) says "已过完成时限"."""
    # The highest rung of each thing owed: a task's own date and each of its obligations.
    best: dict[tuple[int, int | None], Item] = {}
    for item in items:
        key = (item.task_id, item.obligation_id)
        if key not in best or item.rank > best[key].rank:
            best[key] = item
    groups = defaultdict(list)
    for item in sorted(best.values(), key=lambda i: (i.due_date, i.task_id, i.obligation_id or 0)):
        groups[item.level].append(
            {
                "item": item,
                "past_due": item.due_date < today,
                "working_days_overdue": days_past(item.due_date),
                "url": task_page_url(item.task_id),
                # A robot's digest keeps each item on one line, so parts are cut between items.
                "reason_line": " ".join(item.reason.split())[:100],
            }
        )
    ordered = [(Level(level).label, groups[level]) for level in reversed(Level.values) if level in groups]
    return {"name": name, "groups": ordered, "today": today, "count": len(best)}


def _render(name: str, items: list[Item], today: datetime.date, days_past: DaysPast) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one e-mail digest."""
    context = _context(name, items, today, days_past)
    # E-mail goes out in the office's language, whoever's request or job composes it.
    with translation.override(settings.LANGUAGE_CODE):
        return (
            render_to_string("notifications/digest_subject.txt", context).strip(),
            render_to_string("notifications/digest.txt", context),
            render_to_string("notifications/digest.html", context),
        )


def _robot_line(n: int, entry: dict) -> str:
    item = entry["item"]
    task = f"{item.number} {item.title}" if item.number else item.title
    person = f"（{item.responsible_person_name}）" if item.responsible_person_name else ""
    line = f"{n}. [{task}]({entry['url']}) {_('责任单位')}：{item.lead_unit_name}{person}"
    line += f"，{_('完成时限')} {item.due_date}"
    days = entry["working_days_overdue"]
    if days:
        line += "，" + ngettext("已逾期 %(days)s 个工作日", "已逾期 %(days)s 个工作日", days) % {"days": days}
    elif entry["past_due"]:
        line += "，" + _("已过完成时限")
    if entry["reason_line"]:
        line += f"，{_('督办理由')}：{entry['reason_line']}"
    # A title with a line break must not split the item: parts are cut between lines.
    return " ".join(line.split())


def _render_robot(name: str, items: list[Item], today: datetime.date, days_past: DaysPast) -> tuple[str, str]:
    """Title and markdown of one group's digest: one line per item, so that a digest too
    long for one post is cut between items. Built here rather than by a template: a
    province's sweep writes hundreds of them, each of hundreds of lines."""
    context = _context(name, items, today, days_past)
    with translation.override(settings.LANGUAGE_CODE):
        title = render_to_string("notifications/digest_subject.txt", context).strip()
        day = f"{today.year}年{today.month}月{today.day}日"
        lines = [f"**{title}**", _("截至 %(day)s") % {"day": day}]
        for label, entries in context["groups"]:
            lines.append(f"**【{label}】**")
            lines += [_robot_line(n, entry) for n, entry in enumerate(entries, 1)]
    return title, "\n".join(lines)


def _sms(name: str, items: list[Item]) -> tuple[str, dict[str, str]]:
    """The template of the worst rung among the items, and its values: short, plain
    strings (gateways refuse long variables), with the link to the worst item's task."""
    worst = max(items, key=lambda item: (item.rank, -item.due_date.toordinal(), -item.task_id))
    count = len({item.task_id for item in items})
    with translation.override(settings.LANGUAGE_CODE):
        level = str(Level(worst.level).label)
    return settings.DUBAN["SMS_TEMPLATES"].get(worst.level, ""), {
        "name": name[:20],
        "level": level,
        "count": str(count),
        "task": worst.title[:20],
        "link": task_page_url(worst.task_id),
    }


def digest_compose(*, today: datetime.date | None = None) -> list[OutboundMessage]:
    """Turn every escalation nobody was told about into one digest per recipient."""
    today = today or lateness.today()
    with transaction.atomic():
        items = _pending_items()
        if not items:
            return []
        chain, ladders, per_recipient = _recipients_of(items)
        # One holiday calendar for every digest of the run, read once.
        calendar = calendar_for(today, *(item.due_date for item in items))
        # Many items share a due date: each is counted once per run.
        days_past = functools.cache(lambda due: lateness.working_days_past(due, today, calendar))
        # The documents the chased obligations are owed on (a notice's PDF), read and, if
        # need be, rendered once for the run; each e-mail names the files of its items.
        documents = documents_for(
            (item.obligation_id, item.obligation_kind) for item in items if item.obligation_id is not None
        )
        messages = _messages_for(per_recipient, chain, today, days_past, documents)
        channels = {item.id: _channels(item, ladders) for item in items}
        robot_messages, covered = _robot_messages(per_recipient, chain, channels, today, days_past)
        messages += robot_messages
        messages += _sms_messages(per_recipient, chain, channels, covered)
        _store(messages)
        Escalation.objects.filter(pk__in=[item.id for item in items]).update(notified_at=timezone.now())
    return [message for message, _items in messages]


def _pending_items() -> list[Item]:
    """The escalations nobody was told about, locked for this transaction."""
    # A rung withdrawn before it was told is never told (``escalations_withdraw``).
    pending = Escalation.objects.filter(notified_at__isnull=True, withdrawn_at__isnull=True).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        # A concurrent composer takes other rows; none is told twice.
        pending = pending.select_for_update(skip_locked=True, of=("self",))
    return [
        Item(**{name: row[lookup] for name, lookup in ITEM_FIELDS.items()})
        for row in pending.values(*ITEM_FIELDS.values())
    ]


def _people_named(items: list[Item]) -> dict[int, set[int]]:
    """The people a talk or accountability names, by escalation."""
    people: dict[int, set[int]] = defaultdict(set)
    through = Escalation.people.through.objects.filter(escalation_id__in=[item.id for item in items])
    for escalation_id, user_id in through.values_list("escalation_id", "user_id"):
        people[escalation_id].add(user_id)
    return people


def _recipients_of(items: list[Item]) -> tuple[Chain, dict[int, list[Rung]], dict[Recipient, list[Item]]]:
    """Everyone each item's rung tells, read in a fixed number of queries for all items."""
    people = _people_named(items)
    ladders = ladders_for(Campaign.objects.filter(pk__in={item.campaign_id for item in items}))
    user_ids = {item.responsible_person_id for item in items} | {item.lead_leader_id for item in items}
    user_ids |= set().union(*people.values())
    units = {item.lead_unit_path for item in items} | {item.issuing_unit_path for item in items}
    chain = Chain.load(units, user_ids - {None})
    per_recipient: dict[Recipient, list[Item]] = defaultdict(list)
    for item in items:
        recipients = audience_recipients(item, _audience(item, ladders), chain)
        recipients |= {(USER, user_id) for user_id in people.get(item.id, ())}
        for recipient in recipients:
            per_recipient[recipient].append(item)
    return chain, ladders, per_recipient


def _store(messages: list[tuple[OutboundMessage, list[Item]]]) -> None:
    """The messages in the outbox, each linked to the escalations it tells of."""
    OutboundMessage.objects.bulk_create([message for message, _items in messages])
    Through = Escalation.messages.through
    Through.objects.bulk_create(
        Through(outboundmessage_id=message.pk, escalation_id=escalation_id)
        for message, message_items in messages
        for escalation_id in {item.id for item in message_items}
    )


def _messages_for(
    per_recipient: dict[Recipient, list[Item]],
    chain: Chain,
    today: datetime.date,
    days_past: DaysPast,
    documents: dict[int, tuple[str, str]],
) -> list[tuple[OutboundMessage, list[Item]]]:
    """One message per address; recipients without one, or opted out, are kept visibly."""
    by_address: dict[str, tuple[Recipient, list[Item]]] = {}
    messages = []
    for recipient, all_items in sorted(per_recipient.items()):
        items = _wanted(recipient, all_items, chain)
        if not items:
            messages.append(
                (
                    _message(recipient, "", chain, all_items, today, days_past, MessageState.SUPPRESSED),
                    all_items,
                )
            )
            continue
        address, _name = _address(recipient, chain)
        if not address:
            messages.append(
                (_message(recipient, "", chain, items, today, days_past, MessageState.NO_ADDRESS), items)
            )
            continue
        if address in by_address:
            by_address[address][1].extend(items)
        else:
            by_address[address] = (recipient, list(items))
    for address, (recipient, items) in by_address.items():
        message = _message(recipient, address, chain, items, today, days_past, MessageState.PENDING)
        message.attachments = _documents_of(items, documents)
        messages.append((message, items))
    return messages


def _documents_of(items: list[Item], documents: dict[int, tuple[str, str]]) -> list[list[str]]:
    """The files an e-mail carries: each chased obligation's document once, by due date."""
    files: dict[str, str] = {}
    for item in sorted(items, key=lambda i: (i.due_date, i.obligation_id or 0)):
        if item.obligation_id in documents:
            path, name = documents[item.obligation_id]
            files.setdefault(path, name)
    return [[path, name] for path, name in files.items()]


def _wanted(recipient: Recipient, items: list[Item], chain: Chain) -> list[Item]:
    """The items a person hears of: one who opted out of reminders is spared the sweep's
    reminders (a reminder recorded by hand still reaches them)."""
    kind, pk = recipient
    if kind == USER and chain.users[pk].reminder_opt_out:
        return [item for item in items if not (item.level == Level.REMINDER and not item.manual)]
    return items


def _message(recipient, address, chain, items, today, days_past, state) -> OutboundMessage:
    kind, pk = recipient
    _address_, name = _address(recipient, chain)
    subject, text, html = _render(name, items, today, days_past)
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


def _robot_messages(
    per_recipient: dict[Recipient, list[Item]],
    chain: Chain,
    channels: dict[int, frozenset[str]],
    today: datetime.date,
    days_past: DaysPast,
) -> tuple[list[tuple[OutboundMessage, list[Item]]], dict[int, set[int]]]:
    """One message per robot of each unit told, of the items whose rung goes to the group;
    and, per unit, the escalations its group was told of."""
    unit_ids = [pk for kind, pk in per_recipient if kind == UNIT]
    robots: dict[int, list[Robot]] = defaultdict(list)
    for robot in Robot.objects.filter(unit_id__in=unit_ids, active=True).order_by("pk"):
        robots[robot.unit_id].append(robot)
    messages, covered = [], {}
    now = timezone.now()
    for (kind, pk), items in sorted(per_recipient.items()):
        told = [item for item in items if ROBOT in channels[item.id]]
        if kind != UNIT or not told or not robots.get(pk):
            continue
        covered[pk] = {item.id for item in told}
        title, markdown = _render_robot(chain.units[pk].name, told, today, days_past)
        for robot in robots[pk]:
            message = OutboundMessage(
                channel=robot.kind,
                robot=robot,
                recipient_unit_id=pk,
                to_address=robot.name,
                subject=title,
                body_text=markdown,
                next_attempt_at=first_attempt_at(robot.kind, now),
            )
            messages.append((message, told))
    return messages, covered


def _sms_messages(
    per_recipient: dict[Recipient, list[Item]],
    chain: Chain,
    channels: dict[int, frozenset[str]],
    covered: dict[int, set[int]],
) -> list[tuple[OutboundMessage, list[Item]]]:
    """At most one SMS per person per sweep, of the items whose rung goes by SMS. A
    person who puts their unit's group before SMS is not texted about an item a group of
    a unit they belong to was told of."""
    user_ids = [pk for kind, pk in per_recipient if kind == USER]
    contacts = {
        contact.user_id: contact
        for contact in Contact.objects.filter(user_id__in=user_ids).exclude(mobile="")
    }
    groups: dict[int, set[int]] = defaultdict(set)
    if covered and contacts:
        for user_id, unit_id in Membership.objects.filter(
            user_id__in=list(contacts), unit_id__in=list(covered)
        ).values_list("user_id", "unit_id"):
            groups[user_id] |= covered[unit_id]
    messages = []
    now = timezone.now()
    for (kind, pk), all_items in sorted(per_recipient.items()):
        contact = contacts.get(pk) if kind == USER else None
        if contact is None:
            continue
        order = list(contact.channel_order or DEFAULT_CHANNEL_ORDER)
        if PersonChannel.SMS not in order:
            continue
        items = [item for item in _wanted((kind, pk), all_items, chain) if SMS in channels[item.id]]
        if PersonChannel.ROBOT in order and order.index(PersonChannel.ROBOT) < order.index(PersonChannel.SMS):
            items = [item for item in items if item.id not in groups[pk]]
        if not items:
            continue
        _address_, name = _address((kind, pk), chain)
        template, params = _sms(name, items)
        message = OutboundMessage(
            channel=SMS,
            recipient_user_id=pk,
            to_address=contact.mobile,
            subject=f"{params['level']} · {params['task']}",
            body_text="",
            sms_template=template,
            sms_params=params,
            next_attempt_at=first_attempt_at(SMS, now),
        )
        messages.append((message, items))
    return messages
