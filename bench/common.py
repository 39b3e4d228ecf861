"""What every benchmark script shares: Django set-up against a bench database, the
deterministic API tokens of the generated users, timing, and the results files."""

import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR", BENCH_DIR / "results"))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/duban_bench"


def setup(settings_module: str = "backend.settings.base") -> None:
    """Configure Django for a database whose name says it may be wiped."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    os.environ.setdefault("DUBAN_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    name = connection.settings_dict["NAME"] or ""
    if connection.vendor != "postgresql" or "bench" not in name:
        raise SystemExit(f"Refusing to run: the database {name!r} is not a PostgreSQL bench database.")


def token_key(user_id: int) -> str:
    """Generated users' API tokens, computable by the load generator without a query."""
    return hashlib.sha1(f"duban-bench-{user_id}".encode()).hexdigest()


def timed(function, repeat: int = 3) -> tuple[float, list[float], object]:
    """The median wall time of ``repeat`` calls, every time, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def write_result(name: str, rows: list[dict], **extra) -> Path:
    """Store one figure's rows: ``{"metric", "value", "floor", "ratio", "goal", "met", "unit"}``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({"name": name, "rows": rows, **extra}, ensure_ascii=False, indent=2))
    return path


def ratio_row(
    metric: str, value: float, floor: float, goal: str, met: bool | None, unit: str = "s", ratio=None
) -> dict:
    """One row of the results table; ``met`` is None for a figure shown for information."""
    return {
        "metric": metric,
        "value": round(value, 4),
        "floor": round(floor, 4),
        "ratio": round(ratio if ratio is not None else (value / floor if floor else float("nan")), 3),
        "goal": goal,
        "met": None if met is None else bool(met),
        "unit": unit,
    }


def vacuum(*tables: str) -> None:
    """VACUUM ANALYZE the tables a figure reads, before it is measured.

    Every benchmark writes inside transactions it rolls back, and what it leaves is dead
    rows: after a few runs the escalation table held 1.2 GB for 466,805 live rows, and
    every scan of it read them all. Production's autovacuum keeps tables near their live
    size; a figure should not pay for the benchmarks run before it. (The sweep's own
    figure vacuums between its runs.)
    """
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
