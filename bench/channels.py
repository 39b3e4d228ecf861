"""Figure: the sweep with a group robot on every county and township, and the outbox's
drain at the robots' rate limit.

1. The whole sweep, record and compose (nothing sent), with a 企业微信 robot on every
   county and township, against the same sweep without robots; each run in a transaction
   that is rolled back. The record step's ratio to its floor is bench/sweep.py's: run it
   with ``--keep-robots`` left in place to see that the robots do not touch it.
2. The drain: the robots' messages of one sweep sent by ``outbox_flush`` to a local server
   that speaks the protocol and enforces 20 messages a minute per robot itself
   (demo/fake_channels.py), on the real clock: total time, the most any robot sent in a
   minute, and how often the server answered "too fast" (the sender should never make it).
3. One robot with a digest of ``--parts`` parts: the limit binds, and the drain's time is
   compared with the least the limit allows (a window of 60 s for every 20 parts after
   the first 20).
"""

import argparse
import datetime
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ratio_row, setup, vacuum, write_result  # noqa: E402


def add_robots(base: str) -> int:
    from outbox import vault
    from outbox.models import Robot
    from responsibility.models import Unit, UnitKind

    units = Unit.objects.filter(kind__in=[UnitKind.COUNTY, UnitKind.TOWNSHIP]).values_list("pk", "name")
    robots = [
        Robot(
            unit_id=pk,
            kind="wecom",
            name=f"{name}督办群",
            webhook_encrypted=vault.encrypt(f"{base}/cgi-bin/webhook/send?key=u{pk}"),
        )
        for pk, name in units
    ]
    Robot.objects.bulk_create(robots)
    return len(robots)


def sweep(day: datetime.date) -> tuple[float, float, Counter]:
    """Record and compose, timed apart; the messages stored, by channel."""
    from notifications.services import digest_compose, sweep_part_run, sweep_start

    started = time.perf_counter()
    record = sweep_start(day=day)
    for part_id in record.parts.values_list("pk", flat=True):
        sweep_part_run(part_id=part_id)
    recorded = time.perf_counter()
    messages = digest_compose(today=day)
    composed = time.perf_counter()
    return recorded - started, composed - recorded, Counter(message.channel for message in messages)


def compare(day: datetime.date, repeat: int, base: str) -> dict:
    from django.db import transaction

    runs: dict[str, list] = defaultdict(list)
    for _ in range(repeat):
        for label in ("without", "with"):
            with transaction.atomic():
                robots = add_robots(base) if label == "with" else 0
                record, compose, channels = sweep(day)
                transaction.set_rollback(True)
            vacuum("notifications_escalation", "notifications_outboundmessage", "tasks_task")
            runs[label].append({"record": record, "compose": compose, "channels": channels, "robots": robots})
    return runs


def drain(fake, started_at: float) -> dict:
    """Flush until no robot message is left, sleeping until the next one is due."""
    from django.db.models import Min
    from django.utils import timezone

    from outbox.models import Channel, MessageState, OutboundMessage
    from outbox.services import outbox_flush

    robots = OutboundMessage.objects.filter(channel=Channel.WECOM)
    flushes = 0
    while True:
        outbox_flush(limit=100_000)
        flushes += 1
        waiting = robots.filter(state__in=[MessageState.PENDING, MessageState.SENDING])
        due = waiting.aggregate(due=Min("next_attempt_at"))["due"]
        if due is None:
            break
        time.sleep(max((due - timezone.now()).total_seconds(), 0) + 0.05)
    elapsed = time.perf_counter() - started_at
    per_minute = Counter()
    for item in fake.received:
        per_minute[(item.key, int(item.at - fake.received[0].at) // 60)] += 1
    return {
        "seconds": elapsed,
        "flushes": flushes,
        "posts": len(fake.received),
        "messages": robots.count(),
        "sent": robots.filter(state=MessageState.SENT).count(),
        "failed": robots.filter(state=MessageState.FAILED).count(),
        "robots": len({item.key for item in fake.received}),
        "most_in_a_minute": max(per_minute.values(), default=0),
        "too_fast_answers": len(fake.limited),
        "refused": len(fake.refused),
    }


def drain_sweep(day: datetime.date) -> dict:
    from django.db import transaction

    from demo.fake_channels import FakeChannels, FakeChannelServer
    from outbox.models import Channel, OutboundMessage

    fake = FakeChannels(any_key_secret="")
    server = FakeChannelServer(fake).start()
    try:
        with transaction.atomic():
            add_robots(server.base)
            sweep(day)
            # Only the robots' messages: e-mail is not this figure's.
            OutboundMessage.objects.exclude(channel=Channel.WECOM).update(next_attempt_at=None)
            result = drain(fake, time.perf_counter())
            transaction.set_rollback(True)
    finally:
        server.stop()
    return result


def drain_one_robot(parts: int) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from demo.fake_channels import FakeChannels, FakeChannelServer
    from outbox import vault
    from outbox.models import OutboundMessage, Robot
    from outbox.senders import WECOM_MAX_BYTES
    from responsibility.models import Unit

    fake = FakeChannels(any_key_secret="")
    server = FakeChannelServer(fake).start()
    line = (
        "1. [某县某镇某村饮水安全巩固提升工程第 {n} 项](http://duban.example/tasks/{n}/) 已逾期 5 个工作日\n"
    )
    lines, size = [], 0
    while size < WECOM_MAX_BYTES * (parts - 1) + WECOM_MAX_BYTES // 2:
        lines.append(line.format(n=len(lines)))
        size += len(lines[-1].encode())
    try:
        with transaction.atomic():
            robot = Robot.objects.create(
                unit=Unit.objects.filter(depth=0).first(),
                kind="wecom",
                name="全省督办群（基准）",
                webhook_encrypted=vault.encrypt(f"{server.base}/cgi-bin/webhook/send?key=province"),
            )
            OutboundMessage.objects.update(next_attempt_at=None)
            OutboundMessage.objects.create(
                channel="wecom",
                robot=robot,
                subject="【督办】全省：基准",
                body_text="".join(lines),
                next_attempt_at=timezone.now(),
            )
            result = drain(fake, time.perf_counter())
            transaction.set_rollback(True)
    finally:
        server.stop()
    result["parts"] = len(fake.received)
    result["least_seconds"] = 60 * ((result["parts"] - 1) // 20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--day", type=datetime.date.fromisoformat, default=None)
    parser.add_argument("--parts", type=int, default=45)
    parser.add_argument("--keep-robots", action="store_true", help="Leave the robots in place and stop.")
    args = parser.parse_args()
    setup()
    from django.utils import timezone

    from tasks.models import Task

    day = args.day or timezone.localdate()
    if args.keep_robots:
        print(f"{add_robots('http://127.0.0.1:9')} robots added")
        return
    tasks = Task.objects.count()
    runs = compare(day, args.repeat, "http://127.0.0.1:9")
    median = {
        label: {step: statistics.median(run[step] for run in runs[label]) for step in ("record", "compose")}
        for label in runs
    }
    with_robots = runs["with"][0]
    whole = {label: median[label]["record"] + median[label]["compose"] for label in median}
    swept = drain_sweep(day)
    heavy = drain_one_robot(args.parts)
    rows = [
        ratio_row(
            f"sweep (record + compose), {tasks:,} tasks, {with_robots['robots']:,} robots vs none",
            whole["with"],
            whole["without"],
            "≤ 1.2 × without robots",
            whole["with"] <= 1.2 * whole["without"],
        ),
        ratio_row(
            f"drain of one robot's {heavy['parts']} parts at 20 a minute",
            heavy["seconds"],
            heavy["least_seconds"],
            f"≤ 1.1 × the limit's least; most in a minute {heavy['most_in_a_minute']} ≤ 20",
            heavy["seconds"] <= 1.1 * heavy["least_seconds"] + 5 and heavy["most_in_a_minute"] <= 20,
        ),
    ]
    detail = {"median": median, "channels": dict(with_robots["channels"]), "drain": swept, "heavy": heavy}
    write_result("channels", rows, detail=json.loads(json.dumps(detail, default=str)))
    for row in rows:
        print(row)
    print(json.dumps(detail, ensure_ascii=False, default=str, indent=1))


if __name__ == "__main__":
    main()
