from rest_framework import serializers

from .models import Membership, Responsibility, Unit, User


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "kind"]


class PersonRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name", "title"]


class UnitSerializer(serializers.ModelSerializer):
    # Other names the unit goes by in the tables the office imports: a list of names, never null.
    aliases = serializers.ListField(child=serializers.CharField(max_length=100), required=False)

    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "kind", "parent", "depth", "email", "aliases"]
        read_only_fields = ["depth"]

    def validate(self, attrs):
        parent = attrs.get("parent")
        if self.instance is not None and parent is not None and parent.path.startswith(self.instance.path):
            raise serializers.ValidationError({"parent": "单位不能移动到自己的下级。"})
        return attrs


class PersonSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, allow_blank=False, min_length=8)

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


class MembershipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["id", "user", "unit", "role"]


class ResponsibilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Responsibility
        fields = ["id", "campaign", "code", "name", "description", "holder", "order"]
