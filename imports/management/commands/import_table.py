import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from imports.services import ImportResult, parse_unit_map, table_import
from imports.table import COLUMN_LABELS
from responsibility.models import User
from tasks.models import Campaign

# What a row's import does, and the fields an update changes, as the office reads them.
ACTIONS = {
    "created": gettext_lazy("新建"),
    "updated": gettext_lazy("更新"),
    "unchanged": gettext_lazy("不变"),
    "locked": gettext_lazy("已下达，不能改"),
    "missing": gettext_lazy("表中已无，保留"),
}
FIELDS = {
    "title": COLUMN_LABELS["task"],
    "lead_unit_id": COLUMN_LABELS["lead_unit"],
    "lead_leader_id": COLUMN_LABELS["lead_leader"],
    "due_date": COLUMN_LABELS["deadline"],
    "deadline_text": COLUMN_LABELS["deadline"],
    "notes": COLUMN_LABELS["remarks"],
    "parent_id": gettext_lazy("所属标题"),
    "units": gettext_lazy("责任单位和配合单位"),
    "wording": gettext_lazy("表中原文"),
}


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("日期“%(text)s”应写作 YYYY-MM-DD。") % {"text": text}) from None


def _where(key: str) -> str:
    """ "6:lead_unit", as the API keys a cell's errors, in words: "第6行 牵头单位"."""
    row, _sep, column = key.partition(":")
    if row.isdigit() and column:
        return _("第%(row)s行 %(column)s") % {"row": row, "column": COLUMN_LABELS.get(column, column)}
    return key


class Command(BaseCommand):
    help = (
        "Import a task-decomposition table (.xlsx, .csv, .txt, .docx) into a campaign; "
        "--dry-run shows what would happen. Exits 1 when the table has errors, dry run included."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--campaign", type=int, required=True, help="Campaign id.")
        parser.add_argument(
            "--as", dest="username", required=True, help="The issuing unit's head who imports."
        )
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument(
            "--map",
            dest="unit_map",
            action="append",
            default=[],
            metavar="名称=单位、单位",
            help="The units a name in the table stands for, e.g. a lead unit named by its role "
            "(各主要经济指标牵头单位=市发改委、市统计局); may be given several times.",
        )
        parser.add_argument(
            "--default-deadline",
            type=_date,
            help="The due date of tasks the table gives no 完成时限 (default: the campaign's end).",
        )
        parser.add_argument(
            "--accept-default-deadline",
            action="store_true",
            help="Import tasks without a 完成时限 at the default due date.",
        )

    def handle(self, *args, path: Path, campaign: int, username: str, dry_run: bool, **options):
        try:
            result = table_import(
                actor=User.objects.get(username=username),
                campaign=Campaign.objects.get(pk=campaign),
                data=path.read_bytes(),
                filename=path.name,
                dry_run=dry_run,
                unit_map=parse_unit_map(options["unit_map"]),
                default_deadline=options["default_deadline"],
                accept_default_deadline=options["accept_default_deadline"],
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
            raise CommandError(_("表格有 %(count)d 处错误，未导入任何内容。") % {"count": len(result.errors)})

    def _report(self, result: ImportResult) -> None:
        for note in result.notes:
            self.stdout.write(_("注意：%(note)s") % {"note": note})
        for row in result.rows:
            self.stdout.write(
                _("第%(row)s行 %(number)s %(title)s：%(action)s")
                % {
                    "row": row["row"],
                    "number": row["number"],
                    "title": row["title"][:30],
                    "action": _action(row, result),
                }
            )
        for error in result.errors:
            where = _where(f"{error['row']}:{error['column']}")
            self.stdout.write(f"{where}：{error['message']}")
        if result.errors:
            summary = _("有 %(count)d 处错误，未导入") % {"count": len(result.errors)}
        else:
            summary = _("新建 %(created)d 项，更新 %(updated)d 项，不变 %(unchanged)d 项") % result.counts
            if result.counts["missing"]:
                summary += _("，表中已无而保留 %(missing)d 项") % result.counts
        done = _("试导入：%(summary)s。") if result.dry_run else _("已导入：%(summary)s。")
        self.stdout.write(done % {"summary": summary})


def _action(row: dict, result: ImportResult) -> str:
    """What importing a row does, in words: "更新（牵头单位、表中原文）"."""
    action = str(ACTIONS.get(row["action"], "—"))
    if row["changed"]:
        changed = dict.fromkeys(str(FIELDS.get(name, name)) for name in row["changed"])
        action += _("（%(fields)s）") % {"fields": "、".join(changed)}
    if row["deadline_defaulted"]:
        default = result.default_deadline
        wording = (
            _("，完成时限按默认 %(date)s")
            if default["accepted"]
            else _("，完成时限按默认 %(date)s（待确认）")
        )
        action += wording % {"date": default["date"]}
    return action
