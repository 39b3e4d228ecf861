from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from imports.services import table_import
from responsibility.models import User
from tasks.models import Campaign


class Command(BaseCommand):
    help = (
        "Import a task-decomposition table (.xlsx, .csv, .txt, .docx) into a campaign; "
        "--dry-run shows what would happen."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--campaign", type=int, required=True, help="Campaign id.")
        parser.add_argument(
            "--as", dest="username", required=True, help="The issuing unit's head who imports."
        )
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, path: Path, campaign: int, username: str, dry_run: bool, **options):
        try:
            result = table_import(
                actor=User.objects.get(username=username),
                campaign=Campaign.objects.get(pk=campaign),
                data=path.read_bytes(),
                filename=path.name,
                dry_run=dry_run,
            )
        except (User.DoesNotExist, Campaign.DoesNotExist, OSError) as error:
            raise CommandError(str(error)) from error
        except DomainError as error:
            for key, messages in error.fields.items():
                self.stderr.write(f"  {key}: {'；'.join(str(m) for m in messages)}")
            raise CommandError(str(error.message)) from error
        for note in result.notes:
            self.stdout.write(f"注意：{note}")
        for row in result.rows:
            self.stdout.write(f"第{row['row']}行 {row['number']} {row['title'][:30]}：{row['action'] or '—'}")
        for error in result.errors:
            self.stdout.write(f"第{error['row']}行 {error['column_label']}：{error['message']}")
        self.stdout.write(("试导入" if dry_run else "已导入") + f"：{result.counts}")
