"""Import and export of a campaign's task-decomposition table over HTTP."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.apis import ApiView
from core.errors import NotFound
from core.negotiation import FileDownloadMixin
from core.parsers import MultiPartParser
from core.schema import NOT_ACCEPTABLE, READ_ERRORS, WRITE_ERRORS
from core.serializers import TextField
from tasks.models import Campaign

from .export import table_export
from .services import MAX_UNIT_MAP_ENTRIES, ensure_may_handle_table, parse_unit_map, table_import

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportInput(serializers.Serializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=True)
    unit_map = serializers.ListField(
        child=TextField(max_length=1000),
        required=False,
        max_length=MAX_UNIT_MAP_ENTRIES,
        help_text="The units a name in the table stands for, one field per name: "
        "“各主要经济指标牵头单位=市发改委、市统计局” (a lead unit named by its role, a name the "
        "directory does not know). Nothing after “=” means no unit.",
    )
    default_deadline = serializers.DateField(
        required=False,
        help_text="The due date of tasks the table gives no 完成时限; the campaign's end if not given.",
    )
    accept_default_deadline = serializers.BooleanField(
        default=False,
        help_text="Import tasks without a 完成时限 at the default due date. Without it a dry run "
        "marks them and an import refuses them.",
    )


class DefaultDeadlineOutput(serializers.Serializer):
    date = serializers.DateField()
    rows = serializers.IntegerField()
    accepted = serializers.BooleanField()


class ImportOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    notes = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField())
    errors = serializers.ListField(child=serializers.DictField())
    counts = serializers.DictField(child=serializers.IntegerField())
    missing = serializers.ListField(child=serializers.CharField())
    default_deadline = DefaultDeadlineOutput(allow_null=True)


def _campaign(pk) -> Campaign:
    try:
        return Campaign.objects.select_related("issuing_unit").get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


class CampaignImportApi(ApiView):
    """Upload a table. A dry run (the default) answers row by row what would be created or
    changed and every error; ``dry_run=false`` imports it, all or nothing."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        description=(
            "Upload a task-decomposition table (任务分解表: .xlsx, .csv, .docx or .txt) for the campaign. "
            "A dry run (the default) answers row by row what would be created or changed and every error "
            "by row and column; `dry_run=false` imports it, all or nothing. For the campaign's issuing "
            "unit."
        ),
        request={"multipart/form-data": ImportInput},
        responses={200: ImportOutput, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        campaign = _campaign(pk)
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        result = table_import(
            actor=request.user,
            campaign=campaign,
            data=upload.read(),
            filename=upload.name,
            dry_run=data.validated_data["dry_run"],
            unit_map=parse_unit_map(data.validated_data.get("unit_map", [])),
            default_deadline=data.validated_data.get("default_deadline"),
            accept_default_deadline=data.validated_data["accept_default_deadline"],
        )
        # vars, not asdict: the result holds plain lists and dicts already, which asdict
        # would deep-copy element by element, at a cost that grows with the table.
        return Response(vars(result))


class CampaignExportApi(FileDownloadMixin, ApiView):
    file_media_types = (XLSX,)

    @extend_schema(
        description=(
            "The campaign's imported tasks as a task-decomposition table (.xlsx) in the columns the import "
            "reads, for the campaign's issuing unit."
        ),
        responses={
            (200, XLSX): OpenApiResponse(response=OpenApiTypes.BINARY, description="The table as .xlsx."),
            **READ_ERRORS,
            **NOT_ACCEPTABLE,
        },
    )
    def get(self, request, pk):
        campaign = _campaign(pk)
        ensure_may_handle_table(request.user, campaign)
        return FileResponse(
            table_export(campaign),
            as_attachment=True,
            filename=f"{campaign.short_name or campaign.name}任务分解表.xlsx",
            content_type=XLSX,
        )
