"""Importing a problem list (问题清单) over HTTP: upload, read the dry run, confirm."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.apis import ApiView
from core.parsers import MultiPartParser
from core.schema import WRITE_ERRORS

from ..apis import _campaign
from .services import problem_list_import


class ProblemImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="The problem list as .xlsx or .csv (UTF-8 or GB18030).")
    dry_run = serializers.BooleanField(
        default=True, help_text="true (the default): only report what would happen."
    )


class ProblemImportOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    notes = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="Per problem: row, number, problem, location, lead_unit, responsible_units, "
        "responsible_person (the 责任人 named, or empty), lead_leader (the 责任领导 named, or empty), "
        "due_date, deadline_text, source, action (created, updated or unchanged) and changes (the "
        "columns an update changes: responsible_units, responsible_person, lead_leader, deadline, "
        "measures, source).",
    )
    errors = serializers.ListField(
        child=serializers.DictField(), help_text="Per error: row, column, column_label, code, message."
    )
    counts = serializers.DictField(child=serializers.IntegerField())
    kept = serializers.ListField(
        child=serializers.DictField(),
        help_text="Per item whose restated 整改时限 is earlier than an extension it was granted, which "
        "it keeps: row, column (deadline), code (extension_kept), message.",
    )


class CampaignProblemImportApi(ApiView):
    """Upload a problem list. A dry run (the default) answers row by row which rectification
    items would be created and which exist already, and every error by row and column;
    ``dry_run=false`` creates them, all or nothing."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        description=(
            "Upload a problem list (问题清单: .xlsx or .csv with 问题, 所在单位, 责任单位, 责任人, "
            "责任领导, 整改措施, 整改时限, 来源) for the campaign. Each problem becomes a rectification "
            "item (整改事项) issued at once to its responsible unit; a 责任人 is a member or head of "
            "the lead responsible unit, found by name (a name matching nobody there, or several "
            "people, is a row error); a 责任领导 is the item's lead leader, a leader of the issuing "
            "level found by name. A dry run "
            "(the default) answers row by row what would be "
            "created and every error by row and column; `dry_run=false` imports it, all or nothing. "
            "A problem imported before whose 责任单位, 责任人, 责任领导, 整改时限, 整改措施 or 来源 now read "
            "otherwise is "
            "`updated` on its item while the item is unfinished (through the issuer's edit, with its "
            "history), and a row error `problem_changed` once the item is closed or cancelled, or when "
            "its 所在单位 changed. A restated 整改时限 earlier than an approved extension leaves the "
            "extended date in place, listed in `kept`. Importing the same list again changes nothing. "
            "For the campaign's issuing unit."
        ),
        request={"multipart/form-data": ProblemImportInput},
        responses={200: ProblemImportOutput, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        campaign = _campaign(pk)
        data = ProblemImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        result = problem_list_import(
            actor=request.user,
            campaign=campaign,
            data=upload.read(),
            filename=upload.name,
            dry_run=data.validated_data["dry_run"],
        )
        return Response(vars(result))
