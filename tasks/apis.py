"""The department API for tasks: each view parses, calls one service or selector, and
serializes. Rules live in tasks.rules and tasks.services; visibility in tasks.selectors."""

from urllib.parse import quote

from django.http import FileResponse
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiRequest,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters as drf_filters
from rest_framework import status
from rest_framework.response import Response

from core.apis import ApiView, IsAdminOrReadOnly, ListApi, ModelViewSet
from core.errors import NotFound
from core.files import stored_file_open
from core.negotiation import FileDownloadMixin, ensure_accepted
from core.parsers import FormParser, JSONParser, MultiPartParser
from core.preferences import minimal_response, prefers_minimal
from core.schema import (
    BAD_REQUEST,
    LIST_ERRORS,
    MINIMAL,
    NOT_ACCEPTABLE,
    PREFER,
    READ_ERRORS,
    WRITE_ERRORS,
    crud_schema,
)

from . import calendar, dashboard, lateness, ledgers, selectors, services
from .filters import CalendarDayFilter, SourceFilter, TaskFilter
from .models import TRANSITIONS, CalendarDay, Campaign, ProcedureStep, Responsibility, TaskScope
from .serializers import (
    CalendarDaySerializer,
    CampaignSerializer,
    DashboardSerializer,
    DecomposeInput,
    EventSerializer,
    ExtensionDecisionInput,
    ExtensionInput,
    ExtensionSerializer,
    PlanInput,
    PlanSerializer,
    RecheckInput,
    ReportInput,
    ReportSerializer,
    ResponsibilitySerializer,
    SourceEventSerializer,
    SourceInput,
    SourceSerializer,
    SourceUpdateInput,
    TaskCreateInput,
    TaskDetailSerializer,
    TaskSerializer,
    TaskUpdateInput,
    TransferDecisionInput,
    TransferInput,
    TransferSerializer,
    TransferWithdrawInput,
    TransitionInput,
    TransitionsOutput,
    listed_task_data,
)


def light_context(request) -> dict:
    """What TaskSerializer needs to show lights: today, and one calendar for the request."""
    on = lateness.today()
    calendar = lateness.request_calendar(request, on)
    limits: dict[int, object] = {}

    def yellow_limit(days: int):
        if days not in limits:
            limits[days] = lateness.yellow_limit(on, days, calendar)
        return limits[days]

    return {"request": request, "today": on, "yellow_limits": yellow_limit}


def task_detail_response(request, task, status_code=status.HTTP_200_OK) -> Response:
    """The task as it is after a change the caller made to it."""
    task = selectors.task_get_with_details(task.pk)
    return Response(TaskDetailSerializer(task, context=light_context(request)).data, status=status_code)


def task_changed_response(request, task) -> Response:
    """The changed task, or only 204 for a client that prefers not to read it back: reading
    and rendering the detail is most of the cost of a transition (bench/FIXES.md)."""
    if prefers_minimal(request):
        return minimal_response()
    return task_detail_response(request, task)


@extend_schema_view(
    **crud_schema(
        CampaignSerializer,
        filtered=False,
        list="The campaigns (专项行动), newest first: name, issuing unit, dates and the ladder's thresholds.",
        retrieve="One campaign.",
        create="Set up a campaign with its issuing unit and dates (administrators).",
        partial_update="Change a campaign's name, dates or thresholds (administrators).",
    )
)
class CampaignViewSet(ModelViewSet):
    queryset = Campaign.objects.order_by("-starts_on", "pk")
    serializer_class = CampaignSerializer
    permission_classes = [IsAdminOrReadOnly]
    http_method_names = ["get", "post", "patch", "head", "options"]


@extend_schema_view(
    **crud_schema(
        ResponsibilitySerializer,
        list=(
            "A campaign's catalogue of responsibilities, such as the eight responsibilities (八个责任); "
            "filter by `campaign`."
        ),
        retrieve="One responsibility of a campaign's catalogue.",
        create="Add a responsibility to a campaign's catalogue (administrators).",
        update="Replace a responsibility of a catalogue (administrators).",
        partial_update="Change a responsibility of a catalogue (administrators).",
        destroy="Remove a responsibility from a catalogue (administrators).",
    )
)
class ResponsibilityViewSet(ModelViewSet):
    """A campaign's catalogue of responsibilities, such as the "eight responsibilities"."""

    queryset = Responsibility.objects.order_by("campaign", "order", "code")
    serializer_class = ResponsibilitySerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_fields = ["campaign"]


@extend_schema_view(
    **crud_schema(
        CalendarDaySerializer,
        list=(
            "Holidays and moved working days (调休) entered for years the built-in calendar lacks or where "
            "it differs; everyone signed in reads them."
        ),
        retrieve="One entered calendar day.",
        create=(
            "Enter a holiday or a moved working day from the State Council's notice (administrators); due "
            "dates and the ladder count working days by it."
        ),
        update="Replace an entered calendar day (administrators).",
        partial_update="Change an entered calendar day (administrators).",
        destroy="Remove an entered calendar day (administrators); the built-in calendar applies again.",
    )
)
class CalendarDayViewSet(ModelViewSet):
    """Holidays and moved working days (调休) for years the package lacks, or that differ
    from it: read by everyone signed in, changed by administrators (tasks.calendar)."""

    queryset = CalendarDay.objects.order_by("date")
    serializer_class = CalendarDaySerializer
    filterset_class = CalendarDayFilter

    def perform_create(self, serializer):
        serializer.instance = calendar.calendar_day_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = calendar.calendar_day_update(
            day_id=serializer.instance.pk, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        calendar.calendar_day_delete(day_id=instance.pk, actor=self.request.user)


class TaskListApi(ListApi):
    """Tasks the caller may see, filtered and paginated, at a fixed number of queries."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    filter_backends = [*ListApi.filter_backends, drf_filters.OrderingFilter]
    ordering_fields = ["due_date", "number", "created_at", "updated_at", "state"]
    ordering = ["due_date", "pk"]

    def get_queryset(self):
        return selectors.task_list_for_user(self.request.user)

    def get_serializer_context(self):
        return light_context(self.request)

    @extend_schema(
        description=(
            "The tasks the caller may see: of their units and the units below, those their supervision "
            "office supervises, and those they lead as 牵头领导. Filters narrow the list; `ordering` sorts "
            "it; paginated."
        ),
        responses={200: TaskSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        # The filters select scope rows (their columns are the task's); the page is read
        # from them, then the page's tasks (tasks.selectors.TaskPages, bench/FIXES.md).
        filterset = TaskFilter(request.query_params, queryset=TaskScope.objects.all(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        ordering = drf_filters.OrderingFilter().get_ordering(request, filterset.qs, self)
        pages = selectors.task_pages_for_user(request.user, filterset.qs, ordering, rows=True)
        page = self.paginate_queryset(pages)
        return self.get_paginated_response(listed_task_data(page, self.get_serializer_context()))

    @extend_schema(
        description=(
            "Issue a task (as a draft of the issuing unit): its lead, responsible and cooperating units, "
            "lead leader, responsible person, due date, indicators and procedure steps, and the source "
            "document it comes from (`source`, registered first with `POST /api/v1/sources/`). Only a head "
            "of the issuing unit may; every unit and person must be within its jurisdiction, and the "
            "issuing unit within the reach of the unit that registered the source."
        ),
        request=TaskCreateInput,
        responses={201: TaskDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = TaskCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["indicators"] = [services.IndicatorSpec(**item) for item in fields.get("indicators", [])]
        fields["steps"] = [services.StepSpec(**item) for item in fields.get("steps", [])]
        task = services.task_create(actor=request.user, **fields)
        return task_detail_response(request, task, status.HTTP_201_CREATED)


class StepPlanApi(ApiView):
    """倒排工期: the step dates of a procedure, planned back from its final date."""

    @extend_schema(
        description=(
            "Plan a procedure's steps backwards from its final date (倒排工期): the last step is due on "
            "the final date (or the working day before it, if it is not worked), each earlier step when "
            "the next must start, by the working days each step needs under the holiday calendar. "
            "Nothing is saved: the dates are shown for the issuer to create the task with."
        ),
        request=PlanInput,
        responses={200: PlanSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = PlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        steps = [(step["name"], step["working_days"]) for step in data.validated_data["steps"]]
        planned = services.steps_plan_backwards(due_date=data.validated_data["due_date"], steps=steps)
        return Response(PlanSerializer({"due_date": data.validated_data["due_date"], "steps": planned}).data)


class UnitDashboardApi(ApiView):
    """How the work of a unit and of each unit one level below it stands (督办看板)."""

    @extend_schema(
        description=(
            "How the work of a unit and of each unit one level below it stands (督办看板): open tasks "
            "by light, overdue, closed and closed on time, and the on-time rate. 403 outside the "
            "caller's subtrees."
        ),
        responses={200: DashboardSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        total, *children = dashboard.unit_dashboard(request.user, pk)
        return Response(DashboardSerializer({"unit": total, "children": children}).data)


class TaskDetailApi(ApiView):
    @extend_schema(
        description=(
            "One task with its units, people, indicators, procedure steps, traffic light, the rung of "
            "the 督办 ladder it has reached, and its source document with links to its files (a piece of "
            "a split task shows the source of the task it was split from)."
        ),
        responses={200: TaskDetailSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        task = selectors.task_get_for_user(request.user, pk)
        return Response(TaskDetailSerializer(task, context=light_context(request)).data)

    @extend_schema(
        description=(
            "Edit a task's text, units, people, due date or source (a top-level task's; its pieces follow). "
            "Only the issuing side may, within its jurisdiction; send `Prefer: return=minimal` for a 204 "
            "without the task."
        ),
        request=TaskUpdateInput,
        parameters=[PREFER],
        responses={200: TaskDetailSerializer, **MINIMAL, **WRITE_ERRORS},
    )
    def patch(self, request, pk):
        data = TaskUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        task = services.task_update(task_id=pk, actor=request.user, **data.validated_data)
        return task_changed_response(request, task)


class TaskHistoryApi(ListApi):
    """The task's permanent history, oldest first."""

    serializer_class = EventSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.task_history(selectors.task_visible_get(self.request.user, self.kwargs["pk"]))

    @extend_schema(
        description=(
            "The task's permanent history, oldest first: every transition, edit, report, extension and "
            "escalation with who did it and when."
        ),
        responses={200: EventSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TaskTransitionsApi(ApiView):
    @extend_schema(
        description="The task's state and the transitions the caller may perform on it now.",
        responses={200: TransitionsOutput, **READ_ERRORS},
    )
    def get(self, request, pk):
        task = selectors.task_get_for_user(request.user, pk)
        names = services.task_available_transitions(task=task, actor=request.user)
        return Response({"state": task.state, "transitions": names})


class TaskTransitionApi(ApiView):
    @extend_schema(
        description=(
            "Perform a transition (`assign`, `accept`, `submit`, `close`, `return`, `suspend`, `resume`, "
            "`cancel`, `reopen`, `return_to_issuer`) with an optional comment. `return_to_issuer` (退回) is "
            "the lead unit's, before signing for the task, with a required reason: the task goes back to "
            "the issuer as a draft. Refused with 403 for a side that may not, 409 for a state that does "
            "not allow it."
        ),
        request=TransitionInput,
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(TRANSITIONS)),
            PREFER,
        ],
        responses={200: TaskDetailSerializer, **MINIMAL, **WRITE_ERRORS},
    )
    def post(self, request, pk, name):
        data = TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_transition(task_id=pk, actor=request.user, name=name, **data.validated_data)
        return task_changed_response(request, task)


class TaskRecheckApi(ApiView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        description=(
            "Record the re-check (回头看) of a closed rectification item, for the issuing side: `result` "
            "`passed` meets the re-check; `failed` meets it and reopens the item (its 屡改屡犯 count goes "
            "up) with the new `due_date` it must be rectified by, and `notes` saying what was found. "
            "What the office found may go with it as files (multipart/form-data, `files` repeated once "
            "per file), checked as evidence is (one bad file refuses the request and saves nothing) and "
            "downloaded from the task's `recheck.attachments` by whoever sees the task. "
            "Refused with 409 `no_recheck_due` when no re-check is pending (so a repeated request "
            "records nothing twice). Send `Prefer: return=minimal` for a 204 without the task."
        ),
        request={
            "application/json": RecheckInput,
            "multipart/form-data": RecheckInput,
            "application/x-www-form-urlencoded": RecheckInput,
        },
        parameters=[PREFER],
        responses={200: TaskDetailSerializer, **MINIMAL, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        data = RecheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        task = services.task_recheck_record(task_id=pk, actor=request.user, **data.validated_data)
        return task_changed_response(request, task)


class TaskDecomposeApi(ApiView):
    @extend_schema(
        description=(
            "Split the task into child tasks for units below: each child's lead unit, due date (not after "
            "the parent's) and its share of each indicator's target (the shares may not add up to more "
            "than the target). Answers the children created."
        ),
        request=DecomposeInput,
        responses={201: TaskSerializer(many=True), **WRITE_ERRORS},
    )
    def post(self, request, pk):
        data = DecomposeInput(data=request.data)
        data.is_valid(raise_exception=True)
        children = [
            services.ChildSpec(
                **{key: value for key, value in child.items() if key != "targets"},
                targets={share["indicator"]: share["target"] for share in child.get("targets", [])},
            )
            for child in data.validated_data["children"]
        ]
        created = services.task_decompose(task_id=pk, actor=request.user, children=children)
        visible = selectors.task_list_for_user(request.user).filter(pk__in=[c.pk for c in created])
        return Response(
            TaskSerializer(visible.order_by("pk"), many=True, context=light_context(request)).data,
            status=status.HTTP_201_CREATED,
        )


FIGURES_AS_JSON = {"figures": {"contentType": "application/json"}}


class TaskReportsApi(ListApi):
    """Progress reports with figures and evidence files (multipart, or JSON without files)."""

    serializer_class = ReportSerializer
    filter_backends = []
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        return selectors.task_reports(selectors.task_visible_get(self.request.user, self.kwargs["pk"]))

    @extend_schema(
        description="The task's progress reports, newest first, with their figures and evidence files.",
        responses={200: ReportSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Report progress: a text, figures per indicator and evidence files. As JSON, `figures` is a "
            'list of `{"indicator": id, "value": "decimal"}`; as multipart/form-data (with files), '
            '`figures` is one part holding that same list as JSON text, e.g. `[{"indicator": 12, "value": '
            '"300"}]`, and `files` is repeated once per file.'
        ),
        request={
            "application/json": ReportInput,
            # In a form, the figures are one part holding the list as JSON (OpenAPI's
            # encoding object says so), beside the files.
            "multipart/form-data": OpenApiRequest(ReportInput, encoding=FIGURES_AS_JSON),
            "application/x-www-form-urlencoded": OpenApiRequest(ReportInput, encoding=FIGURES_AS_JSON),
        },
        responses={201: ReportSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.progress_report_create(
            task_id=pk,
            actor=request.user,
            text=data.validated_data["text"],
            figures={f["indicator"]: f["value"] for f in data.validated_data.get("figures", [])},
            files=data.validated_data.get("files", []),
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


class TaskStepCompleteApi(ApiView):
    @extend_schema(
        description=(
            "Complete one step of a procedure task (入户核查 → 民主评议 → 两公示一公告 → 销号), in order. "
            "Send `Prefer: return=minimal` for a 204 without the task."
        ),
        request=None,
        parameters=[PREFER],
        responses={200: TaskDetailSerializer, **MINIMAL, **WRITE_ERRORS},
    )
    def post(self, request, pk, step_pk):
        task = selectors.task_visible_get(request.user, pk)
        try:
            step = task.steps.get(pk=step_pk)
        except ProcedureStep.DoesNotExist:
            raise NotFound() from None
        services.procedure_step_complete(task_id=pk, step_id=step.pk, actor=request.user)
        return task_changed_response(request, task)


class TaskExtensionsApi(ListApi):
    serializer_class = ExtensionSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.task_extensions(selectors.task_visible_get(self.request.user, self.kwargs["pk"]))

    @extend_schema(
        description="The extension requests of a task, with their decisions.",
        responses={200: ExtensionSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Ask for a later due date, with a reason, before the task is due. The date must lie within the "
            "campaign and not after the parent task's date."
        ),
        request=ExtensionInput,
        responses={201: ExtensionSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        data = ExtensionInput(data=request.data)
        data.is_valid(raise_exception=True)
        extension = services.extension_request_create(task_id=pk, actor=request.user, **data.validated_data)
        return Response(ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)


class ExtensionDecisionApi(ApiView):
    @extend_schema(
        description=(
            "Approve or refuse an extension request (the issuing side). An approved extension moves the "
            "task's due date and starts the ladder again."
        ),
        request=ExtensionDecisionInput,
        responses={200: ExtensionSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        extension = selectors.extension_get_for_user(request.user, pk)
        data = ExtensionDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        extension = services.extension_decide(
            extension_id=extension.pk, actor=request.user, **data.validated_data
        )
        return Response(ExtensionSerializer(extension).data)


class TaskTransfersApi(ListApi):
    serializer_class = TransferSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.task_transfers(selectors.task_visible_get(self.request.user, self.kwargs["pk"]))

    @extend_schema(
        description="The transfer requests (转办申请) of a task, with their decisions.",
        responses={200: TransferSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Ask the issuer to transfer the task to another unit (转办), with a reason: members of the lead "
            "unit, before signing for it. The unit must be within the issuing unit's jurisdiction (403 "
            "`outside_jurisdiction`); one request is pending at a time (409 `transfer_pending`). The "
            "sign-for stays owed by its date until the issuer approves."
        ),
        request=TransferInput,
        responses={201: TransferSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        data = TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        transfer = services.transfer_request_create(task_id=pk, actor=request.user, **data.validated_data)
        return Response(TransferSerializer(transfer).data, status=status.HTTP_201_CREATED)


class TransferDecisionApi(ApiView):
    @extend_schema(
        description=(
            "Approve or refuse a transfer request (the issuing side). Approved, the named unit becomes the "
            "lead unit and owes the sign-for within the campaign's limit from today; refused (a comment is "
            "required), the asking unit still owes it by its original date. A request withdrawn, decided "
            "or closed by the task (signed for, returned, suspended, cancelled, given another lead unit) "
            "is 409 `transfer_closed`."
        ),
        request=TransferDecisionInput,
        responses={200: TransferSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        transfer = selectors.transfer_get_for_user(request.user, pk)
        data = TransferDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.transfer_decide(transfer_id=transfer.pk, actor=request.user, **data.validated_data)
        transfer = selectors.task_transfers(transfer.task_id).get(pk=transfer.pk)
        return Response(TransferSerializer(transfer).data)


class TransferWithdrawApi(ApiView):
    @extend_schema(
        description=(
            "Withdraw a pending transfer request, as a member of the unit that asked, with an optional "
            "comment; the sign-for stays owed by its date. A request already decided, withdrawn or closed "
            "by the task (signed for, returned, suspended, cancelled, given another lead unit) is 409 "
            "`transfer_closed`."
        ),
        request=TransferWithdrawInput,
        responses={200: TransferSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        transfer = selectors.transfer_get_for_user(request.user, pk)
        data = TransferWithdrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.transfer_withdraw(transfer_id=transfer.pk, actor=request.user, **data.validated_data)
        transfer = selectors.task_transfers(transfer.task_id).get(pk=transfer.pk)
        return Response(TransferSerializer(transfer).data)


# A stored file (evidence, a re-check's or a source's file) is served in the type it was
# uploaded with.
STORED_FILE_RESPONSES = {
    (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
    **READ_ERRORS,
    **NOT_ACCEPTABLE,
}


class AttachmentDownloadApi(FileDownloadMixin, ApiView):
    """Evidence is served only here, to users who may see the task; never as public media."""

    # Its type is the one it was uploaded with, known once it is loaded.
    file_media_types = ("*/*",)

    def attachment_for(self, user, pk):
        return selectors.attachment_get_for_user(user, pk)

    @extend_schema(
        description=(
            "Download an evidence file of a progress report, in the type it was uploaded with; only for "
            "callers who may see its task."
        ),
        responses=STORED_FILE_RESPONSES,
    )
    def get(self, request, pk):
        attachment = self.attachment_for(request.user, pk)
        ensure_accepted(request, [attachment.content_type])
        response = FileResponse(
            stored_file_open(attachment.file),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class RecheckAttachmentDownloadApi(AttachmentDownloadApi):
    """A re-check's file, served as evidence is: only to those who see its task."""

    def attachment_for(self, user, pk):
        return selectors.recheck_attachment_get_for_user(user, pk)

    @extend_schema(
        description=(
            "Download a file of a re-check (回头看: a photo of the site, the check sheet), in the type it "
            "was uploaded with; only for callers who may see its task."
        ),
        responses=STORED_FILE_RESPONSES,
    )
    def get(self, request, pk):
        return super().get(request, pk)


class SourceAttachmentDownloadApi(AttachmentDownloadApi):
    """A source document's file, served as evidence is: only to those who see the source."""

    def attachment_for(self, user, pk):
        return selectors.source_attachment_get_for_user(user, pk)

    @extend_schema(
        description=(
            "Download a file of a source document (the scanned 批示, the minutes), in the type it was "
            "uploaded with; only for callers who see the source: of the units in their subtrees, or of a "
            "task they see."
        ),
        responses=STORED_FILE_RESPONSES,
    )
    def get(self, request, pk):
        return super().get(request, pk)


class SourceListApi(ListApi):
    """Where work comes from (立项登记): source documents with their files."""

    serializer_class = SourceSerializer
    filterset_class = SourceFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        return selectors.source_list_for_user(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        description=(
            "The source documents the caller sees (registered in their subtrees, or of a task they "
            "see), newest first; filter by `kind`."
        ),
        responses={200: SourceSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Register a source document (立项登记): its kind (批示, 会议议定, 上级交办, 督查发现, 群众反映, "
            "其他), number (e.g. 锦市委办发〔2019〕12号), date, issuing body, title, original text and "
            "files (PDF, images, Word, as multipart/form-data with `files` repeated once per file). A head "
            "of the registering unit or its supervision office may. Every file is checked before anything "
            "is saved: one bad file refuses the request and saves nothing. Then create the top-level "
            "task with `source` set to its id (`POST /api/v1/tasks/`)."
        ),
        request={
            "multipart/form-data": SourceInput,
            "application/json": SourceInput,
            "application/x-www-form-urlencoded": SourceInput,
        },
        responses={201: SourceSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = SourceInput(data=request.data)
        data.is_valid(raise_exception=True)
        source = services.source_create(actor=request.user, **data.validated_data)
        source = selectors.source_get_for_user(request.user, source.pk)
        return Response(SourceSerializer(source).data, status=status.HTTP_201_CREATED)


class SourceDetailApi(ApiView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        description="One source document with its files; 404 for a caller who does not see it.",
        responses={200: SourceSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        return Response(SourceSerializer(selectors.source_get_for_user(request.user, pk)).data)

    @extend_schema(
        description=(
            "Correct a source document: its kind, number, date, issuing body, title or original text (its "
            "registering unit and files stay). Whoever may register sources for its registering unit may "
            "(403 `not_a_source_registrar`); a caller who does not see it gets 404. Tasks made from it show "
            "it as it is now."
        ),
        request={
            "application/json": SourceUpdateInput,
            "multipart/form-data": SourceUpdateInput,
            "application/x-www-form-urlencoded": SourceUpdateInput,
        },
        responses={200: SourceSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, pk):
        data = SourceUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.source_update(actor=request.user, source_id=pk, **data.validated_data)
        return Response(SourceSerializer(selectors.source_get_for_user(request.user, pk)).data)

    @extend_schema(
        description=(
            "Delete a source document no task was made from, with its files (409 `source_in_use` "
            "otherwise; correct it instead). Whoever may register sources for its registering unit may."
        ),
        request=None,
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request, pk):
        services.source_delete(actor=request.user, source_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SourceHistoryApi(ListApi):
    """A source's permanent history, oldest first."""

    serializer_class = SourceEventSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.source_history_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(
        description=(
            "A source document's permanent history, oldest first: its registration (`created`, with "
            "what it said and its files), every correction (`edited`, with `changed` and each changed "
            "field as [before, after]) and its deletion (`deleted`, with what it said), each with who "
            "and when. A deleted source's history stays readable by whoever sees its registering unit; "
            "404 for a caller who does not see the source."
        ),
        responses={200: SourceEventSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def ledger_response(ledger: ledgers.Ledger) -> FileResponse:
    response = FileResponse(ledger.file, content_type=ledgers.CONTENT_TYPE)
    # RFC 6266: a plain name for old clients, the Chinese one (RFC 5987) for the rest.
    response["Content-Disposition"] = (
        f'attachment; filename="{ledger.ascii_filename}"; '
        f"filename*=UTF-8''{quote(ledger.filename, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


LEDGER_RESPONSES = {
    (200, ledgers.CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The .xlsx workbook."),
    **BAD_REQUEST,
    **READ_ERRORS,
    **NOT_ACCEPTABLE,
}


class LedgerApi(FileDownloadMixin, ApiView):
    """Base of the ledgers: the task list's filters and ordering, over the caller's tasks."""

    filterset_class = TaskFilter
    filter_backends = [DjangoFilterBackend, drf_filters.OrderingFilter]
    ordering_fields = TaskListApi.ordering_fields
    ordering = TaskListApi.ordering
    file_media_types = (ledgers.CONTENT_TYPE,)

    def get_queryset(self):
        return selectors.task_list_for_user(self.request.user)

    def filtered_tasks(self):
        """The filtered, ordered tasks and the campaign filtered on, if any; 400 on bad input.
        As for the list, the filters select scope rows (tasks.selectors.tasks_seen_among)."""
        request = self.request
        filterset = TaskFilter(request.query_params, queryset=TaskScope.objects.all(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        tasks = selectors.tasks_seen_among(request.user, filterset.qs)
        tasks = drf_filters.OrderingFilter().filter_queryset(request, tasks, self)
        return tasks, filterset.form.cleaned_data.get("campaign")


class TaskLedgerApi(LedgerApi):
    """The task ledger (任务台账) as .xlsx, for the same filters as the task list."""

    @extend_schema(
        description=(
            "The task ledger (任务台账) as an .xlsx workbook, for the same filters and ordering as the "
            "task list."
        ),
        operation_id="v1_ledgers_tasks_retrieve",
        filters=True,
        responses=LEDGER_RESPONSES,
    )
    def get(self, request):
        tasks, campaign = self.filtered_tasks()
        return ledger_response(ledgers.task_ledger(tasks, campaign=campaign))


class RectificationLedgerApi(LedgerApi):
    """The rectification ledger (整改台账) as .xlsx: the rectification items among the tasks the
    task list shows for the same filters."""

    @extend_schema(
        description=(
            "The rectification ledger (整改台账) as an .xlsx workbook: the rectification items among the "
            "tasks the task list shows for the same filters, with how often each was reopened and when it "
            "was closed."
        ),
        operation_id="v1_ledgers_rectifications_retrieve",
        filters=True,
        responses=LEDGER_RESPONSES,
    )
    def get(self, request):
        tasks, campaign = self.filtered_tasks()
        return ledger_response(ledgers.rectification_ledger(tasks, campaign=campaign))
