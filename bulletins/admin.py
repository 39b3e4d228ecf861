from django.contrib import admin

from .models import Bulletin


@admin.register(Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    """Read-only: numbering, freezing and rendering happen in the services."""

    list_display = ["issuer", "year", "number", "title", "kind", "state", "issued_on", "published_at"]
    list_filter = ["state", "kind", "year", "issuer"]
    search_fields = ["title"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
