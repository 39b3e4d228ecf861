import os
import shutil
import unicodedata
from pathlib import Path

from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from bulletins.models import Bulletin
from demo.bulletin import demo_bulletin
from demo.services import demo_data_exists, demo_load
from notifications.ladder import install_default_ladder
from notifications.schedule import install_schedule
from notifications.services import sweep_run


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _file_folders() -> list[Path]:
    folders = [Path(settings.MEDIA_ROOT)]
    if getattr(settings, "EMAIL_FILE_PATH", None):
        folders.append(Path(settings.EMAIL_FILE_PATH))
    return folders


def _empty(folder: Path) -> None:
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


class Command(BaseCommand):
    help = (
        'Load the demo: Jinzhou\'s 精准脱贫"百日攻坚行动" with its units, people, tasks and '
        "API tokens, dated around today. Prints the demo users and their password."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Flush the whole database first (deletes ALL data), and the files of the last "
            "run: evidence and bulletin PDFs (MEDIA_ROOT) and e-mail written to files.",
        )
        parser.add_argument(
            "--channels",
            default=os.environ.get("DUBAN_DEMO_CHANNELS", ""),
            help="Address of the robots' and SMS gateway's stand-in (manage.py fake_channels): give "
            "the counties and townships group robots and some heads mobiles that post and text there.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even though DEBUG is off (the demo password is public).",
        )

    def handle(self, *args, reset: bool, force: bool, channels: str, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load the demo with DEBUG off: every demo user shares a public password. "
                "Use the local settings (DJANGO_SETTINGS_MODULE=backend.settings.local) or pass --force."
            )
        if reset:
            call_command("flush", interactive=False, verbosity=0)
            # flush empties every table, also the rows the migrations wrote: put back the
            # default ladder and the beat schedule, or the demo's sweep would chase nothing.
            install_default_ladder()
            install_schedule(django_apps)
            # The last run's files belong to the rows just flushed; kept, they would be
            # mistaken for this run's (a PDF with the same name, last run's mail).
            for folder in _file_folders():
                _empty(folder)
        elif demo_data_exists():
            raise CommandError(
                "The database already holds units, people or campaigns; the demo loads only into an "
                "empty database. Pass --reset to flush ALL data first."
            )
        demo = demo_load(channels_url=channels.rstrip("/"))
        self.print_users(demo)
        # Today's sweep, so the demo shows escalations and the outbox (e-mail goes to the
        # folder of the embedded default unless EMAIL_HOST is set).
        swept = sweep_run()
        self.stdout.write(
            f"Escalation sweep: {swept['recorded']} escalations recorded, "
            f"{swept['messages']} digests composed."
        )
        if channels:
            self.stdout.write(
                f"Group robots and SMS went to the stand-in at {channels} (its output shows them); "
                "each message and its state: GET /api/v1/outbox/?channel=wecom (or dingtalk, sms)."
            )
        bulletin = Bulletin.objects.get(pk=demo_bulletin(demo.campaign).pk)
        where = bulletin.pdf.path if bulletin.pdf else "(rendered by the Celery worker)"
        self.stdout.write(f"Bulletin {bulletin}: {where}")

    def print_users(self, demo) -> None:
        header = ("username", "name", "unit", "role", "token")
        rows = []
        for user in demo.users:
            posts = user.posts or [("—", "系统管理员")]
            for n, (unit, role) in enumerate(posts):
                first = n == 0
                rows.append(
                    (
                        user.username if first else "",
                        user.full_name if first else "",
                        unit,
                        role,
                        user.token if first else "",
                    )
                )
        widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, tuple("-" * w for w in widths), *rows]:
            self.stdout.write("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {demo.campaign.name}: {len(demo.users)} users, password for all: {demo.password}"
            )
        )
        self.stdout.write(
            "Get a token with POST /api/v1/auth/token/ (username, password), or use one above: "
            "curl -H 'Authorization: Token <token>' 'http://127.0.0.1:8000/api/v1/tasks/?light=red'"
        )
