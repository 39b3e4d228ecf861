"""The office's pages in a real browser (Playwright driving Debian's chromium against the live
server on PostgreSQL): a county office drafts, edits, publishes and downloads a bulletin; a
city head imports a table with an error, then the corrected one. Each step asserts what the
person reads.

Set DUBAN_SCREENSHOTS=1 to write the screenshots the README shows into docs/screenshots/."""

import datetime
import os
import subprocess
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from bulletins.models import Bulletin, BulletinState
from tasks import lateness
from tasks.models import Task
from tests.imports.test_apis import ROWS, xlsx

from .conftest import PASSWORD, current_campaign, village_tasks
from .test_import_pages import WITH_ERROR

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHROMIUM = "/usr/bin/chromium"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1280, "height": 900}}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def office_data(world):
    """A campaign running now with a village's red, yellow and green tasks, for the figures."""
    campaign = current_campaign(world)
    return village_tasks(world, campaign)


@pytest.fixture
def chromium(office_data, settings, tmp_path):
    """Chromium, started after the data is written and stopped before the test's database
    is flushed and restored (Playwright's sync API runs an event loop in this thread, under
    which Django hands out connections of its own, closed here)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: bin/test installs Debian's chromium package.")
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()
        connections.close_all()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def shoot(page, name: str, tmp_path: Path) -> None:
    folder = SCREENSHOTS if os.environ.get("DUBAN_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def signed_in(browser, live_server, username: str, path: str, **device):
    page = browser.new_context(locale="zh-CN", accept_downloads=True, **(device or DESK)).new_page()
    page.goto(live_server.url + path)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="登录督办工作台")).to_have_count(0)
    return page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_office_drafts_publishes_and_downloads_a_bulletin(chromium, live_server, tmp_path):
    today = lateness.today()
    page = signed_in(chromium, live_server, "yi_supervisor", "/bulletins/", **PHONE)
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
    shoot(page, "bulletin-draft-phone", tmp_path)

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
    stranger = signed_in(chromium, live_server, "heishan_head", f"/bulletins/{bulletin.pk}/")
    expect(stranger.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(stranger.get_by_text("关于本月脱贫攻坚任务推进情况的通报")).to_have_count(0)


def test_a_city_head_imports_a_table_with_an_error_then_the_corrected_one(
    chromium, live_server, world, tmp_path
):
    page = signed_in(chromium, live_server, "city_head", "/workbench/", **PHONE)
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
    shoot(page, "import-errors-phone", tmp_path)
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
