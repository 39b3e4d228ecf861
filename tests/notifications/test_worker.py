"""The jobs on a real Celery worker: a separate process reading committed data from the test
database through a Redis broker, and sending to a local SMTP server.

A second process cannot share the test's clock, so these tests wait for it by polling,
with a deadline; the lease is made short (3 s) for the worker that is killed mid-send.
"""

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import kombu.pools
import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone

from backend.celery import app
from notifications import jobs
from notifications.services import sweep_run
from outbox.models import MessageState, OutboundMessage
from tests.helpers import redis_answers

from .conftest import SWEEP_DAY, Mailbox, SmtpServer, text_of

LEASE_SECONDS = 3
DEADLINE = 30


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.serial,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not redis_answers(),
        reason="needs PostgreSQL (another process reads the test database) and Redis on 127.0.0.1:6379",
    ),
]


class HoldingMailbox(Mailbox):
    """Keeps the ``hold_at``-th message unanswered until released, then drops it unaccepted."""

    def __init__(self, hold_at: int):
        super().__init__()
        self.hold_at = hold_at
        self.seen = 0
        self.held_id = ""
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen != self.hold_at:
            return await super().handle_DATA(server, session, envelope)
        held = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.held_id = str(held["Message-ID"])
        self.holding.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, DEADLINE)
        return "451 4.3.0 Not accepted"


@contextmanager
def mail_server(mailbox: Mailbox) -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.mailbox = mailbox
    server.controller = Controller(mailbox, hostname="127.0.0.1", port=server.port)
    server.start()
    try:
        yield server
    finally:
        if isinstance(mailbox, HoldingMailbox):
            mailbox.release.set()
        server.stop()


@contextmanager
def broker(db_number: int) -> Iterator[str]:
    """Jobs sent from this process go to a Redis database of their own, not run eagerly."""
    url = f"redis://127.0.0.1:6379/{db_number}"
    redis.Redis.from_url(url).flushdb()
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=url, task_always_eager=False)
    _forget_connections()
    try:
        yield url
    finally:
        _forget_connections()
        app.conf.update(saved)
        redis.Redis.from_url(url).flushdb()


def _forget_connections() -> None:
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps closed pools in a registry of its own; later tests would draw from them.
    kombu.pools.reset()


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    """Celery workers started as processes; every one is killed when the test ends."""

    def __init__(self, log_dir: Path, broker_url: str, smtp: SmtpServer):
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backend.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker_url,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "DUBAN_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = (self.log_dir / f"worker-{number}.log").open("w")
        command = [
            str(Path(sys.executable).parent / "celery"),
            *("-A", "backend", "worker", "--pool=solo", "--concurrency=1", "--loglevel=INFO"),
            *("--without-heartbeat", "--without-gossip", "--without-mingle"),
            *("-n", f"duban-test-{uuid.uuid4().hex[:8]}-{number}@%h"),
        ]
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def logs(self) -> str:
        return "\n".join(path.read_text()[-3000:] for path in sorted(self.log_dir.glob("worker-*.log")))


@pytest.fixture
def workers(tmp_path) -> Callable[..., Workers]:
    started: list[Workers] = []

    def make(broker_url: str, smtp: SmtpServer) -> Workers:
        started.append(Workers(tmp_path, broker_url, smtp))
        return started[-1]

    yield make
    for group in started:
        group.stop_all()


def wait_until(condition: Callable[[], bool], what: str, pool: Workers) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {DEADLINE} s\n{pool.logs()}")
        time.sleep(0.1)


def expected_addresses(world) -> set[str]:
    """Reminder and overdue of the four tasks: the responsible side, its head and the issuer."""
    people = {"village_a_head", "village_b_head", "qilihe_head", "heishan_head", "housing_head", "city_head"}
    units = {"大榆树堡村", "王家屯村", "七里河镇", "新立屯村", "黑山县", "市住建委", "锦州市"}
    return {f"{name}@jz.example.cn" for name in people} | {
        f"unit{world.unit(name).pk}@jz.example.cn" for name in units
    }


def all_sent() -> bool:
    return not OutboundMessage.objects.exclude(state=MessageState.SENT).exists()


def test_a_sweep_on_the_worker_records_composes_and_delivers_each_digest_once(
    transactional_db, django_db_serialized_rollback, world, overdue_tasks, workers
):
    expected = expected_addresses(world)
    with mail_server(Mailbox()) as smtp, broker(10) as url:
        pool = workers(url, smtp)
        pool.start()
        jobs.escalation_sweep.delay(SWEEP_DAY.isoformat())

        wait_until(lambda: len(smtp.mailbox.messages) >= len(expected), "delivery of every digest", pool)
        wait_until(all_sent, "every message marked sent", pool)

    mailbox = smtp.mailbox
    assert sorted(str(m["To"]) for m in mailbox.messages) == sorted(expected)
    assert Counter(mailbox.message_ids()) == Counter(
        OutboundMessage.objects.values_list("message_id", flat=True)
    )
    assert max(Counter(mailbox.message_ids()).values()) == 1
    (township,) = mailbox.to("qilihe_head@jz.example.cn")
    assert "大榆树堡村危房改造入户核查" in text_of(township) and "王家屯村饮水安全" in text_of(township)
    (city,) = mailbox.to("city_head@jz.example.cn")
    assert "农房建设审批清单" in text_of(city) and "王家屯村饮水安全" not in text_of(city)


def test_a_worker_killed_in_the_middle_of_a_send_loses_and_repeats_nothing(
    transactional_db, django_db_serialized_rollback, world, overdue_tasks, workers
):
    sweep_run(day=SWEEP_DAY, send=False)
    stored = {m.message_id: m for m in OutboundMessage.objects.filter(state=MessageState.PENDING)}
    assert len(stored) == len(expected_addresses(world))

    with mail_server(HoldingMailbox(hold_at=3)) as smtp, broker(11) as url:
        mailbox = smtp.mailbox
        pool = workers(url, smtp)
        first = pool.start()
        jobs.outbox_flush.delay()
        wait_until(mailbox.holding.is_set, "the third message reaching the server", pool)

        held = OutboundMessage.objects.get(message_id=mailbox.held_id)
        assert (held.state, held.attempts) == (MessageState.SENDING, 1)
        pool.kill(first)
        mailbox.release.set()
        assert len(mailbox.messages) == 2
        assert OutboundMessage.objects.filter(state=MessageState.SENT).count() == 2

        pool.start()
        # As beat would, once the dead worker's lease has run out.
        wait_until(lambda: timezone.now() > held.lease_until, "the end of the lease", pool)
        jobs.outbox_flush.delay()
        wait_until(lambda: len(mailbox.messages) >= len(stored), "delivery of the rest", pool)
        wait_until(all_sent, "every message marked sent", pool)

    assert Counter(mailbox.message_ids()) == Counter(dict.fromkeys(stored, 1))
    held.refresh_from_db()
    assert (held.state, held.attempts) == (MessageState.SENT, 2)
    assert set(OutboundMessage.objects.values_list("attempts", flat=True)) == {1, 2}
