"""Files kept privately (evidence, source documents): checked by size, name and content,
stored under a name of our own."""

import hashlib
import os
import unicodedata
from typing import TypeVar

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput

from .models import Attachment, ProgressReport

T = TypeVar("T", bound=Model)

# Extension -> (content type, the signatures its first bytes may start with).
ZIP = (b"PK\x03\x04",)
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "pdf": ("application/pdf", (b"%PDF-",)),
    "doc": ("application/msword", OLE),
    "xls": ("application/vnd.ms-excel", OLE),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    "ofd": ("application/ofd", ZIP),
}


def clean_filename(name: str) -> str:
    """The last path component, without control characters, at most 200 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return name[-200:] or "attachment"


def _reject(message) -> InvalidInput:
    return InvalidInput(message, code="invalid_attachment", fields={"files": [message]})


def _check(upload) -> tuple[str, str, bytes]:
    name = clean_filename(upload.name or "")
    limit = settings.DUBAN["ATTACHMENT_MAX_BYTES"]
    if upload.size is None or upload.size > limit:
        raise _reject(
            _("文件“%(name)s”超过大小限制（%(mb)s MB）。") % {"name": name, "mb": limit // (1024 * 1024)}
        )
    if upload.size == 0:
        raise _reject(_("文件“%(name)s”是空文件。") % {"name": name})
    extension = os.path.splitext(name)[1].lstrip(".").lower()
    if extension not in ALLOWED_TYPES:
        raise _reject(
            _("不支持的文件类型“%(name)s”，仅限：%(types)s。")
            % {"name": name, "types": "、".join(ALLOWED_TYPES)}
        )
    content_type, signatures = ALLOWED_TYPES[extension]
    upload.seek(0)
    content = upload.read()
    if not content.startswith(signatures):
        raise _reject(_("文件“%(name)s”的内容与扩展名不符。") % {"name": name})
    return name, content_type, content


def checked_uploads(uploads: list) -> list[tuple[str, str, bytes]]:
    """Every upload's clean name, content type and bytes, or ``InvalidInput`` for the first
    bad one: all are checked before any is stored, so one bad file stores none."""
    if len(uploads) > settings.DUBAN["ATTACHMENTS_PER_REPORT"]:
        raise _reject(_("每次最多上传 %(n)s 个文件。") % {"n": settings.DUBAN["ATTACHMENTS_PER_REPORT"]})
    return [_check(upload) for upload in uploads]


def store_checked(model: type[T], checked: list[tuple[str, str, bytes]], **owner) -> list[T]:
    """A row of ``model`` (a file, its name, type, size and checksum) for each checked file,
    under ``owner`` (its report, its source), the file stored under the model's own name."""
    stored = []
    for name, content_type, content in checked:
        attachment = model(
            **owner,
            original_name=name,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        # Content-addressed: a file left behind by a rolled-back request is the same file
        # a retry stores, never a second copy.
        path = attachment.file.field.upload_to(attachment, name)
        storage = attachment.file.storage
        attachment.file.name = path if storage.exists(path) else storage.save(path, ContentFile(content))
        attachment.save()
        stored.append(attachment)
    return stored


def store_attachments(report: ProgressReport, uploads: list) -> list[Attachment]:
    return store_checked(Attachment, checked_uploads(uploads), report=report)
