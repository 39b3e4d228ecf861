"""The import and export endpoints: status codes, permission outcomes and response shape."""

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from tasks.models import Task, TaskEvent
from tasks.services import task_transition
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["序号", "任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限", "备注"]
ROWS = [
    ["一、", "住房安全保障", "", "", "", "", "", ""],
    ["1", "完成D级危房改造950户", "蒋副市长", "义县", "", "市住建委", "10月底前", ""],
    ["2", "完成D级危房改造938户", "蒋副市长", "黑山县", "", "市住建委", "11月30日前", ""],
    ["二、", "问题整改", "", "", "", "", "", ""],
    ["1", "贫困户信息“三上墙”", "", "市住建委", "各县(市)区", "", "长期坚持", "每月报送"],
]
ROW_KEYS = {"row", "number", "title", "heading", "action", "changed", "deadline_defaulted"}
ERROR_KEYS = {"row", "column", "column_label", "code", "message"}


def xlsx(rows=ROWS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["锦州市精准脱贫百日攻坚行动任务分解表"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, name: str = "分解表.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def url(world, campaign_id=None) -> str:
    return f"/api/v1/campaigns/{campaign_id or world.campaign.pk}/import/"


def post(client, world, data=None, *, dry_run=None, name="分解表.xlsx", campaign_id=None):
    body = {"file": upload(xlsx() if data is None else data, name)}
    if dry_run is not None:
        body["dry_run"] = "true" if dry_run else "false"
    return client.post(url(world, campaign_id), body, format="multipart")


def test_a_dry_run_answers_row_by_row_and_writes_nothing(api, world):
    response = post(api.as_user("city_head"), world, dry_run=True)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"dry_run", "notes", "rows", "errors", "counts", "missing", "default_deadline"}
    assert body["default_deadline"] is None
    assert body["dry_run"] is True
    assert body["errors"] == []
    assert body["counts"] == {"created": 5, "updated": 0, "unchanged": 0, "missing": 0}
    assert all(set(row) == ROW_KEYS for row in body["rows"])
    assert [(row["row"], row["number"], row["heading"], row["action"]) for row in body["rows"]] == [
        (3, "一", True, "created"),
        (4, "一.1", False, "created"),
        (5, "一.2", False, "created"),
        (6, "二", True, "created"),
        (7, "二.1", False, "created"),
    ]
    assert not Task.objects.exists()


def test_a_dry_run_is_the_default(api, world):
    response = post(api.as_user("city_head"), world)

    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert not Task.objects.exists()


def test_an_import_creates_the_tasks(api, world):
    response = post(api.as_user("city_head"), world, dry_run=False)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is False
    assert body["counts"] == {"created": 5, "updated": 0, "unchanged": 0, "missing": 0}
    assert Task.objects.filter(campaign=world.campaign, imported=True).count() == 5
    assert Task.objects.get(number="一.2").parent == Task.objects.get(number="一")
    assert TaskEvent.objects.filter(actor=world.person("city_head")).count() == 5


def test_importing_again_reports_what_changed(api, world):
    client = api.as_user("city_head")
    post(client, world, dry_run=False)
    rows = [list(row) for row in ROWS]
    rows[1][1] = "完成D级危房改造950户（含C级）"

    response = post(client, world, xlsx(rows), dry_run=False)

    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {"created": 0, "updated": 1, "unchanged": 4, "missing": 0}
    changed = next(row for row in body["rows"] if row["number"] == "一.1")
    assert (changed["action"], changed["changed"]) == ("updated", ["title"])


def test_a_dry_run_lists_every_row_error_with_its_column_and_notes(api, world):
    rows = [
        *ROWS,
        ["2", "扶贫小额信贷", "", "市金融办", "", "", "下个月", ""],
    ]

    response = post(api.as_user("city_head"), world, xlsx(rows), dry_run=True)

    assert response.status_code == 200
    body = response.json()
    assert all(set(error) == ERROR_KEYS for error in body["errors"])
    assert {(e["row"], e["column"], e["code"], e["column_label"]) for e in body["errors"]} == {
        (8, "lead_unit", "unknown_unit", "牵头单位"),
        (8, "deadline", "unrecognised_deadline", "完成时限"),
    }
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "missing": 0}
    assert not Task.objects.exists()


def test_notes_say_how_the_table_was_read(api, world):
    data = "\n".join(
        [
            "序号,任务,责任单位,完成时限",
            "1,完成D级危房改造,义县、黑山县,10月底前",
        ]
    ).encode("gb18030")

    response = post(api.as_user("city_head"), world, data, dry_run=True, name="分解表.csv")

    notes = response.json()["notes"]
    assert any("GB18030" in note for note in notes)
    assert any("第一个单位为牵头单位" in note for note in notes)


def test_an_import_with_row_errors_is_refused_whole(api, world):
    rows = [*ROWS, ["2", "扶贫小额信贷", "", "市金融办", "", "", "下个月", ""]]

    response = post(api.as_user("city_head"), world, xlsx(rows), dry_run=False)

    body = assert_error(response, 400, "import_invalid", fields={"8:lead_unit", "8:deadline"})
    assert "市金融办" in body["fields"]["8:lead_unit"][0]
    assert not Task.objects.exists()


def test_a_due_date_locked_by_assignment_refuses_the_import(api, world):
    client = api.as_user("city_head")
    post(client, world, dry_run=False)
    task_transition(
        task_id=Task.objects.get(number="一.1").pk, actor=world.person("city_head"), name="assign"
    )
    rows = [list(row) for row in ROWS]
    rows[1][6] = "10月20日前"

    dry = post(client, world, xlsx(rows), dry_run=True)
    assert [(e["row"], e["code"]) for e in dry.json()["errors"]] == [(4, "field_locked")]

    response = post(client, world, xlsx(rows), dry_run=False)
    assert_error(response, 400, "import_invalid", fields={"4:deadline"})
    assert str(Task.objects.get(number="一.1").due_date) == "2018-10-31"


def zip_of_zeros(megabytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(megabytes):
                entry.write(bytes(1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (os.urandom(4096), "分解表.xlsx", "not_spreadsheet"),
        (zip_of_zeros(5), "分解表.xlsx", "zip_bomb"),
        (b"whatever", "分解表.xls", "unsupported_format"),
        (b"\x00\x01\x02" * 100, "分解表.csv", "not_text"),
        ("关于做好脱贫攻坚工作的通知".encode(), "通知.txt", "no_tasks"),
    ],
)
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_malformed_file_is_a_400_with_the_reason(api, world, data, name, code, dry_run):
    response = post(api.as_user("city_head"), world, data, dry_run=dry_run, name=name)

    assert_error(response, 400, code)
    assert not Task.objects.exists()


def test_an_upload_without_a_file_is_a_400(api, world):
    response = api.as_user("city_head").post(url(world), {"dry_run": "true"}, format="multipart")

    assert_error(response, 400, "invalid", fields={"file"})


def test_anonymous_callers_are_refused(api, world):
    response = post(api.as_user(None), world, dry_run=False)

    assert response.status_code == 401
    assert not Task.objects.exists()


@pytest.mark.parametrize("data", [None, b"not a spreadsheet"], ids=["table", "malformed"])
@pytest.mark.parametrize("username", ["yi_head", "housing_head", "leader"])
def test_only_the_issuing_unit_imports(api, world, username, data):
    response = post(api.as_user(username), world, data, dry_run=True)

    assert_error(response, 403, "permission_denied")
    assert not Task.objects.exists()


def test_an_unknown_campaign_is_a_404(api, world):
    response = post(api.as_user("city_head"), world, dry_run=True, campaign_id=world.campaign.pk + 999)

    assert_error(response, 404, "not_found")


def test_the_export_reads_back_as_the_same_rows(api, world):
    client = api.as_user("city_head")
    post(client, world, dry_run=False)

    response = client.get(f"/api/v1/campaigns/{world.campaign.pk}/export.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data)).active
    values = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    # The export's own columns: 来源 (none here) before 备注.
    assert values[1] == ["序号", "任务", *HEADER[2:7], "来源", "备注"]
    assert values[2:] == [
        ["一、", "住房安全保障", "", "", "", "", "", "", ""],
        ["1", "完成D级危房改造950户", "蒋副市长", "义县", "", "市住建委", "10月底前", "", ""],
        ["2", "完成D级危房改造938户", "蒋副市长", "黑山县", "", "市住建委", "11月30日前", "", ""],
        ["二、", "问题整改", "", "", "", "", "", "", ""],
        ["1", "贫困户信息“三上墙”", "", "市住建委", "各县(市)区", "", "长期坚持", "", "每月报送"],
    ]

    again = post(client, world, data, dry_run=False, name="导出.xlsx")
    assert again.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 5, "missing": 0}


@pytest.mark.parametrize("accept", [XLSX, f"{XLSX}, application/json;q=0.1", "application/*"])
def test_a_client_asking_for_the_workbook_gets_it(api, world, accept):
    client = api.as_user("city_head")
    response = client.get(f"/api/v1/campaigns/{world.campaign.pk}/export.xlsx", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    load_workbook(io.BytesIO(b"".join(response.streaming_content)))


@pytest.mark.parametrize("accept", ["text/csv", "application/pdf", f"{XLSX};q=0"])
def test_a_client_asking_for_what_the_export_cannot_give_gets_a_406(api, world, accept):
    client = api.as_user("city_head")
    response = client.get(f"/api/v1/campaigns/{world.campaign.pk}/export.xlsx", HTTP_ACCEPT=accept)

    assert XLSX in assert_error(response, 406, "not_acceptable")["message"]


def test_the_export_of_a_campaign_without_imports_is_the_header_only(api, world):
    response = api.as_user("city_head").get(f"/api/v1/campaigns/{world.campaign.pk}/export.xlsx")

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 2


@pytest.mark.parametrize(("username", "status"), [(None, 401), ("yi_head", 403), ("village_a_head", 403)])
def test_the_export_is_for_the_issuing_unit(api, world, username, status):
    post(api.as_user("city_head"), world, dry_run=False)

    response = api.as_user(username).get(f"/api/v1/campaigns/{world.campaign.pk}/export.xlsx")

    assert response.status_code == status


def test_the_export_of_an_unknown_campaign_is_a_404(api, world):
    response = api.as_user("city_head").get(f"/api/v1/campaigns/{world.campaign.pk + 999}/export.xlsx")

    assert_error(response, 404, "not_found")
