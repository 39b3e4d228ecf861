"""回头看 on the pages: the workbench lists the re-checks coming due for the issuer, the
task page shows the re-check and, to the issuer only, the form that records it."""

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.models import RecheckAttachment, Task, TaskState
from tests.tasks.test_recheck import PNG, at_nine, closed_item

from .test_pages import text

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def item(world) -> Task:
    """Closed Friday 9 November 2018: re-checked by 7 January 2019."""
    return closed_item(world, D(2018, 11, 9))


def test_the_workbench_lists_a_recheck_for_the_issuer_as_it_comes_due(browser_client, world, item):
    issuer = browser_client.as_user("qilihe_head")
    with time_machine.travel(at_nine(D(2018, 12, 3)), tick=False):
        assert "村道路灯损坏未修复" not in text(issuer.get("/workbench/"))  # weeks away
    with time_machine.travel(at_nine(D(2019, 1, 2)), tick=False):
        page = text(issuer.get("/workbench/"))
    assert "村道路灯损坏未修复" in page
    assert "回头看复查 2019-01-07" in page and "待办： 回头看复查" in page
    with time_machine.travel(at_nine(D(2019, 1, 8)), tick=False):
        page = text(issuer.get("/workbench/"))
    assert "已逾期 1 个工作日" in page
    assert "村道路灯损坏未修复" not in text(browser_client.as_user("village_a_head").get("/workbench/"))


def test_the_issuer_records_a_failed_recheck_on_the_task_page(browser_client, world, item):
    url = f"/tasks/{item.pk}/"
    with time_machine.travel(at_nine(D(2018, 12, 3)), tick=False):
        village = text(browser_client.as_user("village_a_head").get(url))
    assert "应于 2019-01-07 前复查 · 待复查" in village
    assert "记录复查结果" not in village

    issuer = browser_client.as_user("qilihe_head")
    with time_machine.travel(at_nine(D(2019, 1, 8)), tick=False):
        page = text(issuer.get(url))
        assert "逾期未复查" in page and "记录复查结果" in page
        refused = issuer.post(f"{url}recheck/", {"result": "failed", "notes": "路灯再次损坏"})
        assert refused.status_code == 400
        assert "复查未通过须重新确定整改时限" in text(refused)
        assert Task.objects.get(pk=item.pk).state == TaskState.CLOSED

        done = issuer.post(
            f"{url}recheck/", {"result": "failed", "notes": "路灯再次损坏", "due_date": "2019-01-31"}
        )
        assert done.status_code == 302 and done["Location"] == url
        page = text(issuer.get(url))
    assert "复查未通过，已重新整改" in page
    assert "回头看复查：复查未通过" in page and "路灯再次损坏" in page
    assert "重新整改 1 次" in page
    assert "记录复查结果" not in page
    task = Task.objects.get(pk=item.pk)
    assert (task.state, task.reopen_count, task.due_date) == (TaskState.IN_PROGRESS, 1, D(2019, 1, 31))


def test_the_issuer_attaches_the_site_photo_to_a_passed_recheck_and_the_unit_sees_it(
    browser_client, world, item, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    url = f"/tasks/{item.pk}/"
    issuer = browser_client.as_user("qilihe_head")
    photo = SimpleUploadedFile("路灯现场.png", PNG, content_type="image/png")
    with time_machine.travel(at_nine(D(2018, 12, 20)), tick=False):
        assert 'name="files"' in issuer.get(url).content.decode()
        done = issuer.post(f"{url}recheck/", {"result": "passed", "notes": "路灯正常", "files": [photo]})
        assert done.status_code == 302, done.content
        village = browser_client.as_user("village_a_head").get(url).content.decode()
    attachment = RecheckAttachment.objects.get()
    link = f"/api/v1/recheck-attachments/{attachment.pk}/"
    assert "复查通过" in village and link in village and "路灯现场.png" in village
    download = browser_client.as_user("village_a_head").get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
