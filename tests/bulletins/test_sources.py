"""The issue's "done when" for sources, played through the API: a 批示 with its files is
registered, becomes tasks (one split down to a township), is found by source in the task
list, and the bulletin counts the items by source, read back from its PDF with pdftotext."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bulletins import figures
from bulletins.figures import scope_for
from bulletins.services import bulletin_publish, bulletin_render, bulletin_scope
from core.files import stored_file_open
from tasks.services import ChildSpec, task_decompose
from tests.tasks.test_apis import TINY_PDF, tiny_png

from .conftest import ISSUED_ON, on, poppler, squeezed

pytestmark = pytest.mark.django_db

SEPTEMBER = datetime.date(2018, 9, 28)
OCTOBER = datetime.date(2018, 10, 15)
NOVEMBER = (datetime.date(2018, 11, 1), datetime.date(2018, 11, 30))
D = datetime.date


def registered(api, world, **fields) -> dict:
    response = api.as_user("city_supervisor").post(
        "/api/v1/sources/",
        {"registered_by": world.unit("市委督查室").pk, **fields},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def issued(api, world, source: dict | None, title: str, lead_unit: str, due: datetime.date) -> int:
    body = {
        "campaign": world.campaign.pk,
        "title": title,
        "issuing_unit": world.unit("锦州市").pk,
        "lead_unit": world.unit(lead_unit).pk,
        "due_date": due.isoformat(),
        "assign": True,
        **({"source": source["id"]} if source else {}),
    }
    response = api.as_user("city_head").post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_source_document_becomes_work_found_in_the_list_and_counted_in_the_bulletin(
    api, world, draft, tmp_path
):
    with on(SEPTEMBER):
        instruction = registered(
            api,
            world,
            kind="instruction",
            document_number="锦市委办发〔2018〕12号",
            document_date="2018-09-27",
            issued_by="中共锦州市委办公室",
            title="关于中央考核和中省第三方评估反馈问题整改的批示",
            original_text="把脱贫攻坚问题整改作为一项严肃的政治任务，扎扎实实抓好整改。",
            files=[
                SimpleUploadedFile("批示件.pdf", TINY_PDF, content_type="application/pdf"),
                SimpleUploadedFile("批示照片.png", tiny_png(), content_type="image/png"),
            ],
        )
        meeting = registered(
            api,
            world,
            kind="meeting",
            title="市脱贫攻坚领导小组第九次会议议定事项",
            original_text="实现今年所有建档立卡中D级危房要清底的目标，这是硬指标。",
        )
    with on(OCTOBER):
        closed = issued(
            api, world, instruction, "贫困户收入漏统错统整改", "义县", datetime.date(2018, 11, 10)
        )
        late = issued(api, world, instruction, "贫困户档案不规范整改", "黑山县", datetime.date(2018, 11, 20))
        housing = issued(api, world, meeting, "D级危房改造清底", "义县", datetime.date(2018, 12, 20))
        issued(api, world, None, "村级活动场所建设", "义县", datetime.date(2018, 11, 30))
        # Signed for and split down: the township's piece carries the meeting's source, and
        # is one item with its whole in the city's bulletin.
        api.as_user("yi_member").post(f"/api/v1/tasks/{housing}/transitions/accept/", {}, format="json")
        (township,) = task_decompose(
            task_id=housing,
            actor=world.person("yi_head"),
            children=[ChildSpec("七里河镇D级危房改造", world.unit("七里河镇"), datetime.date(2018, 12, 10))],
        )
    with on(datetime.date(2018, 11, 9)):
        api.as_user("yi_member").post(f"/api/v1/tasks/{closed}/transitions/accept/", {}, format="json")
        api.as_user("yi_member").post(f"/api/v1/tasks/{closed}/transitions/submit/", {"comment": "已整改"})
        assert api.as_user("city_head").post(f"/api/v1/tasks/{closed}/transitions/close/").status_code == 200

    with on(ISSUED_ON):
        # The township finds its piece of the meeting's work by the source.
        listed = api.as_user("qilihe_head").get("/api/v1/tasks/", {"source_kind": "meeting"}).json()
        assert [task["id"] for task in listed["results"]] == [township.pk]
        city = api.as_user("city_supervisor").get("/api/v1/tasks/", {"source_kind": "instruction"}).json()
        assert sorted(task["id"] for task in city["results"]) == sorted([closed, late])

        scope = bulletin_scope(draft)
        with CaptureQueriesContext(connection) as queries:
            counted = figures.sources(scope)
        assert len(queries.captured_queries) == 1
        by_kind = {row["kind"]: row for row in counted["kinds"]}
        assert {k: (r["total"], r["closed"], r["overdue"]) for k, r in by_kind.items() if r["total"]} == {
            "instruction": (2, 1, 1),
            "meeting": (1, 0, 0),
        }
        assert (counted["total"], counted["closed"], counted["overdue"]) == (3, 1, 1)

        bulletin = bulletin_publish(bulletin_id=draft.pk, actor=world.person("city_supervisor"))
        bulletin = bulletin_render(bulletin_id=bulletin.pk)
    pdf = tmp_path / "bulletin.pdf"
    with stored_file_open(bulletin.pdf) as stored:
        pdf.write_bytes(stored.read())
    text = squeezed(poppler("pdftotext", pdf))
    sources = text[text.index("七、交办事项来源情况") :]
    assert "登记来源的交办事项3件，已办结1件，逾期未完成1件。" in sources
    assert "批示2件1件1件" in sources
    assert "会议议定1件0件0件" in sources
    assert "合计3件1件1件" in sources
    assert "上级交办" not in sources


def test_a_county_counts_its_piece_of_the_city_source_once(api, world):
    """In 义县's bulletin the county's piece of a city 批示 is one item, its township's
    piece of it none more."""
    with on(SEPTEMBER):
        source = registered(api, world, kind="instruction", title="关于危房改造质量问题的批示")
    with on(OCTOBER):
        county = issued(api, world, source, "危房改造质量整改", "义县", datetime.date(2018, 11, 30))
        task_decompose(
            task_id=county,
            actor=world.person("yi_head"),
            children=[
                ChildSpec("七里河镇危房改造质量整改", world.unit("七里河镇"), datetime.date(2018, 11, 20))
            ],
        )
    scope = scope_for(world.unit("义县"), *NOVEMBER, ISSUED_ON)
    assert figures.sources(scope)["total"] == 1
    township = scope_for(
        world.unit("七里河镇"), datetime.date(2018, 11, 1), datetime.date(2018, 11, 30), ISSUED_ON
    )
    assert figures.sources(township)["total"] == 1
