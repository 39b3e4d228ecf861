"""Reads of escalations, the outbox and the responsibility trace; all start from the
tasks the caller may see."""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from outbox.models import OutboundMessage
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user
from tasks.models import EventAction, Task, TaskEvent
from tasks.selectors import task_visibility_q

from .models import Escalation


def escalation_list_for_user(user: User) -> QuerySet[Escalation]:
    visible = Task.objects.filter(task_visibility_q(user)).values("pk")
    return (
        Escalation.objects.filter(task__in=visible)
        .select_related("task", "lead_unit", "responsible_person", "actor")
        .prefetch_related("people")
    )


def task_escalations(task: Task) -> QuerySet[Escalation]:
    return (
        Escalation.objects.filter(task=task)
        .select_related("task", "lead_unit", "responsible_person", "actor")
        .prefetch_related("people")
    )


def outbox_list_for_user(user: User) -> QuerySet[OutboundMessage]:
    """Messages to the caller; for supervision offices, also those about tasks they all see.

    A digest goes to one address and may cover tasks of several counties: an office reads
    it only if it sees every task the digest covers, else it would read about the others."""
    if not user.is_authenticated:
        return OutboundMessage.objects.none()
    access = access_for_user(user)
    if access.is_admin:
        condition = Q()
    elif access.supervised_paths:
        visible = Task.objects.filter(task_visibility_q(user)).values("pk")
        covered = Escalation.messages.through.objects.filter(outboundmessage_id=OuterRef("pk"))
        hidden = covered.exclude(escalation__task_id__in=visible)
        condition = Q(recipient_user=user) | (Q(Exists(covered)) & ~Q(Exists(hidden)))
    else:
        condition = Q(recipient_user=user)
    return OutboundMessage.objects.filter(condition).select_related("recipient_user", "recipient_unit")


@dataclass
class Period:
    """Who carried a task from ``start`` until ``end`` (None: still)."""

    start: datetime.datetime
    end: datetime.datetime | None
    lead_unit: Unit | None
    responsible_person: User | None
    units: list[dict]


def responsibility_trace(task: Task) -> list[Period]:
    """Who was responsible for the task at each moment (责任倒查), from its history.

    Every change of the lead unit, the units or the responsible person is recorded in the
    history with the arrangement before and after; reading those back in order gives the
    periods. Escalations store the lead unit and person they were recorded against too.
    """
    changes = list(
        TaskEvent.objects.filter(task=task, action__in=[EventAction.REASSIGNED, EventAction.EDITED])
        .order_by("at", "pk")
        .values("at", "data")
    )
    changes = [
        c for c in changes if c["data"].get("before") and c["data"].get("before") != c["data"].get("after")
    ]
    first = changes[0]["data"]["before"] if changes else _snapshot_now(task)
    arrangements = [(task.created_at, first)] + [(c["at"], c["data"]["after"]) for c in changes]
    unit_ids = {a["lead_unit"] for _at, a in arrangements} | {
        unit_id for _at, a in arrangements for unit_id, _role in a.get("units", [])
    }
    user_ids = {a["responsible_person"] for _at, a in arrangements if a.get("responsible_person")}
    units = Unit.objects.in_bulk(unit_ids)
    users = User.objects.in_bulk(user_ids)
    periods = []
    for index, (start, arrangement) in enumerate(arrangements):
        end = arrangements[index + 1][0] if index + 1 < len(arrangements) else None
        periods.append(
            Period(
                start=start,
                end=end,
                lead_unit=units.get(arrangement["lead_unit"]),
                responsible_person=users.get(arrangement.get("responsible_person")),
                units=[
                    {
                        "unit": units[unit_id].name if unit_id in units else None,
                        "unit_id": unit_id,
                        "role": role,
                    }
                    for unit_id, role in arrangement.get("units", [])
                ],
            )
        )
    return periods


def _snapshot_now(task: Task) -> dict:
    return {
        "lead_unit": task.lead_unit_id,
        "responsible_person": task.responsible_person_id,
        "units": sorted([link.unit_id, link.role] for link in task.task_units.all()),
    }


def period_at(periods: list[Period], moment: datetime.datetime) -> Period | None:
    for period in periods:
        if period.start <= moment and (period.end is None or moment < period.end):
            return period
    return periods[0] if periods and moment < periods[0].start else None
