"""The directory (通讯录) over HTTP: upload it to import, download it to correct and import again."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.apis import ApiView
from core.filters import BIGINT_MAX
from core.negotiation import FileDownloadMixin
from core.parsers import MultiPartParser
from core.schema import BAD_REQUEST, NOT_ACCEPTABLE, READ_ERRORS, WRITE_ERRORS

from .export import directory_export
from .services import directory_export_units, directory_import

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DirectoryImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="The directory as .xlsx or .csv (UTF-8 or GB18030).")
    dry_run = serializers.BooleanField(
        default=True, help_text="true (the default): only report what would change."
    )


class DirectoryImportOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    notes = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="Per row: unit, parent, unit_action, person, username, person_action, role, "
        "membership_action (created, updated or unchanged).",
    )
    errors = serializers.ListField(
        child=serializers.DictField(), help_text="Per error: row, column, column_label, code, message."
    )
    counts = serializers.DictField(child=serializers.IntegerField())
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="Memberships of the table's units it no longer lists: kept."
    )


class DirectoryExportInput(serializers.Serializer):
    within = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)


class DirectoryImportApi(ApiView):
    """Import a directory (通讯录): units with their parent and kind, people with title,
    mobile and e-mail, and each person's role in a unit. A dry run (the default) answers row
    by row what would be created or changed and every error; ``dry_run=false`` imports it,
    all or nothing. Administrators import anywhere; the head of a unit imports below the
    units they reach (403 ``outside_jurisdiction`` otherwise). Importing the same file again
    changes nothing."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        description=(
            "Import a directory (通讯录) from .xlsx or .csv: units under their parent, people, and their "
            "roles. A dry run (the default) answers row by row what would change and every error with "
            "its column; "
            "dry_run=false imports it all or nothing. Importing the same file again changes nothing."
        ),
        request={"multipart/form-data": DirectoryImportInput},
        responses={200: DirectoryImportOutput, **WRITE_ERRORS},
    )
    def post(self, request):
        data = DirectoryImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        result = directory_import(
            actor=request.user,
            data=upload.read(),
            filename=upload.name,
            dry_run=data.validated_data["dry_run"],
        )
        return Response(vars(result))


class DirectoryExportApi(FileDownloadMixin, ApiView):
    """Download the directory the caller keeps (everything for an administrator; a head's
    units below their reach) as .xlsx in the shape the import reads, optionally only the
    subtree of one unit. E-mail and phone are filled in only where the caller may read them."""

    file_media_types = (XLSX,)

    @extend_schema(
        description=(
            "Download the directory the caller keeps as .xlsx, in the shape the import reads (optionally one "
            "unit's subtree); e-mail and phone only where the caller may read them."
        ),
        parameters=[OpenApiParameter("within", int, description="Only this unit's subtree.")],
        responses={
            (200, XLSX): OpenApiResponse(response=OpenApiTypes.BINARY, description="The directory as .xlsx."),
            **BAD_REQUEST,
            **READ_ERRORS,
            **NOT_ACCEPTABLE,
        },
    )
    def get(self, request):
        query = DirectoryExportInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        units = directory_export_units(actor=request.user, within=query.validated_data.get("within"))
        return FileResponse(
            directory_export(reader=request.user, units=units),
            as_attachment=True,
            filename="通讯录.xlsx",
            content_type=XLSX,
        )
