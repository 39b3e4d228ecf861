"""Figure 5: the task list and the dashboard against their hand-written SQL floors, and
what a page costs as the province grows.

In process, one request at a time through Django's test client (the whole middleware, DRF
and serializer stack for the API; bench/floors.py for the floor), alternating API and
floor ``--repeat`` times per list and taking each side's median:

* lists: the first county's head, the head of its first township and of that township's
  first village, every filter the load test drives and none, pages 1 and 3 of 50. The
  floor must answer the same ids and count, or the figure fails.
* the dashboard of the first county, as its head.
* flat cost: the generator's fixed township (定点镇) and its first village hold the same
  tasks at every scale (398 and 37 listed). Their lists (every filter, pages 1 and 3) and
  the township's dashboard are timed on this database and on ``--flat-database-url`` (the
  generator at a hundredth of the scale: 10,000 tasks for 1,000,000, on the same server),
  in one process, in ``--repeat`` rounds that switch databases and take turns going first;
  each row is the API's p50 here against there. The first county's page 1 and dashboard,
  which hold a hundred times more here, are shown for information.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

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


def fixed_heads() -> dict[str, int]:
    """The heads of the generator's fixed township and of its first village, whose tasks are
    the same at every scale (bench/generate_province.py)."""
    from bench.generate_province import FIXED_TOWNSHIP
    from responsibility.models import Unit

    township = Unit.objects.get(kind="township", name=FIXED_TOWNSHIP)
    village = Unit.objects.filter(parent=township, kind="village").order_by("pk").first()
    return {"fixed township": township.pk, "fixed village": village.pk}


def measure_lists(people: dict[str, int], repeat: int) -> dict[str, dict]:
    """Each head's list, every filter, pages 1 and 3 (or the last page, if fewer)."""
    results = {}
    for role, user_id in people.items():
        for query in FILTERS:
            last = None
            for wanted in PAGES:
                # A village's filtered list may not reach page 3: its last page instead.
                page = min(wanted, last) if last else wanted
                result = compare(user_id, *list_urls(query, page), repeat)
                last = max(1, -(-result["count"] // 50))
                results[f"{role}|{query}|{page}"] = {**result, "role": role, "query": query, "page": page}
    return results


def use_database(name: str) -> None:
    """Point the default connection at another database of the same server (the next query
    connects): the two scales' pages are timed in one process, in alternating rounds."""
    from django.db import connection

    if connection.settings_dict["NAME"] != name:
        connection.close()
        connection.settings_dict["NAME"] = name


def answered_count(answer: dict) -> int:
    return answer["count"] if "count" in answer else answer["unit"]["total"]


def flat_targets() -> dict[str, tuple[int, str]]:
    """On the current database, by key: the user and API address of each fixed unit's list
    (every filter, pages 1 and 3, or the last page if fewer), of the fixed township's
    dashboard, and of the first county's page 1 and dashboard (for information)."""
    fixed = fixed_heads()
    targets = {}
    for role, user_id in fixed.items():
        for query in FILTERS:
            last = None
            for wanted in PAGES:
                page = min(wanted, last) if last else wanted
                url = list_urls(query, page)[0]
                last = max(1, -(-timed_get(client(user_id), url)[1]["count"] // 50))
                targets[f"{role}|{query or 'no filter'}, page {page}"] = (user_id, url)
    township = fixed["fixed township"]
    targets["fixed township|dashboard"] = (township, f"/api/v1/units/{township}/dashboard/")
    county = heads()["county"]
    targets["county|page 1"] = (county, list_urls("", 1)[0])
    targets["county|dashboard"] = (county, f"/api/v1/units/{county}/dashboard/")
    return targets


def measure_flat(big: str, small: str, repeat: int) -> dict:
    """Every flat target's API p50 on the two databases, in ``repeat`` rounds that take
    turns going first; the unit's count on each."""
    from bench.common import vacuum

    databases = {"big": big, "small": small}
    targets = {}
    for side, name in databases.items():
        use_database(name)
        if side == "small":
            vacuum("tasks_taskscope", "tasks_task", "tasks_taskunit", "tasks_indicator")
        targets[side] = flat_targets()
    if targets["big"].keys() != targets["small"].keys():
        raise SystemExit("The two databases do not hold the same fixed units' pages.")
    times = {key: {side: [] for side in databases} for key in targets["big"]}
    counts = {key: {} for key in targets["big"]}
    for round_ in range(repeat):
        for side in ("small", "big") if round_ % 2 == 0 else ("big", "small"):
            use_database(databases[side])
            for key, (user_id, url) in targets[side].items():
                browser = client(user_id)
                timed_get(browser, url)  # the first after the switch connects
                elapsed, answer = timed_get(browser, url)
                times[key][side].append(elapsed)
                counts[key][side] = answered_count(answer)
    use_database(big)
    return {
        key: {
            **{side: statistics.median(times[key][side]) for side in databases},
            "count": counts[key],
            "rounds": times[key],
        }
        for key in times
    }


def flat_rows(flat: dict) -> list[dict]:
    """The same unit's pages here against the small database: p50 of the API, time ratio."""
    rows = []
    for key, result in flat.items():
        role, what = key.split("|", 1)
        here, there = result["count"]["big"], result["count"]["small"]
        if role == "county":
            rows.append(
                ratio_row(
                    f"the first county's {what} ({here:,} tasks here, {there:,} at the small scale)",
                    result["big"],
                    result["small"],
                    "— (holds more as the scale grows)",
                    None,
                )
            )
            continue
        name = f"{role}'s dashboard" if what == "dashboard" else f"{role}'s list, {what}"
        if here == there:
            label, goal, met = f"{here:,} tasks", "≤ 1.5 × (time)", result["big"] <= 1.5 * result["small"]
        else:
            # Written to since it was generated (the API load commits transitions on random
            # tasks): no longer the same unit, so no goal.
            label, goal, met = f"{here:,} tasks here, {there:,} at the small scale", "— (changed)", None
        rows.append(
            ratio_row(
                f"flat cost: the {name} ({label}), this scale against the small one",
                result["big"],
                result["small"],
                goal,
                met,
            )
        )
    return rows


def throughput_row(label: str, result: dict) -> dict:
    """One request at a time: requests a second are the inverse of the median times."""
    api, floor = 1 / result["api"], 1 / result["floor"]
    met = api >= 0.5 * floor
    return ratio_row(label, api, floor, "≥ 0.5 × floor req/s", met, unit="req/s", ratio=api / floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--flat-database-url")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    setup("bench.settings")
    from django.utils import timezone

    from bench.common import vacuum
    from responsibility.models import ApiToken

    ApiToken.objects.update(last_used_at=timezone.now())
    vacuum("tasks_taskscope", "tasks_task", "tasks_taskunit", "tasks_indicator")
    people = heads()
    rows, detail = [], {}
    for key, result in measure_lists(people, args.repeat).items():
        label = (
            f"{result['role']} head's list ({result['count']:,} tasks), {result['query'] or 'no filter'}, "
            f"page {result['page']}"
        )
        detail[key] = result
        rows.append(throughput_row(label, result))
    county = people["county"]
    dashboard = compare(
        county, f"/api/v1/units/{county}/dashboard/", f"/floor/units/{county}/dashboard/", args.repeat
    )
    detail["dashboard"] = dashboard
    rows.append(throughput_row(f"county dashboard ({dashboard['count']:,} tasks, per child unit)", dashboard))
    if args.flat_database_url:
        from django.db import connection

        small = urlparse(args.flat_database_url).path.lstrip("/")
        flat = measure_flat(connection.settings_dict["NAME"], small, args.repeat)
        detail["flat"] = flat
        rows.extend(flat_rows(flat))
    write_result("lists", rows, detail=detail)
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
