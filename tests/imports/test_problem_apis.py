"""The problem-list import endpoint: upload → dry-run report → confirm; status codes,
permission outcomes, response shape, and a fixed number of queries whatever the list's size."""

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from imports.models import ProblemRecord
from tasks.models import Campaign, Task, TaskKind, TaskState
from tasks.services import sources_for_texts
from tests.helpers import assert_error
from tests.imports.test_problems import SOURCES, csv_bytes, problem_rows, xlsx

pytestmark = pytest.mark.django_db

ROW_KEYS = {
    "row",
    "number",
    "problem",
    "location",
    "lead_unit",
    "responsible_units",
    "responsible_person",
    "lead_leader",
    "due_date",
    "deadline_text",
    "source",
    "action",
    "changes",
}
ERROR_KEYS = {"row", "column", "column_label", "code", "message"}


@pytest.fixture(autouse=True)
def october():
    with time_machine.travel(datetime.datetime(2018, 10, 15, 9, tzinfo=datetime.UTC), tick=False):
        yield


def url(world, campaign_id=None) -> str:
    return f"/api/v1/campaigns/{campaign_id or world.campaign.pk}/problems/import/"


def post(client, world, data=None, *, dry_run=None, name="问题清单.xlsx", campaign_id=None):
    body = {"file": SimpleUploadedFile(name, xlsx(problem_rows(5)) if data is None else data)}
    if dry_run is not None:
        body["dry_run"] = "true" if dry_run else "false"
    return client.post(url(world, campaign_id), body, format="multipart")


def test_a_dry_run_reports_each_problem_and_writes_nothing(api, world):
    response = post(api.as_user("city_head"), world)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"dry_run", "notes", "rows", "errors", "counts", "kept"}
    assert body["dry_run"] is True and body["errors"] == []
    assert body["counts"] == {"created": 5, "updated": 0, "unchanged": 0, "headings": 0}
    assert all(set(row) == ROW_KEYS for row in body["rows"])
    first = body["rows"][0]
    assert (first["row"], first["location"], first["lead_unit"], first["due_date"], first["action"]) == (
        3,
        "大榆树堡村",
        "七里河镇",
        "2018-11-30",
        "created",
    )
    assert not Task.objects.exists()


def test_confirming_creates_the_items_and_again_changes_nothing(api, world):
    client = api.as_user("city_head")

    response = post(client, world, dry_run=False)

    assert response.status_code == 200, response.content
    assert response.json()["counts"]["created"] == 5
    items = Task.objects.filter(kind=TaskKind.RECTIFICATION, state=TaskState.ASSIGNED)
    assert items.count() == 5 == ProblemRecord.objects.count()

    again = post(client, world, csv_bytes(problem_rows(5)), dry_run=False, name="问题清单.csv")

    assert again.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 5, "headings": 0}
    assert Task.objects.count() == 5


def test_row_errors_refuse_the_import_with_each_cell_named(api, world):
    rows = problem_rows(5)
    rows[1][5] = "下个月"
    rows[3][2] = "不存在村"

    dry = post(api.as_user("city_head"), world, xlsx(rows), dry_run=True)

    assert dry.status_code == 200
    errors = dry.json()["errors"]
    assert all(set(error) == ERROR_KEYS for error in errors)
    assert [(e["row"], e["column_label"]) for e in errors] == [(4, "整改时限"), (6, "所在单位")]

    response = post(api.as_user("city_head"), world, xlsx(rows), dry_run=False)

    assert_error(response, 400, "import_invalid", fields={"4:deadline", "6:location"})
    assert not Task.objects.exists()


@pytest.mark.parametrize("username", ["yi_head", "housing_head", "leader", "qilihe_head"])
def test_only_the_campaigns_issuing_unit_imports(api, world, username):
    response = post(api.as_user(username), world, dry_run=False)

    assert_error(response, 403, "permission_denied")
    assert not Task.objects.exists()


def test_anonymous_callers_and_unknown_campaigns_are_refused(api, world):
    assert post(api.as_user(None), world).status_code == 401
    assert_error(post(api.as_user("city_head"), world, campaign_id=world.campaign.pk + 999), 404, "not_found")


def test_a_file_that_is_no_list_is_a_400(api, world):
    response = post(api.as_user("city_head"), world, b"\x00\x01", name="清单.xlsx")

    assert response.status_code == 400
    assert response.json()["code"] == "not_spreadsheet"


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_queries_of_a_request_do_not_grow_with_the_list(api, world, dry_run):
    client = api.as_user("city_head")
    other = Campaign.objects.create(
        name="问题整改",
        issuing_unit=world.unit("锦州市"),
        starts_on=world.campaign.starts_on,
        ends_on=world.campaign.ends_on,
    )
    # The lists' sources registered before: each import finds them.
    sources_for_texts(actor=world.person("city_head"), registered_by=world.unit("锦州市"), texts=SOURCES)
    counts = []
    for size, campaign in ((10, world.campaign), (300, other)):
        data = csv_bytes(problem_rows(size))
        with CaptureQueriesContext(connection) as queries:
            response = post(client, world, data, dry_run=dry_run, name="清单.csv", campaign_id=campaign.pk)
        assert response.status_code == 200 and response.json()["counts"]["created"] == size
        counts.append(len(queries))

    assert counts[0] == counts[1]
