"""The app's URLs, plus plain Django views doing the same database work as the API.

These exist only for the benchmark: they are the floors the DRF views are measured against.
The reads' floors run the hand-written SQL of bench/sql (bench/floors.py).
"""

import json

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bench.floors import floor_task_list, floor_unit_dashboard, request_user
from tasks.models import ProgressReport, Task, TaskEvent


@csrf_exempt
def floor_report(request, pk):
    user = request_user(request)
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
    user = request_user(request)
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


urlpatterns = [
    path("floor/tasks/", floor_task_list),
    path("floor/units/<int:pk>/dashboard/", floor_unit_dashboard),
    path("floor/tasks/<int:pk>/reports/", floor_report),
    path("floor/tasks/<int:pk>/transitions/submit/", floor_submit),
    path("", include("backend.urls")),
]
