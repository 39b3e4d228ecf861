"""Serializer pieces every app uses, so that input is read the way the schema says.

DRF is lenient where the schema is not: its CharField takes a JSON number and keeps it as
text (12 becomes "12"), and a list of related ids may come as a JSON object, read as the
list of its keys ({} becomes []). A client sending either has made a mistake worth hearing
about. ``ModelSerializer`` maps the models' fields to the strict fields below, and input
serializers declare them by hand.
"""

import copy
from collections.abc import Mapping

from django.db import models
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from .dates import no_such_day


class StrictTextMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(StrictTextMixin, serializers.CharField):
    pass


class EmailField(StrictTextMixin, serializers.EmailField):
    pass


class DateField(serializers.DateField):
    """A date in the YYYY-MM-DD form; "2026-02-30" is refused as a day that does not exist,
    not as a format error, since its form is right."""

    def to_internal_value(self, value):
        message = no_such_day(value)
        if message:
            raise serializers.ValidationError(message, code="no_such_day")
        return super().to_internal_value(value)


class ManyRelatedField(serializers.ManyRelatedField):
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class PrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    @classmethod
    def many_init(cls, *args, **kwargs):
        # As DRF's own, with the strict list field.
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update({key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS})
        return ManyRelatedField(**list_kwargs)


class ModelSerializer(serializers.ModelSerializer):
    serializer_related_field = PrimaryKeyRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
        models.EmailField: EmailField,
        models.DateField: DateField,
    }

    def get_fields(self):
        """The fields DRF derives from the model, derived once per class and copied for each
        serializer, as DRF copies the declared ones: deriving them (the model's options, a
        mapping per field) cost a write's answer a millisecond a serializer (bench/FIXES.md).
        They depend on the class alone: its Meta and its declared fields."""
        derived = type(self).__dict__.get("_derived_fields")
        if derived is None:
            derived = super().get_fields()
            type(self)._derived_fields = derived
        return copy.deepcopy(derived)
