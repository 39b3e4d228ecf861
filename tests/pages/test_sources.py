"""The task page shows where the work came from, with links to the source's files, and the
task list's form filters by the kind of source."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.models import SourceKind
from tasks.services import source_create, task_create
from tests.tasks.test_apis import TINY_PDF, tiny_png

from .conftest import due_in
from .test_pages import text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sourced(world, campaign):
    """A 批示 of 义县 with two files, become a task of 七里河镇, beside a task without a source."""
    source = source_create(
        actor=world.person("yi_head"),
        registered_by=world.unit("义县"),
        kind=SourceKind.INSTRUCTION,
        document_number="义县委办发〔2018〕7号",
        document_date=due_in(-20),
        issued_by="中共义县县委办公室",
        title="关于贫困户档案整改的批示",
        original_text="各乡镇要对照问题清单，逐户补齐档案，确保对账销号。",
        files=[
            SimpleUploadedFile("批示件.pdf", TINY_PDF, "application/pdf"),
            SimpleUploadedFile("批示照片.png", tiny_png(), "image/png"),
        ],
    )

    def make(title, **extra):
        return task_create(
            actor=world.person("yi_head"),
            campaign=campaign,
            title=title,
            issuing_unit=world.unit("义县"),
            lead_unit=world.unit("七里河镇"),
            due_date=due_in(10),
            assign=True,
            **extra,
        )

    task = make("贫困户档案整改", source=source)
    return {"source": source, "task": task, "plain": make("村级光伏电站并网")}


def test_the_task_page_shows_the_source_with_links_to_its_files(browser_client, sourced):
    response = browser_client.as_user("qilihe_head").get(f"/tasks/{sourced['task'].pk}/")
    page = text(response)
    section = page[page.index("任务来源") :]
    for shown in (
        "批示",
        "关于贫困户档案整改的批示",
        "义县委办发〔2018〕7号",
        sourced["source"].document_date.isoformat(),
        "中共义县县委办公室",
        "各乡镇要对照问题清单，逐户补齐档案，确保对账销号。",
        "批示件.pdf",
        "批示照片.png",
    ):
        assert shown in section, shown
    html = response.content.decode()
    links = [f'href="/api/v1/source-attachments/{file.pk}/"' for file in sourced["source"].attachments.all()]
    assert all(link in html for link in links)
    download = browser_client.get(f"/api/v1/source-attachments/{sourced['source'].attachments.first().pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == TINY_PDF
    plain = text(browser_client.get(f"/tasks/{sourced['plain'].pk}/"))
    assert "任务来源" not in plain


def test_the_task_list_filters_by_the_kind_of_source(browser_client, sourced):
    client = browser_client.as_user("qilihe_head")
    page = client.get("/tasks/?source_kind=instruction")
    assert page.status_code == 200
    shown = text(page)
    assert "贫困户档案整改" in shown and "村级光伏电站并网" not in shown
    assert '<option value="instruction" selected>' in page.content.decode()
    assert "贫困户档案整改" not in text(client.get("/tasks/?source_kind=meeting"))
    assert client.get("/tasks/?source_kind=rumour").status_code == 400
