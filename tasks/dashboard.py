"""A unit's dashboard (督办看板): how the work of each unit one level below it stands.

Whose work a row counts is visibility's own rule (``tasks.selectors``): the tasks a unit's
subtree issued, leads, answers for or cooperates on, drafts left out (nobody has been
given them yet); these are the unit's rows of ``TaskScope``, so a row of the dashboard is
one range of its index whatever the province holds. A task shared by two children counts
in both rows; the unit's own row counts it once. Lights and lateness are
``tasks.lateness``'s rules, the same the list and the ladder show.
"""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, NotFound
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user

from .lateness import campaigns_light_q, closed_on_time_q, overdue_q, today
from .models import Campaign, TaskScope, TaskState
from .obligations import recheck_missed_q
from .workdays import calendar_for


@dataclass
class DashboardRow:
    """One unit's figures.

    ``red``, ``yellow`` and ``green`` count open tasks (assigned, in progress, submitted)
    by their light; ``overdue`` is the open tasks that owe anything past its date (the red
    light, ``tasks.lateness``); ``closed`` the tasks closed (销号), of which
    ``closed_on_time`` finished on or before their due date (``lateness.finished_on``);
    ``suspended`` and ``cancelled`` the rest; ``total`` every task issued, so
    ``red + yellow + green + closed + suspended + cancelled == total``. ``on_time_rate`` is
    ``closed_on_time / closed``, the share of the closed work that was finished on or
    before its due date; None while nothing is closed. ``recheck_missed`` counts the closed
    rectification items whose re-check (回头看) is past its date and not recorded, the
    office's own lateness (``tasks.obligations``), which no light shows. ``is_total`` marks the row of the
    unit asked about (its whole subtree, each task once), which comes first; the children
    follow in the tree's order."""

    unit_id: int
    name: str
    kind: str
    is_total: bool = False
    red: int = 0
    yellow: int = 0
    green: int = 0
    closed: int = 0
    closed_on_time: int = 0
    suspended: int = 0
    cancelled: int = 0
    total: int = 0
    overdue: int = 0
    recheck_missed: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.closed_on_time / self.closed if self.closed else None


def dashboard_units(user: User, unit_id) -> list[Unit]:
    """The unit and the units one level below it, if the user's work reaches the unit: one
    that does not exist is a 404; one outside every subtree whose tasks the user sees is a
    403 (the tree itself is public)."""
    try:
        units = list(Unit.objects.filter(Q(pk=unit_id) | Q(parent_id=unit_id)).order_by("path"))
    except (ValueError, TypeError):
        raise NotFound() from None
    # The unit's path is a prefix of its children's: it sorts first.
    if not units or units[0].pk != int(unit_id):
        raise NotFound()
    access = access_for_user(user)
    if not access.is_admin and not any(units[0].path.startswith(root) for root in access.visible_paths):
        raise Forbidden(_("该单位不在您的管辖范围内。"), code="outside_jurisdiction")
    return units


def unit_dashboard(user: User, unit_id) -> list[DashboardRow]:
    """The unit's own row, then one row per unit one level below it (departments and
    offices attached to it included): five queries, whatever the units hold."""
    units = dashboard_units(user, unit_id)
    on = today()
    calendar = calendar_for(on)
    days = list(Campaign.objects.order_by().values_list("yellow_working_days", flat=True).distinct())
    figures = {
        light: Count("task", filter=campaigns_light_q(light, on, days, calendar))
        for light in ("red", "yellow", "green")
    }
    counted = (
        TaskScope.objects.filter(unit_id__in=[unit.pk for unit in units])
        .exclude(state=TaskState.DRAFT)
        .values("unit_id")
        .order_by()
        .annotate(
            **figures,
            closed=Count("task", filter=Q(state=TaskState.CLOSED)),
            closed_on_time=Count("task", filter=closed_on_time_q()),
            suspended=Count("task", filter=Q(state=TaskState.SUSPENDED)),
            cancelled=Count("task", filter=Q(state=TaskState.CANCELLED)),
            total=Count("task"),
            overdue=Count("task", filter=overdue_q(on)),
            recheck_missed=Count("task", filter=recheck_missed_q(on)),
        )
    )
    by_unit = {row.pop("unit_id"): row for row in counted}
    return [
        DashboardRow(unit.pk, unit.name, unit.kind, is_total=index == 0, **by_unit.get(unit.pk, {}))
        for index, unit in enumerate(units)
    ]
