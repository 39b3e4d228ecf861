"""The issue's story in a real browser: Playwright driving Debian's chromium against the live
server on PostgreSQL. Each step asserts what the person reads on the page.

Set DUBAN_SCREENSHOTS=1 to write the screenshots the README shows into docs/screenshots/;
otherwise they go to the test's temporary folder."""

import io
import os
import re
from pathlib import Path

import pytest
from django.db import connections
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from notifications.services import sweep_run
from outbox.models import OutboundMessage
from responsibility.models import Role, Unit, User
from responsibility.services import membership_create, user_create
from tasks import lateness
from tasks.workdays import working_days_between

from .conftest import PASSWORD, current_campaign, village_tasks

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHROMIUM = "/usr/bin/chromium"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1280, "height": 900}}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def photo() -> bytes:
    """A photo as a phone's camera would send it, in miniature: a JPEG of a red roof."""
    image = Image.new("RGB", (160, 120), (180, 30, 30))
    image.paste((240, 240, 240), (40, 60, 120, 120))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def browser(story):
    """Chromium, started after the story's data is written and stopped before the test's
    database is flushed and restored: Playwright's sync API runs an event loop in this
    thread, under which Django hands out other database connections than the one that
    holds the data to restore (so each test launches its own)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: bin/test installs Debian's chromium package.")
    # The test's own reads between browser steps are plain synchronous ones all the same.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()
        # The connections opened under the loop are closed before it ends, or the test
        # database could not be dropped after the run.
        connections.close_all()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def shoot(tmp_path):
    folder = SCREENSHOTS if os.environ.get("DUBAN_SCREENSHOTS") else tmp_path

    def shoot(page, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return shoot


def open_as(browser, live_server, username: str | None, path: str = "/", **device):
    """A fresh browser (its own cookies) on ``path``, signed in as ``username`` through the
    sign-in page that a signed-out visitor meets first."""
    page = browser.new_context(locale="zh-CN", **(device or DESK)).new_page()
    page.goto(live_server.url + path)
    if username:
        expect(page.get_by_role("heading", name="登录督办工作台")).to_be_visible()
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="登录督办工作台")).to_have_count(0)
    return page


def light_section(page, word: str):
    return page.locator("section.group", has=page.get_by_role("heading", name=re.compile(word)))


@pytest.fixture
def story(world):
    """A village's three tasks of a campaign running now, a member of the village who
    reports, everyone with an address, and today's sweep with its digests."""
    campaign = current_campaign(world)
    tasks = village_tasks(world, campaign)
    member = user_create(username="dayushubao_member", full_name="冯会计", password=PASSWORD)
    membership_create(user=member, unit=world.unit("大榆树堡村"), role=Role.MEMBER)
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@jz.example.cn")
    Unit.objects.update(email="office@jz.example.cn")
    sweep_run(day=lateness.today(), send=False)
    return tasks


def test_the_story_from_the_village_phone_to_the_county_office(browser, live_server, story, shoot):
    # The county's supervision office looks at its dashboard before the village acts.
    office = open_as(browser, live_server, "yi_supervisor", "/dashboard/")
    expect(office.get_by_role("heading", level=1)).to_have_text("督办看板 · 义县")
    township = office.get_by_role("row", name=re.compile("七里河镇"))
    cells = township.locator("td")
    red, closed, rate = cells.nth(0), cells.nth(3), cells.nth(4)
    expect(red).to_have_text("1")
    expect(closed).to_have_text("0")
    expect(rate).to_have_text("—")

    # A village member on a phone signs in and finds the red task on the workbench.
    phone = open_as(browser, live_server, "dayushubao_member", **PHONE)
    expect(phone.get_by_role("heading", name="我的工作台", level=1)).to_be_visible()
    reds = light_section(phone, "红灯")
    expect(reds).to_contain_text("危房改造入户核查")
    # Two working days ago, counted from a weekend or holiday, is one working day overdue.
    overdue = working_days_between(story["red"].due_date, lateness.today())
    expect(reds).to_contain_text(f"已逾期 {overdue} 个工作日")
    expect(reds).to_contain_text("签收")
    expect(light_section(phone, "黄灯")).to_contain_text("村级光伏电站并网")
    shoot(phone, "workbench-phone")
    reds.get_by_role("link", name="危房改造入户核查").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("危房改造入户核查")

    # Signs for it, reports the figure with a photo, and asks for it to be closed.
    phone.get_by_role("button", name="签收").click()
    expect(phone.get_by_role("status")).to_contain_text("已签收。")
    phone.get_by_label("进展情况").fill("12 户 D 级危房全部入户核查完毕，照片附后。")
    phone.get_by_label("D级危房改造（户）").fill("12")
    phone.get_by_label("佐证材料（可拍照）").set_input_files(
        files=[{"name": "入户核查.jpg", "mimeType": "image/jpeg", "buffer": photo()}]
    )
    phone.get_by_role("button", name="报送", exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text("进展已报送。")
    expect(phone.locator(".indicators")).to_contain_text("12 / ≥ 12 户")
    expect(phone.locator(".indicators")).to_contain_text("已达标")
    expect(phone.get_by_role("img", name="佐证照片 入户核查.jpg")).to_be_visible()
    phone.get_by_label("理由", exact=True).fill("入户核查完成，申请验收。")
    phone.get_by_role("button", name="申请销号").click()
    expect(phone.get_by_role("status")).to_contain_text("已申请销号。")
    expect(phone.locator(".meta .state")).to_have_text("已申请销号")
    expect(phone.get_by_role("button", name="申请销号")).to_have_count(0)
    shoot(phone, "task-phone")

    # The township head verifies and closes it from the desk.
    township = open_as(browser, live_server, "qilihe_head")
    waiting = light_section(township, "红灯")
    expect(waiting).to_contain_text("危房改造入户核查")
    expect(waiting).to_contain_text("验收销号")
    shoot(township, "workbench-desk")
    waiting.get_by_role("link", name="危房改造入户核查").click()
    expect(township.get_by_role("listitem").filter(has_text="报送进展")).to_contain_text("D级危房改造：12 户")
    township.get_by_role("button", name="验收销号").click()
    expect(township.get_by_role("status")).to_contain_text("已验收销号。")
    expect(township.locator(".meta .state")).to_have_text("已销号")
    shoot(township, "task-desk")

    # The county office's counts change: no red left, one closed, though late.
    office.reload()
    expect(red).to_have_text("0")
    expect(closed).to_have_text("1")
    expect(rate).to_have_text("0%")
    shoot(office, "dashboard-desk")


def test_a_digest_link_opens_the_task_after_sign_in_and_another_county_gets_404(browser, live_server, story):
    red = story["red"]
    # Today's sweep told the village's head that the task is overdue.
    digest = OutboundMessage.objects.get(recipient_user__username="village_a_head")
    (path,) = set(re.findall(r"https?://[^/\s]+(/tasks/\d+/)", digest.body_text))
    assert path == f"/tasks/{red.pk}/"

    page = open_as(browser, live_server, "village_a_head", path, **PHONE)
    assert page.url == live_server.url + path
    expect(page.get_by_role("heading", level=1)).to_have_text("危房改造入户核查")
    expect(page.locator(".meta")).to_contain_text("红灯·逾期")

    stranger = open_as(browser, live_server, "heishan_head", path)
    expect(stranger.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(stranger.get_by_text("危房改造入户核查")).to_have_count(0)


def test_the_report_form_works_with_javascript_off(browser, live_server, story):
    red = story["red"]
    context = browser.new_context(java_script_enabled=False, locale="zh-CN", **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/tasks/{red.pk}/")
    page.get_by_label("用户名").fill("village_a_head")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="签收").click()
    expect(page.get_by_role("status")).to_contain_text("已签收。")
    page.get_by_label("进展情况").fill("已核查 5 户")
    page.get_by_label("D级危房改造（户）").fill("5")
    page.get_by_role("button", name="报送", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("进展已报送。")
    expect(page.locator(".indicators")).to_contain_text("5 / ≥ 12 户")
    expect(page.locator(".timeline li").filter(has_text="已核查 5 户")).to_have_count(1)


def test_a_village_asks_on_its_phone_for_a_transfer_and_the_township_approves_it(browser, live_server, story):
    green = story["green"]
    phone = open_as(browser, live_server, "dayushubao_member", f"/tasks/{green.pk}/", **PHONE)
    expect(phone.get_by_role("heading", level=1)).to_have_text("村卫生室标准化建设")
    phone.get_by_label("转办至").select_option(label="王家屯村")
    phone.get_by_label("转办理由").fill("卫生室建在王家屯村，由该村负责。")
    phone.get_by_role("button", name="提交转办申请").click()
    expect(phone.get_by_role("status")).to_contain_text("转办申请已提交")
    transfers = phone.locator("section", has=phone.get_by_role("heading", name="转办申请"))
    expect(transfers).to_contain_text("大榆树堡村 → 王家屯村")
    expect(transfers).to_contain_text("待审批")
    # Usable at 360 pixels: nothing runs off the side of the phone.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    township = open_as(browser, live_server, "qilihe_head")
    waiting = light_section(township, "绿灯")
    expect(waiting).to_contain_text("审批转办")
    expect(waiting).to_contain_text("申请转办至 王家屯村")
    waiting.get_by_role("link", name="村卫生室标准化建设").click()
    township.get_by_role("button", name="同意转办", exact=True).click()
    expect(township.get_by_role("status")).to_contain_text("转办申请已处理")
    expect(township.locator(".facts")).to_contain_text("王家屯村")
    expect(township.get_by_role("listitem").filter(has_text="同意转办")).to_contain_text("郑镇长")

    # The village's yellow item is not its own either: returned, it leaves the village's pages.
    yellow = story["yellow"]
    phone.goto(f"{live_server.url}/tasks/{yellow.pk}/")
    phone.get_by_label("理由", exact=True).fill("光伏电站不在本村。")
    phone.get_by_role("button", name="退回交办单位").click()
    expect(phone.get_by_role("status")).to_contain_text("已退回交办单位")
    expect(phone.get_by_role("heading", name="我的工作台", level=1)).to_be_visible()
    expect(phone.get_by_text("村级光伏电站并网")).to_have_count(0)


def test_the_township_sets_and_removes_a_report_schedule_on_its_phone(browser, live_server, story):
    green = story["green"]
    phone = open_as(browser, live_server, "qilihe_head", f"/tasks/{green.pk}/", **PHONE)
    form = phone.locator("#schedule-form")
    expect(form.get_by_role("heading", name="报送要求（按期反馈）")).to_be_visible()
    form.get_by_label("报送周期").select_option(label="每月")
    form.get_by_label(re.compile("^报送日（")).fill("28")
    form.get_by_label(re.compile("^报送要求原文")).fill("每月28日前")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    form.get_by_role("button", name="设置报送要求").click()
    expect(phone.get_by_role("status")).to_contain_text("报送要求已保存。")
    expect(phone.locator(".facts .reporting")).to_contain_text("每月28日前，下次报送")
    expect(phone.locator("#schedule-form").get_by_label("报送周期")).to_have_value("monthly")

    # A weekly schedule without its weekday: the service's refusal, shown on the page.
    phone.locator("#schedule-form").get_by_label("报送周期").select_option(label="每周")
    phone.locator("#schedule-form").get_by_label(re.compile("^报送日（")).fill("")
    phone.get_by_role("button", name="修改报送要求").click()
    expect(phone.locator("p.error")).to_contain_text("按周报送须写明星期几")
    expect(phone.locator(".facts .reporting")).to_contain_text("每月28日前")

    phone.get_by_role("button", name="取消报送要求").click()
    expect(phone.get_by_role("status")).to_contain_text("报送要求已取消。")
    expect(phone.locator(".facts .reporting")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
