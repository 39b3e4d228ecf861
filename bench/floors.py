"""The hand-written SQL floors of the task list and the dashboard (bench/sql/*.sql), and
plain Django views that serve them with the API's own token check, so that a floor pays
for what any request must (authentication, the caller's units, the calendar) and no more.

The list's floor answers a person whose tasks lie under one unit (a head of one unit, as
the benchmark's users are) and the tasks they lead; each filter the benchmark drives is
written here as the SQL it needs on the scope's columns.
"""

import datetime
import json
from pathlib import Path

from django.db import connection
from django.http import HttpResponse, JsonResponse
from rest_framework.exceptions import AuthenticationFailed

from responsibility.authentication import ExpiringTokenAuthentication
from tasks.lateness import today, yellow_limit
from tasks.rungs import level_of_rank
from tasks.workdays import calendar_for

SQL = Path(__file__).resolve().parent / "sql"
OPEN = "('assigned', 'in_progress', 'submitted')"
# The lights as tasks.lateness defines them, over the scope's columns: red when an open task
# owes anything past its date (the work, unless submitted by its due date; or a step, signing
# for or verifying, whose earliest date is next_obligation_date); yellow when the work or a
# step falls due within the warning days (next_warned_date); green otherwise.
# Work without a final date (长期坚持, ``ongoing``) is owed by no date.
OWES_WORK = "NOT s.ongoing AND NOT coalesce(s.state = 'submitted' AND s.submitted_on <= s.due_date, false)"
RED = (
    f"(s.state IN {OPEN} AND (({OWES_WORK} AND s.due_date < %(today)s)"
    " OR coalesce(s.next_obligation_date < %(today)s, false)))"
)
WARNED = (
    f"(({OWES_WORK} AND s.due_date <= %(yellow_until)s)"
    " OR coalesce(s.next_warned_date <= %(yellow_until)s, false))"
)
FILTERS = {
    "": "",
    "state=in_progress": "AND s.state = 'in_progress'",
    "overdue=true": f"AND {RED}",
    "kind=target&kind=task": "AND s.kind IN ('target', 'task')",
    "light=green": f"AND s.state IN {OPEN} AND NOT {RED} AND NOT {WARNED}",
    "top_level=false": "AND s.parent_id IS NOT NULL",
}


def _sql(name: str, filter_sql: str = "") -> str:
    text = (SQL / name).read_text().replace("{filter}", filter_sql)
    return text.replace("{open}", OPEN).replace("{red}", RED).replace("{warned}", WARNED)


def request_user(request):
    # The API's own token check, so the floor pays for the same reads and last-use writes.
    key = request.headers.get("Authorization", "").removeprefix("Token ")
    try:
        return ExpiringTokenAuthentication().authenticate_credentials(key)[0]
    except AuthenticationFailed:
        return None


def _own_unit(cursor, user_id: int) -> int | None:
    cursor.execute(
        "SELECT unit_id FROM responsibility_membership WHERE user_id = %s AND role IN ('member', 'head')",
        [user_id],
    )
    units = [row[0] for row in cursor.fetchall()]
    return units[0] if len(units) == 1 else None


def _days() -> tuple[datetime.date, datetime.date]:
    on = today()
    # The generated province has one campaign, warning 3 working days ahead.
    return on, yellow_limit(on, 3, calendar_for(on))


def _ref(row: dict, prefix: str, *fields: str) -> dict | None:
    if row[f"{prefix}_id"] is None:
        return None
    return {"id": row[f"{prefix}_id"], **{field: row[f"{prefix}_{field}"] for field in fields}}


def _task(row: dict, on: datetime.date, until: datetime.date) -> dict:
    is_open = row["state"] in ("assigned", "in_progress", "submitted")
    due, submitted = row["due_date"], row["submitted_on"]
    owes_work = not row["ongoing"] and not (
        row["state"] == "submitted" and submitted is not None and submitted <= due
    )
    owed_on, warned_on = row["next_obligation_date"], row["next_warned_date"]
    overdue = is_open and ((owes_work and due < on) or (owed_on is not None and owed_on < on))
    warned = (owes_work and due <= until) or (warned_on is not None and warned_on <= until)
    light = None if not is_open else "red" if overdue else "yellow" if warned else "green"
    units = json.loads(row["units"]) if isinstance(row["units"], str) else row["units"]
    indicators = json.loads(row["indicators"]) if isinstance(row["indicators"], str) else row["indicators"]
    return {
        "id": row["id"],
        "number": row["number"],
        "title": row["title"],
        "description": row["description"],
        "kind": row["kind"],
        "state": row["state"],
        "campaign": {"id": row["campaign_id"], "name": row["campaign_name"]},
        "parent": row["parent_id"],
        "responsibility": row["responsibility_id"],
        "issuing_unit": _ref(row, "issuing", "name", "kind"),
        "lead_leader": _ref(row, "leader", "name", "title"),
        "lead_unit": _ref(row, "lead", "name", "kind"),
        "responsible_units": [
            {"id": u["id"], "name": u["name"], "kind": u["kind"]} for u in units if u["role"] == "responsible"
        ],
        "cooperating_units": [
            {"id": u["id"], "name": u["name"], "kind": u["kind"]} for u in units if u["role"] == "cooperating"
        ],
        "responsible_person": _ref(row, "person", "name", "title"),
        "due_date": row["due_date"].isoformat(),
        "original_due_date": row["original_due_date"].isoformat(),
        "overdue": overdue,
        "light": light,
        "escalation": level_of_rank(row["escalation_rank"]),
        "reopen_count": row["reopen_count"],
        "indicators": indicators,
        **{
            name: row[name].isoformat() if row[name] else None
            for name in ("assigned_at", "submitted_at", "closed_at", "created_at", "updated_at")
        },
    }


def floor_task_list(request):
    user = request_user(request)
    if user is None:
        return HttpResponse(status=401)
    page = int(request.GET.get("page", 1))
    size = int(request.GET.get("page_size", 50))
    query = "&".join(
        part for part in request.META["QUERY_STRING"].split("&") if part and not part.startswith("page")
    )
    on, until = _days()
    with connection.cursor() as cursor:
        unit = _own_unit(cursor, user.pk)
        if unit is None:
            return HttpResponse(status=400)
        params = {"unit": unit, "user": user.pk, "today": on, "yellow_until": until}
        cursor.execute(_sql("task_list_count.sql", FILTERS[query]), params)
        count = cursor.fetchone()[0]
        params.update(page_end=page * size, size=size, offset=(page - 1) * size)
        cursor.execute(_sql("task_list_page.sql", FILTERS[query]), params)
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    return JsonResponse({"count": count, "results": [_task(row, on, until) for row in rows]})


def floor_unit_dashboard(request, pk):
    user = request_user(request)
    if user is None:
        return HttpResponse(status=401)
    on, until = _days()
    with connection.cursor() as cursor:
        # Within the caller's subtree: the unit's path starts with the caller's unit's.
        cursor.execute(
            "SELECT 1 FROM responsibility_unit u JOIN responsibility_membership m ON m.user_id = %s"
            " JOIN responsibility_unit own ON own.id = m.unit_id"
            " WHERE u.id = %s AND u.path LIKE own.path || '%%'",
            [user.pk, pk],
        )
        if cursor.fetchone() is None:
            return HttpResponse(status=403)
        cursor.execute(_sql("unit_dashboard.sql"), {"unit": pk, "today": on, "yellow_until": until})
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    for row in rows:
        row["overdue"] = row["red"]
        row["on_time_rate"] = row["closed_on_time"] / row["closed"] if row["closed"] else None
    own, *children = rows
    return JsonResponse({"unit": own, "children": children})
