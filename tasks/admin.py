"""The admin shows tasks and their history; it changes tasks only through the API's
services, so it offers no edit form that could skip a rule or the history."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import (
    CalendarChange,
    CalendarDay,
    Campaign,
    ExtensionRequest,
    Responsibility,
    Task,
    TaskEvent,
    TaskSource,
)


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "action", "from_state", "to_state", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "issuing_unit", "starts_on", "ends_on"]


# Entries change through the API's service (tasks.calendar), which checks them and keeps
# the history.
@admin.register(CalendarDay)
class CalendarDayAdmin(ReadOnlyAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]


@admin.register(CalendarChange)
class CalendarChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "date"]
    list_filter = ["action"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "state", "lead_unit", "due_date", "campaign"]
    list_filter = ["state", "kind", "campaign"]
    search_fields = ["number", "title"]
    inlines = [TaskEventInline]


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin):
    list_display = ["task", "at", "actor", "action", "from_state", "to_state"]
    list_filter = ["action"]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ["task", "requested_due_date", "state", "requested_by", "decided_by"]


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "campaign", "holder", "order"]
    list_filter = ["campaign"]


# Registered through the API's service (tasks.services.sources), which checks who may and
# every file; the admin reads them.
@admin.register(TaskSource)
class TaskSourceAdmin(ReadOnlyAdmin):
    list_display = ["kind", "document_number", "title", "document_date", "registered_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["document_number", "title", "issued_by"]
