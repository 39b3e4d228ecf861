"""Figure 5: the task list and the dashboard against their hand-written SQL floors, and
what a page costs as the province grows.

In process, one request at a time through Django's test client (the whole middleware, DRF
and serializer stack for the API; bench/floors.py for the floor), alternating API and
floor ``--repeat`` times per list and taking each side's median:

* lists: the first county's head, the head of its first township and of that township's
  first village, every filter the load test drives and none, pages 1 and 3 of 50. The
  floor must answer the same ids and count, or the figure fails.
* the dashboard of the first county, as its head.
* flat cost: the same measurements on ``--flat-database-url`` (the generator at a
  hundredth of the scale: 10,000 tasks for 1,000,000). The first county's page there is
  compared with the page of a unit of the main database holding about as many tasks
  (the township or village of the first county nearest in count), and with the first
  county itself, which holds a hundred times more at the main scale (for information).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ratio_row, setup, token_key, write_result  # noqa: E402

FILTERS = ("", "state=in_progress", "overdue=true", "kind=target&kind=task", "light=green", "top_level=false")
PAGES = (1, 3)


def heads() -> dict[str, int]:
    from responsibility.models import Unit

    county = Unit.objects.filter(kind="county").order_by("pk").first()
    found = {"county": county.pk}
    # At the smallest scales the county may hold no township, or the township no village.
    township = Unit.objects.filter(kind="township", path__startswith=county.path).order_by("pk").first()
    if township:
        found["township"] = township.pk
        village = Unit.objects.filter(kind="village", path__startswith=township.path).order_by("pk").first()
        if village:
            found["village"] = village.pk
    return found


def client(user_id: int):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Token {token_key(user_id)}", HTTP_HOST="testserver")


def timed_get(browser, url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    response = browser.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return elapsed, json.loads(response.content)


def compare(user_id: int, api_url: str, floor_url: str, repeat: int) -> dict:
    """Median seconds of API and floor, alternating; the answers must agree."""
    browser = client(user_id)
    api_answer = timed_get(browser, api_url)[1]
    floor_answer = timed_get(browser, floor_url)[1]
    if "results" in api_answer:
        same = (api_answer["count"], [t["id"] for t in api_answer["results"]]) == (
            floor_answer["count"],
            [t["id"] for t in floor_answer["results"]],
        )
    else:
        same = [c["unit"]["id"] for c in api_answer["children"]] == [
            c["id"] for c in floor_answer["children"]
        ]
        same = same and api_answer["unit"]["total"] == floor_answer["unit"]["total"]
    if not same:
        raise SystemExit(f"The floor answers differently from the API: {api_url}")
    api, floor = [], []
    for _ in range(repeat):
        floor.append(timed_get(browser, floor_url)[0])
        api.append(timed_get(browser, api_url)[0])
    return {
        "api": statistics.median(api),
        "floor": statistics.median(floor),
        "count": api_answer.get("count", api_answer.get("unit", {}).get("total")),
    }


def list_urls(query: str, page: int) -> tuple[str, str]:
    suffix = f"{query}&page={page}&page_size=50" if query else f"page={page}&page_size=50"
    return f"/api/v1/tasks/?{suffix}", f"/floor/tasks/?{suffix}"


def measure_flat(county: int, repeat: int) -> dict:
    """The first county's pages and dashboard on this database (the API's medians)."""
    results = {}
    for page in PAGES:
        # At the smallest scales the county's list may not reach page 3.
        last = max(1, -(-results["page 1"]["count"] // 50)) if results else page
        results[f"page {page}"] = compare(county, *list_urls("", min(page, last)), repeat)
    results["dashboard"] = compare(
        county, f"/api/v1/units/{county}/dashboard/", f"/floor/units/{county}/dashboard/", repeat
    )
    return results


def nearest_unit(county: int, count: int) -> int:
    """The township or village of the county whose scope holds about ``count`` tasks."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.unit_id, count(*) FROM tasks_taskscope s JOIN responsibility_unit u ON u.id = s.unit_id"
            " WHERE u.path LIKE (SELECT path FROM responsibility_unit WHERE id = %s) || '_%%'"
            " AND u.kind IN ('township', 'village') GROUP BY s.unit_id ORDER BY abs(count(*) - %s), s.unit_id"
            " LIMIT 1",
            [county, count],
        )
        row = cursor.fetchone()
        return row[0] if row else county


def throughput_row(label: str, result: dict) -> dict:
    """One request at a time: requests a second are the inverse of the median times."""
    api, floor = 1 / result["api"], 1 / result["floor"]
    met = api >= 0.5 * floor
    return ratio_row(label, api, floor, "≥ 0.5 × floor req/s", met, unit="req/s", ratio=api / floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--flat-database-url")
    parser.add_argument("--flat-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    setup("bench.settings")
    from django.utils import timezone

    from bench.common import vacuum
    from responsibility.models import ApiToken

    ApiToken.objects.update(last_used_at=timezone.now())
    vacuum("tasks_taskscope", "tasks_task", "tasks_taskunit", "tasks_indicator")
    people = heads()
    if args.flat_only:
        print(json.dumps(measure_flat(people["county"], args.repeat)))
        return
    rows, detail = [], {}
    for role, user_id in people.items():
        for query in FILTERS:
            last = None
            for wanted in PAGES:
                # A village's filtered list may not reach page 3: its last page instead.
                page = min(wanted, last) if last else wanted
                result = compare(user_id, *list_urls(query, page), args.repeat)
                last = max(1, -(-result["count"] // 50))
                label = f"{role} head's list ({result['count']:,} tasks), {query or 'no filter'}, page {page}"
                detail[label] = result
                rows.append(throughput_row(label, result))
    county = people["county"]
    dashboard = compare(
        county, f"/api/v1/units/{county}/dashboard/", f"/floor/units/{county}/dashboard/", args.repeat
    )
    detail["dashboard"] = dashboard
    rows.append(throughput_row(f"county dashboard ({dashboard['count']:,} tasks, per child unit)", dashboard))
    if args.flat_database_url:
        output = subprocess.run(
            [sys.executable, __file__, "--flat-only", "--repeat", str(args.repeat)],
            env={**os.environ, "DATABASE_URL": args.flat_database_url},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        small = json.loads(output.strip().splitlines()[-1])
        detail["flat"] = small
        peer = nearest_unit(county, small["page 1"]["count"])
        here = {}
        for page in PAGES:
            last = max(1, -(-here[1]["count"] // 50)) if here else page
            here[page] = compare(peer, *list_urls("", min(page, last)), args.repeat)
        big = measure_flat(county, args.repeat)
        for page in PAGES:
            name = f"page {page}"
            rows.append(
                ratio_row(
                    f"flat cost: a unit of {here[page]['count']:,} tasks, {name}, at this scale, against the "
                    f"first county ({small[name]['count']:,} tasks) at a hundredth of it",
                    here[page]["api"],
                    small[name]["api"],
                    "≤ 1.5 × (time)",
                    here[page]["api"] <= 1.5 * small[name]["api"],
                )
            )
            rows.append(
                ratio_row(
                    f"the first county's {name} ({big[name]['count']:,} tasks here, {small[name]['count']:,} "
                    "at a hundredth of the scale)",
                    big[name]["api"],
                    small[name]["api"],
                    "— (holds a hundred times more)",
                    None,
                )
            )
        rows.append(
            ratio_row(
                f"flat cost: the first county's dashboard ({big['dashboard']['count']:,} tasks here, "
                f"{small['dashboard']['count']:,} at a hundredth of the scale)",
                big["dashboard"]["api"],
                small["dashboard"]["api"],
                "— (holds a hundred times more)",
                None,
            )
        )
        detail["flat_peer"] = {"unit": peer, **{str(page): here[page] for page in PAGES}}
    write_result("lists", rows, detail=detail)
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
