"""The import page: a dry run shown as the table with each error at its row and column,
then a confirmation that imports the same file without a second upload."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.models import Task

from .test_pages import text

pytestmark = pytest.mark.django_db

HEADER = "序号,任务,牵头单位,完成时限\n"
FIRST = "1,完成D级危房改造,义县,2018年11月30日\n"
GOOD = HEADER + FIRST + "2,扶贫小额信贷投放,市住建委,2018年11月20日\n"
BAD = HEADER + FIRST + "2,扶贫小额信贷,不存在的单位,下个月\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, world, content: str):
    return client.post(
        "/import/",
        {
            "campaign": world.campaign.pk,
            "file": SimpleUploadedFile("分解表.csv", content.encode(), "text/csv"),
        },
    )


def test_a_dry_run_shows_the_table_and_confirming_imports_it(browser_client, world):
    client = browser_client.as_user("city_head")
    assert "导入任务分解表" in text(client.get("/import/"))
    dry = upload(client, world, GOOD)
    page = text(dry)
    assert dry.status_code == 200 and "将新建 2 项" in page and "扶贫小额信贷投放" in page
    assert not Task.objects.exists()
    html = dry.content.decode()
    fields = dict(
        (name, value)
        for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', html)
        if name != "csrfmiddlewaretoken"
    )
    confirmed = client.post("/import/confirm/", fields)
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/tasks/?campaign={world.campaign.pk}"
    assert sorted(Task.objects.values_list("title", flat=True)) == ["完成D级危房改造", "扶贫小额信贷投放"]
    assert "已导入：新建 2 项" in text(client.get(confirmed["Location"]))


def test_errors_stand_at_their_row_and_column_and_nothing_can_be_confirmed(browser_client, world):
    client = browser_client.as_user("city_head")
    page = upload(client, world, BAD).content.decode()
    assert "确认导入" not in page and "处错误" in page
    # The table's third line (its header is the first).
    row = page[page.index('<th scope="row">3</th>') :]
    row = row[: row.index("</tr>")]
    assert row.count('class="cell-error"') == 2 and "不存在的单位" in row
    assert not Task.objects.exists()


def test_someone_else_s_file_cannot_be_confirmed_and_others_may_not_import(browser_client, world):
    assert upload(browser_client.as_user("yi_head"), world, GOOD).status_code == 403
    owner = browser_client.as_user("city_head")
    html = upload(owner, world, GOOD).content.decode()
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', html).group(1)
    other = browser_client.as_user("yi_head")
    refused = other.post(
        "/import/confirm/", {"campaign": world.campaign.pk, "digest": digest, "filename": "分解表.csv"}
    )
    assert refused.status_code == 302 and refused["Location"] == "/import/"
    assert not Task.objects.exists()
