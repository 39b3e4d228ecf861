"""Registering where work comes from (立项登记): a source document and its files."""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, InvalidInput, NotFound
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user

from .. import rules
from ..attachments import checked_uploads, store_checked
from ..models import SourceAttachment, SourceEvent, SourceEventAction, SourceKind, Task, TaskSource
from ..selectors import source_visibility_q
from ..sources import source_fields_from_text


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
    _ensure_kind(kind)
    title, original_text = title.strip(), original_text.strip()
    _ensure_described(title, original_text, document_number.strip(), bool(files))
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
    stored = store_checked(SourceAttachment, checked, source=source)
    _record(source, actor, SourceEventAction.CREATED, {"fields": _fields(source), "files": _names(stored)})
    return source


SOURCE_EDITABLE = ("kind", "document_number", "document_date", "issued_by", "title", "original_text")


def _fields(source: TaskSource) -> dict:
    """What a source says, as its history keeps it."""
    return {name: _value(getattr(source, name)) for name in SOURCE_EDITABLE}


def _value(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _names(attachments) -> list[str]:
    return [attachment.original_name for attachment in attachments or ()]


def _event(source: TaskSource, actor: User | None, action: str, data: dict) -> SourceEvent:
    return SourceEvent(
        source_id=source.pk, registered_by_id=source.registered_by_id, actor=actor, action=action, data=data
    )


def _record(source: TaskSource, actor: User | None, action: str, data: dict) -> None:
    _event(source, actor, action, data).save()


def _ensure_kind(kind: str) -> None:
    if kind not in SourceKind.values:
        message = _("未知的来源类别。")
        raise InvalidInput(message, code="invalid_choice", fields={"kind": [message]})


def _ensure_described(title: str, original_text: str, document_number: str, has_files: bool) -> None:
    if not (title or original_text or document_number or has_files):
        message = _("请填写来源的标题、文号或原文，或附上原件。")
        raise InvalidInput(message, code="required", fields={"title": [message]})


def _locked_source(actor: User, source_id: int) -> TaskSource:
    """The source, locked, for whoever may register sources for its registering unit (the
    rule that let it be registered); one the actor cannot see is missing (404)."""
    if not TaskSource.objects.filter(source_visibility_q(actor), pk=source_id).exists():
        raise NotFound()
    source = TaskSource.objects.select_for_update().select_related("registered_by").get(pk=source_id)
    rules.ensure_may_register_source(access_for_user(actor), source.registered_by)
    return source


@transaction.atomic
def source_update(*, actor: User, source_id: int, **changes) -> TaskSource:
    """Correct a registered source: its kind, number, date, issuing body, title or text. Its
    registering unit stays (the tasks made from it were issued within that unit's reach), and
    so do its files. Tasks made from it show it as it is now."""
    unknown = set(changes) - set(SOURCE_EDITABLE)
    if unknown:
        message = _("字段不可修改。")
        raise InvalidInput(message, code="field_locked", fields={name: [message] for name in sorted(unknown)})
    source = _locked_source(actor, source_id)
    if "kind" in changes:
        _ensure_kind(changes["kind"])
    before = _fields(source)
    for name, value in changes.items():
        setattr(source, name, value.strip() if isinstance(value, str) else value)
    described = (source.title, source.original_text, source.document_number)
    if {"title", "original_text", "document_number"} & set(changes) and not any(described):
        # Files are read only when the text is emptied: they may be all it has.
        _ensure_described(*described, source.attachments.exists())
    after = _fields(source)
    changed = [name for name in SOURCE_EDITABLE if before[name] != after[name]]
    if changed:
        source.save(update_fields=changed)
        # As a task's edit: the fields that changed, each as [before, after].
        data = {"changed": changed, **{name: [before[name], after[name]] for name in changed}}
        _record(source, actor, SourceEventAction.EDITED, data)
    return source


@transaction.atomic
def source_delete(*, actor: User, source_id: int) -> None:
    """Delete a source no task refers to, with its files (409 ``source_in_use`` otherwise).

    The row is locked first: a task being created from it at the same moment either
    committed before (and is counted here) or fails its reference check at its commit."""
    source = _locked_source(actor, source_id)
    if Task.objects.filter(source_id=source.pk).exists():
        message = _("已有任务据此来源立项，不能删除；可修改来源内容。")
        raise Conflict(message, code="source_in_use")
    attachments = list(source.attachments.all())
    files = [attachment.file.name for attachment in attachments]
    # What it said and which files it had: the history outlives it.
    data = {"fields": _fields(source), "files": _names(attachments)}
    _record(source, actor, SourceEventAction.DELETED, data)
    source.attachments.all().delete()
    source.delete()
    storage = SourceAttachment._meta.get_field("file").storage
    # Removed once the rows are gone for good: a rolled-back delete keeps its files.
    transaction.on_commit(lambda: [storage.delete(name) for name in files])


def source_for_task(actor: User, source: TaskSource, issuing_unit: Unit) -> None:
    """A task may be made from a source its issuer sees and whose registering unit reaches
    the issuing unit; one the actor cannot see is refused as one that does not exist."""
    if not TaskSource.objects.filter(source_visibility_q(actor), pk=source.pk).exists():
        # As the API answers for an id that names no source at all.
        message = _("来源不存在。")
        raise InvalidInput(message, code="invalid", fields={"source": [message]})
    rules.ensure_source_serves(source, issuing_unit)


def sources_for_texts(
    *, actor: User, registered_by: Unit, texts: Iterable[str], create: bool = True
) -> dict[str, TaskSource | None]:
    """The source each 来源 cell names (an importer's): one ``registered_by`` registered
    before, found by the document number the cell names or else by its kind and words
    (``tasks.sources.source_fields_from_text``), or one registered now, for the same
    ``registered_by``, by whoever may register sources for it. Importing the same cells
    again finds the same sources. Without ``create`` a cell naming no source yet maps to
    None. Two queries at most, whatever the number of cells; an empty cell is left out."""
    wanted = {text: fields for text in set(texts) if (fields := source_fields_from_text(text)) is not None}
    if not wanted:
        return {}
    numbers = {fields["document_number"] for fields in wanted.values() if fields["document_number"]}
    titles = {fields["title"] for fields in wanted.values() if not fields["document_number"]}
    by_number: dict[str, TaskSource] = {}
    by_words: dict[tuple[str, str], TaskSource] = {}
    for source in (
        TaskSource.objects.filter(registered_by=registered_by)
        .filter(Q(document_number__in=numbers) | Q(document_number="", title__in=titles))
        .order_by("pk")
    ):
        if source.document_number:
            by_number.setdefault(source.document_number, source)
        else:
            by_words.setdefault((source.kind, source.title), source)

    def found(fields: dict) -> TaskSource | None:
        if fields["document_number"]:
            return by_number.get(fields["document_number"])
        return by_words.get((fields["kind"], fields["title"]))

    missing: dict[tuple, dict] = {}
    for fields in wanted.values():
        if found(fields) is None:
            missing.setdefault(_identity(fields), fields)
    if missing and create:
        rules.ensure_may_register_source(access_for_user(actor), registered_by)
        created = TaskSource.objects.bulk_create(
            TaskSource(registered_by=registered_by, created_by=actor, **fields) for fields in missing.values()
        )
        # Registered from a 来源 cell: their registrations, one statement for all of them.
        SourceEvent.objects.bulk_create(
            _event(source, actor, SourceEventAction.CREATED, {"fields": _fields(source), "from_table": True})
            for source in created
        )
        for source in created:
            if source.document_number:
                by_number[source.document_number] = source
            else:
                by_words[(source.kind, source.title)] = source
    return {text: found(fields) for text, fields in wanted.items()}


def _identity(fields: dict) -> tuple:
    if fields["document_number"]:
        return ("number", fields["document_number"])
    return ("words", fields["kind"], fields["title"])
