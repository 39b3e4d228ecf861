"""Files stored under MEDIA_ROOT and served through the API."""

import logging

from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext_lazy as _

from .errors import NotFound

logger = logging.getLogger(__name__)


def stored_file_open(field_file: FieldFile) -> FieldFile:
    """The stored file, open for reading. A row whose file is gone (deleted by hand, a
    restore without the media folder) is a 404 ``file_missing`` for the client and an
    ERROR for the operator, who alone can put the file back."""
    try:
        return field_file.open("rb")
    except FileNotFoundError:
        record = field_file.instance
        logger.error(
            "Stored file missing: %s %s has %s %r, not found in storage",
            record._meta.label,
            record.pk,
            field_file.field.name,
            field_file.name,
        )
        raise NotFound(_("文件已丢失，请联系管理员。"), code="file_missing") from None
