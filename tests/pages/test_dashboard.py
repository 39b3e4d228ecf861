"""The dashboard page: the rows come from tasks.dashboard.unit_dashboard; the page adds
the drill-down, today's ladder, the overdue items by rung and the ranking chart."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.services import sweep_run
from responsibility.models import User
from tasks import lateness
from tasks.models import Task
from tasks.services import task_transition

from .conftest import village_tasks
from .test_pages import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def swept(world, campaign):
    tasks = village_tasks(world, campaign)
    village_tasks(world, campaign, lead_unit="王家屯村")
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@jz.example.cn")
    sweep_run(day=lateness.today(), send=False)
    return tasks


def test_the_county_office_sees_its_townships_and_drills_down_to_the_villages(browser_client, world, swept):
    client = browser_client.as_user("yi_supervisor")
    county = client.get("/dashboard/")
    page = text(county)
    assert "督办看板 · 义县" in page
    row = re.search(r"七里河镇 (\d+) (\d+) (\d+) (\d+) (—|\d+%) (\d+)", page)
    assert row.groups() == ("2", "2", "2", "0", "—", "6")
    township = world.unit("七里河镇")
    assert f'href="/dashboard/{township.pk}/"' in county.content.decode()
    villages = text(client.get(f"/dashboard/{township.pk}/"))
    assert "义县 › 七里河镇" in villages
    assert re.search(r"大榆树堡村 1 1 1 0 — 3", villages) and re.search(r"王家屯村 1 1 1 0 — 3", villages)


def test_closing_on_time_changes_the_counts_and_the_ranking(browser_client, world, swept):
    village = world.person("village_a_head")
    green = swept["green"]
    task_transition(task_id=green.pk, actor=village, name="accept")
    task_transition(task_id=green.pk, actor=village, name="submit", comment="完成")
    task_transition(task_id=green.pk, actor=world.person("qilihe_head"), name="close")
    page = text(browser_client.as_user("qilihe_head").get(f"/dashboard/{world.unit('七里河镇').pk}/"))
    assert re.search(r"大榆树堡村 1 1 0 1 100% 3", page)
    chart = page[page.index("按期销号率排名") :]
    assert chart.index("1. 大榆树堡村 100%") < chart.index("2. 王家屯村 —")


def test_today_s_ladder_and_the_overdue_items_by_rung(browser_client, world, swept):
    page = text(browser_client.as_user("yi_supervisor").get("/dashboard/"))
    ladder = page[page.index("今日督办") :]
    assert "危房改造入户核查" in ladder and "逾期催办" in ladder
    assert "冯书记（电子邮件）" in ladder
    overdue = page[page.index("逾期事项") : page.index("今日督办")]
    assert overdue.count("危房改造入户核查") == 2 and "逾期催办 2" in overdue


def test_a_mayor_opens_the_city_and_another_county_is_refused(browser_client, world, swept):
    assert "督办看板 · 锦州市" in text(browser_client.as_user("city_head").get("/dashboard/"))
    refused = browser_client.as_user("heishan_head").get(f"/dashboard/{world.unit('义县').pk}/")
    assert refused.status_code == 403 and "无权访问" in text(refused)
    assert browser_client.as_user("heishan_head").get("/dashboard/987654/").status_code == 404


def test_the_dashboard_costs_the_same_queries_whatever_it_counts(browser_client, world, campaign, swept):
    client = browser_client.as_user("yi_supervisor")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/dashboard/").status_code == 200
        return len(captured)

    before = queries()
    for _ in range(3):
        village_tasks(world, campaign)
    sweep_run(day=lateness.today(), send=False)
    assert Task.objects.count() == 15
    assert queries() == before
