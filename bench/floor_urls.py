"""The app's URLs, plus plain Django views doing the same database work as the API.

These exist only for the benchmark: they are the floors the DRF views are measured against.
"""

import json

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from responsibility.authentication import ExpiringTokenAuthentication
from tasks.filters import TaskFilter
from tasks.models import ProgressReport, Task, TaskEvent
from tasks.selectors import task_list_for_user


def _user(request):
    # The API's own token check, so the floor pays for the same reads and last-use writes.
    key = request.headers.get("Authorization", "").removeprefix("Token ")
    try:
        return ExpiringTokenAuthentication().authenticate_credentials(key)[0]
    except AuthenticationFailed:
        return None


@csrf_exempt
def floor_report(request, pk):
    user = _user(request)
    if user is None:
        return HttpResponse(status=401)
    text = json.loads(request.body)["text"]
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=pk)
        report = ProgressReport.objects.create(task=task, author=user, text=text)
        TaskEvent.objects.create(
            task=task,
            actor=user,
            action="reported",
            from_state=task.state,
            to_state=task.state,
            comment=text,
            data={"report": report.pk, "figures": {}},
        )
    return JsonResponse({"id": report.pk, "task": pk, "text": text}, status=201)


@csrf_exempt
def floor_submit(request, pk):
    user = _user(request)
    if user is None:
        return HttpResponse(status=401)
    comment = json.loads(request.body)["comment"]
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=pk)
        now = timezone.now()
        Task.objects.filter(pk=pk).update(state="submitted", submitted_at=now, updated_at=now)
        TaskEvent.objects.create(
            task=task,
            actor=user,
            action="submitted",
            from_state=task.state,
            to_state="submitted",
            comment=comment,
        )
    return JsonResponse({"id": pk, "state": "submitted"})


def floor_task_list(request):
    user = _user(request)
    if user is None:
        return HttpResponse(status=401)
    page = int(request.GET.get("page", 1))
    size = int(request.GET.get("page_size", 50))
    tasks = TaskFilter(request.GET, queryset=task_list_for_user(user), request=request).qs
    tasks = tasks.order_by("due_date", "pk")
    count = tasks.count()
    rows = [
        {
            "id": task.pk,
            "number": task.number,
            "title": task.title,
            "kind": task.kind,
            "state": task.state,
            "campaign": task.campaign.name,
            "issuing_unit": task.issuing_unit.name,
            "lead_unit": task.lead_unit.name,
            "responsible_person": task.responsible_person.full_name if task.responsible_person else None,
            "units": [link.unit.name for link in task.task_units.all()],
            "indicators": [str(i.current_value) for i in task.indicators.all()],
            "due_date": task.due_date.isoformat(),
            "escalation": task.escalation_rank,
        }
        for task in tasks[(page - 1) * size : page * size]
    ]
    return JsonResponse({"count": count, "results": rows})


urlpatterns = [
    path("floor/tasks/", floor_task_list),
    path("floor/tasks/<int:pk>/reports/", floor_report),
    path("floor/tasks/<int:pk>/transitions/submit/", floor_submit),
    path("", include("backend.urls")),
]
