from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("escalation-rules", apis.EscalationRuleViewSet)

urlpatterns = [
    path("escalations/", apis.EscalationListApi.as_view(), name="escalation-list"),
    path("tasks/<int:pk>/escalations/", apis.TaskEscalationsApi.as_view(), name="task-escalations"),
    path("tasks/<int:pk>/trace/", apis.TaskTraceApi.as_view(), name="task-trace"),
    path("outbox/", apis.OutboxListApi.as_view(), name="outbox-list"),
    *router.urls,
]
