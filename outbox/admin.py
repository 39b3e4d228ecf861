from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Contact, OutboundMessage, Robot


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["channel", "to_address", "subject", "state", "attempts", "created_at", "sent_at"]
    list_filter = ["channel", "state", "kind"]
    search_fields = ["to_address", "subject", "message_id"]


@admin.register(Robot)
class RobotAdmin(ReadOnlyAdmin):
    """Robots are set up through the API (/api/v1/robots/), which checks jurisdiction and
    encrypts the webhook and secret; the admin shows them without either."""

    list_display = ["name", "unit", "kind", "active", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "unit__name"]
    fields = ["name", "unit", "kind", "active", "created_at"]


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["user", "mobile", "channel_order"]
    search_fields = ["user__username", "user__full_name", "mobile"]
