"""Recording escalations: the sweep's set-based step, and the office's own by hand."""

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, InvalidInput
from core.jobs import enqueue_on_commit
from outbox.services import outbox_store
from responsibility import jurisdiction
from responsibility.models import Membership, Role, Unit, UnitKind, User, subtree_q
from responsibility.selectors import access_for_user
from tasks import obligations, rules
from tasks.lateness import today as local_today
from tasks.models import OPEN_STATES, Campaign, Obligation, Task, TaskState
from tasks.rungs import LEVEL_RANK, Level
from tasks.workdays import calendar_for

from ..ladder import LadderProblem, rung_bounds
from ..models import DECIDED_LEVELS, MANUAL_LEVELS, Escalation, Sweep, SweepPart

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
    "obligation_id",
    "task_parent_id",
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


def _part_units_sql(part: SweepPart) -> tuple[str, list]:
    """The units whose tasks (as lead unit) and obligations (as the unit owing them) belong
    to the part, as a subquery."""
    within = Q(pk=part.unit_id) if part.unit.depth == 0 else subtree_q([part.unit.path])
    return Unit.objects.filter(within).order_by().values("pk").query.sql_with_params()


Rungs = list[tuple[int, str, int, datetime.date]]


def _rung_rows(rungs: Rungs) -> tuple[str, list]:
    # The rungs as a small table; a plain SELECT … UNION ALL, since SQLite reports no row
    # count for an INSERT that starts with WITH.
    sql = " UNION ALL ".join(["SELECT %s AS campaign_id, %s AS level, %s AS rank, %s AS before"] * len(rungs))
    return sql, [value for row in rungs for value in row]


def _reached_sql(part: SweepPart, rungs: Rungs) -> tuple[str, list]:
    """Every task of the part whose work is owed, joined with every rung of its campaign's
    ladder that its due date has reached, as ``FROM … WHERE …`` over ``t`` (the task) and
    ``rung``. A task submitted on or before its due date is no longer owed by its unit
    (``tasks.lateness.owes_work``): the issuer's verification is chased instead. Work
    without a final date (长期坚持) is chased for its reports only."""
    units_sql, units_params = _part_units_sql(part)
    rung_sql, rung_params = _rung_rows(rungs)
    open_states = ", ".join(["%s"] * len(OPEN_STATES))
    sql = f"""
        FROM {connection.ops.quote_name(Task._meta.db_table)} t
        JOIN ({rung_sql}) rung ON rung.campaign_id = t.campaign_id AND t.due_date < rung.before
        WHERE t.state IN ({open_states}) AND t.due_date < %s AND t.lead_unit_id IN ({units_sql})
          AND (t.state <> %s OR t.submitted_on IS NULL OR t.submitted_on > t.due_date)
          AND NOT t.ongoing
    """
    # The latest bound again on the task alone, so that an index on the due date serves.
    params = [*rung_params, *OPEN_STATES, max(row[3] for row in rungs), *units_params, TaskState.SUBMITTED]
    return sql, params


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _obligations_reached_sql(part: SweepPart, rungs: Rungs) -> tuple[str, list]:
    """The same for the unmet obligations owed by the part's units (``o``), of every kind at
    once, against each obligation's date: of tasks in the states its kind is owed in (open
    ones; closed ones for a re-check, ``tasks.obligations.OWED_IN_STATES``), and only the
    kinds warned of before their date (``tasks.obligations.WARNED``) from the reminder rung.
    One statement for every kind reads the unmet rows' index once rather than once a kind."""
    units_sql, units_params = _part_units_sql(part)
    rung_sql, rung_params = _rung_rows(rungs)
    marks = lambda values: ", ".join(["%s"] * len(values))  # noqa: E731
    special = list(obligations.OWED_IN_STATES)
    owed_sql = " OR ".join(
        [
            *(
                f"(o.kind = %s AND t.state IN ({marks(states)}))"
                for states in obligations.OWED_IN_STATES.values()
            ),
            f"(o.kind NOT IN ({marks(special)}) AND t.state IN ({marks(OPEN_STATES)}))",
        ]
    )
    owed_params = [
        *(value for kind, states in obligations.OWED_IN_STATES.items() for value in (kind, *states)),
        *special,
        *OPEN_STATES,
    ]
    warned = list(obligations.WARNED)
    quote = connection.ops.quote_name
    sql = f"""
        FROM {quote(Obligation._meta.db_table)} o
        JOIN {quote(Task._meta.db_table)} t ON t.id = o.task_id
        JOIN ({rung_sql}) rung ON rung.campaign_id = t.campaign_id AND o.due_date < rung.before
        WHERE o.met_at IS NULL AND o.due_date < %s
          AND rung.rank >= CASE WHEN o.kind IN ({_marks(warned)}) THEN 0 ELSE %s END
          AND ({owed_sql}) AND o.owed_by_id IN ({units_sql})
    """
    params = [
        *rung_params,
        max(row[3] for row in rungs),
        *warned,
        LEVEL_RANK[Level.REMINDER] + 1,
        *owed_params,
        *units_params,
    ]
    return sql, params


def _insert_reached(part: SweepPart, rungs: Rungs) -> int:
    """One INSERT … SELECT for the part's tasks, and one for their obligations: each
    (task or obligation, rung) reached; rows already recorded are skipped."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in ESCALATION_COLUMNS)
    reached_sql, reached_params = _reached_sql(part, rungs)
    statements = [
        (
            f"""
        INSERT INTO {quote(Escalation._meta.db_table)} ({columns})
        SELECT t.id, rung.level, rung.rank, t.due_date, t.lead_unit_id, t.responsible_person_id,
               %s, '', %s, %s, NULL, t.parent_id
        {reached_sql}
          -- A rung the office already took by hand against this date is not sent again
          -- (unless the notice that took it was withdrawn).
          AND NOT EXISTS (
            SELECT 1 FROM {quote(Escalation._meta.db_table)} e
            WHERE e.task_id = t.id AND e.manual AND e.obligation_id IS NULL
              AND e.level = rung.level AND e.due_date = t.due_date AND e.withdrawn_at IS NULL
          )
        -- One order for every sweep: two sweeps inserting the same rows cannot deadlock.
        ORDER BY t.id, rung.rank
        ON CONFLICT DO NOTHING
    """,
            reached_params,
        )
    ]
    owed_sql, owed_params = _obligations_reached_sql(part, rungs)
    statements.append(
        (
            f"""
        INSERT INTO {quote(Escalation._meta.db_table)} ({columns})
        SELECT t.id, rung.level, rung.rank, o.due_date, o.owed_by_id,
               CASE WHEN o.owed_by_id = t.lead_unit_id THEN t.responsible_person_id END,
               %s, '', %s, %s, o.id, t.parent_id
        {owed_sql}
        ORDER BY o.id, rung.rank
        ON CONFLICT DO NOTHING
    """,
            owed_params,
        )
    )
    recorded = 0
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, [False, part.sweep_id, timezone.now(), *params])
            recorded += max(cursor.rowcount, 0)
    return recorded


def _raise_ranks(part: SweepPart, rungs: Rungs) -> None:
    """Each task's ``escalation_rank``, and each obligation's, up to the highest rung it
    has reached. Computed from the ladder rather than from the rows just inserted, so a
    task whose due date came back to one already chased shows its rung again."""
    quote = connection.ops.quote_name
    reached_sql, reached_params = _reached_sql(part, rungs)
    statements = [
        (Task, "t.id", reached_sql, reached_params),
        (Obligation, "o.id", *_obligations_reached_sql(part, rungs)),
    ]
    with connection.cursor() as cursor:
        for model, key, sql, params in statements:
            table = quote(model._meta.db_table)
            cursor.execute(
                f"""
                UPDATE {table} SET escalation_rank = reached.rank
                FROM (SELECT {key} AS row_id, MAX(rung.rank) AS rank {sql} GROUP BY {key}) reached
                WHERE {table}.id = reached.row_id
                  AND ({table}.escalation_rank IS NULL OR {table}.escalation_rank < reached.rank)
                """,
                params,
            )


def _record_reached(part: SweepPart, rungs: Rungs) -> int:
    if not rungs:
        return 0
    recorded = _insert_reached(part, rungs)
    _raise_ranks(part, rungs)
    return recorded


def sweep_part_run(*, part_id: int) -> bool:
    """Record what one part's tasks reached. True when this was the sweep's last part."""
    with transaction.atomic():
        part = (
            SweepPart.objects.select_related("sweep", "unit").select_for_update(of=("self",)).get(pk=part_id)
        )
        if part.done_at is not None:
            return False
        sweep = part.sweep
        campaigns = Campaign.objects.filter(
            Exists(Task.objects.filter(obligations.owing_q(), campaign=OuterRef("pk")))
        )
        # Problems are kept in the office's language, whoever runs the part.
        with translation.override(settings.LANGUAGE_CODE):
            rungs, problems = rung_bounds(campaigns, sweep.day, calendar_for(sweep.day))
        recorded = _record_reached(part, rungs)
        part.done_at, part.recorded = timezone.now(), recorded
        part.save(update_fields=["done_at", "recorded"])
        # Serialise the last parts on the sweep row, so exactly one of them sees all done
        # and each problem is recorded and told once per sweep, not once per part.
        sweep = Sweep.objects.select_for_update().get(pk=sweep.pk)
        sweep.escalations_recorded = F("escalations_recorded") + recorded
        known = {problem["campaign"] for problem in sweep.problems}
        new = [problem for problem in problems if problem.campaign_id not in known]
        sweep.problems = [*sweep.problems, *(problem.as_dict() for problem in new)]
        last = not SweepPart.objects.filter(sweep=sweep, done_at__isnull=True).exists()
        if last:
            sweep.recorded_at = timezone.now()
        sweep.save(update_fields=["escalations_recorded", "recorded_at", "problems"])
        _report_problems(sweep, new)
    return last


def _report_problems(sweep: Sweep, problems: list[LadderProblem]) -> None:
    """Log each campaign left out, and tell the administrators and the supervision office
    of the level that issued the campaign, through the outbox like every other message."""
    if not problems:
        return
    campaigns = Campaign.objects.select_related("issuing_unit").in_bulk([p.campaign_id for p in problems])
    administrators = list(User.objects.filter(is_superuser=True, is_active=True).order_by("pk"))
    # The offices of every level concerned and their supervisors, read once for all problems.
    levels = {campaign.issuing_unit.jurisdiction_id for campaign in campaigns.values()}
    offices: dict[int, list[Unit]] = {}
    for office in Unit.objects.filter(kind=UnitKind.SUPERVISION_OFFICE, parent_id__in=levels).order_by("pk"):
        offices.setdefault(office.parent_id, []).append(office)
    supervisors: dict[int, list[User]] = {}
    for membership in (
        Membership.objects.filter(unit__parent_id__in=levels, unit__kind=UnitKind.SUPERVISION_OFFICE)
        .filter(role=Role.SUPERVISOR)
        .select_related("user", "unit")
        .order_by("user_id")
    ):
        people = supervisors.setdefault(membership.unit.parent_id, [])
        if membership.user not in people:
            people.append(membership.user)
    for problem in problems:
        logger.error(
            "Sweep %s on %s left out campaign %s (%s): rule %s (%s): %s [%s]",
            sweep.pk,
            sweep.day,
            problem.campaign_id,
            problem.campaign_name,
            problem.rule_id,
            problem.level,
            problem.message,
            problem.code,
        )
        level = campaigns[problem.campaign_id].issuing_unit.jurisdiction_id
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("督办规则有误：“%(campaign)s”本次未督办") % {"campaign": problem.campaign_name}
            body = _(
                "%(day)s 的督办未对攻坚行动“%(campaign)s”执行，其余攻坚行动照常督办。\n"
                "原因：%(message)s\n"
                "请修改该行动的督办规则（/api/v1/escalation-rules/?campaign=%(campaign_id)s），"
                "下次督办时补记。"
            ) % {
                "day": sweep.day.isoformat(),
                "campaign": problem.campaign_name,
                "message": problem.message,
                "campaign_id": problem.campaign_id,
            }
        outbox_store(
            kind="ladder",
            units=offices.get(level, []),
            users=[*administrators, *supervisors.get(level, [])],
            subject=str(subject),
            body_text=str(body),
        )


def _manual_reason(level: str, reason: str, people: list[User]) -> str:
    """The reason, stripped, once the level and the people named suit each other."""
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
    return reason


def escalation_record_manual(
    *, task_id: int, actor: User, level: str, reason: str, people: list[User] = ()
) -> Escalation:
    """The supervision office reminds now, lists an item, or records an admonishment talk
    (约谈) or accountability (问责), with a reason; the record is permanent."""
    access = access_for_user(actor)
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("issuing_unit", "lead_unit")
            .get(pk=task_id)
        )
        rules.ensure_may_escalate(access, task)
        reason = _manual_reason(level, reason, people)
        chain = [task.issuing_unit, task.lead_unit, *(link.unit for link in task.links())]
        outside = jurisdiction.people_outside(access, people, chain)
        if outside:
            message = _("%(people)s不在该任务的责任链或本督查室的督查范围内，不能列为约谈、问责对象。") % {
                "people": "、".join(str(person) for person in outside)
            }
            raise Forbidden(message, code="person_outside_jurisdiction", fields={"people": [message]})
        escalation = Escalation.objects.create(
            task=task,
            task_parent_id=task.parent_id,
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
        if escalation.rank > (task.escalation_rank or 0):
            task.escalation_rank = escalation.rank
            task.save(update_fields=["escalation_rank"])
        enqueue_on_commit("notifications.jobs.escalation_digest")
    return escalation


def escalation_record_issued(*, task: Task, actor: User, level: str, reason: str) -> Escalation:
    """A rung the office takes by sending a document of its own (a 督办通知单): recorded by
    hand like ``escalation_record_manual``, on the task the caller has locked and checked,
    but told by that document rather than by a digest, so it is marked told at once and
    the sweep does not send the same rung against the same date again (``_insert_reached``)."""
    escalation = Escalation.objects.create(
        task=task,
        task_parent_id=task.parent_id,
        level=level,
        rank=LEVEL_RANK[level],
        due_date=task.due_date,
        lead_unit_id=task.lead_unit_id,
        responsible_person_id=task.responsible_person_id,
        manual=True,
        reason=reason,
        actor=actor,
        notified_at=timezone.now(),
    )
    if escalation.rank > (task.escalation_rank or 0):
        task.escalation_rank = escalation.rank
        task.save(update_fields=["escalation_rank"])
    return escalation


def escalations_withdraw(
    *, task: Task, escalation_ids: Iterable[int] = (), obligation_ids: Iterable[int] = ()
) -> int:
    """Close the rungs a withdrawn document took (``escalation_ids``: a 督办通知单's) and the
    chases not told yet of what was owed on it (``obligation_ids``: its 回执), on the task
    the caller has locked. The rows stay in the record, marked withdrawn; the task's rung
    falls back to the highest one still standing against its date, so the task no longer
    shows as escalated by the document alone. Set-based: one UPDATE marks the rows, one sets
    the rung. A rung the ladder reached while the document stood was left to the document
    (``_insert_reached``): the next sweep records and tells it. How many rows it closed."""
    now = timezone.now()
    closed = Escalation.objects.filter(
        Q(pk__in=list(escalation_ids)) | Q(obligation_id__in=list(obligation_ids), notified_at__isnull=True),
        task=task,
        withdrawn_at__isnull=True,
    ).update(withdrawn_at=now)
    if closed:
        standing = (
            Escalation.objects.filter(
                task_id=OuterRef("pk"),
                obligation__isnull=True,
                withdrawn_at__isnull=True,
                due_date=OuterRef("due_date"),
            )
            .order_by()
            .values("task_id")
            .annotate(rank=Max("rank"))
            .values("rank")
        )
        Task.objects.filter(pk=task.pk).update(escalation_rank=Subquery(standing))
        task.refresh_from_db(fields=["escalation_rank"])
    return closed
