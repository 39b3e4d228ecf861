"""PostgreSQL restarted under load: the API fails cleanly while the database is away and
loses no acknowledged write.

The real app is served by gunicorn (the production settings, persistent connections) from
a PostgreSQL cluster of the test's own, started in a temporary folder on a free port; the
shared server on 127.0.0.1:5432 is never touched. Threads post progress reports, each with
a unique text and an Idempotency-Key, while the cluster is restarted (``pg_ctl restart -m
fast``) and then stopped for a few seconds and started again. Proven:

* every request is answered, well within the client's timeout: either 201, or 503 with
  ``{"code": "service_unavailable", ...}`` as JSON; no 500, no HTML page, no reset;
* the outage was real: requests sent while the server was down got that 503;
* once the cluster is back, the same gunicorn processes serve again, and at once: no
  request sent after the restart fails on a connection the restart had cut;
* every acknowledged report is in the database, once; a 503 wrote nothing; and retrying
  each 503 with its Idempotency-Key writes that report exactly once.
"""

import datetime
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from responsibility.models import Role, UnitKind, User
from responsibility.services import membership_create, token_obtain, unit_create, user_create
from tasks.models import Campaign
from tasks.services import task_create, task_transition

HOST = "127.0.0.1"
HTTP_TIMEOUT = 15
WORKERS = 2
THREADS = 4
CLIENT_THREADS = 6
TASKS = 6
PHASE_SECONDS = 2.5
OUTAGE_SECONDS = 3
BACKOFF_SECONDS = 0.25
TEXT_PREFIX = "restart-test "


def _server_binaries() -> Path | None:
    """The newest PostgreSQL server's bin folder, if this machine can run a cluster."""
    root = Path("/usr/lib/postgresql")
    found = [path for path in root.glob("*/bin") if (path / "initdb").exists() and (path / "pg_ctl").exists()]
    if not found:
        return None
    if os.geteuid() == 0:
        # initdb refuses root: the cluster runs as the postgres user.
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None
        if shutil.which("runuser") is None:
            return None
    return max(found, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.serial,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or _server_binaries() is None,
        reason="needs PostgreSQL and its server binaries to run a cluster of its own",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free port, trust auth."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="duban-pg-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self.url = f"postgres://postgres@{HOST}:{self.port}/duban"

    def run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self.prefix, str(self.bin_dir / tool), *args], capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            log = self.log.read_text()[-3000:] if self.log.exists() else ""
            pytest.fail(f"{tool} {' '.join(args)}:\n{result.stdout}{result.stderr}\n{log}")

    def pg_ctl(self, *args: str) -> None:
        self.run("pg_ctl", f"--pgdata={self.data}", f"--log={self.log}", "--wait", "--timeout=30", *args)

    def start(self) -> None:
        options = [
            f"-p {self.port}",
            f"-c listen_addresses={HOST}",
            f"-k {self.dir}",
            # What is tested is a server restart, not a machine crash.
            "-c fsync=off",
        ]
        self.pg_ctl("start", "-o", " ".join(options))

    def init(self) -> None:
        self.run(
            "initdb",
            f"--pgdata={self.data}",
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        self.start()
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE duban")

    def dsn(self, dbname: str = "duban") -> str:
        return f"host={HOST} port={self.port} user=postgres dbname={dbname} connect_timeout=5"

    def destroy(self) -> None:
        pg_ctl = str(self.bin_dir / "pg_ctl")
        subprocess.run(
            [*self.prefix, pg_ctl, f"--pgdata={self.data}", "stop", "-m", "immediate"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    cluster = Cluster(_server_binaries())
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.destroy()


def prepare_database() -> None:
    """Run in a subprocess against the throwaway cluster: migrate, then seed a campaign
    whose tasks are in progress with 义县, whose head may report on them. Prints the
    head's API token and the task ids as JSON."""
    call_command("migrate", verbosity=0)
    city = unit_create(name="锦州市", kind=UnitKind.CITY)
    county = unit_create(name="义县", kind=UnitKind.COUNTY, parent=city)
    issuer = user_create(username="city_head", full_name="王市长")
    membership_create(user=issuer, unit=city, role=Role.HEAD)
    reporter = user_create(username="yi_head", full_name="孙县长")
    membership_create(user=reporter, unit=county, role=Role.HEAD)
    campaign = Campaign.objects.create(
        name='精准脱贫"百日攻坚行动"',
        short_name="百日攻坚",
        issuing_unit=city,
        starts_on=datetime.date(2018, 9, 1),
        ends_on=datetime.date(2018, 12, 10),
    )
    tasks = []
    for number in range(1, TASKS + 1):
        task = task_create(
            actor=User.objects.get(pk=issuer.pk),
            campaign=campaign,
            title=f"危房改造 第{number}批",
            issuing_unit=city,
            lead_unit=county,
            due_date=datetime.date(2018, 11, 30),
            assign=True,
        )
        task_transition(task_id=task.pk, actor=User.objects.get(pk=reporter.pk), name="accept")
        tasks.append(task.pk)
    print(json.dumps({"token": token_obtain(user=reporter).key, "tasks": tasks}))


@dataclass
class App:
    base: tuple[str, int]
    token: str
    tasks: list[int]
    server: subprocess.Popen
    log: Path


def app_environment(cluster: Cluster, settings_module: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DATABASE_URL=cluster.url,
        DJANGO_SECRET_KEY="duban-restart-test-secret-key-0123456789abcdefghijklmnop",
        DUBAN_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_BROKER_URL", None)
    return env


@pytest.fixture
def app(cluster):
    """The production settings served by gunicorn from the throwaway cluster, which is
    migrated and seeded while gunicorn boots."""
    preparing = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django; django.setup();"
            "from tests.core.test_database_restart import prepare_database; prepare_database()",
        ],
        cwd=settings.BASE_DIR,
        env=app_environment(cluster, "backend.settings.test"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    port = free_port()
    env = app_environment(cluster, "backend.settings.base")
    env.update(DATABASE_CONN_MAX_AGE="600", DJANGO_SECURE_SSL_REDIRECT="0", DJANGO_ALLOWED_HOSTS=HOST)
    log = cluster.dir / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "backend.wsgi:application",
                f"--bind={HOST}:{port}",
                f"--workers={WORKERS}",
                f"--threads={THREADS}",
                "--timeout=30",
                "--log-level=info",
                # Not the control socket shared by every gunicorn of this user (the benchmarks').
                "--no-control-socket",
                f"--chdir={settings.BASE_DIR}",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        stdout, stderr = preparing.communicate(timeout=180)
        assert preparing.returncode == 0, stdout + stderr
        seeded = json.loads(stdout.strip().splitlines()[-1])
        app = App((HOST, port), seeded["token"], seeded["tasks"], server, log)
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if get_tasks(app) == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + log.read_text()
            time.sleep(0.2)
        yield app
    finally:
        preparing.kill()
        preparing.wait()
        # Quick shutdown: requests still running are of no interest any more.
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def get_tasks(app: App) -> int:
    client = http.client.HTTPConnection(*app.base, timeout=HTTP_TIMEOUT)
    try:
        client.request("GET", "/api/v1/tasks/", headers={"Authorization": f"Token {app.token}"})
        return client.getresponse().status
    finally:
        client.close()


@dataclass
class Outcome:
    task: int
    text: str
    key: str
    started: float
    elapsed: float
    status: int  # 0 when no HTTP answer came
    content_type: str = ""
    body: bytes = b""
    replayed: bool = False
    error: str = ""

    @property
    def acknowledged(self) -> bool:
        return 200 <= self.status < 300


def post_report(app: App, task: int, text: str, key: str) -> Outcome:
    """One report over a fresh connection, as a village client would send it."""
    started = time.monotonic()
    outcome = Outcome(task, text, key, started, 0.0, 0)
    client = http.client.HTTPConnection(*app.base, timeout=HTTP_TIMEOUT)
    try:
        client.request(
            "POST",
            f"/api/v1/tasks/{task}/reports/",
            body=json.dumps({"text": text}, ensure_ascii=False).encode(),
            headers={
                "Authorization": f"Token {app.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        response = client.getresponse()
        outcome.body = response.read()
        outcome.status = response.status
        outcome.content_type = response.getheader("Content-Type", "")
        outcome.replayed = response.getheader("Idempotent-Replayed") == "true"
    except (OSError, http.client.HTTPException) as error:
        outcome.error = repr(error)
    finally:
        client.close()
        outcome.elapsed = time.monotonic() - started
    return outcome


class Load:
    """Threads posting reports round the tasks until stopped."""

    def __init__(self, app: App, threads: int):
        self.app = app
        self.outcomes: list[Outcome] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.work, args=(n,)) for n in range(threads)]

    def work(self, number: int) -> None:
        sent = 0
        while not self.stopping.is_set():
            task = self.app.tasks[(number + sent) % len(self.app.tasks)]
            key = uuid.uuid4().hex
            outcome = post_report(self.app, task, f"{TEXT_PREFIX}{key}", key)
            self.outcomes.append(outcome)
            sent += 1
            if not outcome.acknowledged:
                # As a client would back off; it keeps the outage's count of 503s sensible.
                self.stopping.wait(BACKOFF_SECONDS)

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(HTTP_TIMEOUT + 5)


def stored_texts(cluster: Cluster) -> Counter:
    with psycopg.connect(cluster.dsn()) as db:
        rows = db.execute(
            "SELECT text FROM tasks_progressreport WHERE text LIKE %s", [TEXT_PREFIX + "%"]
        ).fetchall()
    return Counter(text for (text,) in rows)


def describe(outcome: Outcome) -> str:
    return f"{outcome.status} after {outcome.elapsed:.2f}s {outcome.error} {outcome.body[:300]!r}"


def retry(app: App, outcomes: list[Outcome]) -> list[Outcome]:
    """Each request sent again with its own key and body, a few at a time."""
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        return list(pool.map(lambda o: post_report(app, o.task, o.text, o.key), outcomes))


def warm_up(app: App) -> None:
    """Concurrent reads, so that gunicorn's threads hold persistent connections."""
    with ThreadPoolExecutor(WORKERS * THREADS) as pool:
        statuses = list(pool.map(lambda _: get_tasks(app), range(2 * WORKERS * THREADS)))
    assert set(statuses) == {200}


def test_a_database_restart_under_load_fails_cleanly_and_loses_no_acknowledged_write(cluster, app):
    warm_up(app)
    # Restarted while idle, the server cuts every persistent connection; the first request
    # on each must not fail on it.
    cluster.pg_ctl("restart", "-m", "fast")
    started = time.monotonic()
    with Load(app, CLIENT_THREADS) as load:
        time.sleep(PHASE_SECONDS)
        restart_at = time.monotonic()
        cluster.pg_ctl("restart", "-m", "fast")
        restarted_at = time.monotonic()
        time.sleep(PHASE_SECONDS)
        stop_at = time.monotonic()
        cluster.pg_ctl("stop", "-m", "fast")
        stopped_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        cluster.start()
        up_at = time.monotonic()
        time.sleep(PHASE_SECONDS)
    ended = time.monotonic()
    assert not any(thread.is_alive() for thread in load.threads), "a request hung"
    outcomes = load.outcomes

    unclean = [o for o in outcomes if not (o.acknowledged or o.status == 503)]
    assert not unclean, f"{len(unclean)} of {len(outcomes)} unclean answers, e.g. " + "; ".join(
        describe(o) for o in unclean[:5]
    )
    unavailable = [o for o in outcomes if o.status == 503]
    for outcome in unavailable:
        assert outcome.content_type == "application/json", describe(outcome)
        body = json.loads(outcome.body)
        assert body["code"] == "service_unavailable", describe(outcome)
        assert isinstance(body["message"], str) and body["message"], describe(outcome)

    while_down = [o for o in outcomes if stopped_at <= o.started and o.started + o.elapsed < up_at]
    assert len(while_down) >= 10, "too few requests met the outage to prove anything"
    assert all(o.status == 503 for o in while_down)
    for since, until in ((started, restart_at), (restarted_at, stop_at), (up_at, ended)):
        window = [o for o in outcomes if since <= o.started and o.started + o.elapsed < until]
        assert len(window) >= CLIENT_THREADS, "too few requests after a restart to prove anything"
        failed = [o for o in window if not o.acknowledged]
        assert not failed, "failed with the database up: " + "; ".join(describe(o) for o in failed[:5])
    assert app.server.poll() is None, "gunicorn stopped"
    assert app.log.read_text().count("Booting worker") == WORKERS, "a gunicorn worker was restarted"

    stored = stored_texts(cluster)
    acknowledged = [o for o in outcomes if o.acknowledged]
    assert all(stored[o.text] == 1 for o in acknowledged), "an acknowledged report is missing or doubled"
    written_anyway = [o for o in unavailable if stored[o.text]]
    assert not written_anyway, "a 503 wrote its report: " + "; ".join(describe(o) for o in written_anyway)

    retried = retry(app, unavailable)
    assert all(r.status == 201 and not r.replayed for r in retried), "; ".join(
        describe(r) for r in retried if r.status != 201 or r.replayed
    )
    replayed = retry(app, retried[:20])
    assert all(r.status == 201 and r.replayed for r in replayed)
    stored = stored_texts(cluster)
    assert set(stored) == {o.text for o in outcomes}
    assert set(stored.values()) == {1}

    slowest = max(outcomes, key=lambda o: o.elapsed)
    print(
        f"\n{len(outcomes)} reports in {ended - started:.1f}s: {len(acknowledged)} acknowledged, "
        f"{len(unavailable)} answered 503, {len(while_down)} of them while the server was down "
        f"for {up_at - stopped_at:.1f}s (restart took {restarted_at - restart_at:.1f}s, "
        f"stop {stopped_at - stop_at:.1f}s); slowest answer {slowest.elapsed:.2f}s "
        f"({slowest.status}, sent {slowest.started - started:.1f}s in); "
        f"{len(retried)} 503s retried with their key and written once"
    )
