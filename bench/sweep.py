"""Figure 1: the escalation sweep's record step against hand-written INSERT … SELECTs and
UPDATEs that raise each task's and each obligation's rung (one pair for the tasks, one for
the obligations of every kind; the sweep runs the same pair per part).

Both run on the same data for the same day, each in a transaction that is rolled back, so
every run starts from no escalations. The floor selects the same (task, rung) pairs with
the dates the ladder computes; the script checks that both insert the same number of rows.
Peak memory is the sweep alone in a fresh process (``ru_maxrss``), on this database and on
the one given by ``--compare-database-url`` (a copy at another scale).
"""

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ratio_row, setup, write_result  # noqa: E402

FLOOR_SQL = """
INSERT INTO notifications_escalation
    (task_id, level, rank, due_date, lead_unit_id, responsible_person_id, manual, reason, sweep_id,
     created_at, task_parent_id)
SELECT t.id, r.level, r.rank, t.due_date, t.lead_unit_id, t.responsible_person_id, false, '', NULL, now(),
       t.parent_id
FROM tasks_task t
JOIN (VALUES {rungs}) AS r(level, rank, before) ON t.due_date < r.before
WHERE t.state IN ('assigned', 'in_progress', 'submitted')
  AND (t.state <> 'submitted' OR t.submitted_on IS NULL OR t.submitted_on > t.due_date)
  AND NOT t.ongoing
ON CONFLICT DO NOTHING
"""
# The obligations (签收, steps, report periods, 验收) in one statement for all kinds; signing for and
# verifying start at the overdue rung (rank 2).
FLOOR_OBLIGATIONS_SQL = """
INSERT INTO notifications_escalation
    (task_id, level, rank, due_date, lead_unit_id, responsible_person_id, manual, reason, sweep_id,
     created_at, obligation_id, task_parent_id)
SELECT t.id, r.level, r.rank, o.due_date, o.owed_by_id,
       CASE WHEN o.owed_by_id = t.lead_unit_id THEN t.responsible_person_id END, false, '', NULL, now(), o.id,
       t.parent_id
FROM tasks_obligation o
JOIN tasks_task t ON t.id = o.task_id
JOIN (VALUES {rungs}) AS r(level, rank, before) ON o.due_date < r.before
WHERE o.met_at IS NULL AND t.state IN ('assigned', 'in_progress', 'submitted')
  AND (r.rank > 1 OR o.kind IN ('step', 'report'))
ON CONFLICT DO NOTHING
"""
FLOOR_OBLIGATION_RANK_SQL = """
UPDATE tasks_obligation SET escalation_rank = reached.rank
FROM (
    SELECT o.id, MAX(r.rank) AS rank
    FROM tasks_obligation o
    JOIN tasks_task t ON t.id = o.task_id
    JOIN (VALUES {rungs}) AS r(level, rank, before) ON o.due_date < r.before
    WHERE o.met_at IS NULL AND t.state IN ('assigned', 'in_progress', 'submitted')
      AND (r.rank > 1 OR o.kind IN ('step', 'report'))
    GROUP BY o.id
) reached
WHERE tasks_obligation.id = reached.id
  AND (tasks_obligation.escalation_rank IS NULL OR tasks_obligation.escalation_rank < reached.rank)
"""
FLOOR_RANK_SQL = """
UPDATE tasks_task SET escalation_rank = reached.rank
FROM (
    SELECT t.id, MAX(r.rank) AS rank
    FROM tasks_task t
    JOIN (VALUES {rungs}) AS r(level, rank, before) ON t.due_date < r.before
    WHERE t.state IN ('assigned', 'in_progress', 'submitted')
      AND (t.state <> 'submitted' OR t.submitted_on IS NULL OR t.submitted_on > t.due_date)
      AND NOT t.ongoing
    GROUP BY t.id
) reached
WHERE tasks_task.id = reached.id
  AND (tasks_task.escalation_rank IS NULL OR tasks_task.escalation_rank < reached.rank)
"""


def rung_limits(day: datetime.date) -> list[tuple[str, int, datetime.date]]:
    """Each rung of the (single) campaign's ladder as "due before this date"."""
    from notifications.ladder import ladders_for, reached_before
    from tasks.models import Campaign
    from tasks.workdays import calendar_for

    ladders = {tuple(rungs) for rungs in ladders_for(Campaign.objects.all()).values()}
    if len(ladders) != 1:
        raise SystemExit("The floor assumes one ladder for every campaign.")
    calendar = calendar_for(day)
    return [(rung.level, rung.rank, reached_before(rung, day, calendar)) for rung in ladders.pop()]


def floor_once(day: datetime.date) -> int:
    from django.db import connection, transaction

    limits = rung_limits(day)
    rungs = ", ".join(["(%s, %s, %s::date)"] * len(limits))
    params = [value for limit in limits for value in limit]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL.format(rungs=rungs), params)
            inserted = cursor.rowcount
            cursor.execute(FLOOR_OBLIGATIONS_SQL.format(rungs=rungs), params)
            inserted += cursor.rowcount
            cursor.execute(FLOOR_RANK_SQL.format(rungs=rungs), params)
            cursor.execute(FLOOR_OBLIGATION_RANK_SQL.format(rungs=rungs), params)
        transaction.set_rollback(True)
    return inserted


def sweep_once(day: datetime.date) -> int:
    from django.db import transaction

    from notifications.models import Escalation
    from notifications.services import sweep_part_run, sweep_start

    with transaction.atomic():
        sweep = sweep_start(day=day)
        for part_id in sweep.parts.values_list("pk", flat=True):
            sweep_part_run(part_id=part_id)
        inserted = Escalation.objects.filter(sweep=sweep).count()
        transaction.set_rollback(True)
    return inserted


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM notifications_escalation, notifications_sweep, notifications_sweeppart, tasks_task, "
            "tasks_obligation"
        )


def measure(day: datetime.date, repeat: int) -> dict:
    floor_times, sweep_times = [], []
    floor_rows = sweep_rows = 0
    floor_once(day)  # warm the cache for both
    vacuum()
    for _ in range(repeat):
        for label in ("floor", "sweep"):
            started = time.perf_counter()
            rows = floor_once(day) if label == "floor" else sweep_once(day)
            elapsed = time.perf_counter() - started
            vacuum()
            if label == "floor":
                floor_times.append(elapsed)
                floor_rows = rows
            else:
                sweep_times.append(elapsed)
                sweep_rows = rows
    return {
        "floor_times": floor_times,
        "sweep_times": sweep_times,
        "floor_rows": floor_rows,
        "sweep_rows": sweep_rows,
    }


def rss_child(day: datetime.date) -> None:
    """Run in a fresh process: print the peak RSS before and after one sweep, in MiB."""
    from tasks.models import Task

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tasks = Task.objects.count()
    rows = sweep_once(day)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tasks": tasks, "rows": rows, "rss_before_mib": before, "rss_peak_mib": after}))


def rss_in_subprocess(database_url: str, day: datetime.date) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url}
    output = subprocess.run(
        [sys.executable, __file__, "--rss-child", "--day", day.isoformat()],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--day", type=datetime.date.fromisoformat, default=None)
    parser.add_argument("--compare-database-url", default="")
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup()
    from django.utils import timezone

    day = args.day or timezone.localdate()
    if args.rss_child:
        rss_child(day)
        return

    import statistics

    from tasks.models import Task

    tasks = Task.objects.count()
    result = measure(day, args.repeat)
    floor = statistics.median(result["floor_times"])
    sweep = statistics.median(result["sweep_times"])
    if result["floor_rows"] != result["sweep_rows"]:
        raise SystemExit(f"The floor inserted {result['floor_rows']} rows, the sweep {result['sweep_rows']}.")
    rows = [
        ratio_row(
            f"sweep record step, {tasks:,} tasks, {result['sweep_rows']:,} escalations",
            sweep,
            floor,
            "≤ 2 × floor",
            sweep <= 2 * floor,
        )
    ]
    memory = {"here": rss_in_subprocess(os.environ["DATABASE_URL"], day)}
    if args.compare_database_url:
        memory["compare"] = rss_in_subprocess(args.compare_database_url, day)
        large, small = sorted(memory.values(), key=lambda m: m["tasks"], reverse=True)
        rows.append(
            ratio_row(
                f"sweep peak RSS, {large['tasks']:,} vs {small['tasks']:,} tasks",
                large["rss_peak_mib"],
                small["rss_peak_mib"],
                "within 20 %",
                abs(large["rss_peak_mib"] / small["rss_peak_mib"] - 1) <= 0.2,
                unit="MiB",
            )
        )
    write_result("sweep", rows, detail={**result, "memory": memory, "day": day.isoformat()})
    for row in rows:
        print(row)
    print(json.dumps(memory))


if __name__ == "__main__":
    main()
