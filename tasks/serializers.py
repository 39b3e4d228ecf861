"""Shapes of the task API. Input and output serializers are separate; no rules live here."""

import json
from types import SimpleNamespace

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import DateField, ModelSerializer, PrimaryKeyRelatedField, TextField
from responsibility.models import Unit, User
from responsibility.serializers import PersonRefSerializer, UnitRefSerializer
from tasks.rungs import Level, level_of_rank

from .lateness import is_overdue, task_light, today
from .models import (
    Attachment,
    CalendarDay,
    Campaign,
    Comparison,
    ExtensionRequest,
    Indicator,
    ProcedureStep,
    ProgressReport,
    RecheckAttachment,
    RecheckResult,
    Responsibility,
    SourceAttachment,
    SourceEvent,
    SourceKind,
    Task,
    TaskEvent,
    TaskKind,
    TaskSource,
    TaskUnitRole,
    TransferRequest,
)
from .selectors import recheck_of

# Decimal fields: wide enough for yuan amounts, strict enough to refuse nonsense.
DECIMAL = {"max_digits": 16, "decimal_places": 4}


class ResponsibilitySerializer(ModelSerializer):
    class Meta:
        model = Responsibility
        fields = ["id", "campaign", "code", "name", "description", "holder", "order"]


class CampaignSerializer(ModelSerializer):
    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "short_name",
            "issuing_unit",
            "starts_on",
            "ends_on",
            "description",
            "yellow_working_days",
            "recheck_working_days",
            "immediate_working_days",
        ]
        # A year of working days at most: beyond it a re-check is no longer a look back.
        # 立行立改 is "at once": a month of working days at most.
        extra_kwargs = {
            "recheck_working_days": {"max_value": 250},
            "immediate_working_days": {"max_value": 22},
        }

    def validate(self, attrs):
        starts = attrs.get("starts_on", getattr(self.instance, "starts_on", None))
        ends = attrs.get("ends_on", getattr(self.instance, "ends_on", None))
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_on": "结束日期不能早于开始日期。"})
        return attrs


class CampaignRefSerializer(ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name"]


class CalendarDaySerializer(ModelSerializer):
    class Meta:
        model = CalendarDay
        fields = ["id", "date", "kind", "name"]


class IndicatorSerializer(ModelSerializer):
    met = serializers.BooleanField(source="is_met", read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "parent",
            "name",
            "unit_of_measure",
            "comparison",
            "target",
            "current_value",
            "veto",
            "met",
        ]


class StepSerializer(ModelSerializer):
    class Meta:
        model = ProcedureStep
        fields = ["id", "order", "name", "due_date", "done_at", "done_by"]


def _unit(unit: Unit) -> dict:
    # UnitRefSerializer's fields.
    return {"id": unit.pk, "name": unit.name, "kind": unit.kind}


def _person(person: User | None) -> dict | None:
    # PersonRefSerializer's fields.
    return None if person is None else {"id": person.pk, "full_name": person.full_name, "title": person.title}


def _links(task: Task) -> list[tuple]:
    """(unit id, name, kind, role) of each unit link: as a list read them
    (``tasks.selectors.listed_tasks``), else from the task's own links."""
    listed = getattr(task, "listed_links", None)
    if listed is not None:
        return listed
    return [(link.unit_id, link.unit.name, link.unit.kind, link.role) for link in task.task_units.all()]


def _indicators(task: Task):
    listed = getattr(task, "listed_indicators", None)
    return task.indicators.all() if listed is None else listed


def _units(links: list[tuple], role: str) -> list[dict]:
    # UnitRefSerializer's fields.
    return [
        {"id": pk, "name": name, "kind": kind} for pk, name, kind, link_role in links if link_role == role
    ]


class TaskSerializer(ModelSerializer):
    """A task as listed. ``light`` needs the context's ``today`` and ``yellow_limits``."""

    campaign = CampaignRefSerializer()
    issuing_unit = UnitRefSerializer()
    lead_unit = UnitRefSerializer()
    lead_leader = PersonRefSerializer(allow_null=True)
    responsible_person = PersonRefSerializer(allow_null=True)
    responsible_units = serializers.SerializerMethodField()
    cooperating_units = serializers.SerializerMethodField()
    indicators = IndicatorSerializer(many=True)
    overdue = serializers.SerializerMethodField()
    light = serializers.SerializerMethodField()
    escalation = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "number",
            "title",
            "description",
            "kind",
            "state",
            "campaign",
            "parent",
            "responsibility",
            "issuing_unit",
            "lead_leader",
            "lead_unit",
            "responsible_units",
            "cooperating_units",
            "responsible_person",
            "due_date",
            "original_due_date",
            "ongoing",
            "overdue",
            "light",
            "escalation",
            "reopen_count",
            "indicators",
            "assigned_at",
            "submitted_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, task: Task) -> dict:
        """The fields in ``Meta.fields`` order, written out: DRF's walk over every field
        of every nested serializer, for each task of a page, took most of a list
        request's time in Python (bench/FIXES.md). Values that need formatting (dates,
        times, indicators) still go through their DRF fields; a test holds this to the
        generic ``ModelSerializer.to_representation``."""
        fields = self.fields
        links = _links(task)
        row = {
            "id": task.pk,
            "number": task.number,
            "title": task.title,
            "description": task.description,
            "kind": task.kind,
            "state": task.state,
            "campaign": {"id": task.campaign_id, "name": task.campaign.name},
            "parent": task.parent_id,
            "responsibility": task.responsibility_id,
            "issuing_unit": _unit(task.issuing_unit),
            "lead_leader": _person(task.lead_leader),
            "lead_unit": _unit(task.lead_unit),
            "responsible_units": _units(links, TaskUnitRole.RESPONSIBLE),
            "cooperating_units": _units(links, TaskUnitRole.COOPERATING),
            "responsible_person": _person(task.responsible_person),
            "due_date": fields["due_date"].to_representation(task.due_date),
            "original_due_date": fields["original_due_date"].to_representation(task.original_due_date),
            "ongoing": task.ongoing,
            "overdue": self.get_overdue(task),
            "light": self.get_light(task),
            "escalation": self.get_escalation(task),
            "reopen_count": task.reopen_count,
            "indicators": fields["indicators"].to_representation(_indicators(task)),
        }
        for name in ("assigned_at", "submitted_at", "closed_at", "created_at", "updated_at"):
            value = getattr(task, name)
            row[name] = None if value is None else self._moment(value)
        return row

    def _moment(self, value) -> str:
        # The zone looked up once per serializer rather than once per value (five a task).
        zone = self.__dict__.get("_zone")
        if zone is None:
            zone = self.__dict__["_zone"] = self.fields["created_at"].default_timezone()
        return _moment(value, zone)

    @extend_schema_field(UnitRefSerializer(many=True))
    def get_responsible_units(self, task: Task) -> list[dict]:
        return _units(_links(task), TaskUnitRole.RESPONSIBLE)

    @extend_schema_field(UnitRefSerializer(many=True))
    def get_cooperating_units(self, task: Task) -> list[dict]:
        return _units(_links(task), TaskUnitRole.COOPERATING)

    def get_overdue(self, task: Task) -> bool:
        return is_overdue(task, self.context["today"])

    @extend_schema_field(serializers.ChoiceField(choices=["green", "yellow", "red"], allow_null=True))
    def get_light(self, task: Task) -> str | None:
        limit = self.context["yellow_limits"](task.campaign.yellow_working_days)
        return task_light(task, self.context["today"], limit)

    @extend_schema_field(serializers.ChoiceField(choices=Level.choices, allow_null=True))
    def get_escalation(self, task: Task) -> str | None:
        """The highest rung reached against the current due date, as the ladder keeps it."""
        return level_of_rank(task.escalation_rank)


class RecheckAttachmentSerializer(ModelSerializer):
    """A file of a re-check (回头看), with the link that downloads it."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = RecheckAttachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "url"]

    def get_url(self, attachment: RecheckAttachment) -> str:
        return reverse("recheck-attachment-download", args=[attachment.pk])


class RecheckSerializer(serializers.Serializer):
    """A closed item's re-check (回头看): when it falls due, and what was found once it is
    recorded (``result`` blank until then, or when reopening the item by hand made it moot)."""

    due_date = serializers.DateField()
    recorded_at = serializers.DateTimeField(allow_null=True)
    result = serializers.ChoiceField(choices=[*RecheckResult.choices, ("", "")])
    missed = serializers.BooleanField(help_text="Past its date and not recorded.")
    attachments = RecheckAttachmentSerializer(many=True, help_text="What the office found, as files.")


def _moment(value, zone) -> str:
    # DRF's DateTimeField.to_representation (ISO 8601, UTC written as "Z") in ``zone``.
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _ref(row: dict, name: str, *fields: str) -> dict | None:
    # A unit's or a person's reference, from the row's ``<name>_id`` and ``<name>__<field>``.
    pk = row[f"{name}_id"]
    return None if pk is None else {"id": pk, **{field: row[f"{name}__{field}"] for field in fields}}


def listed_task_data(rows: list[dict], context: dict) -> list[dict]:
    """The API's listed tasks, from ``tasks.selectors.listed_rows``: what ``TaskSerializer``
    makes of each task (a test holds the two to the same JSON), written from plain rows so
    that no model and no serializer is built per task or per link (bench/FIXES.md)."""
    # The fields' own formatting, without building TaskSerializer's dozens of fields: its
    # dates and times (DRF's DateField and DateTimeField, the zone read once) and, only for
    # a page that has any, its indicators.
    date = serializers.DateField().to_representation
    zone = serializers.DateTimeField().default_timezone()
    indicators = None
    today, yellow_limits = context["today"], context["yellow_limits"]
    data = []
    for row in rows:
        # What the lights read (tasks.lateness), under the names a task gives them.
        clock = SimpleNamespace(
            state=row["state"],
            due_date=row["due_date"],
            submitted_on=row["submitted_on"],
            ongoing=row["ongoing"],
            next_obligation_date=row["next_obligation_date"],
            next_warned_date=row["next_warned_date"],
        )
        links = row["links"]
        item = {
            "id": row["id"],
            "number": row["number"],
            "title": row["title"],
            "description": row["description"],
            "kind": row["kind"],
            "state": row["state"],
            "campaign": {"id": row["campaign_id"], "name": row["campaign__name"]},
            "parent": row["parent_id"],
            "responsibility": row["responsibility_id"],
            "issuing_unit": _ref(row, "issuing_unit", "name", "kind"),
            "lead_leader": _ref(row, "lead_leader", "full_name", "title"),
            "lead_unit": _ref(row, "lead_unit", "name", "kind"),
            "responsible_units": _units(links, TaskUnitRole.RESPONSIBLE),
            "cooperating_units": _units(links, TaskUnitRole.COOPERATING),
            "responsible_person": _ref(row, "responsible_person", "full_name", "title"),
            "due_date": date(row["due_date"]),
            "original_due_date": date(row["original_due_date"]),
            "ongoing": row["ongoing"],
            "overdue": is_overdue(clock, today),
            "light": task_light(clock, today, yellow_limits(row["campaign__yellow_working_days"])),
            "escalation": level_of_rank(row["escalation_rank"]),
            "reopen_count": row["reopen_count"],
            "indicators": [],
        }
        if row["indicators"]:
            indicators = indicators or IndicatorSerializer(many=True, context=context)
            item["indicators"] = indicators.to_representation(row["indicators"])
        for name in ("assigned_at", "submitted_at", "closed_at", "created_at", "updated_at"):
            value = row[name]
            item[name] = None if value is None else _moment(value, zone)
        data.append(item)
    return data


class AttachmentSerializer(ModelSerializer):
    """A stored file (evidence of a report), with the link that downloads it."""

    url = serializers.SerializerMethodField()
    download_route = "attachment-download"

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "url"]

    def get_url(self, attachment: Attachment) -> str:
        return reverse(self.download_route, args=[attachment.pk])


class SourceAttachmentSerializer(AttachmentSerializer):
    """A source document's file: the same fields, its own download link."""

    download_route = "source-attachment-download"

    class Meta(AttachmentSerializer.Meta):
        model = SourceAttachment


class SourceSerializer(ModelSerializer):
    """A source document: its kind, number, date, issuing body, text and files."""

    registered_by = UnitRefSerializer()
    attachments = SourceAttachmentSerializer(many=True)

    class Meta:
        model = TaskSource
        fields = [
            "id",
            "kind",
            "document_number",
            "document_date",
            "issued_by",
            "title",
            "original_text",
            "registered_by",
            "attachments",
            "created_at",
        ]


class SourceInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SourceKind.choices)
    registered_by = PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), help_text="The unit registering it (立项登记): its head or office."
    )
    document_number = TextField(required=False, allow_blank=True, default="", max_length=100)
    document_date = DateField(required=False, allow_null=True, default=None)
    issued_by = TextField(required=False, allow_blank=True, default="", max_length=200)
    title = TextField(required=False, allow_blank=True, default="", max_length=500)
    original_text = TextField(required=False, allow_blank=True, default="", max_length=50000)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=10)


class SourceUpdateInput(serializers.Serializer):
    """What of a source may be corrected: not its registering unit (``field_locked``)."""

    kind = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    registered_by = PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, help_text="Kept as registered: 400 `field_locked`."
    )
    document_number = TextField(required=False, allow_blank=True, max_length=100)
    document_date = DateField(required=False, allow_null=True)
    issued_by = TextField(required=False, allow_blank=True, max_length=200)
    title = TextField(required=False, allow_blank=True, max_length=500)
    original_text = TextField(required=False, allow_blank=True, max_length=50000)


class TaskDetailSerializer(TaskSerializer):
    steps = StepSerializer(many=True)
    recheck = RecheckSerializer(allow_null=True, read_only=True)
    source = SourceSerializer(allow_null=True)

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "steps", "source", "recheck"]

    def to_representation(self, task: Task) -> dict:
        recheck = recheck_of(task, self.context.get("today") or today())
        return {
            **super().to_representation(task),
            "steps": self.fields["steps"].to_representation(task.steps.all()),
            "recheck": self.fields["recheck"].to_representation(recheck) if recheck else None,
            "source": None if task.source is None else self.fields["source"].to_representation(task.source),
        }


class RecheckInput(serializers.Serializer):
    result = serializers.ChoiceField(choices=RecheckResult.choices)
    notes = TextField(required=False, allow_blank=True, default="", max_length=5000)
    due_date = DateField(required=False, allow_null=True, default=None)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=10)


class IndicatorInput(serializers.Serializer):
    name = TextField(max_length=200)
    target = serializers.DecimalField(**DECIMAL, min_value=0)
    unit_of_measure = TextField(max_length=20, required=False, allow_blank=True, default="")
    comparison = serializers.ChoiceField(choices=Comparison.choices, default=Comparison.AT_LEAST)
    veto = serializers.BooleanField(default=False)


class StepInput(serializers.Serializer):
    name = TextField(max_length=100)
    due_date = DateField()


class PlanStepInput(serializers.Serializer):
    name = TextField(max_length=100)
    working_days = serializers.IntegerField(min_value=1, max_value=250)


class PlanInput(serializers.Serializer):
    due_date = DateField()
    steps = PlanStepInput(many=True, allow_empty=False, max_length=20)


class PlannedStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    working_days = serializers.IntegerField()
    due_date = serializers.DateField()


class PlanSerializer(serializers.Serializer):
    due_date = serializers.DateField()
    steps = PlannedStepSerializer(many=True)


# The same words for a source that does not exist and for one the caller does not see
# (``tasks.services.sources``).
SOURCE_UNKNOWN = _("来源不存在。")


class TaskCreateInput(serializers.Serializer):
    campaign = PrimaryKeyRelatedField(queryset=Campaign.objects.all())
    title = TextField(max_length=500)
    description = TextField(required=False, allow_blank=True, default="", max_length=20000)
    number = TextField(required=False, allow_blank=True, default="", max_length=40)
    kind = serializers.ChoiceField(choices=TaskKind.choices, default=TaskKind.TASK)
    issuing_unit = PrimaryKeyRelatedField(queryset=Unit.objects.all())
    lead_unit = PrimaryKeyRelatedField(queryset=Unit.objects.all())
    responsible_units = PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    cooperating_units = PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    lead_leader = PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    responsible_person = PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    responsibility = PrimaryKeyRelatedField(
        queryset=Responsibility.objects.all(), required=False, allow_null=True
    )
    due_date = DateField(
        required=False, allow_null=True, default=None, help_text="Required unless the work is ongoing."
    )
    ongoing = serializers.BooleanField(
        default=False,
        help_text="长期坚持: work without a final date, due at the campaign's end; give no due_date with it.",
    )
    indicators = IndicatorInput(many=True, required=False)
    steps = StepInput(many=True, required=False)
    source = PrimaryKeyRelatedField(
        queryset=TaskSource.objects.select_related("registered_by"),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": SOURCE_UNKNOWN},
        help_text="The source document (`POST /api/v1/sources/`) the task comes from.",
    )
    assign = serializers.BooleanField(default=False, help_text="Issue the task at once (下达).")


class TaskUpdateInput(serializers.Serializer):
    title = TextField(max_length=500, required=False)
    description = TextField(required=False, allow_blank=True, max_length=20000)
    number = TextField(required=False, allow_blank=True, max_length=40)
    kind = serializers.ChoiceField(choices=TaskKind.choices, required=False)
    due_date = DateField(required=False)
    ongoing = serializers.BooleanField(
        required=False, help_text="长期坚持 (in a draft): true moves the due date to the campaign's end."
    )
    lead_unit = PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False)
    responsible_units = PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    cooperating_units = PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    lead_leader = PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    responsible_person = PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    source = PrimaryKeyRelatedField(
        queryset=TaskSource.objects.select_related("registered_by"),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": SOURCE_UNKNOWN},
        help_text="The source document of a top-level task; its pieces take it too. null: none.",
    )


class TransitionInput(serializers.Serializer):
    comment = TextField(required=False, allow_blank=True, default="", max_length=5000)


class TransitionsOutput(serializers.Serializer):
    state = TextField()
    transitions = serializers.ListField(child=TextField())


class TargetShareInput(serializers.Serializer):
    indicator = serializers.IntegerField(min_value=1)
    target = serializers.DecimalField(**DECIMAL, min_value=0)


class ChildInput(serializers.Serializer):
    title = TextField(max_length=500)
    description = TextField(required=False, allow_blank=True, default="", max_length=20000)
    lead_unit = PrimaryKeyRelatedField(queryset=Unit.objects.all())
    cooperating_units = PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    responsible_person = PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    due_date = DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Required unless the piece is ongoing; an ongoing piece is due when the parent is.",
    )
    ongoing = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="长期坚持. Omitted: as the parent (a piece of ongoing work is ongoing too); "
        "false with a due_date: a piece of ongoing work with a final date of its own.",
    )
    targets = TargetShareInput(many=True, required=False)
    inherit_report_schedule = serializers.BooleanField(
        default=True,
        help_text="The child reports on a copy of the parent's report schedule (按期反馈); false: on none.",
    )


class DecomposeInput(serializers.Serializer):
    children = ChildInput(many=True, allow_empty=False, max_length=500)


class FigureInput(serializers.Serializer):
    indicator = serializers.IntegerField(min_value=1)
    # Bounded here by what an indicator stores; what a value can mean depends on its
    # indicator (figure_out_of_range, tasks.services).
    value = serializers.DecimalField(**DECIMAL)


class JSONListField(serializers.ListField):
    """A list that multipart forms may send as one JSON-encoded text field."""

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], str):
            data = data[0]
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError(_("不是有效的 JSON。")) from None
        return super().to_internal_value(data)


class ReportInput(serializers.Serializer):
    text = TextField(max_length=20000)
    figures = JSONListField(child=FigureInput(), required=False, max_length=100)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=10)


class ReportSerializer(ModelSerializer):
    author = PersonRefSerializer()
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = ProgressReport
        fields = ["id", "task", "author", "text", "figures", "attachments", "created_at"]


class EventSerializer(ModelSerializer):
    actor = PersonRefSerializer(allow_null=True)

    class Meta:
        model = TaskEvent
        fields = ["id", "at", "actor", "action", "from_state", "to_state", "comment", "data"]


class SourceEventSerializer(ModelSerializer):
    actor = PersonRefSerializer(allow_null=True)

    class Meta:
        model = SourceEvent
        fields = ["id", "at", "actor", "action", "data"]


class ExtensionInput(serializers.Serializer):
    requested_due_date = DateField()
    reason = TextField(max_length=5000)


class ExtensionDecisionInput(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = TextField(required=False, allow_blank=True, default="", max_length=5000)


class ExtensionSerializer(ModelSerializer):
    requested_by = PersonRefSerializer()
    decided_by = PersonRefSerializer(allow_null=True)

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "task",
            "requested_by",
            "requested_due_date",
            "reason",
            "state",
            "decided_by",
            "decided_at",
            "decision_comment",
            "created_at",
        ]


class TransferInput(serializers.Serializer):
    to_unit = PrimaryKeyRelatedField(queryset=Unit.objects.all())
    reason = TextField(max_length=5000)


class TransferDecisionInput(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = TextField(required=False, allow_blank=True, default="", max_length=5000)


class TransferWithdrawInput(serializers.Serializer):
    comment = TextField(required=False, allow_blank=True, default="", max_length=5000)


class TransferSerializer(ModelSerializer):
    requested_by = PersonRefSerializer()
    from_unit = UnitRefSerializer()
    to_unit = UnitRefSerializer()
    decided_by = PersonRefSerializer(allow_null=True)

    class Meta:
        model = TransferRequest
        fields = [
            "id",
            "task",
            "requested_by",
            "from_unit",
            "to_unit",
            "reason",
            "state",
            "decided_by",
            "decided_at",
            "decision_comment",
            "closed_because",
            "created_at",
        ]


class DashboardUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="unit_id")
    name = serializers.CharField()
    kind = serializers.CharField()


class DashboardRowSerializer(serializers.Serializer):
    """One unit's figures (``tasks.dashboard.DashboardRow``): open tasks by light, closed,
    closed on or before the due date, suspended, cancelled, every issued task, overdue, closed
    items whose re-check is missed, and the on-time rate (closed on time over closed; null
    while nothing is closed)."""

    unit = DashboardUnitSerializer(source="*")
    red = serializers.IntegerField()
    yellow = serializers.IntegerField()
    green = serializers.IntegerField()
    closed = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    suspended = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    recheck_missed = serializers.IntegerField(help_text="Closed items whose re-check (回头看) is missed.")
    on_time_rate = serializers.FloatField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    """The unit's own figures (its whole subtree, each task once) and each child's."""

    unit = DashboardRowSerializer()
    children = DashboardRowSerializer(many=True)
