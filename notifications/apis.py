"""Escalations, the outbox and responsibility tracing over HTTP."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from core.apis import ApiView, ListApi, ModelViewSet
from core.schema import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, crud_schema
from tasks.lateness import today
from tasks.selectors import task_get_for_user

from . import selectors, services
from .filters import EscalationFilter, OutboxFilter
from .models import EscalationRule
from .serializers import (
    EscalationRuleSerializer,
    EscalationSerializer,
    ManualEscalationInput,
    OutboundMessageSerializer,
    TraceSerializer,
)


class EscalationListApi(ListApi):
    """Escalations of the tasks the caller may see, newest first."""

    serializer_class = EscalationSerializer
    filterset_class = EscalationFilter

    def get_queryset(self):
        return selectors.escalation_list_for_user(self.request.user)

    @extend_schema(
        description=(
            "Escalations (督办) of the tasks the caller may see, newest first: the rung, when it was "
            "recorded and whether its people were told."
        ),
        responses={200: EscalationSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TaskEscalationsApi(ListApi):
    """A task's escalations; the supervision office records one by hand (催办, 挂牌督办,
    约谈, 问责) with a reason."""

    serializer_class = EscalationSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.task_escalations(task_get_for_user(self.request.user, self.kwargs["pk"]))

    @extend_schema(
        description="A task's escalations, newest first.",
        responses={200: EscalationSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Record an escalation by hand (催办, 挂牌督办, 约谈, 问责) with a reason; for the supervision "
            "office over the task. A 约谈 names the people talked to."
        ),
        request=ManualEscalationInput,
        responses={201: EscalationSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        task = task_get_for_user(request.user, pk)
        data = ManualEscalationInput(data=request.data)
        data.is_valid(raise_exception=True)
        escalation = services.escalation_record_manual(
            task_id=task.pk, actor=request.user, **data.validated_data
        )
        escalation = selectors.task_escalations(task).get(pk=escalation.pk)
        return Response(EscalationSerializer(escalation).data, status=status.HTTP_201_CREATED)


class TaskTraceApi(ApiView):
    """Who was responsible for the task at each moment, and when it went overdue (责任倒查)."""

    @extend_schema(
        description="Who was responsible for the task at each moment and when it went overdue (责任倒查).",
        responses={200: TraceSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        task = task_get_for_user(request.user, pk)
        return Response(TraceSerializer(selectors.task_trace(task, today())).data)


class OutboxListApi(ListApi):
    """Stored e-mails and their delivery state: the caller's own, and for supervision
    offices those about the tasks they see."""

    serializer_class = OutboundMessageSerializer
    filterset_class = OutboxFilter

    def get_queryset(self):
        return selectors.outbox_list_for_user(self.request.user)

    @extend_schema(
        description=(
            "Stored e-mails and their delivery state: the caller's own, and for supervision offices those "
            "about the tasks they see."
        ),
        responses={200: OutboundMessageSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema_view(
    **crud_schema(
        EscalationRuleSerializer,
        list=(
            "The escalation ladder as rules: the default rules (no campaign) and campaigns' own, each rung "
            "with the working days after the due date when it applies. Everyone signed in reads them."
        ),
        retrieve="One rule of the ladder.",
        create=(
            "Add a rung to a campaign's ladder (its issuing side's supervision office or an administrator)."
        ),
        update="Replace a rule of the ladder (as for adding one).",
        partial_update="Change a rule of the ladder (as for adding one).",
        destroy="Remove a rule from a campaign's ladder (as for adding one).",
    )
)
class EscalationRuleViewSet(ModelViewSet):
    """The ladder as data: the default rules (no campaign) and campaigns' own. Everyone
    signed in reads them; who changes which ladder is the service's rule."""

    queryset = EscalationRule.objects.order_by("campaign_id", "pk")
    serializer_class = EscalationRuleSerializer
    filterset_fields = ["campaign", "level"]

    def perform_create(self, serializer):
        serializer.instance = services.escalation_rule_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.escalation_rule_update(
            rule_id=serializer.instance.pk, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.escalation_rule_delete(rule_id=instance.pk, actor=self.request.user)
