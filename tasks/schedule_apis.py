"""The API of a task's report schedule (按期反馈): read it, set or replace it, remove it.
A view of its own beside ``tasks.apis``, which holds the task's other operations."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.apis import ApiView
from core.schema import READ_ERRORS, WRITE_ERRORS

from . import schedules, selectors, services
from .lateness import today
from .models import ReportCadence


class ReportScheduleInput(serializers.Serializer):
    cadence = serializers.ChoiceField(
        choices=ReportCadence.choices,
        help_text="monthly (每月 day N), quarterly (每季度; day N of the quarter's last month, or none for "
        "its last day), weekly (每周; day 1 = Monday … 7 = Sunday) or once (on once_on).",
    )
    day = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=31)
    once_on = serializers.DateField(required=False, allow_null=True)
    wording = serializers.CharField(required=False, allow_blank=True, max_length=50)


class ReportScheduleOutput(serializers.Serializer):
    cadence = serializers.ChoiceField(choices=ReportCadence.choices, allow_null=True)
    day = serializers.IntegerField(allow_null=True)
    once_on = serializers.DateField(allow_null=True)
    wording = serializers.CharField(help_text="The schedule in the office's words, e.g. 每月28日前.")
    label = serializers.CharField(help_text="What each period is called in digests, e.g. 月度进展报送.")
    next_due_date = serializers.DateField(
        allow_null=True, help_text="The next period's due date not yet passed and not yet met."
    )
    missed = serializers.ListField(
        child=serializers.DateField(),
        help_text="Due dates of periods passed without a report while the task owed them (open; "
        "suspended: before the day it was suspended; closed: before its closing day), chased. "
        "What the ledgers count as 漏报期数.",
    )
    met_late = serializers.ListField(
        child=serializers.DateField(),
        help_text="Due dates of periods met by a late report (补报), no longer chased"
        " (the ledgers' 补报期数).",
    )


def _status_response(task, code=status.HTTP_200_OK) -> Response:
    return Response(ReportScheduleOutput(schedules.schedule_status(task, today())).data, status=code)


class TaskReportScheduleApi(ApiView):
    @extend_schema(
        description=(
            "The task's report schedule (按期反馈): its cadence, its words (每月28日前), the next report "
            "date and the periods missed. All fields null or empty when the task has none."
        ),
        responses={200: ReportScheduleOutput, **READ_ERRORS},
    )
    def get(self, request, pk):
        return _status_response(selectors.task_visible_get(request.user, pk))

    @extend_schema(
        description=(
            "Set or replace the task's report schedule. Only the issuing side may, within its "
            "jurisdiction. A due day beyond a short month is its last day; a due day that is not "
            "worked moves to the working day before it. On an open task the periods not yet due "
            "are written anew; missed periods stay owed."
        ),
        request=ReportScheduleInput,
        responses={200: ReportScheduleOutput, **WRITE_ERRORS},
    )
    def put(self, request, pk):
        data = ReportScheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = selectors.task_visible_get(request.user, pk)
        services.report_schedule_set(task_id=task.pk, actor=request.user, **data.validated_data)
        return _status_response(task)

    @extend_schema(
        description="Remove the task's report schedule: the periods not yet due are no longer owed.",
        request=None,
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request, pk):
        task = selectors.task_visible_get(request.user, pk)
        services.report_schedule_remove(task_id=task.pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
