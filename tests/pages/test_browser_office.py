"""The office's pages in a real browser (Playwright driving Debian's chromium against the live
server on PostgreSQL): a county office drafts, edits, publishes and downloads a bulletin; a
city head imports a table with an error, then the corrected one. Each step asserts what the
person reads. The browser, the sign-in and the screenshots are test_browser.py's."""

import datetime
import subprocess

import pytest
from playwright.sync_api import expect

from bulletins.models import Bulletin, BulletinState
from tasks import lateness
from tasks.models import Task
from tests.imports.test_apis import ROWS, xlsx

from .conftest import current_campaign, village_tasks
from .test_browser import PHONE, browser, open_as, shoot  # noqa: F401 (the fixtures are used by name)
from .test_import_pages import WITH_ERROR

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def story(world, settings, tmp_path):
    """A campaign running now with a village's red, yellow and green tasks, for the figures,
    and the rendered PDFs in the test's own folder; ``browser`` starts after it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return village_tasks(world, current_campaign(world))


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_office_drafts_publishes_and_downloads_a_bulletin(browser, live_server, shoot, tmp_path):  # noqa: F811
    today = lateness.today()
    page = open_as(browser, live_server, "yi_supervisor", "/bulletins/", **PHONE)
    expect(page.get_by_role("heading", name="督查通报")).to_be_visible()
    assert fits_the_screen(page)
    page.get_by_role("link", name="起草新一期通报").click()

    expect(page.get_by_role("heading", name="起草通报")).to_be_visible()
    expect(page.get_by_text("发文单位：县委督查室")).to_be_visible()
    page.get_by_label("标题").fill("关于本月脱贫攻坚任务推进情况的通报")
    page.get_by_label("统计起始日").fill((today - datetime.timedelta(days=30)).isoformat())
    page.get_by_label("统计截止日").fill(today.isoformat())
    page.get_by_role("group", name="主送").get_by_label("七里河镇").check()
    page.get_by_role("group", name="抄送").get_by_label("锦州市").check()
    page.get_by_label("导语").fill("现将本月任务推进情况通报如下。")
    assert fits_the_screen(page)
    page.get_by_role("button", name="保存草稿并预览").click()

    expect(page.get_by_role("status")).to_contain_text("已起草第 1 期")
    expect(page.get_by_role("heading", level=1)).to_have_text("关于本月脱贫攻坚任务推进情况的通报")
    expect(page.locator(".meta .state")).to_have_text("草稿")
    preview = page.frame_locator("iframe.preview")
    expect(preview.get_by_text("义县应完成任务 1 项", exact=False)).to_be_visible()
    expect(preview.get_by_role("row", name="1 七里河镇")).to_contain_text("1")
    expect(preview.get_by_text("现将本月任务推进情况通报如下。")).to_be_visible()
    shoot(page, "bulletin-draft-phone")

    page.get_by_role("link", name="修改文字和统计期").click()
    page.get_by_label("结语").fill("各乡镇要对照问题清单逐项整改。")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status")).to_contain_text("通报已保存。")
    expect(preview.get_by_text("各乡镇要对照问题清单逐项整改。")).to_be_visible()

    page.get_by_role("button", name="印发本期通报").click()
    expect(page.get_by_role("status")).to_contain_text("已印发。")
    expect(page.locator(".meta .state")).to_have_text("已印发")
    expect(page.get_by_role("button", name="印发本期通报")).to_have_count(0)
    expect(page.get_by_role("link", name="修改文字和统计期")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF").click()
    saved = tmp_path / "bulletin.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"督查通报{today.year}年第1期.pdf"
    printed = "".join(
        subprocess.run(
            ["pdftotext", str(saved), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "关于本月脱贫攻坚任务推进情况的通报" in printed and "各乡镇要对照问题清单逐项整改。" in printed
    assert "主送：七里河镇。" in printed and "抄送：锦州市。" in printed
    bulletin = Bulletin.objects.get()
    assert bulletin.state == BulletinState.PUBLISHED
    expect(page.locator(".digest")).to_have_text(bulletin.pdf_sha256)

    # Another county's head gets the 404 page for it.
    stranger = open_as(browser, live_server, "heishan_head", f"/bulletins/{bulletin.pk}/")
    expect(stranger.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(stranger.get_by_text("关于本月脱贫攻坚任务推进情况的通报")).to_have_count(0)


def test_a_table_with_an_error_then_the_corrected_one(browser, live_server, world, shoot):  # noqa: F811
    page = open_as(browser, live_server, "city_head", "/workbench/", **PHONE)
    page.get_by_role("link", name="导入分解表").click()
    expect(page.get_by_role("heading", name="导入任务分解表")).to_be_visible()
    page.get_by_label("导入到攻坚行动").select_option(value=str(world.campaign.pk))
    page.get_by_label("任务分解表").set_input_files(
        files=[{"name": "分解表.xlsx", "mimeType": XLSX, "buffer": xlsx(WITH_ERROR)}]
    )
    page.get_by_role("button", name="试导入").click()

    expect(page.get_by_role("heading", name="表格有 1 处错误，未导入任何内容")).to_be_visible()
    expect(page.locator(".meta")).to_contain_text("导入到 百日攻坚")
    cell = page.locator("#cell-4-lead_unit")
    expect(cell).to_contain_text("不存在县")
    expect(cell).to_contain_text("错误：")
    expect(page.get_by_role("row", name="5 2 完成D级危房改造938户")).to_contain_text("黑山县")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    shoot(page, "import-errors-phone")
    assert not Task.objects.filter(campaign=world.campaign).exists()

    page.get_by_role("link", name="上传改正后的表格").click()
    expect(page.get_by_label("导入到攻坚行动")).to_have_value(str(world.campaign.pk))
    page.get_by_label("任务分解表").set_input_files(
        files=[{"name": "分解表.xlsx", "mimeType": XLSX, "buffer": xlsx(ROWS)}]
    )
    page.get_by_role("button", name="试导入").click()
    expect(page.get_by_text("没有错误：将新建 5 项，更新 0 项，0 项不变。")).to_be_visible()
    expect(page.get_by_role("row", name="4 1 完成D级危房改造950户")).to_contain_text("新建")
    page.get_by_role("button", name="确认导入").click()

    expect(page.get_by_role("status")).to_contain_text("已导入：新建 5 项，更新 0 项，未变 0 项")
    expect(page.get_by_role("row", name="完成D级危房改造950户")).to_contain_text("草稿")
    assert Task.objects.filter(campaign=world.campaign).count() == 5


def test_the_office_forms_work_with_javascript_off(browser, live_server, world):  # noqa: F811
    page = open_as(browser, live_server, "city_head", "/imports/", java_script_enabled=False, **PHONE)
    page.get_by_label("导入到攻坚行动").select_option(value=str(world.campaign.pk))
    page.get_by_label("任务分解表").set_input_files(
        files=[{"name": "分解表.xlsx", "mimeType": XLSX, "buffer": xlsx(ROWS)}]
    )
    page.get_by_role("button", name="试导入").click()
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status")).to_contain_text("已导入：新建 5 项")

    page.goto(f"{live_server.url}/bulletins/new/")
    page.get_by_label("标题").fill("关于导入任务的情况通报")
    page.get_by_label("统计起始日").fill(world.campaign.starts_on.isoformat())
    page.get_by_label("统计截止日").fill(world.campaign.ends_on.isoformat())
    page.get_by_role("button", name="保存草稿并预览").click()
    expect(page.get_by_role("status")).to_contain_text("已起草第 1 期")
    page.get_by_role("button", name="印发本期通报").click()
    expect(page.locator(".meta .state")).to_have_text("已印发")
    page.get_by_label("撤回理由").fill("统计期有误")
    page.get_by_role("button", name="撤回本期通报").click()
    expect(page.locator(".meta .state")).to_have_text("已撤回")
    expect(page.locator(".facts")).to_contain_text("统计期有误")
