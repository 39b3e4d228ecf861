from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only the services write (history, escalations, the outbox,
    bulletins): the admin shows them and offers no form that could skip a rule."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
