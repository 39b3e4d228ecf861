"""Where work comes from: a source document with its files goes in through the API, becomes
a task, is shown with it, is found by source in the list and the ledger, and its files are
served only to those who see it.

The source is seed 002's meeting and a 批示 on seed 003's rectification: the city's
leading group decides the 百日攻坚 in October 2018 and its leader instructs on the
assessment's findings.
"""

import datetime
import io
import zipfile

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import load_workbook

from tasks.models import SourceAttachment, SourceKind, Task, TaskSource
from tasks.services import ChildSpec, source_create, task_decompose
from tasks.sources import kind_from_text
from tests.helpers import assert_error as shared_assert_error

from .test_apis import TINY_PDF, tiny_png

pytestmark = pytest.mark.django_db

BATCH_TEXT = (
    "从中省考核和评估反馈情况看，全国全省的共性问题我们都有，特别是在精准识别、精准帮扶、精准退出等方面，"
    "仍然有很多“屡改屡犯”的老问题，各级各部门务必要引起高度重视。"
)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def default_language():
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def assert_error(response, status_code: int, code: str, *, fields: set[str] | None = None) -> dict:
    return shared_assert_error(response, status_code, code, fields=fields, strict=True)


def tiny_docx() -> bytes:
    """A Word document as far as its signature goes: a ZIP with the parts' list."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def files(*extra) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile("批示件.pdf", TINY_PDF, content_type="application/pdf"),
        SimpleUploadedFile("批示照片.png", tiny_png(), content_type="image/png"),
        SimpleUploadedFile("会议纪要.docx", tiny_docx()),
        *extra,
    ]


def register(api, username="city_supervisor", **fields):
    body = {
        "kind": SourceKind.INSTRUCTION,
        "registered_by": api.world.unit("市委督查室").pk,
        "document_number": "锦市委办发〔2018〕12号",
        "document_date": "2018-10-06",
        "issued_by": "中共锦州市委办公室",
        "title": "关于中省考核和第三方评估反馈问题整改的批示",
        "original_text": BATCH_TEXT,
        "files": files(),
        **fields,
    }
    return api.as_user(username).post("/api/v1/sources/", body, format="multipart")


@pytest.fixture
def api(api, world):
    api.world = world
    return api


def task_body(world, source_id, **fields) -> dict:
    return {
        "campaign": world.campaign.pk,
        "title": "中省考核反馈问题整改",
        "kind": "rectification",
        "issuing_unit": world.unit("锦州市").pk,
        "lead_unit": world.unit("义县").pk,
        "due_date": "2018-11-30",
        "source": source_id,
        "assign": True,
        **fields,
    }


def test_a_source_with_files_becomes_a_task_that_shows_it(api, world):
    registered = register(api)
    assert registered.status_code == 201, registered.content
    source = registered.json()
    assert source["kind"] == "instruction"
    assert source["document_number"] == "锦市委办发〔2018〕12号"
    assert source["document_date"] == "2018-10-06"
    assert source["registered_by"]["name"] == "市委督查室"
    assert [(a["original_name"], a["content_type"]) for a in source["attachments"]] == [
        ("批示件.pdf", "application/pdf"),
        ("批示照片.png", "image/png"),
        ("会议纪要.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ]

    created = api.as_user("city_head").post("/api/v1/tasks/", task_body(world, source["id"]), format="json")
    assert created.status_code == 201, created.content
    shown = api.as_user("yi_member").get(f"/api/v1/tasks/{created.json()['id']}/").json()["source"]
    assert shown == source

    pdf = api.as_user("yi_member").get(source["attachments"][0]["url"])
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content) == TINY_PDF
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Content-Type-Options"] == "nosniff"


def test_a_bad_file_among_three_saves_nothing(api, world, media_root):
    response = register(api, files=files()[:2] + [SimpleUploadedFile("批示.exe", b"MZ\x90\x00")])
    body = assert_error(response, 400, "invalid_attachment", fields={"files"})
    assert "批示.exe" in body["message"]
    assert not TaskSource.objects.exists()
    assert not SourceAttachment.objects.exists()
    assert not media_root.exists() or not any(path.is_file() for path in media_root.rglob("*"))


def test_a_source_must_say_something_and_be_of_a_known_kind(api, world):
    assert_error(
        register(api, title="", original_text="", document_number="", files=[]),
        400,
        "required",
        fields={"title"},
    )
    assert_error(register(api, kind="rumour"), 400, "invalid", fields={"kind"})
    assert not TaskSource.objects.exists()


def test_only_a_head_or_the_office_registers_a_source(api, world):
    assert_error(
        register(api, "housing_member", registered_by=world.unit("市住建委").pk),
        403,
        "not_a_source_registrar",
        fields={"registered_by"},
    )
    assert_error(register(api, "yi_head"), 403, "not_a_source_registrar", fields={"registered_by"})
    assert register(api, "yi_head", registered_by=world.unit("义县").pk).status_code == 201


def test_a_unit_outside_neither_sees_the_source_nor_its_files(api, world):
    source = register(api, "yi_head", registered_by=world.unit("义县").pk).json()
    url = source["attachments"][0]["url"]
    for username in ("heishan_head", "heishan_member", "housing_head", "leader"):
        assert_error(api.as_user(username).get(f"/api/v1/sources/{source['id']}/"), 404, "not_found")
        assert_error(api.as_user(username).get(url), 404, "not_found")
        assert source["id"] not in [
            s["id"] for s in api.as_user(username).get("/api/v1/sources/").json()["results"]
        ]
    # Above the registering unit, its supervisors and the administrators see it.
    for username in ("yi_member", "city_head", "city_supervisor", "admin"):
        assert api.as_user(username).get(url).status_code == 200, username
    assert_error(api.as_user("yi_member").get("/api/v1/source-attachments/987654/"), 404, "not_found")


def test_a_village_sees_the_source_of_its_piece_of_the_work(api, world):
    source = register(api).json()
    url = source["attachments"][1]["url"]
    assert_error(api.as_user("village_a_head").get(url), 404, "not_found")
    task = Task.objects.get(
        pk=api.as_user("city_head")
        .post("/api/v1/tasks/", task_body(world, source["id"]), format="json")
        .json()["id"]
    )
    task_decompose(
        task_id=task.pk,
        actor=world.person("yi_head"),
        children=[ChildSpec("七里河镇整改", world.unit("七里河镇"), datetime.date(2018, 11, 20))],
    )
    township = task.children.get()
    (village,) = task_decompose(
        task_id=township.pk,
        actor=world.person("qilihe_head"),
        children=[ChildSpec("大榆树堡村整改", world.unit("大榆树堡村"), datetime.date(2018, 11, 15))],
    )
    assert village.source_id == source["id"]
    assert api.as_user("village_a_head").get(url).status_code == 200
    shown = api.as_user("village_a_head").get(f"/api/v1/tasks/{village.pk}/").json()["source"]
    assert shown["document_number"] == "锦市委办发〔2018〕12号"
    # The neighbouring village sees neither.
    assert_error(api.as_user("village_b_head").get(url), 404, "not_found")


def test_a_task_is_made_only_from_a_source_its_issuer_sees_and_reaches(api, world):
    heishan = source_create(
        actor=world.person("heishan_head"),
        registered_by=world.unit("黑山县"),
        kind=SourceKind.PUBLIC,
        title="群众反映芳山镇危房改造质量问题",
    )
    # 义县's head does not see 黑山县's source: as if it did not exist.
    body = task_body(
        world, heishan.pk, issuing_unit=world.unit("义县").pk, lead_unit=world.unit("七里河镇").pk
    )
    assert_error(
        api.as_user("yi_head").post("/api/v1/tasks/", body, format="json"), 400, "invalid", fields={"source"}
    )
    assert_error(
        api.as_user("yi_head").post("/api/v1/tasks/", {**body, "source": 987654}, format="json"),
        400,
        "invalid",
        fields={"source"},
    )
    # The city sees it, but a county's source is not the city's to issue from.
    city = task_body(world, heishan.pk)
    assert_error(
        api.as_user("city_head").post("/api/v1/tasks/", city, format="json"),
        403,
        "outside_jurisdiction",
        fields={"source"},
    )
    assert not Task.objects.exists()
    # 黑山县 issues from it to its township.
    own = task_body(
        world, heishan.pk, issuing_unit=world.unit("黑山县").pk, lead_unit=world.unit("芳山镇").pk
    )
    assert api.as_user("heishan_head").post("/api/v1/tasks/", own, format="json").status_code == 201


def test_the_list_and_the_ledger_find_tasks_by_source(api, world, make_task, django_assert_num_queries):
    instruction = register(api).json()
    meeting = register(
        api,
        kind=SourceKind.MEETING,
        document_number="",
        title="市脱贫攻坚领导小组第九次会议议定事项",
        files=[],
    ).json()
    for title, source in [("整改一", instruction), ("整改二", instruction), ("百日攻坚推进", meeting)]:
        api.as_user("city_head").post(
            "/api/v1/tasks/", task_body(world, source["id"], title=title), format="json"
        )
    make_task("无来源的任务")
    client = api.as_user("yi_member")

    def titles(query) -> list[str]:
        return sorted(t["title"] for t in client.get("/api/v1/tasks/", query).json()["results"])

    assert titles({"source_kind": "instruction"}) == ["整改一", "整改二"]
    assert titles({"source_kind": ["instruction", "meeting"]}) == sorted(["百日攻坚推进", "整改一", "整改二"])
    assert titles({"source": meeting["id"]}) == ["百日攻坚推进"]
    assert len(titles({})) == 4
    assert_error(
        client.get("/api/v1/tasks/", {"source_kind": "rumour"}), 400, "invalid", fields={"source_kind"}
    )
    client.get("/api/v1/tasks/", {"source_kind": "instruction"})
    with django_assert_num_queries(6):
        client.get("/api/v1/tasks/", {"source_kind": "instruction"})

    ledger = client.get("/api/v1/ledgers/tasks.xlsx", {"source_kind": "meeting"})
    assert ledger.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(ledger.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    header, (row,) = rows[0], rows[1:]
    shown = dict(zip(header, row, strict=True))
    assert shown["来源"] == "会议议定"
    assert shown["来源文件"] == "市脱贫攻坚领导小组第九次会议议定事项"
    instruction_ledger = client.get("/api/v1/ledgers/rectifications.xlsx", {"source_kind": "instruction"})
    sheet = load_workbook(io.BytesIO(b"".join(instruction_ledger.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [dict(zip(rows[0], row, strict=True))["来源文号"] for row in rows[1:]] == [
        "锦市委办发〔2018〕12号"
    ] * 2


def test_the_detail_costs_one_query_more_with_a_source_and_none_without(
    api, world, make_task, django_assert_num_queries
):
    plain = make_task("无来源的任务")
    source = register(api).json()
    sourced = (
        api.as_user("city_head").post("/api/v1/tasks/", task_body(world, source["id"]), format="json").json()
    )
    client = api.as_user("yi_member")
    client.get(f"/api/v1/tasks/{plain.pk}/")
    with django_assert_num_queries(6) as without:
        assert client.get(f"/api/v1/tasks/{plain.pk}/").json()["source"] is None
    with django_assert_num_queries(len(without.captured_queries) + 1):
        assert client.get(f"/api/v1/tasks/{sourced['id']}/").json()["source"]["id"] == source["id"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("市委书记批示", SourceKind.INSTRUCTION),
        ("市脱贫攻坚领导小组第九次会议", SourceKind.MEETING),
        ("省委巡视反馈", SourceKind.HIGHER_LEVEL),
        ("中省第三方评估", SourceKind.INSPECTION),
        ("脱贫质量“回头看”", SourceKind.INSPECTION),
        ("抽查暗访", SourceKind.INSPECTION),
        ("群众来信", SourceKind.PUBLIC),
        ("上级交办", SourceKind.HIGHER_LEVEL),
        ("其他", SourceKind.OTHER),
        ("年度计划", None),
    ],
)
def test_the_words_of_a_free_text_source_name_its_kind(text, kind):
    assert kind_from_text(text) == kind


def test_a_task_is_given_its_source_afterwards_and_its_pieces_follow(api, world, make_task):
    task = make_task("危房改造质量整改")
    task_decompose(
        task_id=task.pk,
        actor=world.person("yi_head"),
        children=[ChildSpec("七里河镇整改", world.unit("七里河镇"), datetime.date(2018, 11, 20))],
    )
    township = task.children.get()
    (village,) = task_decompose(
        task_id=township.pk,
        actor=world.person("qilihe_head"),
        children=[ChildSpec("大榆树堡村整改", world.unit("大榆树堡村"), datetime.date(2018, 11, 15))],
    )
    source = register(api).json()
    # A piece takes its whole's source; its issuer does not give it one of its own, nor
    # the whole's.
    county = api.as_user("yi_head")
    refused = county.patch(f"/api/v1/tasks/{township.pk}/", {"source": source["id"]}, format="json")
    assert_error(refused, 400, "field_locked", fields={"source"})
    not_issuer = county.patch(f"/api/v1/tasks/{task.pk}/", {"source": source["id"]}, format="json")
    assert_error(not_issuer, 403, "permission_denied")

    # One client: each ``as_user`` signs it in afresh.
    client = api.as_user("city_head")
    given = client.patch(f"/api/v1/tasks/{task.pk}/", {"source": source["id"]}, format="json")
    assert given.status_code == 200, given.content
    assert given.json()["source"]["id"] == source["id"]
    assert set(Task.objects.filter(pk__in=[township.pk, village.pk]).values_list("source_id", flat=True)) == {
        source["id"]
    }
    assert task.events.last().data["changed"] == ["source"]
    assert client.get("/api/v1/tasks/", {"source_kind": "instruction"}).json()["count"] == 3

    cleared = client.patch(f"/api/v1/tasks/{task.pk}/", {"source": None}, format="json")
    assert cleared.json()["source"] is None
    assert not Task.objects.filter(source__isnull=False).exists()
