import urllib.parse

from rest_framework import serializers

from core.serializers import ModelSerializer, PrimaryKeyRelatedField, TextField
from responsibility.models import Unit
from responsibility.serializers import UnitRefSerializer

from . import vault
from .models import ROBOT_KIND_CHOICES, Contact, PersonChannel, Robot


class RobotRefSerializer(ModelSerializer):
    class Meta:
        model = Robot
        fields = ["id", "name", "kind"]


class RobotSerializer(ModelSerializer):
    """A robot as the API shows it: never its webhook's key nor its secret, only the host
    it posts to and whether a secret is set."""

    unit = UnitRefSerializer()
    webhook_host = serializers.SerializerMethodField()
    secret_set = serializers.SerializerMethodField()

    class Meta:
        model = Robot
        fields = ["id", "unit", "kind", "name", "active", "webhook_host", "secret_set", "created_at"]

    def get_webhook_host(self, robot: Robot) -> str:
        try:
            return urllib.parse.urlsplit(vault.decrypt(robot.webhook_encrypted)).hostname or ""
        except ValueError:
            return ""

    def get_secret_set(self, robot: Robot) -> bool:
        return bool(robot.secret_encrypted)


class RobotInput(serializers.Serializer):
    unit = PrimaryKeyRelatedField(queryset=Unit.objects.all())
    kind = serializers.ChoiceField(choices=ROBOT_KIND_CHOICES)
    name = TextField(max_length=100)
    webhook = TextField(max_length=500, write_only=True)
    secret = TextField(max_length=200, write_only=True, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False, default=True)


class RobotChangeInput(serializers.Serializer):
    name = TextField(max_length=100, required=False)
    webhook = TextField(max_length=500, write_only=True, required=False)
    secret = TextField(max_length=200, write_only=True, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class ContactSerializer(ModelSerializer):
    channel_order = serializers.ListField(
        child=serializers.ChoiceField(choices=PersonChannel.choices), max_length=len(PersonChannel.values)
    )
    mobile = TextField(max_length=20, allow_blank=True)

    class Meta:
        model = Contact
        fields = ["mobile", "channel_order"]
