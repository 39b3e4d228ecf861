"""The bulletin pages: list, a draft previewed as the PDF it will print (read back with
poppler's pdftotext), its words edited, published, withdrawn; nobody else's draft seen."""

import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bulletins.models import Bulletin, BulletinState
from bulletins.services import bulletin_create
from tasks import lateness

from .test_pages import text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def draft(world, title="关于百日攻坚推进情况的通报") -> Bulletin:
    today = lateness.today()
    return bulletin_create(
        actor=world.person("city_supervisor"),
        issuer=world.unit("市委督查室"),
        title=title,
        period_start=today.replace(day=1),
        period_end=today,
        main_recipients=[world.unit("义县")],
    )


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "preview.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_office_previews_edits_publishes_and_withdraws_a_bulletin(browser_client, world, tmp_path):
    bulletin = draft(world)
    client = browser_client.as_user("city_supervisor")
    listed = text(client.get("/bulletins/"))
    assert "关于百日攻坚推进情况的通报" in listed and "草稿" in listed
    page = text(client.get(f"/bulletins/{bulletin.pk}/"))
    assert "预览印发效果" in page and "印发" in page and "修改文字" in page
    preview = client.get(f"/bulletins/{bulletin.pk}/preview.pdf")
    assert preview["Content-Type"] == "application/pdf"
    assert "关于百日攻坚推进情况的通报" in pdf_text(preview.content, tmp_path).replace(" ", "")

    saved = client.post(
        f"/bulletins/{bulletin.pk}/edit/",
        {
            "title": "关于十二月任务推进情况的通报",
            "intro": "现将推进情况通报如下。",
            "closing": "",
            "distribution_scope": "本期发至县团级",
        },
    )
    assert saved.status_code == 302
    assert "现将推进情况通报如下" in pdf_text(
        client.get(f"/bulletins/{bulletin.pk}/preview.pdf").content, tmp_path
    )

    assert client.post(f"/bulletins/{bulletin.pk}/publish/").status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.state == BulletinState.PUBLISHED and bulletin.title == "关于十二月任务推进情况的通报"
    published = text(client.get(f"/bulletins/{bulletin.pk}/"))
    assert "修改文字" not in published and "撤回通报" in published
    refused = client.post(f"/bulletins/{bulletin.pk}/withdraw/", {"reason": ""})
    assert refused.status_code == 400 and "请填写撤回理由" in text(refused)
    assert client.post(f"/bulletins/{bulletin.pk}/withdraw/", {"reason": "数据有误"}).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.state == BulletinState.WITHDRAWN


def test_a_draft_is_nobody_else_s_and_a_reader_may_not_edit(browser_client, world):
    bulletin = draft(world)
    assert browser_client.as_user("heishan_head").get(f"/bulletins/{bulletin.pk}/").status_code == 404
    assert browser_client.as_user("yi_member").get(f"/bulletins/{bulletin.pk}/preview.pdf").status_code == 404
    browser_client.as_user("city_supervisor").post(f"/bulletins/{bulletin.pk}/publish/")
    reader = browser_client.as_user("yi_member")
    page = text(reader.get(f"/bulletins/{bulletin.pk}/"))
    assert "关于百日攻坚推进情况的通报" in page and "撤回通报" not in page and "修改文字" not in page
    refused = reader.post(f"/bulletins/{bulletin.pk}/withdraw/", {"reason": "想撤回"})
    assert refused.status_code == 403
    assert Bulletin.objects.get(pk=bulletin.pk).state == BulletinState.PUBLISHED


def test_the_list_costs_the_same_queries_for_more_bulletins(browser_client, world):
    client = browser_client.as_user("city_supervisor")
    draft(world)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/bulletins/").status_code == 200
        return len(captured)

    one = queries()
    for number in range(3):
        draft(world, title=f"第{number}份通报")
    assert queries() == one
