from django_filters import rest_framework as filters

from core.filters import BooleanFilter, DateFilter, IntegerFilter
from outbox.models import Channel, MessageState, OutboundMessage
from responsibility.models import Unit
from tasks.rungs import Level

from .models import Escalation


class EscalationFilter(filters.FilterSet):
    level = filters.MultipleChoiceFilter(choices=Level.choices, distinct=False)
    campaign = IntegerFilter(field_name="task__campaign_id")
    task = IntegerFilter(field_name="task_id")
    manual = BooleanFilter()
    created_after = DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = DateFilter(field_name="created_at", lookup_expr="date__lte")
    unit = IntegerFilter(method="filter_unit", label="Escalations of work led inside this unit's subtree")

    class Meta:
        model = Escalation
        fields = []

    def filter_unit(self, queryset, name, value):
        path = Unit.objects.filter(pk=value).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(lead_unit__path__startswith=path)


class OutboxFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=MessageState.choices, distinct=False)
    channel = filters.MultipleChoiceFilter(choices=Channel.choices, distinct=False)

    class Meta:
        model = OutboundMessage
        fields = []
