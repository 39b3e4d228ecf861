"""Importing a task-decomposition table (任务分解表) or a problem list (问题清单): upload, see
the dry run as the table itself with each error in its cell, confirm.

Both steps call the importer's service (``imports.services.table_import``, or
``imports.problems.services.problem_list_import`` for a problem list), which checks
who may import, reads the file and, when confirmed, writes all or nothing. Between the two
steps the upload waits in the cache under a random token bound to the person, so the
confirmed table is the one that was checked, and a confirm sent twice (a second tap, a
lost answer) replays the first answer through the token as its Idempotency-Key."""

import uuid
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError, Forbidden, InvalidInput
from core.idempotency import Replay, idempotency_begin, idempotency_finish
from imports.problems.services import problem_list_import
from imports.problems.table import PROBLEM_LIST
from imports.readers import read_rows
from imports.services import ImportInvalid, ensure_may_handle_table, parse_unit_map, table_import
from imports.table import TASK_TABLE
from tasks.models import Campaign, TaskKind

from ..forms_imports import PROBLEMS, TABLE, ConfirmForm, ImportForm

# An hour to read the dry run and confirm; after that the table is uploaded again.
UPLOAD_SECONDS = 3600
ACTION_WORDS = {"created": _("新建"), "updated": _("更新"), "unchanged": _("不变")}


def _importable(user) -> list[Campaign]:
    """The campaigns whose table the person may import, as the importer's rule says."""
    importable = []
    for campaign in Campaign.objects.select_related("issuing_unit").order_by("-starts_on", "pk"):
        try:
            ensure_may_handle_table(user, campaign)
        except Forbidden:
            continue
        importable.append(campaign)
    return importable


def _upload_key(user, token: str) -> str:
    return f"pages:import:{user.pk}:{token}"


@dataclass
class Cell:
    column: str
    value: str
    errors: list[str] = field(default_factory=list)


@dataclass
class GridRow:
    row: int
    action: str
    heading: bool
    cells: list[Cell]
    # Given no 完成时限 by the table: the default the importer offers applies.
    defaulted: bool = False

    @property
    def has_errors(self) -> bool:
        return any(cell.errors for cell in self.cells)


def table_grid(
    source_rows, result, shape=TASK_TABLE
) -> tuple[list[tuple[str, str]], list[GridRow], list[dict]]:
    """The uploaded table as it was read, each error in the cell it names: the columns
    shown (those with a value or an error), the rows, and the errors that name no cell of
    the table (a whole-table problem)."""
    errors_at: dict[tuple[int, str], list[str]] = {}
    for error in result.errors:
        errors_at.setdefault((error["row"], error["column"]), []).append(error["message"])
    columns = [
        column
        for column in shape.columns
        if any(row.values.get(column) for row in source_rows) or any(key[1] == column for key in errors_at)
    ]
    planned = {row["row"]: row for row in result.rows}
    grid = []
    placed = set()
    for source in source_rows:
        cells = []
        for column in columns:
            cells.append(Cell(column, source.values.get(column, ""), errors_at.get((source.row, column), [])))
            placed.add((source.row, column))
        plan = planned.get(source.row, {})
        grid.append(
            GridRow(
                source.row,
                ACTION_WORDS.get(plan.get("action"), ""),
                bool(plan.get("heading")),
                cells,
                bool(plan.get("deadline_defaulted")),
            )
        )
    loose = [error for error in result.errors if (error["row"], error["column"]) not in placed]
    return [(column, shape.labels[column]) for column in columns], grid, loose


def _form_page(request, form, *, error=None, status=200):
    return render(request, "pages/imports/upload.html", {"form": form, "error": error}, status=status)


@login_required
def import_upload(request):
    campaigns = _importable(request.user)
    queryset = Campaign.objects.filter(pk__in=[campaign.pk for campaign in campaigns]).order_by(
        "-starts_on", "pk"
    )
    if request.method != "POST":
        # "Upload the corrected table" comes back with the campaign chosen.
        initial = {"campaign": request.GET.get("campaign")}
        return _form_page(request, ImportForm(campaigns=queryset, initial=initial) if campaigns else None)
    form = ImportForm(request.POST, request.FILES, campaigns=queryset)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    campaign, upload = form.cleaned_data["campaign"], form.cleaned_data["file"]
    stored = {
        "kind": form.cleaned_data["kind"],
        "campaign": campaign.pk,
        "name": upload.name,
        "data": upload.read(),
        "unit_map": form.unit_map_entries(),
        "default_deadline": form.cleaned_data["default_deadline"],
    }
    try:
        result = _import(request, campaign, stored, dry_run=True)
    except DomainError as exc:
        return _form_page(request, form, error=exc, status=exc.status_code)
    token = uuid.uuid4().hex
    cache.set(_upload_key(request.user, token), stored, UPLOAD_SECONDS)
    return _dry_run_page(request, campaign, stored, result, token=token)


def _import(request, campaign, stored: dict, *, dry_run: bool, accept_default_deadline: bool = False):
    if stored.get("kind") == PROBLEMS:
        return problem_list_import(
            actor=request.user,
            campaign=campaign,
            data=stored["data"],
            filename=stored["name"],
            dry_run=dry_run,
        )
    return table_import(
        actor=request.user,
        campaign=campaign,
        data=stored["data"],
        filename=stored["name"],
        dry_run=dry_run,
        unit_map=parse_unit_map(stored["unit_map"]),
        default_deadline=stored["default_deadline"],
        accept_default_deadline=accept_default_deadline,
    )


def _dry_run_page(request, campaign, stored, result, *, token=None, error=None, status=200):
    # The importer's result names rows and columns; the cells are read again for the page,
    # which shows the table as the office wrote it.
    problems = stored.get("kind") == PROBLEMS
    shape = PROBLEM_LIST if problems else TASK_TABLE
    source_rows, _notes = read_rows(stored["data"], stored["name"], shape)
    columns, grid, loose = table_grid(source_rows, result, shape)
    context = {
        "problems": problems,
        "campaign": campaign,
        "name": stored["name"],
        "result": result,
        "columns": columns,
        "grid": grid,
        "loose_errors": loose,
        "confirm": ConfirmForm(initial={"upload": token}) if token and not result.errors else None,
        "error": error,
    }
    return render(request, "pages/imports/dry_run.html", context, status=status)


@login_required
@require_POST
def import_confirm(request):
    form = ConfirmForm(request.POST)
    stored = cache.get(_upload_key(request.user, form.data.get("upload", ""))) if form.is_valid() else None
    if stored is None:
        error = InvalidInput(_("上传的表格已过期或不存在，请重新上传并试导入。"), code="upload_expired")
        return _form_page(request, ImportForm(campaigns=Campaign.objects.none()), error=error, status=400)
    campaign = Campaign.objects.select_related("issuing_unit").get(pk=stored["campaign"])
    problems = stored.get("kind", TABLE) == PROBLEMS
    tasks_url = reverse("pages:task_list") + f"?campaign={campaign.pk}"
    if problems:
        tasks_url += f"&kind={TaskKind.RECTIFICATION}"
    try:
        with transaction.atomic():
            record = idempotency_begin(request, key=form.cleaned_data["upload"], data=request.POST)
            result = _import(
                request,
                campaign,
                stored,
                dry_run=False,
                accept_default_deadline=form.cleaned_data["accept_default_deadline"],
            )
            done = (
                _(
                    "已导入问题清单：新建整改事项 %(created)d 项（已交办），更新未办结事项 %(updated)d 项，"
                    "已导入而不变 %(unchanged)d 项。"
                )
                if problems
                else _(
                    "已导入：新建 %(created)d 项，更新 %(updated)d 项，未变 %(unchanged)d 项（均为草稿）。"
                )
            )
            messages.success(request, done % result.counts)
            response = redirect(tasks_url)
            idempotency_finish(record, response)
    except Replay:
        messages.info(request, _("这份表格已经导入过，没有重复导入。"))
        return redirect(tasks_url)
    except ImportInvalid as exc:
        # A default 完成时限 not accepted, or the directory or the tasks changed since the
        # dry run: the service's message, and the table as it stands now.
        result = _import(request, campaign, stored, dry_run=True)
        token = form.cleaned_data["upload"]
        return _dry_run_page(request, campaign, stored, result, token=token, error=exc, status=400)
    except DomainError as exc:
        return _form_page(request, None, error=exc, status=exc.status_code)
    return response
