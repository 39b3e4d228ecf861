"""Recording escalations: the sweep's set-based step, and the office's own by hand."""

import datetime
import logging

from django.db import connection, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, InvalidInput
from core.jobs import enqueue_on_commit
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user
from tasks.models import OPEN_STATES, Campaign, Task
from tasks.selectors import today as local_today
from tasks.workdays import calendar_for

from ..ladder import Rung, ladders_for, reached_q
from ..models import (
    DECIDED_LEVELS,
    LEVEL_RANK,
    MANUAL_LEVELS,
    Escalation,
    Sweep,
    SweepPart,
)

logger = logging.getLogger(__name__)


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
        enqueue_on_commit("notifications.jobs.escalation_digest")
    return escalation
