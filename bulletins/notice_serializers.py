from rest_framework import serializers

from core.serializers import DateField, ModelSerializer, PrimaryKeyRelatedField, TextField
from responsibility.models import Unit
from responsibility.serializers import PersonRefSerializer, UnitRefSerializer

from .models import Notice, NoticeUrgency


class NoticeTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()


class NoticeSerializer(ModelSerializer):
    office = UnitRefSerializer()
    to_unit = UnitRefSerializer()
    task = NoticeTaskSerializer()
    numbering = serializers.CharField(help_text="The number as printed: 〔2026〕第3号.")
    issued_by = PersonRefSerializer()
    replied_by = PersonRefSerializer(allow_null=True)
    withdrawn_by = PersonRefSerializer(allow_null=True)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = [
            "id",
            "office",
            "year",
            "number",
            "numbering",
            "task",
            "to_unit",
            "urgency",
            "request",
            "due_date",
            "reply_by",
            "issued_on",
            "issued_by",
            "created_at",
            "pdf_url",
            "pdf_sha256",
            "reply_measures",
            "reply_date",
            "reply_completed",
            "reply_signer",
            "replied_by",
            "replied_at",
            "withdrawn_at",
            "withdrawn_by",
            "withdraw_reason",
        ]

    def get_pdf_url(self, notice: Notice) -> str | None:
        return f"/api/v1/notices/{notice.pk}/pdf/" if notice.pdf else None


class NoticeInput(serializers.Serializer):
    task = serializers.IntegerField(min_value=1, help_text="The open task the notice is about.")
    office = PrimaryKeyRelatedField(
        queryset=Unit.objects.all(),
        required=False,
        allow_null=True,
        help_text="The issuing supervision office; by default the caller's office that supervises the task.",
    )
    urgency = serializers.ChoiceField(choices=NoticeUrgency.choices)
    request = TextField(max_length=5000)
    reply_by = DateField(help_text="The date the 回执 is due.")


class NoticeReplyInput(serializers.Serializer):
    measures = TextField(max_length=10000)
    reply_date = DateField(help_text="The date the work was done or is promised to be done.")
    completed = serializers.BooleanField(help_text="True: done on reply_date; false: promised by it.")
    signer = TextField(max_length=50)


class NoticeWithdrawInput(serializers.Serializer):
    reason = TextField(max_length=5000, help_text="Why the office withdraws the notice.")
