from rest_framework import serializers

from core.serializers import ModelSerializer, TextField

from .models import Membership, Unit, User
from .selectors import may_see_contact


class UnitRefSerializer(ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "kind"]


class PersonRefSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name", "title"]


class UnitSerializer(ModelSerializer):
    # Other names the unit goes by in the tables the office imports: a list of names, never null.
    aliases = serializers.ListField(child=TextField(max_length=100), required=False)

    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "kind", "parent", "depth", "email", "aliases"]
        read_only_fields = ["depth"]

    def validate(self, attrs):
        parent = attrs.get("parent")
        if self.instance is not None and parent is not None and parent.path.startswith(self.instance.path):
            raise serializers.ValidationError({"parent": "单位不能移动到自己的下级。"})
        return attrs


class PersonSerializer(ModelSerializer):
    """A person of the directory. E-mail and phone are left out for a reader who may not
    see them (``responsibility.selectors.may_see_contact``, given the reader as the
    context's ``reader``); ``is_staff`` is set by administrators and never shown."""

    password = TextField(write_only=True, required=False, allow_blank=False, min_length=8)
    CONTACT_FIELDS = ("email", "phone")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "full_name",
            "title",
            "phone",
            "email",
            "is_staff",
            "is_active",
            "reminder_opt_out",
            "password",
        ]
        extra_kwargs = {"is_staff": {"write_only": True}}

    def to_representation(self, person):
        data = super().to_representation(person)
        reader = self.context.get("reader")
        if reader is None or not may_see_contact(reader, person):
            for name in self.CONTACT_FIELDS:
                data.pop(name, None)
        return data


class MembershipSerializer(ModelSerializer):
    class Meta:
        model = Membership
        fields = ["id", "user", "unit", "role"]
