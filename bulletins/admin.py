from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Bulletin


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    """Numbering, freezing and rendering happen in the services."""

    list_display = ["issuer", "year", "number", "title", "kind", "state", "issued_on", "published_at"]
    list_filter = ["state", "kind", "year", "issuer"]
    search_fields = ["title"]
