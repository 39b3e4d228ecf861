from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Escalation, EscalationRule, LadderChange


# Rules change through the API's services, which check who and keep the history.
@admin.register(EscalationRule)
class EscalationRuleAdmin(ReadOnlyAdmin):
    list_display = [
        "campaign",
        "level",
        "offset_working_days",
        "notify_supervision_office",
        "notify_unit_above",
    ]
    list_filter = ["campaign", "level"]


@admin.register(LadderChange)
class LadderChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "rule_pk", "campaign"]
    list_filter = ["action", "campaign"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["task", "level", "due_date", "lead_unit", "manual", "created_at", "notified_at"]
    list_filter = ["level", "manual"]
    search_fields = ["task__title", "task__number"]
