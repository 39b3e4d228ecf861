"""One whole scenario through the API: issue, sign for, split, report, submit, close."""

import datetime

import pytest
import time_machine

from tasks.models import Task, TaskState

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC))
def test_a_housing_target_travels_down_to_villages_and_back(world, api, target_task):
    indicator = target_task.indicators.get()
    api.as_user("yi_head")
    assert (
        api.post(f"/api/v1/tasks/{target_task.pk}/transitions/accept/", {}, format="json").status_code == 200
    )

    split = api.post(
        f"/api/v1/tasks/{target_task.pk}/decompose/",
        {
            "children": [
                {
                    "lead_unit": world.unit("七里河镇").pk,
                    "title": "七里河镇危房改造",
                    "due_date": "2018-11-20",
                    "targets": [{"indicator": indicator.pk, "target": "950"}],
                },
            ]
        },
        format="json",
    )
    assert split.status_code == 201, split.json()
    child = Task.objects.get(parent=target_task)
    assert child.number.startswith(target_task.number or "")

    api.as_user("qilihe_head")
    assert api.post(f"/api/v1/tasks/{child.pk}/transitions/accept/", {}, format="json").status_code == 200
    child_indicator = child.indicators.get()
    report = api.post(
        f"/api/v1/tasks/{child.pk}/reports/",
        {"text": "已完成改造950户", "figures": [{"indicator": child_indicator.pk, "value": "950"}]},
        format="json",
    )
    assert report.status_code == 201, report.json()
    indicator.refresh_from_db()
    assert indicator.current_value == 950

    submitted = api.post(
        f"/api/v1/tasks/{child.pk}/transitions/submit/", {"comment": "申请销号"}, format="json"
    )
    assert submitted.status_code == 200, submitted.json()
    # 义县 split the work, so 义县 verifies the child; the city verifies the whole.
    api.as_user("city_head")
    refused = api.post(f"/api/v1/tasks/{child.pk}/transitions/close/", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"

    api.as_user("yi_head")
    assert api.post(f"/api/v1/tasks/{child.pk}/transitions/close/", {}, format="json").status_code == 200
    parent_submit = api.post(
        f"/api/v1/tasks/{target_task.pk}/transitions/submit/", {"comment": "全县完成"}, format="json"
    )
    assert parent_submit.status_code == 200, parent_submit.json()

    api.as_user("city_head")
    assert (
        api.post(f"/api/v1/tasks/{target_task.pk}/transitions/close/", {}, format="json").status_code == 200
    )
    target_task.refresh_from_db()
    assert target_task.state == TaskState.CLOSED
    actions = list(target_task.events.order_by("pk").values_list("action", flat=True))
    assert actions == ["created", "assigned", "accepted", "decomposed", "submitted", "closed"]
