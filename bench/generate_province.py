"""Generate a province on a bench database with COPY: units, people, one campaign and its tasks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/duban_bench \
        .venv/bin/python bench/generate_province.py --scale 1

At scale 1: 14 cities, 122 counties, about 1,900 townships and 24,000 villages (each city
and county with four departments and a supervision office), one head per unit, a leader per
city, and 1,000,000 tasks decomposed down the levels, about a tenth of them late by 1 to 20
working days. Cities and counties are kept at every scale; townships, villages and tasks
shrink with ``--scale``. The first county holds about 4 % of the tasks (40,000 at scale 1),
the subtree the API benchmark lists. Its fixed township (定点镇, 8 villages) holds the same
400 tasks at every scale, so that one unit's pages can be compared across scales.
Everything the database held before is wiped, which is why the database's name must
contain "bench".
"""

import argparse
import datetime
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup, token_key  # noqa: E402

CITIES = 14
COUNTIES = 122
TOWNSHIPS = 1_900
VILLAGES = 24_000
TASKS = 1_000_000
DEPARTMENTS = ("发展改革委", "财政局", "住建局", "农业农村局")
BIG_COUNTY_SHARE = 0.04
# The fixed township (定点镇) of the first county and its villages hold the same tasks at every
# scale, drawn from their own random stream after everything else: the unit whose page the
# benchmark compares across scales (bench/lists.py, flat cost).
FIXED_TOWNSHIP = "定点镇"
FIXED_VILLAGES = 8
FIXED_TOWNSHIP_TASKS = 100
FIXED_VILLAGE_TASKS = 300
UPPER_SHARE = 0.03  # province and city tasks
CHUNK = 20_000

TRUNCATE = """
TRUNCATE responsibility_unit, responsibility_user, tasks_campaign, tasks_taskscope,
         notifications_escalationrule, notifications_sweep, responsibility_apitoken, core_idempotencyrecord
RESTART IDENTITY CASCADE
"""


def null(value) -> str:
    return "\\N" if value is None else str(value)


class Copier:
    """Rows of one table as tab-separated lines, written by COPY in chunks."""

    def __init__(self, cursor, table: str, columns: tuple[str, ...]):
        self.cursor, self.table, self.columns = cursor, table, columns
        self.lines: list[str] = []
        self.count = 0

    def add(self, *values) -> None:
        self.lines.append("\t".join(null(v) for v in values))
        self.count += 1
        if len(self.lines) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with self.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
            copy.write("\n".join(self.lines) + "\n")
        self.lines = []


def spread(total: int, buckets: int) -> list[int]:
    base, extra = divmod(total, buckets)
    return [base + (1 if i < extra else 0) for i in range(buckets)]


class Province:
    def __init__(self, scale: float, seed: int):
        self.scale = scale
        self.random = random.Random(seed)
        self.units: list[tuple] = []
        self.next_unit = 1
        self.paths: dict[int, str] = {}

    def unit(self, name: str, kind: str, parent: int | None) -> int:
        from responsibility.models import path_segment

        pk = self.next_unit
        self.next_unit += 1
        path = (self.paths[parent] if parent else "") + path_segment(pk)
        depth = path.count("/") - 1
        self.paths[pk] = path
        self.units.append((pk, name, "", kind, path, depth, f"unit{pk}@bench.example.cn", "[]", parent))
        return pk

    def build_tree(self) -> None:
        self.province = self.unit("示范省", "province", None)
        self.province_offices = [self.unit(f"省{d}", "department", self.province) for d in DEPARTMENTS]
        self.unit("省委督查室", "supervision_office", self.province)
        townships_total = max(COUNTIES, round(TOWNSHIPS * self.scale))
        villages_total = max(townships_total, round(VILLAGES * self.scale))
        self.cities: list[int] = []
        self.city_departments: dict[int, list[int]] = {}
        self.counties: list[int] = []
        self.county_city: dict[int, int] = {}
        self.county_departments: dict[int, list[int]] = {}
        self.townships: dict[int, list[int]] = {}
        self.villages: dict[int, list[int]] = {}
        for c, county_count in enumerate(spread(COUNTIES, CITIES), start=1):
            city = self.unit(f"第{c:02d}市", "city", self.province)
            self.cities.append(city)
            self.city_departments[city] = [self.unit(f"市{d}", "department", city) for d in DEPARTMENTS]
            self.unit("市委督查室", "supervision_office", city)
            for k in range(1, county_count + 1):
                county = self.unit(f"第{c:02d}市第{k:02d}县", "county", city)
                self.counties.append(county)
                self.county_city[county] = city
        township_counts = spread(townships_total, COUNTIES)
        for county, township_count in zip(self.counties, township_counts, strict=True):
            self.county_departments[county] = [self.unit(f"县{d}", "department", county) for d in DEPARTMENTS]
            self.unit("县委督查室", "supervision_office", county)
            self.townships[county] = [
                self.unit(f"第{t:02d}镇", "township", county) for t in range(1, township_count + 1)
            ]
        all_townships = [t for county in self.counties for t in self.townships[county]]
        for township, village_count in zip(
            all_townships, spread(villages_total, len(all_townships)), strict=True
        ):
            self.villages[township] = [
                self.unit(f"第{v:02d}村", "village", township) for v in range(1, village_count + 1)
            ]
        # Last, so that every other unit keeps its id whether or not it is there.
        self.fixed_township = self.unit(FIXED_TOWNSHIP, "township", self.counties[0])
        self.fixed_villages = [
            self.unit(f"定点{v}村", "village", self.fixed_township) for v in range(1, FIXED_VILLAGES + 1)
        ]


def working_days_back(today: datetime.date, count: int) -> list[datetime.date]:
    from tasks.workdays import calendar_for

    calendar = calendar_for(today, today - datetime.timedelta(days=60))
    return [calendar.add_working_days(today, -k) for k in range(count + 1)]


def generate(scale: float, seed: int = 2018) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications.ladder import DEFAULT_LADDER
    from notifications.models import EscalationRule
    from tasks.models import ReportSchedule
    from tasks.schedules import due_dates
    from tasks.scope import scope_fill
    from tasks.standing import standing_fill

    started = time.perf_counter()
    today = timezone.localdate()
    now = timezone.now()
    late_dates = working_days_back(today, 20)
    # A tenth of the open tasks report every month by the 28th (tasks.schedules), a quarter
    # of those ongoing (长期坚持): the last period before today, missed by three in ten, and
    # each period after it up to the task's due date, as assigning writes them.
    monthly = ReportSchedule(cadence="monthly", day=28)
    one_day = datetime.timedelta(days=1)
    report_past = due_dates(monthly, today - 40 * one_day, today - one_day)[-1:]
    report_next = due_dates(monthly, today - one_day, today + 160 * one_day)
    province = Province(scale, seed)
    province.build_tree()
    rnd = province.random
    counts: dict[str, int] = {}

    with transaction.atomic():
        cursor = connection.cursor()
        cursor.execute(TRUNCATE)
        for level, offset, audience in DEFAULT_LADDER:
            EscalationRule.objects.create(level=level, offset_working_days=offset, **audience)
        raw = cursor.cursor
        # The rows are consistent by construction: skip the per-row foreign-key triggers.
        raw.execute("SET LOCAL session_replication_role = replica")

        units = Copier(
            raw,
            "responsibility_unit",
            ("id", "name", "short_name", "kind", "path", "depth", "email", "aliases", "parent_id"),
        )
        for row in province.units:
            units.add(*row)
        units.flush()
        counts["units"] = units.count

        users = Copier(
            raw,
            "responsibility_user",
            (
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "full_name",
                "title",
                "phone",
                "reminder_opt_out",
            ),
        )
        memberships = Copier(raw, "responsibility_membership", ("id", "role", "user_id", "unit_id"))
        tokens = Copier(raw, "responsibility_apitoken", ("key", "created", "last_used_at", "user_id"))
        # One head per unit, with the unit's id; supervision offices get a supervisor.
        for pk, _name, _short, kind, *_rest in province.units:
            role = "supervisor" if kind == "supervision_office" else "head"
            users.add(
                pk,
                "!bench",
                "f",
                f"u{pk}",
                "",
                "",
                f"u{pk}@bench.example.cn",
                "f",
                "t",
                now.isoformat(),
                f"负责人{pk}",
                "",
                "",
                "f",
            )
            memberships.add(pk, role, pk, pk)
            tokens.add(token_key(pk), now.isoformat(), now.isoformat(), pk)
        leaders: dict[int, int] = {}
        next_user = province.next_unit
        for city in province.cities:
            leaders[city] = next_user
            users.add(
                next_user,
                "!bench",
                "f",
                f"leader{city}",
                "",
                "",
                "",
                "f",
                "t",
                now.isoformat(),
                f"副市长{city}",
                "副市长",
                "",
                "f",
            )
            memberships.add(next_user, "leader", next_user, city)
            tokens.add(token_key(next_user), now.isoformat(), now.isoformat(), next_user)
            next_user += 1
        for copier in (users, memberships, tokens):
            copier.flush()
        counts["users"] = users.count

        starts_on = today - datetime.timedelta(days=120)
        ends_on = today + datetime.timedelta(days=240)
        cursor.execute(
            "INSERT INTO tasks_campaign (id, name, short_name, starts_on, ends_on, description, "
            "yellow_working_days, sign_for_working_days, verify_working_days, issuing_unit_id) "
            "VALUES (1, %s, %s, %s, %s, '', 3, 3, 5, %s)",
            ["全省百日攻坚行动", "百日攻坚", starts_on, ends_on, province.province],
        )

        tasks = Copier(
            raw,
            "tasks_task",
            (
                "id",
                "number",
                "title",
                "description",
                "kind",
                "due_date",
                "original_due_date",
                "state",
                "state_before_suspension",
                "reopen_count",
                "assigned_at",
                "submitted_at",
                "submitted_on",
                "closed_at",
                "created_at",
                "updated_at",
                "campaign_id",
                "issuing_unit_id",
                "lead_leader_id",
                "lead_unit_id",
                "parent_id",
                "responsible_person_id",
                "deadline_text",
                "imported",
                "notes",
                "ongoing",
            ),
        )
        schedules = Copier(
            raw, "tasks_reportschedule", ("task_id", "cadence", "day", "wording", "updated_at")
        )
        task_units = Copier(raw, "tasks_taskunit", ("id", "role", "task_id", "unit_id"))
        indicators = Copier(
            raw,
            "tasks_indicator",
            (
                "id",
                "name",
                "unit_of_measure",
                "comparison",
                "target",
                "current_value",
                "veto",
                "parent_id",
                "task_id",
            ),
        )
        steps = Copier(
            raw,
            "tasks_procedurestep",
            ("id", "order", "name", "due_date", "done_at", "done_by_id", "task_id"),
        )
        # What tasks owe besides their due date (tasks.obligations): an assigned task's
        # signing for, an open procedure's steps not done, a submission's verification.
        obligations = Copier(
            raw,
            "tasks_obligation",
            (
                "id",
                "kind",
                "key",
                "label",
                "due_date",
                "met_at",
                "created_at",
                "owed_by_id",
                "step_id",
                "task_id",
            ),
        )
        state = {"task": 0, "indicator": 0, "step": 0, "task_unit": 0, "late": 0, "obligation": 0}

        def owe(kind, key, label, due_date, owed_by, step, task):
            state["obligation"] += 1
            obligations.add(
                state["obligation"],
                kind,
                key,
                label,
                due_date,
                None,
                now.isoformat(),
                owed_by,
                null(step),
                task,
            )

        def add_task(level, issuing, lead, parent, leader, cooperating, target_value, late_rate, rnd=rnd):
            """One task; returns (id, due date, indicator id, open for decomposition)."""
            state["task"] += 1
            pk = state["task"]
            parent_id, parent_due, parent_indicator = parent if parent else (None, None, None)
            r = rnd.random()
            kind = rnd.choices(("task", "target", "procedure", "rectification"), (60, 20, 10, 10))[0]
            if r < 0.02:
                task_state = "draft"
            elif r < 0.03:
                task_state = "cancelled"
            elif r < 0.18:
                task_state = "closed"
            elif r < 0.23:
                task_state = "submitted"
            elif r < 0.35:
                task_state = "assigned"
            else:
                task_state = "in_progress"
            is_open = task_state in ("assigned", "in_progress", "submitted")
            if task_state == "closed":
                due = today - datetime.timedelta(days=rnd.randint(1, 90))
            elif is_open and rnd.random() < late_rate:
                due = late_dates[rnd.randint(1, 20)]
            else:
                due = today + datetime.timedelta(days=rnd.randint(0, 150))
            if parent_due is not None and due > parent_due:
                due = parent_due
            if is_open and due < today:
                state["late"] += 1
            created = now - datetime.timedelta(days=rnd.randint(60, 119))
            assigned = None if task_state == "draft" else (created + datetime.timedelta(hours=2)).isoformat()
            submitted = closed = submitted_on = None
            if task_state in ("submitted", "closed"):
                submitted_on = today - datetime.timedelta(days=rnd.randint(1, 30))
                submitted = datetime.datetime.combine(submitted_on, datetime.time(10), now.tzinfo).isoformat()
            if task_state == "closed":
                closed_day = due + datetime.timedelta(days=rnd.randint(-10, 3))
                closed = datetime.datetime.combine(closed_day, datetime.time(10), now.tzinfo).isoformat()
            reopen = rnd.choice((1, 2)) if kind == "rectification" and rnd.random() < 0.2 else 0
            scheduled = is_open and rnd.random() < 0.1
            ongoing = scheduled and rnd.random() < 0.25
            tasks.add(
                pk,
                f"{level}-{pk}",
                f"{level}任务{pk}：落实精准脱贫第{pk % 97 + 1}项措施",
                "",
                kind,
                due,
                due,
                task_state,
                "",
                reopen,
                assigned,
                submitted,
                null(submitted_on),
                closed,
                created.isoformat(),
                created.isoformat(),
                1,
                issuing,
                leader,
                lead,
                parent_id,
                lead,
                "长期坚持，每月28日前报送" if ongoing else "每月28日前" if scheduled else "",
                "f",
                "",
                "t" if ongoing else "f",
            )
            if scheduled:
                schedules.add(pk, "monthly", 28, "每月28日前", now.isoformat())
                if rnd.random() < 0.3:
                    for day in report_past:
                        owe("report", day.isoformat(), "月度进展报送", day, lead, None, pk)
                for day in report_next:
                    if day <= due:
                        owe("report", day.isoformat(), "月度进展报送", day, lead, None, pk)
            if task_state == "assigned":
                owe(
                    "sign_for",
                    "",
                    "",
                    late_dates[rnd.randint(1, 20)] if rnd.random() < 0.3 else today,
                    lead,
                    None,
                    pk,
                )
            if task_state == "submitted":
                owe("verify", "", "", submitted_on + datetime.timedelta(days=7), issuing, None, pk)
            state["task_unit"] += 1
            task_units.add(state["task_unit"], "responsible", pk, lead)
            if cooperating and rnd.random() < 0.1:
                state["task_unit"] += 1
                task_units.add(state["task_unit"], "cooperating", pk, rnd.choice(cooperating))
            indicator = None
            if kind == "target":
                state["indicator"] += 1
                indicator = state["indicator"]
                indicators.add(
                    indicator,
                    "脱贫户数",
                    "户",
                    "gte",
                    target_value,
                    rnd.randint(0, target_value),
                    "t" if rnd.random() < 0.1 else "f",
                    parent_indicator,
                    pk,
                )
            elif kind == "procedure":
                for order in range(1, 4):
                    state["step"] += 1
                    step_due = due - datetime.timedelta(days=7 * (3 - order))
                    done = task_state == "closed" or (step_due < today and rnd.random() < 0.7)
                    steps.add(
                        state["step"],
                        order,
                        f"第{order}步",
                        step_due,
                        now.isoformat() if done else None,
                        lead if done else None,
                        pk,
                    )
                    if is_open and not done:
                        owe("step", str(state["step"]), f"第{order}步", step_due, lead, state["step"], pk)
            decomposable = task_state == "in_progress"
            return (pk, due, indicator) if decomposable else None

        total = max(1, round(TASKS * scale))
        upper = max(len(province.cities) * 2, round(total * UPPER_SHARE))
        city_parents: dict[int, list] = {city: [] for city in province.cities}
        for _ in range(upper // 6):
            add_task(
                "省", province.province, rnd.choice(province.province_offices), None, None, (), 100000, 0.1
            )
        for i in range(upper - upper // 6):
            city = province.cities[i % len(province.cities)]
            if i % 5 < 2:
                made = add_task(
                    "市",
                    province.province,
                    city,
                    None,
                    leaders[city],
                    province.city_departments[city],
                    100000,
                    0.02,
                )
                if made:
                    city_parents[city].append(made)
            else:
                add_task(
                    "市",
                    city,
                    rnd.choice(province.city_departments[city]),
                    None,
                    leaders[city],
                    (),
                    100000,
                    0.1,
                )
        big = round(total * BIG_COUNTY_SHARE)
        rest = spread(max(0, total - upper - big), len(province.counties) - 1)
        for county, budget in zip(province.counties, [big, *rest], strict=True):
            city = province.county_city[county]
            departments = province.county_departments[county]
            county_parents = []
            for _ in range(max(1, round(budget * 0.03))):
                parent = rnd.choice(city_parents[city]) if city_parents[city] else None
                made = add_task("县", city, county, parent, leaders[city], departments, 10000, 0.02)
                if made:
                    county_parents.append(made)
            for _ in range(round(budget * 0.05)):
                add_task("县", county, rnd.choice(departments), None, None, (), 10000, 0.1)
            townships = province.townships[county]
            township_parents: dict[int, list] = {t: [] for t in townships}
            for i in range(round(budget * 0.17)):
                township = townships[i % len(townships)]
                parent = rnd.choice(county_parents) if county_parents else None
                made = add_task("镇", county, township, parent, None, departments, 1000, 0.05)
                if made:
                    township_parents[township].append(made)
            villages = [(t, v) for t in townships for v in province.villages[t]]
            for i in range(max(0, budget - round(budget * 0.25))):
                township, village = villages[i % len(villages)]
                candidates = township_parents[township] or county_parents
                parent = rnd.choice(candidates) if candidates else None
                add_task("村", township, village, parent, None, (), 10, 0.08)
        # The fixed township's tasks: the same at every scale (their ids follow the others').
        fixed = random.Random(seed + 1)
        county = province.counties[0]
        fixed_parents = []
        for _ in range(FIXED_TOWNSHIP_TASKS):
            made = add_task(
                "镇",
                county,
                province.fixed_township,
                None,
                None,
                province.county_departments[county],
                1000,
                0.05,
                rnd=fixed,
            )
            if made:
                fixed_parents.append(made)
        for i in range(FIXED_VILLAGE_TASKS):
            village = province.fixed_villages[i % len(province.fixed_villages)]
            parent = fixed.choice(fixed_parents) if fixed_parents else None
            add_task("村", province.fixed_township, village, parent, None, (), 10, 0.08, rnd=fixed)
        for copier in (tasks, task_units, indicators, steps, obligations, schedules):
            copier.flush()
        counts.update(
            tasks=tasks.count,
            task_units=task_units.count,
            indicators=indicators.count,
            steps=steps.count,
            obligations=obligations.count,
            report_schedules=schedules.count,
        )
        # The tasks' next obligation dates (tasks.obligations.next_obligation_refresh), at once.
        cursor.execute(
            "UPDATE tasks_task t SET next_obligation_date = o.first, next_warned_date = o.warned "
            "FROM (SELECT task_id, MIN(due_date) AS first, "
            "MIN(due_date) FILTER (WHERE kind IN ('step', 'report', 'recheck')) AS warned "
            "FROM tasks_obligation WHERE met_at IS NULL GROUP BY task_id) o WHERE t.id = o.task_id"
        )
        counts["late"] = state["late"]
        # Each task's count of its unmet indicators, as the services keep it.
        standing_fill()
        # Each task under every unit whose subtree holds it, as the services keep it; still
        # without the foreign keys' triggers, which would check 4.7 million rows at COMMIT.
        scope_fill()
        raw.execute("SET LOCAL session_replication_role = origin")
        for table in (
            "responsibility_unit",
            "responsibility_user",
            "responsibility_membership",
            "tasks_campaign",
            "tasks_task",
            "tasks_taskunit",
            "tasks_indicator",
            "tasks_procedurestep",
            "tasks_obligation",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT MAX(id) FROM {table}), 1))"
            )
    with connection.cursor() as cursor:
        # VACUUM for the scope's visibility map, so that lists read its index alone.
        cursor.execute("VACUUM (ANALYZE) tasks_taskscope")
        cursor.execute("ANALYZE")
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["big_county"] = province.counties[0]
    counts["fixed_township"] = province.fixed_township
    counts["townships"] = sum(len(t) for t in province.townships.values())
    counts["villages"] = sum(len(v) for v in province.villages.values())
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 tasks; CI uses 0.001")
    parser.add_argument("--seed", type=int, default=2018)
    args = parser.parse_args()
    setup()
    counts = generate(args.scale, args.seed)
    print(" ".join(f"{key}={value}" for key, value in counts.items()))


if __name__ == "__main__":
    main()
