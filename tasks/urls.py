from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis, schedule_apis

router = SimpleRouter()
router.register("campaigns", apis.CampaignViewSet)
router.register("calendar-days", apis.CalendarDayViewSet)
router.register("responsibilities", apis.ResponsibilityViewSet)

urlpatterns = [
    path("tasks/", apis.TaskListApi.as_view(), name="task-list"),
    path("tasks/<int:pk>/", apis.TaskDetailApi.as_view(), name="task-detail"),
    path("tasks/<int:pk>/history/", apis.TaskHistoryApi.as_view(), name="task-history"),
    path("tasks/<int:pk>/transitions/", apis.TaskTransitionsApi.as_view(), name="task-transitions"),
    path("tasks/<int:pk>/transitions/<str:name>/", apis.TaskTransitionApi.as_view(), name="task-transition"),
    path("tasks/<int:pk>/recheck/", apis.TaskRecheckApi.as_view(), name="task-recheck"),
    path("tasks/<int:pk>/decompose/", apis.TaskDecomposeApi.as_view(), name="task-decompose"),
    path("tasks/<int:pk>/reports/", apis.TaskReportsApi.as_view(), name="task-reports"),
    path(
        "tasks/<int:pk>/report-schedule/",
        schedule_apis.TaskReportScheduleApi.as_view(),
        name="task-report-schedule",
    ),
    path(
        "tasks/<int:pk>/steps/<int:step_pk>/complete/",
        apis.TaskStepCompleteApi.as_view(),
        name="task-step-complete",
    ),
    path("tasks/<int:pk>/extensions/", apis.TaskExtensionsApi.as_view(), name="task-extensions"),
    path("extensions/<int:pk>/decision/", apis.ExtensionDecisionApi.as_view(), name="extension-decision"),
    path("tasks/<int:pk>/transfers/", apis.TaskTransfersApi.as_view(), name="task-transfers"),
    path("transfers/<int:pk>/decision/", apis.TransferDecisionApi.as_view(), name="transfer-decision"),
    path("transfers/<int:pk>/withdraw/", apis.TransferWithdrawApi.as_view(), name="transfer-withdraw"),
    path("attachments/<int:pk>/", apis.AttachmentDownloadApi.as_view(), name="attachment-download"),
    path(
        "recheck-attachments/<int:pk>/",
        apis.RecheckAttachmentDownloadApi.as_view(),
        name="recheck-attachment-download",
    ),
    path("sources/", apis.SourceListApi.as_view(), name="source-list"),
    path("sources/<int:pk>/", apis.SourceDetailApi.as_view(), name="source-detail"),
    path("sources/<int:pk>/history/", apis.SourceHistoryApi.as_view(), name="source-history"),
    path(
        "source-attachments/<int:pk>/",
        apis.SourceAttachmentDownloadApi.as_view(),
        name="source-attachment-download",
    ),
    path("step-plans/", apis.StepPlanApi.as_view(), name="step-plan"),
    path("units/<int:pk>/dashboard/", apis.UnitDashboardApi.as_view(), name="unit-dashboard"),
    path("ledgers/tasks.xlsx", apis.TaskLedgerApi.as_view(), name="ledger-tasks"),
    path("ledgers/rectifications.xlsx", apis.RectificationLedgerApi.as_view(), name="ledger-rectifications"),
    *router.urls,
]
