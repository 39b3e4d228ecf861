"""Figure 2: the department API under load, served by gunicorn, against plain Django views.

Gunicorn serves ``bench.settings`` (the production settings with the floor views of
``bench.floor_urls`` added) on 127.0.0.1:8100; a second process drives it with threads
over keep-alive HTTP connections, each request with the token of the user it acts for.
Each scenario alternates floor and API rounds (``--rounds``), so that whatever else the
machine does weighs on both sides alike; the figures are over all rounds of a side.

* write: a progress report and then the submit transition on random in-progress leaf
  tasks, each as its lead unit's head (``POST …/reports/`` + ``POST …/transitions/submit/``);
  floor: ``bench.floor_urls.floor_report`` / ``floor_submit``, the same row update,
  report and history rows in plain Django. Each task is used once. The submit asks for
  ``Prefer: return=minimal``, as the floor answers only the new state; the same scenario
  answered with the whole task is measured too and shown for information.
* list: the task list of the largest county as its head, 50 a page, random pages and
  filters; floor: the hand-written SQL of bench/sql (``bench.floors.floor_task_list``),
  the same rows and columns. Its p95 is held to 10 × its p50.
  The number of queries per request is counted in-process for several pages and filters.
"""

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, ratio_row, setup, token_key, write_result  # noqa: E402

HOST, PORT = "127.0.0.1", 8100
LIST_FILTERS = (
    "state=in_progress",
    "overdue=true",
    "kind=target&kind=task",
    "light=green",
    "top_level=false",
)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def drive(plan: dict) -> dict:
    """Run one scenario for ``plan["seconds"]``; returns every latency and the errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + plan["seconds"]
    tasks = list(plan.get("tasks", []))
    rnd = random.Random(7)

    def request(connection, method, url, token, body=None, extra_headers=None) -> None:
        headers = {"Authorization": f"Token {token}", "Host": HOST, **(extra_headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            connection.request(method, url, body=payload, headers=headers)
            response = connection.getresponse()
            content = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            status, content = 0, str(error).encode()
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if status >= 400 or status == 0:
                errors.append(f"{status} {method} {url} {content[:200]!r}")

    def worker() -> None:
        connection = http.client.HTTPConnection(HOST, PORT, timeout=30)
        while time.perf_counter() < deadline:
            if plan["kind"] == "write":
                with lock:
                    if not tasks:
                        return
                    task_id, user_id = tasks.pop()
                token = token_key(user_id)
                prefix = plan["prefix"]
                request(
                    connection, "POST", f"{prefix}{task_id}/reports/", token, {"text": "本周完成入户核查。"}
                )
                request(
                    connection,
                    "POST",
                    f"{prefix}{task_id}/transitions/submit/",
                    token,
                    {"comment": "已完成，申请销号。"},
                    plan.get("headers"),
                )
            else:
                with lock:
                    query = rnd.choice(LIST_FILTERS)
                    page = rnd.randint(1, plan["pages"][query])
                url = f"{plan['prefix']}?{query}&page={page}&page_size=50"
                request(connection, "GET", url, token_key(plan["user"]))
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(plan["concurrency"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "seconds": time.perf_counter() - started,
        "latencies": latencies,
        "errors": len(errors),
        "error_samples": errors[:5],
    }


def summarize(runs: list[dict]) -> dict:
    """Throughput, latency percentiles and errors over the rounds of one side."""
    latencies = [latency for run in runs for latency in run["latencies"]]
    seconds = sum(run["seconds"] for run in runs)
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "rounds": [round(len(run["latencies"]) / run["seconds"], 1) for run in runs],
        "rps": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "errors": sum(run["errors"] for run in runs),
        "error_samples": [sample for run in runs for sample in run["error_samples"]][:5],
    }


def drive_in_subprocess(plan: dict) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--drive"],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def start_gunicorn(workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DUBAN_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "backend.wsgi:application",
            f"--bind={HOST}:{PORT}",
            f"--workers={workers}",
            "--log-level=warning",
            # No shared control socket: another gunicorn on this machine (a test) may hold it.
            "--no-control-socket",
            f"--chdir={ROOT}",
        ],
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection(HOST, PORT, timeout=2)
            connection.request("GET", "/api/v1/tasks/", headers={"Host": HOST})
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def write_pool(size: int) -> list[tuple[int, int]]:
    """In-progress leaf tasks without steps, each with the user who heads its lead unit."""
    from django.db.models import Exists, OuterRef

    from responsibility.models import Membership
    from tasks.models import Task

    heads = Membership.objects.filter(unit=OuterRef("lead_unit"), user=OuterRef("lead_unit"), role="head")
    pool = list(
        Task.objects.filter(state="in_progress", kind__in=["task", "target", "rectification"])
        .filter(~Exists(Task.objects.filter(parent=OuterRef("pk"))), Exists(heads))
        .order_by("?")
        .values_list("pk", "lead_unit_id")[:size]
    )
    return pool


def query_counts(county_id: int, pages: dict[str, int]) -> dict[str, int]:
    """Queries per request of the task list, over several pages and filters."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token_key(county_id)}")
    counts = {}
    for query in LIST_FILTERS:
        for page in sorted({1, min(3, pages[query])}):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(f"/api/v1/tasks/?{query}&page={page}&page_size=50")
            assert response.status_code == 200, response.content[:300]
            counts[f"{query} p{page}"] = len(captured)
    return counts


def list_pages(user, query: str, limit: int = 20) -> int:
    """How many pages of 50 the filter yields, at most ``limit``: the driver stays within them."""
    from django.http import QueryDict

    from tasks.filters import TaskFilter
    from tasks.selectors import task_list_for_user

    count = TaskFilter(QueryDict(query), queryset=task_list_for_user(user)).qs.count()
    return max(1, min(limit, -(-count // 50)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="per side and scenario, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="alternating floor and API rounds")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--scenario",
        action="append",
        choices=["write", "write_full", "list"],
        help="measure only these scenarios (repeatable); all by default",
    )
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(json.loads(sys.stdin.read()))))
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    setup("bench.settings")
    from django.utils import timezone

    from responsibility.models import ApiToken, Unit

    # The generated tokens may have lain idle since the data was made, longer than a token lives.
    ApiToken.objects.update(last_used_at=timezone.now())
    from tasks.selectors import task_list_for_user

    # The generator gives the first county the largest share of the tasks.
    county = Unit.objects.filter(kind="county").order_by("pk").first()
    from responsibility.models import User

    head = User.objects.get(pk=county.pk)
    visible = task_list_for_user(head).count()
    pages = {query: list_pages(head, query) for query in LIST_FILTERS}
    counts = query_counts(county.pk, pages)
    pool = write_pool(60_000)
    third = len(pool) // 3
    common = {"seconds": args.seconds, "concurrency": args.concurrency}
    minimal = {"Prefer": "return=minimal"}
    scenarios = {
        "write": (
            {
                **common,
                "kind": "write",
                "prefix": "/api/v1/tasks/",
                "tasks": pool[:third],
                "headers": minimal,
            },
            {**common, "kind": "write", "prefix": "/floor/tasks/", "tasks": pool[third : 2 * third]},
        ),
        # The floor is the write floor above, measured once.
        "write_full": (
            {**common, "kind": "write", "prefix": "/api/v1/tasks/", "tasks": pool[2 * third :]},
            None,
        ),
        "list": (
            {**common, "kind": "list", "prefix": "/api/v1/tasks/", "user": county.pk, "pages": pages},
            {**common, "kind": "list", "prefix": "/floor/tasks/", "user": county.pk, "pages": pages},
        ),
    }
    if args.scenario:
        # write_full is compared with the write scenario's floor.
        wanted = {*args.scenario, *(["write"] if "write_full" in args.scenario else [])}
        scenarios = {name: plans for name, plans in scenarios.items() if name in wanted}
    server = start_gunicorn(args.workers)
    measured = {}
    try:
        for name, (api_plan, floor_plan) in scenarios.items():
            # Warm both paths, then alternate floor and API rounds, so that a change in
            # what else the machine is doing weighs on both sides alike.
            sides = {"api": api_plan, "floor": floor_plan} if floor_plan is not None else {"api": api_plan}
            for plan in sides.values():
                drive_in_subprocess({**plan, "seconds": 1, "tasks": plan.get("tasks", [])[:20]})
                plan["tasks"] = plan.get("tasks", [])[20:]
            runs: dict[str, list[dict]] = {side: [] for side in sides}
            for round_number in range(args.rounds):
                for side in sorted(sides, reverse=True):  # the floor first
                    plan = sides[side]
                    share = len(plan["tasks"]) // (args.rounds - round_number) if plan["tasks"] else 0
                    round_plan = {**plan, "seconds": args.seconds / args.rounds}
                    if plan["tasks"]:
                        round_plan["tasks"], plan["tasks"] = plan["tasks"][:share], plan["tasks"][share:]
                    runs[side].append(drive_in_subprocess(round_plan))
            result = {side: summarize(side_runs) for side, side_runs in runs.items()}
            result.setdefault("floor", measured.get("write", {}).get("floor"))
            measured[name] = result
    finally:
        stop_gunicorn(server)
    labels = {
        "write": "report + submit on random tasks, many users (submit with Prefer: return=minimal)",
        "write_full": "report + submit, the submit answered with the whole task",
        "list": f"county task list ({visible:,} visible tasks), 50 a page, filtered",
    }
    rows = []
    for name, result in measured.items():
        api, floor = result["api"], result["floor"]
        fixed = all(len({v for k, v in counts.items() if k.startswith(f"{q} p")}) == 1 for q in LIST_FILTERS)
        met = api["rps"] >= 0.5 * floor["rps"] and api["errors"] == 0 and floor["errors"] == 0 and fixed
        goal = "≥ 0.5 × floor req/s, 0 errors" + (", fixed queries, p95 ≤ 10 × p50" if name == "list" else "")
        if name == "list":
            met = met and api["p95_ms"] <= 10 * api["p50_ms"]
        if name == "write_full":
            met, goal = None, "— (the goal is the row above)"
        row = ratio_row(f"API {labels[name]}", api["rps"], floor["rps"], goal, met, unit="req/s")
        row["latency_ms"] = {key: round(api[key], 1) for key in ("p50_ms", "p95_ms", "p99_ms")}
        row["floor_latency_ms"] = {key: round(floor[key], 1) for key in ("p50_ms", "p95_ms", "p99_ms")}
        row["rounds"] = {"api": api["rounds"], "floor": floor["rounds"]}
        row["errors"] = api["errors"]
        row["floor_errors"] = floor["errors"]
        rows.append(row)
    write_result("api_load", rows, detail={"measured": measured, "list_query_counts": counts})
    for row in rows:
        print(row)
    print(json.dumps({"query_counts": counts}))
    for name, result in measured.items():
        for side in ("api", "floor"):
            if result[side]["error_samples"]:
                print(name, side, result[side]["error_samples"])


if __name__ == "__main__":
    main()
