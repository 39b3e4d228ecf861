"""``bin/production backup`` and ``restore``: pg_dump and the media folder, restored into a
fresh database and folder, give back every task, history row, escalation, outbox entry and
file as they were."""

import datetime
import hashlib
import secrets
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from notifications.models import Escalation
from notifications.services import sweep_run
from outbox.models import OutboundMessage
from tasks.models import Attachment, Task, TaskEvent
from tasks.services import progress_report_create, task_transition
from tests.notifications.conftest import SWEEP_DAY, autumn_2025, overdue_tasks  # noqa: F401

ROOT = Path(settings.BASE_DIR)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore need PostgreSQL"),
]


def url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def script(var_dir: Path, database: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "DUBAN_ENV_FILE": str(var_dir / "no.env"),
        "DJANGO_SETTINGS_MODULE": "backend.settings.base",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": url(database),
        "DUBAN_VAR_DIR": str(var_dir),
    }
    return subprocess.run(
        [str(ROOT / "bin" / "production"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows(database: str, table: str) -> list[tuple]:
    with psycopg.connect(url(database)) as conn:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()  # noqa: S608


def files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def restored_database():
    name = f"{connection.settings_dict['NAME']}_restored"[:63]
    with psycopg.connect(url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_every_task_history_row_escalation_message_and_file(
    transactional_db,
    django_db_serialized_rollback,
    world,
    overdue_tasks,  # noqa: F811
    restored_database,
    settings,
    tmp_path,
):
    var_dir = tmp_path / "var"
    settings.MEDIA_ROOT = var_dir / "media"
    houses = overdue_tasks["houses"]
    task_transition(task_id=houses.pk, actor=world.person("village_a_head"), name="accept")
    progress_report_create(
        task_id=houses.pk,
        actor=world.person("village_a_head"),
        text="已完成入户核查 12 户",
        figures=None,
        files=[SimpleUploadedFile("验收照片.png", PNG), SimpleUploadedFile("核查表.pdf", PDF)],
    )
    sweep_run(day=SWEEP_DAY, send=False)
    sweep_run(day=SWEEP_DAY + datetime.timedelta(days=10), send=False)
    tables = {
        model._meta.db_table: model
        for model in apps.get_models()
        if model._meta.app_label in {"responsibility", "tasks", "notifications", "outbox", "bulletins"}
    }
    source = connection.settings_dict["NAME"]
    before = {table: rows(source, table) for table in tables}
    for model in (Task, TaskEvent, Escalation, OutboundMessage):
        table = model._meta.db_table
        assert before[table], f"{table} is empty: the round trip would prove nothing"
    assert Attachment.objects.count() == 2

    backup = tmp_path / "backup"
    made = script(var_dir, source, "backup", str(backup))
    assert made.returncode == 0, made.stderr
    assert {path.name for path in backup.iterdir()} == {"database.dump", "media.tar", "SHA256SUMS"}

    # Into a fresh database and an empty media folder, as on a new machine.
    restored_var = tmp_path / "restored"
    refused = script(restored_var, restored_database, "restore", str(backup))
    assert refused.returncode != 0 and "--yes" in refused.stderr
    done = script(restored_var, restored_database, "restore", str(backup), "--yes")
    assert done.returncode == 0, done.stderr

    for table in tables:
        assert rows(restored_database, table) == before[table], table
    assert files(restored_var / "media") == files(var_dir / "media")
    for attachment in Attachment.objects.all():
        assert (restored_var / "media" / attachment.file.name).read_bytes() in (PNG, PDF)
    assert Task.objects.count() == len(before["tasks_task"])


def test_a_damaged_backup_is_not_restored(
    transactional_db, django_db_serialized_rollback, restored_database, tmp_path
):
    var_dir = tmp_path / "var"
    backup = tmp_path / "backup"
    assert script(var_dir, connection.settings_dict["NAME"], "backup", str(backup)).returncode == 0
    with (backup / "database.dump").open("ab") as dump:
        dump.write(b"\0")

    refused = script(tmp_path / "restored", restored_database, "restore", str(backup), "--yes")

    assert refused.returncode != 0 and "damaged" in refused.stderr
    with psycopg.connect(url(restored_database)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
