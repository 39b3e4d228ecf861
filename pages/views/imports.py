"""Importing a 任务分解表 from a page: upload, see the dry run as the table itself with each
error at its row and column, confirm. The file waits between the two under the media
folder, named by its digest and kept per person, so confirming needs no second upload
(which a form without JavaScript could not repeat)."""

import hashlib
import re
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import DomainError
from imports.readers import read_rows
from imports.services import table_import
from imports.table import COLUMN_LABELS
from tasks.models import Campaign

from ..forms import ImportConfirmForm, ImportUploadForm

DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _pending(user, digest: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / "pending" / str(user.pk) / digest


def _table(data: bytes, filename: str, result) -> list[dict]:
    """The table's rows as read, each cell with the errors found at it and the row with what
    the import would do."""
    source, _notes = read_rows(data, filename)
    errors: dict[tuple[int, str], list[str]] = {}
    for error in result.errors:
        errors.setdefault((error["row"], error["column"]), []).append(error["message"])
    action = {row["row"]: row["action"] for row in result.rows}
    return [
        {
            "row": row.row,
            "action": action.get(row.row),
            "cells": [
                (row.values.get(column, ""), errors.get((row.row, column), [])) for column in COLUMN_LABELS
            ],
            "row_errors": [
                message
                for (at_row, column), messages_ in errors.items()
                if at_row == row.row and column not in COLUMN_LABELS
                for message in messages_
            ],
        }
        for row in source
    ]


def _run(request, form_data: dict, data: bytes, filename: str, *, dry_run: bool):
    campaign = form_data["campaign"]
    return table_import(
        actor=request.user,
        campaign=campaign,
        data=data,
        filename=filename,
        dry_run=dry_run,
        accept_default_deadline=form_data.get("accept_default_deadline", False),
    )


@login_required
def table_upload(request):
    campaigns = Campaign.objects.order_by("-starts_on", "pk")
    form = ImportUploadForm(request.POST or None, request.FILES or None, campaigns=campaigns)
    context = {"form": form, "columns": list(COLUMN_LABELS.values())}
    if request.method != "POST" or not form.is_valid():
        return render(request, "pages/import.html", context, status=400 if request.method == "POST" else 200)
    upload = form.cleaned_data["file"]
    data = upload.read()
    try:
        result = _run(request, form.cleaned_data, data, upload.name, dry_run=True)
    except DomainError as exc:
        return render(request, "pages/import.html", {**context, "error": exc}, status=exc.status_code)
    digest = hashlib.sha256(data).hexdigest()
    path = _pending(request.user, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    confirm = ImportConfirmForm(
        initial={
            "campaign": form.cleaned_data["campaign"].pk,
            "digest": digest,
            "filename": upload.name,
            "accept_default_deadline": form.cleaned_data.get("accept_default_deadline"),
        },
        campaigns=campaigns,
    )
    context.update(result=result, table=_table(data, upload.name, result), confirm=confirm)
    return render(request, "pages/import.html", context)


@login_required
def table_confirm(request):
    campaigns = Campaign.objects.order_by("-starts_on", "pk")
    form = ImportConfirmForm(request.POST, campaigns=campaigns)
    if request.method != "POST" or not form.is_valid() or not DIGEST.match(form.cleaned_data["digest"]):
        messages.error(request, _("请重新上传表格。"))
        return redirect("pages:import")
    path = _pending(request.user, form.cleaned_data["digest"])
    if not path.is_file():
        messages.error(request, _("待确认的表格已不在，请重新上传。"))
        return redirect("pages:import")
    try:
        result = _run(
            request, form.cleaned_data, path.read_bytes(), form.cleaned_data["filename"], dry_run=False
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("pages:import")
    path.unlink(missing_ok=True)
    messages.success(
        request,
        _("已导入：新建 %(created)d 项，修改 %(updated)d 项，未变 %(unchanged)d 项。")
        % {key: result.counts.get(key, 0) for key in ("created", "updated", "unchanged")},
    )
    return redirect(f"{reverse('pages:task_list')}?campaign={form.cleaned_data['campaign'].pk}")
