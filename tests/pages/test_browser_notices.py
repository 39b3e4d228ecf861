"""The 回执 of a 督办通知单 in a real browser: the village's head opens the task page on a
phone, fills the 回执 form under the notice and sends it, and reads it back recorded. The
browser and the sign-in are test_browser.py's."""

import datetime

import pytest
from playwright.sync_api import expect

from bulletins.models import Notice
from bulletins.notice_services import notice_issue, notice_render
from tasks import lateness

from .conftest import current_campaign, village_tasks
from .test_browser import PHONE, browser, open_as  # noqa: F401 (the fixtures are used by name)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def story(world, settings, tmp_path):
    """The county office's 挂牌 notice about the village's red task, its PDF rendered in the
    test's own folder; ``browser`` starts after it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    tasks = village_tasks(world, current_campaign(world))
    issued = notice_issue(
        actor=world.person("yi_supervisor"),
        task_id=tasks["red"].pk,
        urgency="listed",
        request="逾期未完成，请三日内报送整改措施。",
        reply_by=lateness.today() + datetime.timedelta(days=3),
    )
    return notice_render(notice_id=issued.pk)


def test_the_unit_returns_the_reply_from_a_phone(browser, live_server, story):  # noqa: F811
    notice = story
    page = open_as(browser, live_server, "village_a_head", f"/tasks/{notice.task_id}/", **PHONE)
    section = page.locator("section", has=page.get_by_role("heading", name="督办通知单", exact=True))
    expect(section).to_contain_text(f"县委督查室{notice.numbering}")
    expect(section).to_contain_text("回执时限")
    form = section.locator("form", has=page.get_by_role("heading", name="报送回执"))
    expect(form).to_be_visible()

    promised = (lateness.today() + datetime.timedelta(days=10)).isoformat()
    form.get_by_label("办理情况及措施").fill("已完成入户核查12户，正在施工。")
    form.get_by_label("完成或承诺完成日期").fill(promised)
    form.get_by_label("承诺于该日前完成").check()
    form.get_by_label("签发人").fill("冯书记")
    form.get_by_role("button", name="报送回执").click()

    expect(page.get_by_role("status")).to_contain_text("回执已报送。")
    section = page.locator("section", has=page.get_by_role("heading", name="督办通知单", exact=True))
    expect(section).to_contain_text("已完成入户核查12户，正在施工。")
    expect(section).to_contain_text(f"承诺于 {promised} 前完成")
    expect(section).to_contain_text("签发人：冯书记")
    expect(section.get_by_role("button", name="报送回执")).to_have_count(0)
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    replied = Notice.objects.get(pk=notice.pk)
    assert (replied.reply_signer, replied.reply_completed) == ("冯书记", False)
    assert replied.replied_by.username == "village_a_head"
    assert replied.pdf_replied  # the PDF is rendered again with the 回执, once committed
