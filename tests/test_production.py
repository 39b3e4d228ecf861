"""``bin/production`` as the README says production runs: gunicorn, two Celery workers and
beat against PostgreSQL and Redis. The test starts it, runs a sweep whose parts spread over
both workers, publishes a bulletin whose PDF a worker renders and mails, and stops it.

The processes read the test database (its data committed: a transactional test), use the
Redis database of REDIS_URL as their broker and cache, and a port of their own.
"""

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from bulletins.models import Bulletin
from notifications.models import SweepPart
from outbox.models import MessageState, OutboundMessage
from responsibility.models import UnitKind
from responsibility.services import token_obtain, unit_create
from tests.helpers import redis_answers
from tests.notifications.conftest import SWEEP_DAY, Mailbox, SmtpServer, autumn_2025, overdue_tasks  # noqa: F401

ROOT = Path(settings.BASE_DIR)
DEADLINE = 120


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.serial,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not redis_answers(),
        reason="needs PostgreSQL (the processes read the test database) and Redis on 127.0.0.1:6379",
    ),
]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def broker_url() -> str:
    """The Redis database of REDIS_URL (the one this checkout's tests own), else 15 as bin/test's."""
    number = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")).path.strip("/") or "15"
    return f"redis://127.0.0.1:6379/{number}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """Production's settings, as an office's env file would give them."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUBAN_", "PYTEST"))}
    return {
        **inherited,
        "DUBAN_ENV_FILE": str(var_dir / "no.env"),
        "DJANGO_SETTINGS_MODULE": "backend.settings.base",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url(),
        "DUBAN_VAR_DIR": str(var_dir),
        # Behind a TLS-terminating proxy, as the README's production shape has it.
        "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
        **extra,
    }


def run(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "bin" / "production"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Site:
    def __init__(self, port: int, token: str):
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, str]:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Token {self.token}",
                "X-Forwarded-Proto": "https",
                **({"Content-Type": "application/json"} if body is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers.get("Content-Type", "")


def wait_until(condition: Callable[[], bool], what: str, logs: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(logs.glob("*.log")))
            pytest.fail(f"{what} did not happen within {DEADLINE} s\n{tails}")
        time.sleep(0.25)


def alive(pid: int) -> bool:
    """Running: a process that has exited and waits to be reaped (a zombie) is not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_production_starts_sweeps_on_both_workers_publishes_a_bulletin_and_stops_cleanly(
    transactional_db,
    django_db_serialized_rollback,
    world,
    overdue_tasks,  # noqa: F811
    tmp_path,
):
    # More subtrees below the city than one worker takes at once, so the sweep's parts spread.
    for n in range(12):
        unit_create(name=f"测试县{n}", kind=UnitKind.COUNTY, parent=world.unit("锦州市"))
    token = token_obtain(user=world.person("city_supervisor")).key
    var_dir = tmp_path / "var"
    port = free_port()
    broker = broker_url()
    redis.Redis.from_url(broker).flushdb()
    mailbox = Mailbox()
    smtp = SmtpServer()
    smtp.mailbox = mailbox
    smtp.controller = Controller(mailbox, hostname="127.0.0.1", port=smtp.port)
    smtp.start()
    env = production_env(
        var_dir,
        CELERY_BROKER_URL=broker,
        REDIS_URL=broker,
        DUBAN_BIND=f"127.0.0.1:{port}",
        DUBAN_WEB_WORKERS="1",
        DUBAN_WORKER_CONCURRENCY="1",
        DUBAN_STOP_TIMEOUT="60",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
    )
    logs = var_dir / "log"
    started = run(env, "start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "Running: gunicorn" in started.stdout
        site = Site(port, token)
        status, body, _type = site.request("GET", "/api/v1/tasks/?light=red")
        assert status == 200, body
        assert json.loads(body)["count"] > 0

        # The sweep, sent to the workers as beat would send it.
        sent = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "celery"), "-A", "backend", "call",
             "notifications.jobs.escalation_sweep", "--args", json.dumps([SWEEP_DAY.isoformat()])],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        # One part for the city's own tasks, one for each of the 16 subtrees below it.
        wait_until(
            lambda: SweepPart.objects.filter(done_at__isnull=False).count() == 17, "every part swept", logs
        )
        wait_until(
            lambda: (
                OutboundMessage.objects.exists()
                and not OutboundMessage.objects.exclude(state=MessageState.SENT).exists()
            ),
            "every digest sent",
            logs,
        )
        for n in (1, 2):
            log = (logs / f"worker-{n}.log").read_text()
            assert "escalation_sweep_part" in log and "succeeded" in log, f"worker {n} swept no part"
        assert len(mailbox.messages) == OutboundMessage.objects.count()

        status, body, _type = site.request(
            "POST",
            "/api/v1/bulletins/",
            {
                "issuer": world.unit("市委督查室").pk,
                "title": "关于9月份任务推进情况的通报",
                "period_start": "2025-09-01",
                "period_end": "2025-09-30",
                "issued_on": "2025-10-08",
                "main_recipients": [world.unit("义县").pk, world.unit("黑山县").pk],
                "copy_to": [],
            },
        )
        assert status == 201, body
        bulletin = json.loads(body)["id"]
        status, body, _type = site.request("POST", f"/api/v1/bulletins/{bulletin}/publish/")
        assert status == 200, body
        wait_until(lambda: bool(Bulletin.objects.get(pk=bulletin).pdf_sha256), "the PDF rendered", logs)
        status, pdf, content_type = site.request("GET", f"/api/v1/bulletins/{bulletin}/pdf/")
        assert (status, content_type) == (200, "application/pdf")
        assert pdf.startswith(b"%PDF")
        wait_until(
            lambda: any(m.get_content_type() == "multipart/mixed" for m in mailbox.messages),
            "the bulletin mailed",
            logs,
        )
        pids = [int(path.read_text()) for path in (var_dir / "run").glob("*.pid")]
        assert len(pids) == 4  # gunicorn, two workers, beat
    finally:
        stopped = run(env, "stop", timeout=180)
        smtp.stop()
        redis.Redis.from_url(broker).flushdb()

    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "Stopped" in stopped.stdout and "did not stop" not in stopped.stderr
    assert not any(alive(pid) for pid in pids)
    assert list((var_dir / "run").glob("*.pid")) == []
    assert run(env, "status").returncode == 1
