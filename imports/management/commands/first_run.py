import getpass
import os
import secrets
import sys
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from core.errors import DomainError
from imports.directory.services import directory_import
from imports.management.commands.import_directory import write_directory_report, write_field_errors
from responsibility.models import Unit, UnitKind, User
from responsibility.services import unit_create, user_create
from tasks.lateness import today
from tasks.workdays import holiday_arrangement_known

PASSWORD_VARIABLE = "DUBAN_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = (
        "Set up a new installation in one step: the first administrator and the top unit, or the "
        "whole directory (通讯录) from a file. Safe to run again: what exists is left as it is. "
        f"The password is read from {PASSWORD_VARIABLE}, asked for at a terminal, or made up and printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="The administrator's user name (admin).")
        parser.add_argument("--full-name", default="系统管理员", help="The administrator's name.")
        parser.add_argument("--email", default="", help="The administrator's e-mail address.")
        parser.add_argument("--unit", help="The top unit's name, e.g. 锦州市.")
        parser.add_argument(
            "--kind",
            default=UnitKind.CITY,
            choices=[kind.value for kind in UnitKind],
            help="The top unit's kind (city).",
        )
        parser.add_argument("--directory", type=Path, help="A directory (.xlsx or .csv) to import.")

    def handle(self, *args, username, full_name, email, unit, kind, directory, **options):
        if not unit and not directory:
            raise CommandError("Name the top unit (--unit 锦州市) or give the directory (--directory FILE).")
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("The database is not migrated: run `manage.py migrate` first.")
        data = directory.read_bytes() if directory else None
        with transaction.atomic():
            admin = self._administrator(username, full_name, email)
            if unit:
                self._top_unit(unit, kind)
            if data is not None:
                try:
                    result = directory_import(actor=admin, data=data, filename=directory.name, dry_run=False)
                except DomainError as error:
                    write_field_errors(self.stderr, error)
                    raise CommandError(f"{error.message} Nothing was set up.") from error
                write_directory_report(self.stdout, result)
        self._next_steps()

    def _administrator(self, username: str, full_name: str, email: str) -> User:
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            if not existing.is_superuser:
                raise CommandError(
                    f"{username} exists and is not an administrator: choose another --username."
                )
            self.stdout.write(f"Administrator {username} exists: left as it is.")
            return existing
        password, made_up = self._password()
        try:
            validate_password(password, User(username=username, full_name=full_name, email=email))
        except ValidationError as error:
            raise CommandError("The password is refused: " + " ".join(error.messages)) from error
        admin = user_create(
            username=username, full_name=full_name, password=password, email=email, is_staff=True
        )
        admin.is_superuser = True
        admin.save(update_fields=["is_superuser"])
        self.stdout.write(f"Administrator {username} created.")
        if made_up:
            self.stdout.write(f"Its password, shown once: {password}")
        return admin

    def _password(self) -> tuple[str, bool]:
        if os.environ.get(PASSWORD_VARIABLE):
            return os.environ[PASSWORD_VARIABLE], False
        if sys.stdin.isatty():
            password = getpass.getpass("Administrator's password: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("The two passwords differ.")
            return password, False
        return secrets.token_urlsafe(12), True

    def _top_unit(self, name: str, kind: str) -> None:
        if Unit.objects.filter(name=name, parent=None).exists():
            self.stdout.write(f"Top unit {name} exists: left as it is.")
            return
        unit_create(name=name, kind=kind)
        self.stdout.write(f"Top unit {name} created.")

    def _next_steps(self) -> None:
        year = today().year
        unknown = [y for y in (year, year + 1) if not holiday_arrangement_known(y)]
        if unknown:
            years = " and ".join(str(y) for y in unknown)
            self.stdout.write(
                f"No holiday arrangement is known for {years}: deadlines there count Monday to Friday. "
                "When the State Council publishes its notice, enter its holidays and moved working days "
                "(调休) as an administrator in the admin (节假日安排) or with POST /api/v1/calendar-days/."
            )
        self.stdout.write("Ready: sign in at /admin/ or get a token at /api/v1/auth/token/.")
