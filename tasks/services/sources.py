"""Registering where work comes from (立项登记): a source document and its files."""

import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user

from .. import rules
from ..attachments import checked_uploads, store_checked
from ..models import SourceAttachment, SourceKind, TaskSource
from ..selectors import source_visibility_q


@transaction.atomic
def source_create(
    *,
    actor: User,
    registered_by: Unit,
    kind: str,
    document_number: str = "",
    document_date: datetime.date | None = None,
    issued_by: str = "",
    title: str = "",
    original_text: str = "",
    files: list = (),
) -> TaskSource:
    """Register a source document with its files, for tasks to be created from it.

    Every file is checked before anything is written (``tasks.attachments``): a bad one
    among three refuses the request and stores none, nor the source."""
    rules.ensure_may_register_source(access_for_user(actor), registered_by)
    if kind not in SourceKind.values:
        message = _("未知的来源类别。")
        raise InvalidInput(message, code="invalid_choice", fields={"kind": [message]})
    title, original_text = title.strip(), original_text.strip()
    if not (title or original_text or document_number.strip() or files):
        message = _("请填写来源的标题、文号或原文，或附上原件。")
        raise InvalidInput(message, code="required", fields={"title": [message]})
    checked = checked_uploads(list(files))
    source = TaskSource.objects.create(
        kind=kind,
        document_number=document_number.strip(),
        document_date=document_date,
        issued_by=issued_by.strip(),
        title=title,
        original_text=original_text,
        registered_by=registered_by,
        created_by=actor,
    )
    store_checked(SourceAttachment, checked, source=source)
    return source


def source_for_task(actor: User, source: TaskSource, issuing_unit: Unit) -> None:
    """A task may be made from a source its issuer sees and whose registering unit reaches
    the issuing unit; one the actor cannot see is refused as one that does not exist."""
    if not TaskSource.objects.filter(source_visibility_q(actor), pk=source.pk).exists():
        # As the API answers for an id that names no source at all.
        message = _("来源不存在。")
        raise InvalidInput(message, code="invalid", fields={"source": [message]})
    rules.ensure_source_serves(source, issuing_unit)
