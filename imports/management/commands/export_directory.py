from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from imports.directory.export import directory_export
from imports.directory.services import directory_export_units
from responsibility.models import User


class Command(BaseCommand):
    help = "Write the directory (通讯录) a person keeps to an .xlsx file that import_directory reads back."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--as", dest="username", required=True, help="An administrator, or a unit's head."
        )
        parser.add_argument("--within", type=int, help="Only this unit's subtree (its id).")

    def handle(self, *args, path: Path, username: str, within: int | None, **options):
        try:
            reader = User.objects.get(username=username)
            units = directory_export_units(actor=reader, within=within)
            with directory_export(reader=reader, units=units) as output:
                path.write_bytes(output.read())
        except User.DoesNotExist as error:
            raise CommandError(f"没有用户名为 {username} 的人员。") from error
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(f"已导出 {units.count()} 个单位到 {path}。")
