"""The bulletin endpoints: status codes, who sees and does what, and the shape of answers."""

import hashlib

import pytest

from bulletins.models import Bulletin, BulletinCounter
from bulletins.services import bulletin_render
from tests.helpers import assert_error

from .conftest import ISSUED_ON, PERIOD_END, PERIOD_START, on

pytestmark = pytest.mark.django_db

URL = "/api/v1/bulletins/"


def payload(world, **changes) -> dict:
    return {
        "issuer": world.unit("市委督查室").pk,
        "title": "关于11月份任务推进情况的通报",
        "period_start": PERIOD_START.isoformat(),
        "period_end": PERIOD_END.isoformat(),
        "issued_on": ISSUED_ON.isoformat(),
        "main_recipients": [world.unit("义县").pk, world.unit("黑山县").pk],
        "copy_to": [world.unit("市住建委").pk],
        **changes,
    }


@pytest.fixture
def office(api):
    return api.as_user("city_supervisor")


@pytest.fixture
def created(world, office) -> dict:
    response = office.post(URL, payload(world), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_supervisor_of_the_issuer_drafts_a_bulletin(world, created):
    assert created["number"] == 1 and created["year"] == 2018
    assert created["state"] == "draft"
    assert created["issuer"] == {
        "id": world.unit("市委督查室").pk,
        "name": "市委督查室",
        "kind": "supervision_office",
    }
    assert [unit["name"] for unit in created["main_recipients"]] == ["义县", "黑山县"]
    assert [unit["name"] for unit in created["copy_to"]] == ["市住建委"]
    assert created["created_by"]["full_name"] == "李督查"
    assert created["pdf_url"] is None and created["pdf_sha256"] == ""


def test_bulletins_are_listed_by_issuer_and_year(world, office, created):
    office.post(URL, payload(world, issued_on="2019-01-04"), format="json")

    by_year = office.get(URL, {"issuer": world.unit("市委督查室").pk, "year": 2018})
    other_issuer = office.get(URL, {"issuer": world.unit("县委督查室").pk})

    assert by_year.status_code == 200
    assert [(b["year"], b["number"]) for b in by_year.json()["results"]] == [(2018, 1)]
    assert other_issuer.json()["results"] == []
    assert len(office.get(URL).json()["results"]) == 2


def test_the_figures_are_previewed_as_json(world, november, office, created):
    response = office.get(f"{URL}{created['id']}/figures/")

    assert response.status_code == 200
    figures = response.json()
    assert figures["headline"]["due"] == 4
    assert [row["unit"] for row in figures["ranking"]] == ["义县", "黑山县"]
    assert set(figures) >= {"listed", "criticised", "veto_not_met", "targets_behind", "rectification"}


def test_a_draft_is_edited(office, created):
    response = office.patch(f"{URL}{created['id']}/", {"intro": "现将有关情况通报如下。"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["intro"] == "现将有关情况通报如下。"
    assert response.json()["title"] == created["title"]


def test_a_draft_has_no_pdf_yet(office, created):
    assert_error(office.get(f"{URL}{created['id']}/pdf/"), 409, "pdf_not_ready")


def test_publishing_renders_a_pdf_to_download(office, created, django_capture_on_commit_callbacks):
    with on(ISSUED_ON), django_capture_on_commit_callbacks() as scheduled:
        published = office.post(f"{URL}{created['id']}/publish/")
    assert len(scheduled) == 1  # the render job, queued after the commit
    bulletin_render(bulletin_id=created["id"])

    assert published.status_code == 200, published.content
    assert published.json()["state"] == "published"
    bulletin = office.get(f"{URL}{created['id']}/").json()
    assert bulletin["pdf_url"] == f"{URL}{created['id']}/pdf/"
    response = office.get(bulletin["pdf_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-")
    assert response["X-Checksum-SHA256"] == bulletin["pdf_sha256"] == hashlib.sha256(body).hexdigest()
    assert "attachment" in response["Content-Disposition"]

    edited = office.patch(f"{URL}{created['id']}/", {"title": "改"}, format="json")
    assert_error(edited, 409, "bulletin_published")


def test_a_client_asking_for_the_pdf_gets_it_and_one_asking_for_another_type_a_406(office, created):
    with on(ISSUED_ON):
        office.post(f"{URL}{created['id']}/publish/")
    bulletin_render(bulletin_id=created["id"])
    url = f"{URL}{created['id']}/pdf/"

    for accept in ("application/pdf", "application/pdf, application/json;q=0.5", "*/*"):
        response = office.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert b"".join(response.streaming_content).startswith(b"%PDF-")

    refused = assert_error(office.get(url, HTTP_ACCEPT="text/csv"), 406, "not_acceptable")
    assert "application/pdf" in refused["message"]
    assert "请求头" in refused["message"]


def test_an_error_of_a_download_is_json_whatever_the_client_asked_for(office, created):
    response = office.get(f"{URL}{created['id']}/pdf/", HTTP_ACCEPT="application/pdf")

    assert_error(response, 409, "pdf_not_ready")
    assert response["Content-Type"] == "application/json"


def test_a_published_bulletin_is_withdrawn_with_a_reason(office, created):
    with on(ISSUED_ON):
        office.post(f"{URL}{created['id']}/publish/")

    assert_error(
        office.post(f"{URL}{created['id']}/withdraw/", {"reason": ""}), 400, "invalid", fields={"reason"}
    )
    response = office.post(f"{URL}{created['id']}/withdraw/", {"reason": "数据有误"})

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "withdrawn"
    assert response.json()["withdrawn_reason"] == "数据有误"
    assert office.get(f"{URL}{created['id']}/").status_code == 200


@pytest.mark.parametrize("username", ["yi_head", "yi_supervisor", "city_head"])
def test_only_the_issuer_drafts(world, api, username):
    response = api.as_user(username).post(URL, payload(world), format="json")

    assert_error(response, 403, "not_a_bulletin_issuer")
    assert not Bulletin.objects.exists()


@pytest.mark.parametrize("username", ["yi_head", "yi_supervisor", "heishan_member", "city_head"])
def test_a_draft_is_invisible_to_other_units(api, created, username):
    client = api.as_user(username)
    detail = f"{URL}{created['id']}/"

    for response in [
        client.get(detail),
        client.get(f"{detail}figures/"),
        client.get(f"{detail}pdf/"),
        client.patch(detail, {"title": "改"}, format="json"),
        client.post(f"{detail}publish/"),
    ]:
        assert_error(response, 404, "not_found")
    assert client.get(URL).json()["results"] == []
    assert Bulletin.objects.get().state == "draft"


def test_a_published_bulletin_is_visible_to_every_unit_of_its_level(api, office, created):
    with on(ISSUED_ON):
        office.post(f"{URL}{created['id']}/publish/")

    client = api.as_user("heishan_member")
    assert client.get(f"{URL}{created['id']}/").status_code == 200
    assert [b["id"] for b in client.get(URL).json()["results"]] == [created["id"]]
    assert_error(
        client.post(f"{URL}{created['id']}/withdraw/", {"reason": "越权"}), 403, "not_a_bulletin_issuer"
    )


def test_a_reversed_period_is_refused_and_nothing_is_created(world, office):
    response = office.post(
        URL, payload(world, period_start="2018-11-30", period_end="2018-11-01"), format="json"
    )

    assert_error(response, 400, "period_reversed", fields={"period_end"})
    assert not Bulletin.objects.exists()
    assert not BulletinCounter.objects.filter(last_number__gt=0).exists()
