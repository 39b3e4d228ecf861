from django.db import models
from django.db.models import Q
from django_filters import rest_framework as filters

from core.filters import BooleanFilter, DateFilter, IntegerFilter
from responsibility.models import Unit, User

from .lateness import light_q, overdue_q, today
from .models import CalendarDay, Campaign, Task, TaskKind, TaskState
from .selectors import tasks_of_units_q


class CalendarDayFilter(filters.FilterSet):
    # Outside the years a date can have, the year lookup cannot even be built.
    date__year = IntegerFilter(field_name="date", lookup_expr="year", min_value=1, max_value=9999)

    class Meta:
        model = CalendarDay
        fields = {"date": ["gte", "lte"]}
        filter_overrides = {models.DateField: {"filter_class": DateFilter}}


class TaskFilter(filters.FilterSet):
    # Not distinct: these filter on the task's own columns, so no row can repeat, and a
    # DISTINCT over every column makes PostgreSQL sort whole rows for every page and wrap
    # the count in it too (bench/FIXES.md).
    state = filters.MultipleChoiceFilter(choices=TaskState.choices, distinct=False)
    kind = filters.MultipleChoiceFilter(choices=TaskKind.choices, distinct=False)
    campaign = filters.ModelChoiceFilter(queryset=Campaign.objects.all())
    responsible_person = filters.ModelChoiceFilter(queryset=User.objects.all())
    parent = IntegerFilter(field_name="parent_id")
    due_after = DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = DateFilter(field_name="due_date", lookup_expr="lte")
    overdue = BooleanFilter(method="filter_overdue")
    light = filters.ChoiceFilter(
        choices=[("green", "green"), ("yellow", "yellow"), ("red", "red")], method="filter_light"
    )
    unit = IntegerFilter(
        method="filter_unit",
        label="Tasks whose issuing, lead, responsible or cooperating unit is in this unit's subtree",
    )
    top_level = BooleanFilter(field_name="parent", lookup_expr="isnull")

    class Meta:
        model = Task
        fields = []

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q(today())) if value else queryset.exclude(overdue_q(today()))

    def filter_light(self, queryset, name, value):
        # Each campaign sets how many working days before the deadline turn yellow.
        on = today()
        condition = Q(pk__in=[])
        for days in Campaign.objects.values_list("yellow_working_days", flat=True).distinct():
            condition |= Q(campaign__yellow_working_days=days) & light_q(value, on, days)
        return queryset.filter(condition)

    def filter_unit(self, queryset, name, value):
        path = Unit.objects.filter(pk=value).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(tasks_of_units_q(Unit.objects.filter(path__startswith=path).values("pk")))
