"""Write the results table (markdown) from the figures' JSON files and the machine's description."""

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS_DIR  # noqa: E402

ORDER = ("sweep", "api_load", "lists", "bulletin", "import_table")


def machine() -> list[str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout.splitlines()
    total = memory[1].split()[1] if len(memory) > 1 else "?"
    postgres = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores (nproc)",
        f"- Memory: {total} MiB",
        f"- OS: {platform.platform()}; Python {platform.python_version()}; PostgreSQL {postgres or '?'}",
        f"- Load average at the end of the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


MET = {True: "yes", False: "**no**", None: "for information"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "RESULTS.md"))
    parser.add_argument("--note", action="append", default=[])
    args = parser.parse_args()
    lines = ["# Benchmark results", "", "## Machine", "", *machine(), ""]
    lines += [f"- {note}" for note in args.note]
    lines += [
        "",
        "## Figures",
        "",
        "| figure | measured | floor | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    extras = []
    for name in ORDER:
        path = RESULTS_DIR / f"{name}.json"
        if not path.exists():
            lines.append(f"| {name} | not run | | | | |")
            continue
        data = json.loads(path.read_text())
        for row in data["rows"]:
            unit = row["unit"]
            lines.append(
                f"| {row['metric']} | {row['value']} {unit} | {row['floor']} {unit} | {row['ratio']} "
                f"| {row['goal']} | {MET[row['met']]} |"
            )
            if "latency_ms" in row:
                api, floor = row["latency_ms"], row["floor_latency_ms"]
                extras.append(
                    f"- {row['metric']}: API p50/p95/p99 {api['p50_ms']}/{api['p95_ms']}/{api['p99_ms']} ms, "
                    f"{row['errors']} errors; floor p50/p95/p99 "
                    f"{floor['p50_ms']}/{floor['p95_ms']}/{floor['p99_ms']} ms, {row['floor_errors']} errors"
                )
            if "rounds" in row:
                rounds = row["rounds"]
                extras.append(
                    f"- {row['metric']}: req/s by round, alternating, floor "
                    f"{' / '.join(map(str, rounds['floor']))}, API {' / '.join(map(str, rounds['api']))}"
                )
            if "pairs" in row:
                floor, bulletin, figures = (
                    " / ".join(map(str, row["pairs"][key])) for key in ("floor", "bulletin", "figures")
                )
                extras.append(
                    f"- {row['metric']}: s by pair (floor first, then bulletin first, in turn), "
                    f"floor {floor}, bulletin {bulletin}, of which the figures {figures}"
                )
        if name == "api_load":
            counts = data["detail"]["list_query_counts"]
            extras.append(
                "- Task list queries per request (filter, page): "
                + ", ".join(f"{key}: {value}" for key, value in counts.items())
            )
        if name == "sweep":
            memory = data["detail"]["memory"]
            for label, m in memory.items():
                extras.append(
                    f"- Sweep process ({label}): {m['tasks']:,} tasks, {m['rows']:,} escalations, "
                    f"RSS {m['rss_before_mib']:.1f} MiB after start-up, peak {m['rss_peak_mib']:.1f} MiB"
                )
    lines += ["", "## Details", "", *extras, ""]
    # The profiles of missed goals and what was done about them, kept by hand.
    fixes = Path(__file__).resolve().parent / "FIXES.md"
    if fixes.exists():
        lines += [fixes.read_text().rstrip(), ""]
    Path(args.output).write_text("\n".join(lines))
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
