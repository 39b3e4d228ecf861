from django.urls import path
from django.views.generic import RedirectView

from .views import auth, bulletins, dashboard, imports, tasks

app_name = "pages"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="pages:workbench"), name="home"),
    path("login/", auth.SignInView.as_view(), name="login"),
    path("logout/", auth.SignOutView.as_view(), name="logout"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("workbench/", tasks.workbench, name="workbench"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/<int:unit_id>/", dashboard.dashboard, name="dashboard_unit"),
    path("tasks/", tasks.task_list, name="task_list"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task_detail"),
    path("tasks/<int:pk>/transitions/<str:name>/", tasks.task_transition, name="task_transition"),
    path("tasks/<int:pk>/reports/", tasks.task_report, name="task_report"),
    path("tasks/<int:pk>/steps/<int:step_pk>/", tasks.task_step_complete, name="task_step"),
    path("tasks/<int:pk>/extensions/", tasks.task_extension_request, name="task_extension"),
    path("tasks/<int:pk>/recheck/", tasks.task_recheck, name="task_recheck"),
    path("tasks/<int:pk>/decompose/", tasks.task_decompose, name="task_decompose"),
    path("tasks/<int:pk>/report-schedule/", tasks.task_report_schedule, name="task_report_schedule"),
    path(
        "tasks/<int:pk>/report-schedule/remove/",
        tasks.task_report_schedule_remove,
        name="task_report_schedule_remove",
    ),
    path("tasks/<int:pk>/notices/<int:notice_pk>/reply/", tasks.notice_reply, name="notice_reply"),
    path("tasks/<int:pk>/notices/<int:notice_pk>/withdraw/", tasks.notice_withdraw, name="notice_withdraw"),
    path("extensions/<int:pk>/decision/", tasks.extension_decision, name="extension_decision"),
    path("tasks/<int:pk>/transfers/", tasks.task_transfer_request, name="task_transfer"),
    path("transfers/<int:pk>/decision/", tasks.transfer_decision, name="transfer_decision"),
    path("transfers/<int:pk>/withdraw/", tasks.transfer_withdraw, name="transfer_withdraw"),
    path("bulletins/", bulletins.bulletin_list, name="bulletin_list"),
    path("bulletins/new/", bulletins.bulletin_new, name="bulletin_new"),
    path("bulletins/<int:pk>/", bulletins.bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/preview/", bulletins.bulletin_preview, name="bulletin_preview"),
    path("bulletins/<int:pk>/edit/", bulletins.bulletin_edit, name="bulletin_edit"),
    path("bulletins/<int:pk>/publish/", bulletins.bulletin_publish, name="bulletin_publish"),
    path("bulletins/<int:pk>/withdraw/", bulletins.bulletin_withdraw, name="bulletin_withdraw"),
    path("imports/", imports.import_upload, name="import_upload"),
    path("imports/confirm/", imports.import_confirm, name="import_confirm"),
]
