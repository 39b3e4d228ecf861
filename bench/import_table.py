"""Figure 4: importing a 10,000-row task table against openpyxl reading the same file.

Beside it, for information, a problem list (问题清单) of a seventh of the rows, at most 1,400
(Jinzhou's 百日攻坚 tracked 1,396 problems), imported into rectification items
(``imports.problems.services.problem_list_import``) against the same floor.

The table is a city's decomposition table: 20 headings ("一" … "二十") of 500 tasks each,
led by the city's counties and departments, with the city's leaders and deadlines in the
forms offices write. The import (``imports.services.table_import``, not a dry run) goes
into a fresh campaign in a transaction that is rolled back; the floor opens the same bytes
with ``openpyxl.load_workbook(read_only=True)`` and reads every cell.
"""

import argparse
import datetime
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ratio_row, setup, vacuum, write_result  # noqa: E402

HEADER = ("序号", "任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "备注")
NUMERALS = "一二三四五六七八九十"


def chinese(number: int) -> str:
    if number <= 10:
        return NUMERALS[number - 1]
    tens, ones = divmod(number, 10)
    return ("" if tens == 1 else NUMERALS[tens - 1]) + "十" + (NUMERALS[ones - 1] if ones else "")


def build_table(rows: int, city, leader_name: str) -> bytes:
    import openpyxl

    from responsibility.models import Unit

    units = list(
        Unit.objects.filter(parent=city, kind__in=["county", "department"]).values_list("name", flat=True)
    )
    headings = 20
    per_heading = max(1, rows // headings)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["全市百日攻坚任务分解表"])
    sheet.append(list(HEADER))
    deadlines = ("12月31日前", "11月底", "10月下旬", "第四季度", "年底前", "长期坚持")
    for heading in range(1, headings + 1):
        sheet.append([chinese(heading), f"第{heading}类重点工作", "", "", "", "", "", ""])
        for number in range(1, per_heading + 1):
            index = heading * per_heading + number
            sheet.append(
                [
                    str(number),
                    f"落实第{heading}类第{number}项措施，确保按期完成",
                    leader_name if number % 3 == 0 else "",
                    units[index % len(units)],
                    units[(index + 1) % len(units)] if number % 4 == 0 else "",
                    units[(index + 2) % len(units)] if number % 5 == 0 else "",
                    deadlines[index % len(deadlines)],
                    "",
                ]
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


PROBLEM_HEADER = ("序号", "存在问题", "所在单位", "责任单位", "整改措施", "整改时限", "问题来源")
PROBLEMS = ("贫困户脱贫档案填写不完整、不规范", "贫困户收入漏统、错统", "贫困户信息“三上墙”不到位")


def build_problem_list(rows: int, city) -> bytes:
    import openpyxl

    from responsibility.models import Unit

    counties = list(Unit.objects.filter(parent=city, kind="county").values_list("name", flat=True))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(PROBLEM_HEADER))
    deadlines = ("11月30日前", "12月底", "立行立改", "第四季度")
    for number in range(1, rows + 1):
        sheet.append(
            [
                str(number),
                f"第{number}户{PROBLEMS[number % len(PROBLEMS)]}",
                counties[number % len(counties)],
                "",
                "逐户核查，补齐资料",
                deadlines[number % len(deadlines)],
                "抽查暗访",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problems_once(data: bytes, city, actor) -> int:
    from django.db import transaction
    from django.utils import timezone

    from imports.problems.services import problem_list_import
    from tasks.models import Campaign

    today = timezone.localdate()
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name="问题清单导入基准",
            issuing_unit=city,
            starts_on=datetime.date(today.year, 1, 1),
            ends_on=datetime.date(today.year, 12, 31),
        )
        result = problem_list_import(
            actor=actor, campaign=campaign, data=data, filename="problems.xlsx", dry_run=False
        )
        transaction.set_rollback(True)
    if result.errors:
        raise SystemExit(f"The problem list reported errors: {result.errors[:3]}")
    return result.counts["created"]


def floor_once(data: bytes) -> int:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = 0
    for row in workbook.active.iter_rows(values_only=True):
        cells += sum(1 for value in row if value is not None)
    workbook.close()
    return cells


def import_once(data: bytes, city, actor) -> int:
    from django.db import transaction
    from django.utils import timezone

    from imports.services import table_import
    from tasks.models import Campaign

    today = timezone.localdate()
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name="导入基准",
            issuing_unit=city,
            starts_on=datetime.date(today.year, 1, 1),
            ends_on=datetime.date(today.year, 12, 31),
        )
        result = table_import(actor=actor, campaign=campaign, data=data, filename="table.xlsx", dry_run=False)
        created = result.counts["created"]
        transaction.set_rollback(True)
    if result.errors:
        raise SystemExit(f"The import reported errors: {result.errors[:3]}")
    return created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--save", default="", help="also write the generated table to this path")
    args = parser.parse_args()
    setup()
    from responsibility.models import Membership, Role, Unit, User

    city = Unit.objects.filter(kind="city").order_by("pk").first()
    actor = User.objects.get(memberships__unit=city, memberships__role=Role.HEAD)
    leader = Membership.objects.filter(unit=city, role=Role.LEADER).select_related("user").first().user
    data = build_table(args.rows, city, leader.full_name)
    vacuum("tasks_task", "tasks_taskunit", "tasks_taskevent", "imports_taskwording")
    if args.save:
        Path(args.save).write_bytes(data)
    floor_times, import_times, created = [], [], 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        floor_once(data)
        floor_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        created = import_once(data, city, actor)
        import_times.append(time.perf_counter() - started)
    floor, measured = statistics.median(floor_times), statistics.median(import_times)
    problem_rows = max(1, min(1_400, args.rows // 7))
    problems = build_problem_list(problem_rows, city)
    problem_floor_times, problem_times, items = [], [], 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        floor_once(problems)
        problem_floor_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        items = problems_once(problems, city, actor)
        problem_times.append(time.perf_counter() - started)
    rows = [
        ratio_row(
            f"import of a {args.rows:,}-row table ({created:,} tasks created, {len(data) // 1024} KiB)",
            measured,
            floor,
            "≤ 5 × floor",
            measured <= 5 * floor,
        ),
        ratio_row(
            f"import of a {problem_rows:,}-problem list ({items:,} rectification items issued)",
            statistics.median(problem_times),
            statistics.median(problem_floor_times),
            "for information",
            None,
        ),
    ]
    write_result(
        "import_table",
        rows,
        detail={
            "floor_times": floor_times,
            "import_times": import_times,
            "problem_floor_times": problem_floor_times,
            "problem_times": problem_times,
        },
    )
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
