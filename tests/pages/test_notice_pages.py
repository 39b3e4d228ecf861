"""The task page lists the item's 督办通知单 with their PDF, and the receiving unit returns
the 回执 from it."""

import datetime

import pytest
from django.utils import timezone

from bulletins.notice_services import notice_issue, notice_render
from tasks.models import EventAction, Obligation, ObligationKind, TaskEvent
from tasks.rungs import Level

from .test_pages import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(world, tasks3, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    issued = notice_issue(
        actor=world.person("yi_supervisor"),
        task_id=tasks3["red"].pk,
        urgency="listed",
        request="逾期未完成，请三日内报送整改措施。",
        reply_by=timezone.localdate() + datetime.timedelta(days=3),
    )
    return notice_render(notice_id=issued.pk)


def test_the_unit_reads_the_notice_and_returns_the_reply_from_the_task_page(browser_client, world, notice):
    client = browser_client.as_user("village_a_head")
    url = f"/tasks/{notice.task_id}/"
    page = client.get(url)
    body = text(page)

    assert f"县委督查室{notice.numbering}" in body and "挂牌" in body
    assert f'href="/api/v1/notices/{notice.pk}/pdf/"' in page.content.decode()
    assert "报送回执" in body

    action = f"/tasks/{notice.task_id}/notices/{notice.pk}/reply/"
    prefix = f"n{notice.pk}-"
    reply = {
        f"{prefix}measures": "已完成入户核查12户，正在施工。",
        f"{prefix}reply_date": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        f"{prefix}completed": "false",
        f"{prefix}signer": "冯书记",
    }
    unsigned = client.post(action, {**reply, f"{prefix}signer": ""})
    assert unsigned.status_code == 400
    assert "已完成入户核查12户" in text(unsigned)  # what was typed is shown again

    answered = client.post(action, reply)
    assert answered.status_code == 302
    body = text(client.get(url))
    assert "已完成入户核查12户，正在施工。" in body and "签发人：冯书记" in body
    assert "报送回执" in body  # the history's line for it; the form is gone
    assert f'name="n{notice.pk}-signer"' not in client.get(url).content.decode()
    assert Obligation.objects.get(task=notice.task, kind=ObligationKind.REPLY).met_at is not None
    assert TaskEvent.objects.filter(task=notice.task, action=EventAction.NOTICE_REPLIED).count() == 1


def test_the_office_sees_the_notice_without_a_reply_form_and_cannot_post_one(browser_client, notice):
    client = browser_client.as_user("yi_supervisor")
    page = client.get(f"/tasks/{notice.task_id}/")

    assert "回执未报送" in text(page)
    assert f'name="n{notice.pk}-signer"' not in page.content.decode()
    refused = client.post(
        f"/tasks/{notice.task_id}/notices/{notice.pk}/reply/",
        {
            f"n{notice.pk}-measures": "代为报送",
            f"n{notice.pk}-reply_date": timezone.localdate().isoformat(),
            f"n{notice.pk}-completed": "true",
            f"n{notice.pk}-signer": "吴督查",
        },
    )
    assert refused.status_code == 403
    assert "回执由承办单位报送" in text(refused)


def test_the_office_withdraws_its_notice_from_the_task_page(browser_client, notice):
    client = browser_client.as_user("yi_supervisor")
    url = f"/tasks/{notice.task_id}/"
    action = f"/tasks/{notice.task_id}/notices/{notice.pk}/withdraw/"
    page = client.get(url)
    assert "撤销通知单" in text(page)
    assert f'name="w{notice.pk}-reason"' in page.content.decode()
    assert f"督办级别：{Level.LISTED.label}" in text(page)  # the rung the notice took

    unexplained = client.post(action, {f"w{notice.pk}-reason": " "})
    assert unexplained.status_code == 400
    withdrawn = client.post(action, {f"w{notice.pk}-reason": "已并入市级挂牌督办。"})
    assert withdrawn.status_code == 302

    body = text(client.get(url))
    assert "督办通知单已撤销。" in body
    assert "已撤销" in body and "撤销理由：已并入市级挂牌督办。" in body
    page = client.get(url).content.decode()
    assert f'name="w{notice.pk}-reason"' not in page
    # The rung is closed: kept in the history, marked, and the item no longer shown listed.
    assert f"督办级别：{Level.LISTED.label}" not in body
    assert f'class="withdrawn">已撤销 {timezone.localdate():%Y-%m-%d}</strong>' in page
    assert Obligation.objects.get(task=notice.task, kind=ObligationKind.REPLY).met_at is not None
    assert TaskEvent.objects.filter(task=notice.task, action=EventAction.NOTICE_WITHDRAWN).count() == 1

    # The unit no longer has a 回执 form, and cannot withdraw.
    unit = browser_client.as_user("village_a_head")
    assert f'name="n{notice.pk}-signer"' not in unit.get(url).content.decode()


def test_the_unit_cannot_withdraw_the_notice(browser_client, notice):
    client = browser_client.as_user("village_a_head")
    assert f'name="w{notice.pk}-reason"' not in client.get(f"/tasks/{notice.task_id}/").content.decode()

    refused = client.post(
        f"/tasks/{notice.task_id}/notices/{notice.pk}/withdraw/", {f"w{notice.pk}-reason": "不需要"}
    )

    assert refused.status_code == 403
    assert "督办通知单只能由签发它的督查室撤销" in text(refused)
    assert not TaskEvent.objects.filter(action=EventAction.NOTICE_WITHDRAWN).exists()
