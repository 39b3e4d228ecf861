from rest_framework import serializers

from core.serializers import DateField, ModelSerializer, PrimaryKeyRelatedField, TextField
from outbox.models import Channel, OutboundMessage
from outbox.serializers import RobotRefSerializer
from responsibility.models import User
from responsibility.serializers import PersonRefSerializer, UnitRefSerializer

from .models import MANUAL_LEVEL_CHOICES, Escalation, EscalationRule


class EscalationSerializer(ModelSerializer):
    task_title = TextField(source="task.title")
    lead_unit = UnitRefSerializer()
    responsible_person = PersonRefSerializer(allow_null=True)
    actor = PersonRefSerializer(allow_null=True)
    people = PersonRefSerializer(many=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "task",
            "task_title",
            "level",
            "due_date",
            "lead_unit",
            "responsible_person",
            "manual",
            "reason",
            "actor",
            "people",
            "created_at",
            "notified_at",
            "withdrawn_at",
        ]


class ManualEscalationInput(serializers.Serializer):
    level = serializers.ChoiceField(choices=MANUAL_LEVEL_CHOICES)
    reason = TextField(max_length=5000)
    people = PrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)


class EscalationRuleSerializer(ModelSerializer):
    class Meta:
        model = EscalationRule
        fields = [
            "id",
            "campaign",
            "level",
            "offset_working_days",
            "notify_responsible",
            "notify_unit_head",
            "notify_issuer",
            "notify_supervision_office",
            "notify_lead_leader",
            "notify_unit_above",
            "by_robot",
            "by_sms",
        ]
        # One rule per level and ladder is the service's check, with its own error code.
        validators = []


class OutboundMessageSerializer(ModelSerializer):
    """A stored message and how its delivery went. An SMS's number is shown masked: the
    outbox is read by offices that may not read a person's contact details."""

    recipient_user = PersonRefSerializer(allow_null=True)
    recipient_unit = UnitRefSerializer(allow_null=True)
    robot = RobotRefSerializer(allow_null=True)
    to_address = serializers.SerializerMethodField()

    def get_to_address(self, message: OutboundMessage) -> str:
        if message.channel == Channel.SMS and len(message.to_address) > 7:
            return f"{message.to_address[:3]}****{message.to_address[-4:]}"
        return message.to_address

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "kind",
            "channel",
            "robot",
            "recipient_user",
            "recipient_unit",
            "to_address",
            "subject",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "message_id",
            "created_at",
            "sent_at",
            "parts_sent",
        ]


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True)
    lead_unit = UnitRefSerializer(allow_null=True)
    responsible_person = PersonRefSerializer(allow_null=True)
    units = serializers.ListField(child=serializers.DictField())


class TraceSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    periods = PeriodSerializer(many=True)
    overdue_since = DateField(allow_null=True)
    responsible_when_overdue = PeriodSerializer(allow_null=True)
    escalations = EscalationSerializer(many=True)
