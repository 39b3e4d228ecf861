"""Serializer pieces every app uses, so that input is read the way the schema says.

DRF's CharField also takes a JSON number and keeps it as text (12 becomes "12"); the
schema declares such fields as strings, and a client sending a number has made a mistake
worth hearing about. ``ModelSerializer`` maps the models' text fields to the strict
fields below, and input serializers declare them by hand.
"""

from django.db import models
from rest_framework import serializers


class StrictTextMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(StrictTextMixin, serializers.CharField):
    pass


class EmailField(StrictTextMixin, serializers.EmailField):
    pass


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
        models.EmailField: EmailField,
    }
