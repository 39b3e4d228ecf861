"""The supervision office's dashboard (督办看板): a unit's child units with their lights,
closed work and on-time rate (``tasks.dashboard.unit_dashboard``), drilled down a level at
a time; today's ladder with who was told; the overdue items by rung; the ranking as a
chart. A mayor's view is the same page for their level."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from core.errors import Forbidden, NotFound
from notifications.selectors import escalations_of_day_in_unit
from responsibility.models import Unit, ancestor_paths
from responsibility.selectors import access_for_user
from tasks import lateness
from tasks.dashboard import unit_dashboard
from tasks.rungs import level_of_rank
from tasks.selectors import overdue_in_unit

CHART_BAR_HEIGHT = 28


def _home_unit_id(user) -> int | None:
    """Where the dashboard opens: the level the person's office supervises, else the
    highest of the units they belong to."""
    access = access_for_user(user)
    roots = access.supervised_paths or access.visible_paths
    if not roots:
        top = Unit.objects.filter(parent=None) if access.is_admin else Unit.objects.none()
        return top.order_by("path").values_list("pk", flat=True).first()
    return Unit.objects.filter(path=min(roots, key=len)).values_list("pk", flat=True).first()


def _ranking(children) -> list[dict]:
    """The child units from the best on-time rate to the worst (none closed yet last), as
    bars of a server-drawn chart."""
    ranked = sorted(children, key=lambda row: (row.on_time_rate is None, -(row.on_time_rate or 0), row.red))
    return [
        {
            "row": row,
            "y": index * CHART_BAR_HEIGHT,
            "width": round((row.on_time_rate or 0) * 100, 1),
            "percent": f"{row.on_time_rate:.0%}" if row.on_time_rate is not None else "—",
        }
        for index, row in enumerate(ranked)
    ]


@login_required
def dashboard(request, unit_id: int | None = None):
    unit_id = unit_id or _home_unit_id(request.user)
    if unit_id is None:
        raise Http404
    try:
        total, *children = unit_dashboard(request.user, unit_id)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    on = lateness.today()
    told_count, told = escalations_of_day_in_unit(unit_id, on)
    overdue_counts, overdue = overdue_in_unit(unit_id, on)
    unit = Unit.objects.get(pk=unit_id)
    access = access_for_user(request.user)
    above = [
        u
        for u in Unit.objects.filter(path__in=ancestor_paths(unit.path)).order_by("path")
        if access.is_admin or any(u.path.startswith(root) for root in access.visible_paths)
    ]
    ranking = _ranking(children)
    context = {
        "unit": unit,
        "above": above,
        "total": total,
        "children": children,
        "today": on,
        "told_count": told_count,
        "told": told,
        "overdue_by_rung": [
            (level_of_rank(rank), count)
            for rank, count in sorted(overdue_counts.items(), key=lambda item: -(item[0] or 0))
        ],
        "overdue": overdue,
        "ranking": ranking,
        "chart_height": max(len(ranking), 1) * CHART_BAR_HEIGHT,
    }
    return render(request, "pages/dashboard.html", context)
