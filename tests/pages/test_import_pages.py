"""The import pages through Django's test client: the dry run shown as the table with each
error in its cell, the confirmation (all or nothing, once), and who may import."""

import re

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from imports.models import ProblemRecord
from tasks.models import Task
from tests.imports.test_apis import ROWS, upload, xlsx
from tests.imports.test_problems import TODAY, problem_rows
from tests.imports.test_problems import xlsx as problem_xlsx

from .test_pages import text

pytestmark = pytest.mark.django_db

# Row 4 of the sheet (a title row, the header, then ROWS) names a county that does not exist.
WITH_ERROR = [
    ROWS[0],
    ["1", "完成D级危房改造950户", "蒋副市长", "不存在县", "", "市住建委", "10月底前", ""],
    *ROWS[2:],
]


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


def dry_run(client, world, rows=ROWS):
    return client.post("/imports/", {"campaign": world.campaign.pk, "file": upload(xlsx(rows))})


def token_of(page) -> str:
    return re.search(r'name="upload" value="([0-9a-f]+)"', page.content.decode()).group(1)


def test_a_table_with_an_error_shows_it_in_its_cell_and_writes_nothing(browser_client, world):
    client = browser_client.as_user("city_head")
    form = client.get("/imports/")
    assert form.status_code == 200 and "百日攻坚" in text(form) and 'accept=".xlsx' in form.content.decode()
    page = dry_run(client, world, WITH_ERROR)
    assert page.status_code == 200
    shown = text(page)
    assert "表格有 1 处错误，未导入任何内容" in shown and "第 4 行“牵头单位”" in shown
    html = page.content.decode()
    cell = re.search(r'<td id="cell-4-lead_unit" class="bad">(.*?)</td>', html, flags=re.S).group(1)
    assert "不存在县" in cell and "错误：" in cell
    # The other rows are shown as they were read; none would be written.
    assert "完成D级危房改造938户" in shown and "各县(市)区" in shown and "新建" not in shown
    assert 'name="upload"' not in html and "上传改正后的表格" in shown
    assert not Task.objects.filter(campaign=world.campaign).exists()


def test_a_corrected_table_is_confirmed_once_and_again_changes_nothing(browser_client, world):
    client = browser_client.as_user("city_head")
    page = dry_run(client, world)
    shown = text(page)
    assert "没有错误：将新建 5 项，更新 0 项，0 项不变" in shown and "确认导入" in shown
    assert not Task.objects.filter(campaign=world.campaign).exists()
    token = token_of(page)
    confirmed = client.post("/imports/confirm/", {"upload": token})
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/tasks/?campaign={world.campaign.pk}"
    assert Task.objects.filter(campaign=world.campaign).count() == 5
    assert "已导入：新建 5 项" in text(client.get(confirmed["Location"]))
    # A second tap, or the answer lost on the way: the first answer again, nothing doubled.
    again = client.post("/imports/confirm/", {"upload": token})
    assert again.status_code == 302 and "已经导入过" in text(client.get(again["Location"]))
    assert Task.objects.filter(campaign=world.campaign).count() == 5
    # The same table uploaded anew updates what it created, by number.
    assert "更新 0 项，5 项不变" in text(dry_run(client, world))


def test_an_upload_is_confirmed_only_by_who_sent_it_and_only_while_kept(browser_client, world):
    token = token_of(dry_run(browser_client.as_user("city_head"), world))
    other = browser_client.as_user("yi_head").post("/imports/confirm/", {"upload": token})
    assert other.status_code == 400 and "已过期或不存在" in text(other)
    cache.clear()
    expired = browser_client.as_user("city_head").post("/imports/confirm/", {"upload": token})
    assert expired.status_code == 400 and "已过期或不存在" in text(expired)
    assert not Task.objects.filter(campaign=world.campaign).exists()


def test_only_the_campaigns_issuing_heads_import(browser_client, world):
    county = browser_client.as_user("yi_head")
    assert "您目前没有可导入的攻坚行动" in text(county.get("/imports/"))
    refused = dry_run(county, world)
    assert refused.status_code == 400 and not Task.objects.filter(campaign=world.campaign).exists()


def test_a_file_that_is_no_table_is_refused_with_the_importers_message(browser_client, world):
    client = browser_client.as_user("city_head")
    refused = client.post(
        "/imports/", {"campaign": world.campaign.pk, "file": upload(b"not a table", "分解表.xls")}
    )
    assert refused.status_code == 400 and "不支持旧版 Excel 文件" in text(refused)


def _queries(client, world, rows) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert dry_run(client, world, rows).status_code == 200
    return len(queries)


def test_the_dry_run_costs_the_same_queries_for_a_longer_table(browser_client, world):
    client = browser_client.as_user("city_head")
    longer = [*ROWS, *[[str(n), f"第{n}项任务", "", "义县", "", "", "11月30日前", ""] for n in range(2, 30)]]
    assert _queries(client, world, ROWS) == _queries(client, world, longer)


def test_a_default_deadline_is_imported_only_once_accepted_and_role_names_are_mapped(browser_client, world):
    rows = [
        ["1", "完成D级危房改造950户", "蒋副市长", "义县", "", "各行业主管部门", "", ""],
        ["2", "完成D级危房改造938户", "蒋副市长", "黑山县", "", "市住建委", "11月30日前", ""],
    ]
    client = browser_client.as_user("city_head")
    unmapped = dry_run(client, world, rows)
    assert "第 3 行“配合单位”" in text(unmapped) and 'name="upload"' not in unmapped.content.decode()
    page = client.post(
        "/imports/",
        {
            "campaign": world.campaign.pk,
            "file": upload(xlsx(rows)),
            "unit_map": "各行业主管部门=市住建委\n",
            "default_deadline": "2018-11-20",
        },
    )
    shown = text(page)
    assert "没有错误：将新建 2 项" in shown and "表中 1 项任务没有完成时限，按 2018-11-20 导入" in shown
    assert "（未填，默认 2018-11-20）" in shown
    token = token_of(page)
    refused = client.post("/imports/confirm/", {"upload": token})
    assert refused.status_code == 400 and "未导入任何内容" in text(refused)
    assert not Task.objects.filter(campaign=world.campaign).exists()
    accepted = client.post("/imports/confirm/", {"upload": token, "accept_default_deadline": "on"})
    assert accepted.status_code == 302
    task = Task.objects.get(campaign=world.campaign, title="完成D级危房改造950户")
    assert task.due_date.isoformat() == "2018-11-20"
    # 各行业主管部门 stood for 市住建委, as the office said.
    assert list(task.task_units.filter(role="cooperating").values_list("unit__name", flat=True)) == [
        "市住建委"
    ]


@time_machine.travel(TODAY, tick=False)
def test_a_problem_list_is_tried_then_confirmed_into_issued_rectification_items(browser_client, world):
    client = browser_client.as_user("city_head")
    assert "问题清单" in text(client.get("/imports/"))
    rows = problem_rows(6)
    rows[2][2] = "不存在村"

    def send(data):
        return client.post(
            "/imports/",
            {
                "kind": "problems",
                "campaign": world.campaign.pk,
                "file": upload(problem_xlsx(data), "问题清单.xlsx"),
            },
        )

    bad = send(rows)
    assert bad.status_code == 200 and "第 5 行“所在单位”" in text(bad)
    cell = re.search(
        r'<td id="cell-5-location" class="bad">(.*?)</td>', bad.content.decode(), flags=re.S
    ).group(1)
    assert "不存在村" in cell and "没有名为“不存在村”的单位" in cell
    assert not Task.objects.exists()

    page = send(problem_rows(6))
    assert "没有错误：将新建整改事项 6 项并交办责任单位，更新未办结的事项 0 项" in text(page)
    confirmed = client.post("/imports/confirm/", {"upload": token_of(page)})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"/tasks/?campaign={world.campaign.pk}&kind=rectification"
    assert "新建整改事项 6 项（已交办）" in text(client.get(confirmed["Location"]))
    assert (
        Task.objects.filter(kind="rectification", state="assigned").count()
        == 6
        == ProblemRecord.objects.count()
    )
    assert (
        "0 项并交办责任单位，更新未办结的事项 0 项（责任单位、整改时限、整改措施按新表），6 项已导入过"
        in text(send(problem_rows(6)))
    )
