"""Filters shared by the apps' filter sets."""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

BIGINT_MAX = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT64)
class IntegerFilter(filters.NumberFilter):
    """A whole number within what the database stores, such as an id: ``0.5`` or ``1e80`` is a
    400, not a number the database cannot compare with (a 500 on SQLite)."""

    field_class = forms.IntegerField

    def __init__(self, *args, min_value: int = -BIGINT_MAX, max_value: int = BIGINT_MAX, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
