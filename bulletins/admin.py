from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Bulletin, Notice


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    """Numbering, freezing and rendering happen in the services."""

    list_display = ["issuer", "year", "number", "title", "kind", "state", "issued_on", "published_at"]
    list_filter = ["state", "kind", "year", "issuer"]
    search_fields = ["title"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """Numbering, the ladder's rung and the 回执 owed are written by the services."""

    list_display = ["office", "year", "number", "urgency", "to_unit", "task", "reply_by", "replied_at"]
    list_filter = ["urgency", "year", "office"]
    search_fields = ["request", "task__title"]
