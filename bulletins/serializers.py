from rest_framework import serializers

from core.serializers import DateField, ModelSerializer, PrimaryKeyRelatedField, TextField
from responsibility.models import Unit
from responsibility.serializers import PersonRefSerializer, UnitRefSerializer
from tasks.models import Campaign

from .models import Bulletin, BulletinKind


class BulletinSerializer(ModelSerializer):
    issuer = UnitRefSerializer()
    main_recipients = UnitRefSerializer(many=True)
    copy_to = UnitRefSerializer(many=True)
    created_by = PersonRefSerializer()
    published_by = PersonRefSerializer(allow_null=True)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Bulletin
        fields = [
            "id",
            "issuer",
            "kind",
            "year",
            "number",
            "title",
            "campaign",
            "period_start",
            "period_end",
            "issued_on",
            "distribution_scope",
            "main_recipients",
            "copy_to",
            "printed_on",
            "intro",
            "closing",
            "state",
            "pdf_url",
            "pdf_sha256",
            "withdrawn_reason",
            "created_by",
            "published_by",
            "created_at",
            "published_at",
            "withdrawn_at",
        ]

    def get_pdf_url(self, bulletin: Bulletin) -> str | None:
        return f"/api/v1/bulletins/{bulletin.pk}/pdf/" if bulletin.pdf else None


class BulletinInput(serializers.Serializer):
    issuer = PrimaryKeyRelatedField(queryset=Unit.objects.all())
    kind = serializers.ChoiceField(choices=BulletinKind.choices, required=False)
    title = TextField(max_length=200)
    campaign = PrimaryKeyRelatedField(queryset=Campaign.objects.all(), required=False, allow_null=True)
    period_start = DateField()
    period_end = DateField()
    issued_on = DateField(required=False)
    distribution_scope = TextField(max_length=100, required=False, allow_blank=True)
    main_recipients = PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    copy_to = PrimaryKeyRelatedField(queryset=Unit.objects.all(), many=True, required=False)
    printed_on = DateField(required=False, allow_null=True)
    intro = TextField(max_length=20000, required=False, allow_blank=True)
    closing = TextField(max_length=20000, required=False, allow_blank=True)


class BulletinUpdateInput(BulletinInput):
    issuer = None


class WithdrawInput(serializers.Serializer):
    reason = TextField(max_length=5000)
