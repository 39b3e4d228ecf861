from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from imports.directory.services import directory_import
from responsibility.models import User

ACTIONS = {"created": "新建", "updated": "修改", "unchanged": "不变", None: "—"}


class Command(BaseCommand):
    help = (
        "Import a directory (通讯录: unit, parent unit, kind, person, title, mobile, e-mail, role) "
        "from .xlsx or .csv; --dry-run shows what would happen. Exits with status 1 on any error."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--as", dest="username", required=True, help="An administrator, or a unit's head."
        )
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, path: Path, username: str, dry_run: bool, **options):
        try:
            result = directory_import(
                actor=User.objects.get(username=username),
                data=path.read_bytes(),
                filename=path.name,
                dry_run=dry_run,
            )
        except User.DoesNotExist as error:
            raise CommandError(f"没有用户名为 {username} 的人员。") from error
        except OSError as error:
            raise CommandError(str(error)) from error
        except DomainError as error:
            write_field_errors(self.stderr, error)
            raise CommandError(str(error.message)) from error
        write_directory_report(self.stdout, result)
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"第{error['row']}行 {error['column_label']}：{error['message']}")
            raise CommandError(f"通讯录有 {len(result.errors)} 处错误，未导入任何内容。")


def write_field_errors(out, error: DomainError) -> None:
    """A refused import's errors, each as "第3行 类别：…"."""
    for key, messages in error.fields.items():
        out.write(f"  第{key.replace(':', '行 ')}：{'；'.join(str(m) for m in messages)}")


def write_directory_report(out, result) -> None:
    for note in result.notes:
        out.write(f"注意：{note}")
    for row in result.rows:
        person = (
            f"，{row['person']}（{row['role']}）：{ACTIONS[row['person_action']]}" if row["person"] else ""
        )
        out.write(f"第{row['row']}行 {row['unit']}：{ACTIONS[row['unit_action']]}{person}")
    for missing in result.missing:
        out.write(f"表中未列出（保留）：{missing}")
    counts = result.counts
    out.write(
        ("试导入" if result.dry_run else "已导入")
        + f"：单位新建 {counts['units_created']} 个、修改 {counts['units_updated']} 个、"
        f"不变 {counts['units_unchanged']} 个；人员新建 {counts['people_created']} 人、"
        f"修改 {counts['people_updated']} 人、不变 {counts['people_unchanged']} 人；"
        f"新增任职 {counts['memberships_created']} 项。"
    )
