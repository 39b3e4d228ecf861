"""The pages through Django's test client: sign-in, the workbench, the list, the task page
and its forms. What the browser shows end to end is in test_browser.py."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.links import task_page_url
from tasks import lateness
from tasks.models import ExtensionRequest, Indicator, ProgressReport, Task, TaskState, TransferRequest
from tasks.services import progress_report_create, task_transition
from tasks.workdays import working_days_between

from .conftest import PASSWORD, due_in, village_tasks

pytestmark = pytest.mark.django_db

# A 1×1 PNG: what a phone's camera sends, in miniature.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def text(response) -> str:
    """The page's visible text, tags removed and white space folded."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_home_leads_through_sign_in_to_the_workbench(client, world):
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == "/workbench/"
    workbench = client.get("/workbench/")
    assert workbench.status_code == 302 and workbench["Location"] == "/login/?next=/workbench/"


def test_anyone_with_a_membership_signs_in_without_being_staff(client, world):
    village_head = world.person("village_a_head")
    assert not village_head.is_staff
    page = client.get("/login/")
    assert "登录督办工作台" in text(page) and "csrfmiddlewaretoken" in page.content.decode()
    signed_in = client.post("/login/?next=/workbench/", {"username": "village_a_head", "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/workbench/"
    assert "我的工作台" in text(client.get("/workbench/"))


def test_a_wrong_password_is_refused_in_chinese_and_counts_toward_the_lock_out(client, world):
    wrong = client.post("/login/", {"username": "village_a_head", "password": "wrong"})
    assert wrong.status_code == 200
    assert "用户名或密码不正确" in text(wrong)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/login/", {"username": "village_a_head", "password": "wrong"})
    locked = client.post("/login/", {"username": "village_a_head", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "登录失败次数过多" in text(locked) and "登录督办工作台" in text(locked)
    assert "_auth_user_id" not in client.session


def test_the_api_keeps_its_json_lock_out(client, world):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": "village_a_head", "password": "wrong"})
    locked = client.post("/api/v1/auth/token/", {"username": "village_a_head", "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_failed_logins"


def test_signing_out_and_changing_the_password(browser_client, world):
    client = browser_client.as_user("village_a_head")
    changed = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": "Dayushubao-2026!", "new_password2": "Dayushubao-2026!"},
    )
    assert changed.status_code == 302
    world.person("village_a_head").refresh_from_db()
    assert world.person("village_a_head").check_password("Dayushubao-2026!")
    out = client.post("/logout/")
    assert out.status_code == 302 and out["Location"] == "/login/"
    assert client.get("/workbench/").status_code == 302


def test_pages_unknown_or_invisible_answer_the_chinese_404(browser_client, world, campaign):
    tasks = village_tasks(world, campaign)
    client = browser_client.as_user("heishan_head")
    for path in ("/no-such-page/", f"/tasks/{tasks['red'].pk}/", "/tasks/987654/"):
        page = client.get(path)
        assert page.status_code == 404
        assert "页面不存在" in text(page) and "不在您的工作范围内" in text(page)
    assert client.get("/api/v1/no-such/").json()["code"] == "not_found"


def test_a_message_link_opens_the_task_page_after_sign_in(client, world, tasks3):
    task = tasks3["red"]
    url = task_page_url(task.pk)
    assert url == f"{settings.DUBAN['SITE_URL']}/tasks/{task.pk}/"
    path = url.removeprefix(settings.DUBAN["SITE_URL"])
    first = client.get(path)
    assert first.status_code == 302 and first["Location"] == f"/login/?next=/tasks/{task.pk}/"
    signed_in = client.post(first["Location"], {"username": "village_a_head", "password": PASSWORD})
    assert signed_in["Location"] == path
    assert "危房改造入户核查" in text(client.get(path))


def test_the_api_docs_are_served_from_our_own_static_files(browser_client):
    client = browser_client.as_user("village_a_head")
    for path in ("/api/docs/", "/api/redoc/"):
        page = client.get(path).content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        remote = [source for source in sources if source.startswith(("http:", "https:", "//"))]
        assert sources and not remote, remote
        assert any("/static/drf_spectacular_sidecar/" in source for source in sources)


def test_the_workbench_groups_what_waits_by_light_with_working_days_and_rung(browser_client, world, tasks3):
    Task.objects.filter(pk=tasks3["red"].pk).update(escalation_rank=3)
    page = text(browser_client.as_user("village_a_head").get("/workbench/"))
    red, yellow, green = (page.index(word) for word in ("红灯·逾期 1", "黄灯·临期 1", "绿灯·正常 1"))
    assert red < page.index("危房改造入户核查") < yellow < page.index("村级光伏电站并网") < green
    # Two working days ago, counted from a weekend or holiday, is one working day overdue.
    overdue = working_days_between(tasks3["red"].due_date, lateness.today())
    assert f"已逾期 {overdue} 个工作日" in page and "剩 1 个工作日" in page and "挂牌督办" in page
    assert page.count("签收") == 3


def test_the_workbench_shows_the_issuer_what_to_verify_and_which_extension_to_decide(
    browser_client, world, tasks3
):
    village = world.person("village_a_head")
    task_transition(task_id=tasks3["green"].pk, actor=village, name="accept")
    task_transition(task_id=tasks3["green"].pk, actor=village, name="submit", comment="已建成")
    task_transition(task_id=tasks3["yellow"].pk, actor=village, name="accept")
    ExtensionRequest.objects.create(
        task=tasks3["yellow"], requested_by=village, requested_due_date=due_in(10), reason="并网排期"
    )
    page = text(browser_client.as_user("qilihe_head").get("/workbench/"))
    assert "有 2 项工作" in page
    assert "验收销号" in page and "退回" in page and "审批延期" in page
    # The village's own work is not the township head's to do.
    assert "危房改造入户核查" not in page


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_each_page_costs_the_same_queries_whatever_the_number_of_tasks(browser_client, world, campaign):
    client = browser_client.as_user("qilihe_head")
    village_tasks(world, campaign)
    few = {path: _queries(client, path) for path in ("/workbench/", "/tasks/")}
    for _ in range(4):
        village_tasks(world, campaign, lead_unit="王家屯村")
    many = {path: _queries(client, path) for path in ("/workbench/", "/tasks/")}
    assert few == many


def test_the_pages_query_counts(browser_client, world, tasks3, django_assert_num_queries):
    client = browser_client.as_user("village_a_head")
    # Session, user, memberships, the candidates, their links, pending extensions and transfers,
    # the calendar.
    with django_assert_num_queries(8):
        client.get("/workbench/")
    # Session, user, memberships, the count and the page's ids (one statement over the task
    # scope), its tasks, their links and indicators, the calendar, the units (own, below) and
    # campaigns of the filters.
    with django_assert_num_queries(11):
        client.get("/tasks/")
    task = tasks3["red"]
    village = world.person("village_a_head")
    task_transition(task_id=task.pk, actor=village, name="accept")
    report(task, village)
    # Session, user, memberships, the task, its links, indicators and steps, the calendar,
    # the unit the caller splits through and those below it, reports and their files,
    # extensions, history, escalations, the report schedule and its periods owed, notices, transfers.
    with django_assert_num_queries(19):
        client.get(f"/tasks/{task.pk}/")
    for _ in range(3):
        report(task, village)
    with django_assert_num_queries(19):
        client.get(f"/tasks/{task.pk}/")


def report(task, author):
    progress_report_create(
        task_id=task.pk,
        actor=author,
        text="入户核查",
        files=[SimpleUploadedFile("photo.png", PNG, "image/png")],
    )


def test_the_task_list_filters_pages_sorts_and_links_the_ledger_for_the_filter(
    browser_client, world, campaign
):
    client = browser_client.as_user("qilihe_head")
    for _ in range(8):
        village_tasks(world, campaign)
    red = text(client.get("/tasks/?light=red"))
    assert "共 8 项" in red and "村级光伏电站并网" not in red
    page = client.get("/tasks/?light=green&sort=-due_date&page=1")
    assert "第 1 / 1 页" not in text(page) and "共 8 项" in text(page)
    everything = client.get("/tasks/")
    assert "共 24 项" in text(everything) and "第 1 / 2 页" in text(everything)
    assert (
        'href="/api/v1/ledgers/tasks.xlsx?light=red&amp;ordering=due_date"'
        in client.get("/tasks/?light=red").content.decode()
    )
    ledger = client.get("/api/v1/ledgers/tasks.xlsx?light=red&ordering=due_date")
    assert ledger.status_code == 200 and ledger["Content-Type"].startswith("application/vnd.openxmlformats")
    bad = client.get("/tasks/?due_after=not-a-date")
    assert bad.status_code == 400 and "筛选条件有误" in text(bad)


def test_the_task_list_answers_htmx_with_the_table_alone(browser_client, world, tasks3):
    client = browser_client.as_user("qilihe_head")
    partial = client.get("/tasks/?light=yellow", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="task-table")
    assert "<html" not in partial.content.decode() and "村级光伏电站并网" in text(partial)


def test_the_task_page_shows_the_task_and_only_the_actions_allowed_now(browser_client, world, tasks3):
    task = tasks3["red"]
    village = text(browser_client.as_user("village_a_head").get(f"/tasks/{task.pk}/"))
    for fact in ("危房改造入户核查", "七里河镇", "大榆树堡村", "D级危房改造", "0 / ≥ 12 户", "红灯·逾期"):
        assert fact in village
    assert "签收" in village and "申请延期" in village
    assert "报送进展" not in village and "验收销号" not in village
    township = browser_client.as_user("qilihe_head").get(f"/tasks/{task.pk}/").content.decode()
    assert f"/tasks/{task.pk}/transitions/cancel/" in township
    assert f"/tasks/{task.pk}/transitions/accept/" not in township


def test_a_village_accepts_reports_a_figure_with_a_photo_and_submits(browser_client, world, tasks3):
    task = tasks3["red"]
    client = browser_client.as_user("village_a_head")
    accepted = client.post(f"/tasks/{task.pk}/transitions/accept/", {"comment": ""})
    assert accepted.status_code == 302 and accepted["Location"] == f"/tasks/{task.pk}/"
    after_accept = client.get(f"/tasks/{task.pk}/")
    assert "已签收。" in text(after_accept) and "办理中" in text(after_accept)
    page = after_accept.content.decode()
    assert 'capture="environment"' in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    indicator = Indicator.objects.get(task=task)
    body = {
        "text": "已完成 7 户入户核查",
        f"figure_{indicator.pk}": "7",
        "idempotency_key": key,
    }
    reported = client.post(
        f"/tasks/{task.pk}/reports/", {**body, "files": SimpleUploadedFile("photo.png", PNG, "image/png")}
    )
    assert reported.status_code == 302
    # The connection dropped before the answer came: the same form is sent again.
    again = client.post(
        f"/tasks/{task.pk}/reports/", {**body, "files": SimpleUploadedFile("photo.png", PNG, "image/png")}
    )
    assert again.status_code == 302
    assert ProgressReport.objects.filter(task=task).count() == 1
    indicator.refresh_from_db()
    assert indicator.current_value == Decimal(7)
    shown = client.get(f"/tasks/{task.pk}/")
    assert "这份进展已经报送过" in text(shown)
    assert "D级危房改造：7 户" in text(shown) and 'alt="佐证照片 photo.png"' in shown.content.decode()
    submitted = client.post(f"/tasks/{task.pk}/transitions/submit/", {"comment": "入户核查完成"})
    assert submitted.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.SUBMITTED


def test_a_refused_report_shows_the_services_message_and_keeps_what_was_typed(browser_client, world, tasks3):
    task = tasks3["red"]
    client = browser_client.as_user("village_a_head")
    client.post(f"/tasks/{task.pk}/transitions/accept/")
    indicator = Indicator.objects.get(task=task)
    refused = client.post(
        f"/tasks/{task.pk}/reports/",
        {"text": "核查了一千户", f"figure_{indicator.pk}": "1000", "idempotency_key": "k1"},
    )
    assert refused.status_code == 400
    assert "超出合理范围" in text(refused) and "核查了一千户" in refused.content.decode()
    assert not ProgressReport.objects.filter(task=task).exists()


def test_return_needs_a_reason_and_close_verifies(browser_client, world, tasks3):
    task = tasks3["green"]
    village = world.person("village_a_head")
    task_transition(task_id=task.pk, actor=village, name="accept")
    task_transition(task_id=task.pk, actor=village, name="submit", comment="完成")
    client = browser_client.as_user("qilihe_head")
    refused = client.post(f"/tasks/{task.pk}/transitions/return/", {"comment": " "})
    assert refused.status_code == 400 and "请填写说明或理由" in text(refused)
    assert client.post(f"/tasks/{task.pk}/transitions/close/").status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.CLOSED
    # The village may not close its own work: the service refuses, and nothing changes.
    task2 = tasks3["yellow"]
    task_transition(task_id=task2.pk, actor=village, name="accept")
    task_transition(task_id=task2.pk, actor=village, name="submit", comment="完成")
    forbidden = browser_client.as_user("village_a_head").post(f"/tasks/{task2.pk}/transitions/close/")
    assert forbidden.status_code == 403 and "无权" in text(forbidden)
    task2.refresh_from_db()
    assert task2.state == TaskState.SUBMITTED


def test_an_extension_is_requested_and_decided_through_the_pages(browser_client, world, tasks3):
    task = tasks3["yellow"]
    wanted = due_in(15)
    asked = browser_client.as_user("village_a_head").post(
        f"/tasks/{task.pk}/extensions/", {"requested_due_date": wanted.isoformat(), "reason": "设备未到"}
    )
    assert asked.status_code == 302
    extension = ExtensionRequest.objects.get(task=task)
    client = browser_client.as_user("qilihe_head")
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert f"/extensions/{extension.pk}/decision/" in page
    rejected_without_reason = client.post(f"/extensions/{extension.pk}/decision/", {"decision": "reject"})
    assert rejected_without_reason.status_code == 400 and "驳回须说明理由" in text(rejected_without_reason)
    decision = f"/extensions/{extension.pk}/decision/"
    approved = client.post(decision, {"decision": "approve", "comment": "同意"})
    assert approved.status_code == 302
    task.refresh_from_db()
    assert task.due_date == wanted and task.original_due_date != wanted
    assert (
        browser_client.as_user("heishan_head")
        .post(f"/extensions/{extension.pk}/decision/", {"decision": "approve"})
        .status_code
        == 404
    )


def test_a_township_decomposes_to_its_villages_with_their_shares(browser_client, world, campaign):
    from tasks.services import IndicatorSpec, task_create

    task = task_create(
        actor=world.person("yi_head"),
        campaign=campaign,
        title="乡镇危房改造",
        issuing_unit=world.unit("义县"),
        lead_unit=world.unit("七里河镇"),
        due_date=due_in(20),
        kind="target",
        indicators=[IndicatorSpec(name="危房改造", target=Decimal(30), unit_of_measure="户")],
        assign=True,
    )
    indicator = task.indicators.get()
    village_a, village_b = world.unit("大榆树堡村"), world.unit("王家屯村")
    client = browser_client.as_user("qilihe_head")
    page = text(client.get(f"/tasks/{task.pk}/"))
    assert "分解到下级" in page and "大榆树堡村" in page and "王家屯村" in page
    answer = client.post(
        f"/tasks/{task.pk}/decompose/",
        {
            "title": "危房改造",
            "due_date": due_in(15).isoformat(),
            f"unit_{village_a.pk}": "on",
            f"share_{village_a.pk}_{indicator.pk}": "12",
            f"unit_{village_b.pk}": "on",
            f"share_{village_b.pk}_{indicator.pk}": "18",
        },
    )
    assert answer.status_code == 302
    children = Task.objects.filter(parent=task).order_by("lead_unit__name")
    assert [(c.lead_unit.name, c.indicators.get().target) for c in children] == sorted(
        [("大榆树堡村", Decimal(12)), ("王家屯村", Decimal(18))]
    )
    too_much = client.post(
        f"/tasks/{task.pk}/decompose/",
        {
            "title": "再分",
            "due_date": due_in(15).isoformat(),
            f"unit_{village_a.pk}": "on",
            f"share_{village_a.pk}_{indicator.pk}": "100",
        },
    )
    assert too_much.status_code == 400 and Task.objects.filter(parent=task).count() == 2
    # The county that issued it sees it but splits nothing of it.
    assert browser_client.as_user("yi_member").post(f"/tasks/{task.pk}/decompose/", {}).status_code == 403


def test_a_post_without_its_csrf_token_is_refused_with_the_chinese_page(world, tasks3):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.person("village_a_head"))
    refused = client.post(f"/tasks/{tasks3['red'].pk}/transitions/accept/")
    assert refused.status_code == 403 and "无权访问" in text(refused)
    assert Task.objects.get(pk=tasks3["red"].pk).state == TaskState.ASSIGNED


def test_the_task_page_shows_the_report_schedule_its_next_date_and_missed_periods(
    browser_client, world, tasks3
):
    import datetime

    import time_machine

    from tasks.services import report_schedule_set

    task = tasks3["green"]
    day = datetime.date(2026, 10, 12)
    with time_machine.travel(datetime.datetime(2026, 9, 1, 1, tzinfo=datetime.UTC), tick=False):
        Task.objects.filter(pk=task.pk).update(due_date=day + datetime.timedelta(days=90))
        report_schedule_set(task_id=task.pk, actor=world.person("qilihe_head"), cadence="monthly", day=28)
    with time_machine.travel(datetime.datetime(2026, 10, 12, 1, tzinfo=datetime.UTC), tick=False):
        page = text(browser_client.as_user("village_a_head").get(f"/tasks/{task.pk}/"))
    assert "报送要求 每月28日前，下次报送 2026-10-28" in page
    assert "逾期未报：9月28日" in page


def test_the_asking_unit_withdraws_its_transfer_request_on_the_page(browser_client, world, tasks3):
    task = tasks3["green"]
    village = browser_client.as_user("village_a_head")
    asked = village.post(
        f"/tasks/{task.pk}/transfers/", {"to_unit": world.unit("王家屯村").pk, "reason": "属地"}
    )
    assert asked.status_code == 302
    transfer = TransferRequest.objects.get(task=task)
    assert "撤回转办申请" in text(village.get(f"/tasks/{task.pk}/"))
    # The issuer decides it, but does not withdraw it.
    assert "撤回转办申请" not in text(browser_client.as_user("qilihe_head").get(f"/tasks/{task.pk}/"))
    refused = browser_client.as_user("qilihe_head").post(f"/transfers/{transfer.pk}/withdraw/", {})
    assert refused.status_code == 403
    withdrawn = browser_client.as_user("village_a_head").post(
        f"/transfers/{transfer.pk}/withdraw/", {"comment": "本村办理"}
    )
    assert withdrawn.status_code == 302
    transfer.refresh_from_db()
    assert (transfer.state, transfer.decision_comment) == ("withdrawn", "本村办理")
    page = text(village.get(f"/tasks/{task.pk}/"))
    assert "已撤回" in page and "撤回转办申请" in page  # the state, and the history's event
    assert "审批转办" not in text(browser_client.as_user("qilihe_head").get("/workbench/"))


def test_a_transfer_is_asked_and_decided_and_an_item_returned_through_the_pages(
    browser_client, world, tasks3
):
    task = tasks3["green"]
    client = browser_client.as_user("village_a_head")
    page = text(client.get(f"/tasks/{task.pk}/"))
    assert "申请转办" in page and "退回交办单位" in page
    # Only the township's other village is offered: the county's own units are not its to name.
    form = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "王家屯村" in form and "新立屯村" not in form
    no_reason = client.post(f"/tasks/{task.pk}/transfers/", {"to_unit": world.unit("王家屯村").pk})
    assert no_reason.status_code == 400 and 'role="alert"' in no_reason.content.decode()
    outside = client.post(
        f"/tasks/{task.pk}/transfers/", {"to_unit": world.unit("新立屯村").pk, "reason": "属地"}
    )
    assert outside.status_code == 400 and 'role="alert"' in outside.content.decode()
    assert not TransferRequest.objects.exists()
    asked = client.post(
        f"/tasks/{task.pk}/transfers/", {"to_unit": world.unit("王家屯村").pk, "reason": "属地"}
    )
    assert asked.status_code == 302
    transfer = TransferRequest.objects.get(task=task)

    township = browser_client.as_user("qilihe_head")
    assert "审批转办" in text(township.get("/workbench/"))
    refused = township.post(f"/transfers/{transfer.pk}/decision/", {"decision": "refuse"})
    assert refused.status_code == 400 and "不同意转办须说明理由" in text(refused)
    approved = township.post(f"/transfers/{transfer.pk}/decision/", {"decision": "approve"})
    assert approved.status_code == 302
    task.refresh_from_db()
    assert task.lead_unit == world.unit("王家屯村")
    assert "审批转办" not in text(township.get("/workbench/"))

    # The other village returns its yellow item: back with the township, off the village's pages.
    yellow = tasks3["yellow"]
    village = browser_client.as_user("village_a_head")
    returned = village.post(f"/tasks/{yellow.pk}/transitions/return_to_issuer/", {"comment": "不属于本村"})
    assert returned.status_code == 302 and returned["Location"] == "/workbench/"
    assert village.get(f"/tasks/{yellow.pk}/").status_code == 404
    yellow.refresh_from_db()
    assert yellow.state == TaskState.DRAFT


def test_the_pieces_of_ongoing_work_split_on_the_page_are_ongoing_unless_told(
    browser_client, world, campaign
):
    from tasks.services import task_create

    task = task_create(
        actor=world.person("yi_head"),
        campaign=campaign,
        title="作风建设",
        issuing_unit=world.unit("义县"),
        lead_unit=world.unit("七里河镇"),
        due_date=None,
        ongoing=True,
        assign=True,
    )
    village_a, village_b = world.unit("大榆树堡村"), world.unit("王家屯村")
    client = browser_client.as_user("qilihe_head")
    page = text(client.get(f"/tasks/{task.pk}/"))
    assert "子任务按上面的完成时限办结，不长期坚持" in page
    # The form keeps the whole's date: the pieces are ongoing, as the whole is.
    kept = client.post(
        f"/tasks/{task.pk}/decompose/",
        {"title": "作风建设", "due_date": task.due_date.isoformat(), f"unit_{village_a.pk}": "on"},
    )
    assert kept.status_code == 302
    piece = Task.objects.get(parent=task)
    assert (piece.ongoing, piece.due_date) == (True, task.due_date)
    # An earlier date alone is refused; with the box checked, the piece has that date.
    earlier = {"title": "专项整治", "due_date": due_in(10).isoformat(), f"unit_{village_b.pk}": "on"}
    refused = client.post(f"/tasks/{task.pk}/decompose/", earlier)
    assert refused.status_code == 400 and "长期坚持的子任务不设完成时限" in text(refused)
    assert client.post(f"/tasks/{task.pk}/decompose/", {**earlier, "not_ongoing": "on"}).status_code == 302
    dated = Task.objects.get(parent=task, lead_unit=village_b)
    assert (dated.ongoing, dated.due_date) == (False, due_in(10))
