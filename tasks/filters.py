from django.db import models
from django_filters import rest_framework as filters

from core.filters import BooleanFilter, DateFilter, FormOnceFilterSet, IntegerFilter
from responsibility.models import User

from .lateness import campaigns_light_q, overdue_q, request_calendar, today
from .models import CalendarDay, Campaign, SourceKind, Task, TaskKind, TaskScope, TaskSource, TaskState


class CalendarDayFilter(filters.FilterSet):
    # Outside the years a date can have, the year lookup cannot even be built.
    date__year = IntegerFilter(field_name="date", lookup_expr="year", min_value=1, max_value=9999)

    class Meta:
        model = CalendarDay
        fields = {"date": ["gte", "lte"]}
        filter_overrides = {models.DateField: {"filter_class": DateFilter}}


class TaskFilter(FormOnceFilterSet):
    # Not distinct: these filter on the task's own columns, so no row can repeat, and a
    # DISTINCT over every column makes PostgreSQL sort whole rows for every page and wrap
    # the count in it too (bench/FIXES.md).
    state = filters.MultipleChoiceFilter(choices=TaskState.choices, distinct=False)
    kind = filters.MultipleChoiceFilter(choices=TaskKind.choices, distinct=False)
    # The querysets given as functions: every request deep-copies the filters, and a
    # queryset's copy is a copy of its whole query.
    campaign = filters.ModelChoiceFilter(queryset=lambda request: Campaign.objects.all())
    responsible_person = filters.ModelChoiceFilter(queryset=lambda request: User.objects.all())
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
    source_kind = filters.MultipleChoiceFilter(
        choices=SourceKind.choices,
        method="filter_source_kind",
        label="Tasks that come from a source of this kind (the pieces of a split task too)",
    )
    source = IntegerFilter(method="filter_source", label="Tasks that come from this source document")

    class Meta:
        model = Task
        fields = []

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q(today())) if value else queryset.exclude(overdue_q(today()))

    def filter_light(self, queryset, name, value):
        # Each campaign sets how many working days before the deadline turn yellow.
        days = Campaign.objects.order_by().values_list("yellow_working_days", flat=True).distinct()
        on = today()
        return queryset.filter(campaigns_light_q(value, on, days, request_calendar(self.request, on)))

    def filter_source_kind(self, queryset, name, value):
        if not value:
            return queryset
        return self._of_tasks(queryset, Task.objects.filter(source__kind__in=value))

    def filter_source(self, queryset, name, value):
        return self._of_tasks(queryset, Task.objects.filter(source_id=value))

    @staticmethod
    def _of_tasks(queryset, tasks):
        # The list filters scope rows, which do not copy the source (few tasks have one:
        # a semi-join on them is cheap); the ledgers filter tasks.
        if queryset.model is TaskScope:
            return queryset.filter(task_id__in=tasks.values("pk"))
        return queryset.filter(pk__in=tasks.values("pk"))

    def filter_unit(self, queryset, name, value):
        # The unit's scope rows are the tasks of its subtree (tasks.scope); this filter
        # narrows tasks for the ledgers and scope rows for the list.
        held = TaskScope.objects.filter(unit_id=value).values("task_id")
        return queryset.filter(**{"task_id__in" if queryset.model is TaskScope else "pk__in": held})


class SourceFilter(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=SourceKind.choices)

    class Meta:
        model = TaskSource
        fields = []
