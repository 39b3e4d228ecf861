"""The bulletin pages through Django's test client: the list, drafting with the preview as it
prints, editing, publishing with the PDF read back, withdrawing, and who is offered what."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bulletins.models import Bulletin, BulletinState
from bulletins.services import bulletin_create
from tasks import lateness
from tests.bulletins.conftest import poppler, squeezed

from .conftest import village_tasks
from .test_pages import text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def period() -> dict:
    today = lateness.today()
    return {
        "period_start": (today - datetime.timedelta(days=30)).isoformat(),
        "period_end": today.isoformat(),
    }


def draft(world, **changes) -> Bulletin:
    today = lateness.today()
    return bulletin_create(
        actor=world.person("yi_supervisor"),
        issuer=world.unit("县委督查室"),
        title=changes.pop("title", "关于本月任务推进情况的通报"),
        period_start=today - datetime.timedelta(days=30),
        period_end=today,
        main_recipients=[world.unit("七里河镇")],
        copy_to=[world.unit("锦州市")],
        **changes,
    )


def test_an_office_drafts_a_bulletin_and_sees_the_figures_as_they_will_print(browser_client, world, campaign):
    village_tasks(world, campaign)
    client = browser_client.as_user("yi_supervisor")
    listing = text(client.get("/bulletins/"))
    assert "起草新一期通报" in listing and "还没有可查看的通报" in listing
    form = client.get("/bulletins/new/")
    page = form.content.decode()
    assert form.status_code == 200 and "发文单位： 县委督查室" in text(form)
    # 主送 offers the units below the county, 抄送 those and the ones above; never 黑山县.
    for unit in ("七里河镇", "锦州市", "市委督查室"):
        assert f"> {unit}</label>" in page
    assert "黑山县" not in page
    created = client.post(
        "/bulletins/new/",
        {
            "issuer": world.unit("县委督查室").pk,
            "title": "关于本月脱贫攻坚任务推进情况的通报",
            "kind": "supervision",
            **period(),
            "distribution_scope": "本期发至乡镇",
            "main_recipients": [world.unit("七里河镇").pk],
            "copy_to": [world.unit("锦州市").pk],
            "intro": "现将本月任务推进情况通报如下。",
        },
    )
    bulletin = Bulletin.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/bulletins/{bulletin.pk}/"
    detail = client.get(created["Location"])
    shown = text(detail)
    year = lateness.today().year
    assert f"{year}年第1期" in shown and "草稿" in shown and "已起草第 1 期" in shown
    assert "印发本期通报" in shown and "修改文字和统计期" in shown and "撤回本期通报" not in shown
    assert f'src="/bulletins/{bulletin.pk}/preview/"' in detail.content.decode()
    preview = client.get(f"/bulletins/{bulletin.pk}/preview/")
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    html = preview.content.decode()
    # The renderer's own template and stylesheet, found by the browser through <base>.
    assert '<base href="/static/bulletins/">' in html and 'href="bulletin.css"' in html
    printed = text(preview)
    assert "义县应完成任务 1 项" in printed and "逾期未完成 1 项" in printed
    assert "现将本月任务推进情况通报如下。" in printed and "七里河镇" in printed
    assert client.get("/static/bulletins/bulletin.css").status_code == 200


def test_a_draft_is_edited_published_downloaded_and_withdrawn(
    browser_client, world, campaign, django_capture_on_commit_callbacks
):
    bulletin = draft(world)
    client = browser_client.as_user("yi_supervisor")
    edit = client.get(f"/bulletins/{bulletin.pk}/edit/")
    assert edit.status_code == 200 and "关于本月任务推进情况的通报" in edit.content.decode()
    saved = client.post(
        f"/bulletins/{bulletin.pk}/edit/",
        {
            "title": "关于本月任务推进情况的通报",
            "kind": "supervision",
            **period(),
            "intro": "各乡镇对照整改",
        },
    )
    assert saved.status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.intro == "各乡镇对照整改" and bulletin.number == 1
    # Recipients left unticked are removed, as the form shows them.
    assert list(bulletin.main_recipients.all()) == []

    with django_capture_on_commit_callbacks(execute=True):
        published = client.post(f"/bulletins/{bulletin.pk}/publish/")
    assert published.status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.state == BulletinState.PUBLISHED and bulletin.pdf
    page = client.get(f"/bulletins/{bulletin.pk}/")
    shown = text(page)
    assert "已印发" in shown and "印发本期通报" not in shown and "修改文字和统计期" not in shown
    assert bulletin.pdf_sha256 in shown
    link = re.search(r'href="([^"]+)"[^>]*download', page.content.decode()).group(1)
    assert link == f"/api/v1/bulletins/{bulletin.pk}/pdf/"
    download = client.get(link)
    body = b"".join(download.streaming_content)
    assert download.status_code == 200 and body.startswith(b"%PDF-")
    pdf = media_file(bulletin)
    assert "各乡镇对照整改" in squeezed(poppler("pdftotext", pdf))

    # Published, it is no longer edited: the service refuses and says why.
    refused = client.post(
        f"/bulletins/{bulletin.pk}/edit/", {"title": "改", "kind": "supervision", **period()}
    )
    assert refused.status_code == 409 and "通报印发后不能修改" in text(refused)

    no_reason = client.post(f"/bulletins/{bulletin.pk}/withdraw/", {"reason": " "})
    assert no_reason.status_code == 400 and "撤回本期通报" in text(no_reason)
    withdrawn = client.post(f"/bulletins/{bulletin.pk}/withdraw/", {"reason": "数据有误，重新统计"})
    assert withdrawn.status_code == 302
    shown = text(client.get(f"/bulletins/{bulletin.pk}/"))
    assert "已撤回" in shown and "数据有误，重新统计" in shown and "撤回本期通报" not in shown


def media_file(bulletin):
    from django.conf import settings

    return settings.MEDIA_ROOT / bulletin.pdf.name


def test_another_county_sees_the_404_page_and_cannot_publish(browser_client, world, campaign):
    bulletin = draft(world)
    client = browser_client.as_user("heishan_head")
    for path in (
        f"/bulletins/{bulletin.pk}/",
        f"/bulletins/{bulletin.pk}/preview/",
        f"/bulletins/{bulletin.pk}/edit/",
    ):
        page = client.get(path)
        assert page.status_code == 404 and "不在您的工作范围内" in text(page)
    assert client.post(f"/bulletins/{bulletin.pk}/publish/").status_code == 404
    Bulletin.objects.filter(pk=bulletin.pk).update(state=BulletinState.PUBLISHED)
    assert client.post(f"/bulletins/{bulletin.pk}/withdraw/", {"reason": "越权"}).status_code == 404
    assert "关于本月任务推进情况的通报" not in text(client.get("/bulletins/"))
    assert Bulletin.objects.get(pk=bulletin.pk).state == BulletinState.PUBLISHED
    # Drafting as someone else's office is refused before anything is written.
    refused = client.post(
        "/bulletins/new/",
        {"issuer": world.unit("县委督查室").pk, "title": "越权", "kind": "supervision", **period()},
    )
    assert refused.status_code == 403 and Bulletin.objects.count() == 1


def test_readers_below_read_it_but_are_offered_no_action_and_are_refused_one(browser_client, world, campaign):
    bulletin = draft(world)
    # 义县's member reads the county office's bulletins; a township head would draft his own.
    township = browser_client.as_user("yi_member")
    # A draft is the office's alone.
    assert township.get(f"/bulletins/{bulletin.pk}/").status_code == 404
    Bulletin.objects.filter(pk=bulletin.pk).update(state=BulletinState.PUBLISHED)
    page = text(township.get(f"/bulletins/{bulletin.pk}/"))
    assert "关于本月任务推进情况的通报" in page and "已印发" in page
    assert (
        "撤回本期通报" not in page
        and "印发本期通报" not in page
        and "起草新一期通报" not in text(township.get("/bulletins/"))
    )
    refused = township.post(f"/bulletins/{bulletin.pk}/withdraw/", {"reason": "想撤回"})
    assert refused.status_code == 403 and "通报由督查室或本级政府负责人" in text(refused)
    assert Bulletin.objects.get(pk=bulletin.pk).state == BulletinState.PUBLISHED
    assert township.get("/bulletins/new/").status_code == 403


def test_a_recipient_outside_the_jurisdiction_is_not_a_choice(browser_client, world, campaign):
    client = browser_client.as_user("yi_supervisor")
    refused = client.post(
        "/bulletins/new/",
        {
            "issuer": world.unit("县委督查室").pk,
            "title": "通报",
            "kind": "supervision",
            **period(),
            "main_recipients": [world.unit("芳山镇").pk],
        },
    )
    assert refused.status_code == 400 and "主送" in text(refused)
    reversed_period = client.post(
        "/bulletins/new/",
        {
            "issuer": world.unit("县委督查室").pk,
            "title": "通报",
            "kind": "supervision",
            "period_start": period()["period_end"],
            "period_end": period()["period_start"],
        },
    )
    assert reversed_period.status_code == 400 and "统计截止日不能早于起始日" in text(reversed_period)
    assert not Bulletin.objects.exists()


def test_a_person_of_two_offices_chooses_the_issuer_first(browser_client, world):
    from responsibility.services import membership_create

    membership_create(user=world.person("yi_head"), unit=world.unit("县委督查室"), role="head")
    client = browser_client.as_user("yi_head")
    chooser = client.get("/bulletins/new/")
    assert "以哪个单位的名义发文" in text(chooser)
    for unit in ("义县", "县委督查室"):
        assert f'?issuer={world.unit(unit).pk}"' in chooser.content.decode()
    form = client.get(f"/bulletins/new/?issuer={world.unit('义县').pk}")
    assert "发文单位： 义县" in text(form)


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_bulletin_pages_cost_a_fixed_number_of_queries(browser_client, world, campaign):
    village_tasks(world, campaign)
    client = browser_client.as_user("yi_supervisor")
    first = draft(world)
    paths = ("/bulletins/", f"/bulletins/{first.pk}/", f"/bulletins/{first.pk}/preview/")
    few = {path: _queries(client, path) for path in paths}
    for _ in range(4):
        draft(world)
        village_tasks(world, campaign, lead_unit="王家屯村")
    many = {path: _queries(client, path) for path in paths}
    assert few == many
    # Session, user, memberships, the issuers offered, the count, the page and its two
    # lists of recipients.
    assert few["/bulletins/"] == 8
    # Session, user, memberships, the bulletin with its recipients.
    assert few[f"/bulletins/{first.pk}/"] == 6


def test_the_list_pages_twenty_at_a_time_newest_first(browser_client, world):
    for number in range(1, 22):
        draft(world, title=f"第{number}期通报")
    client = browser_client.as_user("yi_supervisor")
    first = client.get("/bulletins/")
    assert "第 1 / 2 页" in text(first) and 'href="?page=2"' in first.content.decode()
    assert "第21期通报" in text(first) and "第1期通报" not in text(first)
    assert "第1期通报" in text(client.get("/bulletins/?page=2"))
