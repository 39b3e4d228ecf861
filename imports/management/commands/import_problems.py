from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from imports.problems.services import ProblemImportResult, problem_list_import
from imports.problems.table import LABELS
from responsibility.models import User
from tasks.models import Campaign

ACTIONS = {
    "created": gettext_lazy("新建"),
    "updated": gettext_lazy("已导入，按新表更新"),
    "unchanged": gettext_lazy("已导入，不变"),
}


def _where(key: str) -> str:
    """ "6:location", as the API keys a cell's errors, in words: "第6行 所在单位"."""
    row, _sep, column = key.partition(":")
    if row.isdigit() and column:
        return _("第%(row)s行 %(column)s") % {"row": row, "column": LABELS.get(column, column)}
    return key


class Command(BaseCommand):
    help = (
        "Import a problem list (问题清单: 问题, 所在单位, 责任单位, 整改措施, 整改时限, 来源; .xlsx or .csv) "
        "into a campaign's rectification items; --dry-run shows what would happen. Exits 1 when the "
        "list has errors, dry run included."
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
            result = problem_list_import(
                actor=User.objects.get(username=username),
                campaign=Campaign.objects.select_related("issuing_unit").get(pk=campaign),
                data=path.read_bytes(),
                filename=path.name,
                dry_run=dry_run,
            )
        except User.DoesNotExist:
            raise CommandError(_("没有用户名为“%(username)s”的人员。") % {"username": username}) from None
        except Campaign.DoesNotExist:
            raise CommandError(_("没有编号为 %(id)s 的攻坚行动。") % {"id": campaign}) from None
        except OSError as error:
            raise CommandError(_("无法读取文件：%(error)s") % {"error": error}) from error
        except DomainError as error:
            for key, messages in error.fields.items():
                self.stderr.write(f"  {_where(key)}：{'；'.join(str(m) for m in messages)}")
            raise CommandError(str(error.message)) from error
        self._report(result)
        if result.errors:
            raise CommandError(
                _("问题清单有 %(count)d 处错误，未导入任何内容。") % {"count": len(result.errors)}
            )

    def _report(self, result: ProblemImportResult) -> None:
        for note in result.notes:
            self.stdout.write(_("注意：%(note)s") % {"note": note})
        for row in result.rows:
            self.stdout.write(
                _("第%(row)s行 %(problem)s（%(unit)s，%(due)s）：%(action)s")
                % {
                    "row": row["row"],
                    "problem": row["problem"][:30],
                    "unit": row["lead_unit"],
                    "due": row["deadline_text"] or row["due_date"],
                    "action": ACTIONS.get(row["action"], "—"),
                }
            )
        for error in result.errors:
            where = _where(f"{error['row']}:{error['column']}")
            self.stdout.write(f"{where}：{error['message']}")
        if result.errors:
            summary = _("有 %(count)d 处错误，未导入") % {"count": len(result.errors)}
        else:
            summary = (
                _("新建整改事项 %(created)d 项，更新 %(updated)d 项，已导入而不变 %(unchanged)d 项")
                % result.counts
            )
        done = _("试导入：%(summary)s。") if result.dry_run else _("已导入：%(summary)s。")
        self.stdout.write(done % {"summary": summary})
