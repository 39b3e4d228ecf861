"""The benchmarks keep working: ``bench/run --quick`` at a tiny scale on its own databases.

No timing is asserted; each figure must complete and write its rows.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

# Serial: the whole benchmark pipeline under a time limit, which two busy cores beside it
# would exceed.
pytestmark = [pytest.mark.postgres, pytest.mark.serial]


@pytest.mark.skipif(shutil.which("psql") is None, reason="needs the PostgreSQL client tools")
def test_bench_run_at_tiny_scale(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the benchmarks run on PostgreSQL")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REDIS_URL")
    }
    env.update(
        BENCH_DB="duban_bench_ci",
        BENCH_COMPARE_DB="duban_bench_ci_compare",
        BENCH_FLAT_DB="duban_bench_ci_flat",
        BENCH_RESULTS_DIR=str(tmp_path / "results"),
    )
    output = tmp_path / "RESULTS.md"
    subprocess.run(
        [
            str(ROOT / "bench" / "run"),
            "--quick",
            "--scale",
            "0.001",
            "--compare-scale",
            "0.002",
            "--flat-scale",
            "0.001",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    for name in ("sweep", "api_load", "lists", "bulletin", "import_table"):
        data = json.loads((tmp_path / "results" / f"{name}.json").read_text())
        assert data["rows"], name
        assert all(row["floor"] > 0 for row in data["rows"]), name
    table = output.read_text()
    assert "| figure | measured | floor | ratio | goal | met |" in table
    assert "not run" not in table
