"""Filters shared by the apps' filter sets."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .dates import no_such_day

BIGINT_MAX = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT64)
class IntegerFilter(filters.NumberFilter):
    """A whole number within what the database stores, such as an id: ``0.5`` or ``1e80`` is a
    400, not a number the database cannot compare with (a 500 on SQLite)."""

    field_class = forms.IntegerField

    def __init__(self, *args, min_value: int = -BIGINT_MAX, max_value: int = BIGINT_MAX, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """``true`` or ``false`` (``1`` or ``0``), or empty for no filter. Django's own field
    reads any other text as "no filter", which would answer a typo with every row."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return {"true": True, "1": True, "false": False, "0": False}[str(value).lower()]
        except KeyError:
            raise ValidationError(_("须为 true 或 false。"), code="invalid") from None


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class ExistingDayField(forms.DateField):
    """A date whose day does not exist ("2026-02-30") is refused as such, not as a format error."""

    def to_python(self, value):
        message = no_such_day(value)
        if message:
            raise ValidationError(message, code="no_such_day")
        return super().to_python(value)


class DateFilter(django_filters.DateFilter):
    field_class = ExistingDayField


class FormOnceFilterSet(filters.FilterSet):
    """A filter set whose form class is built once, by its first instance: only for filter
    sets whose fields do not depend on the request (a ``queryset`` function that reads the
    request would be read for the first request alone).

    django-filter builds, on every request, a new form class and a new form field for
    every filter: for the task list that cost more than the filtering itself
    (bench/FIXES.md). A form instance still copies the class's fields, as every Django
    form does, so no request sees another's values."""

    def get_form_class(self):
        cls = type(self)
        form = cls.__dict__.get("_built_form_class")
        if form is None:
            form = super().get_form_class()
            cls._built_form_class = form
        return form
