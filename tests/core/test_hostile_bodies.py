"""Whatever a client sends and whatever fails, every answer under /api/ is the JSON error
shape with code, message and fields, and hostile text never reaches the database."""

import datetime
import json
import logging
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path
from rest_framework.views import APIView

from bulletins.models import Bulletin
from bulletins.services import bulletin_create
from core.apis import ApiView
from core.parsers import BODY_PARSERS, MAX_DEPTH, TooDeep, check_json
from tasks.models import Attachment, ProgressReport, Task
from tasks.services import progress_report_create, task_transition

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

TOKEN = "/api/v1/auth/token/"
TASKS = "/api/v1/tasks/"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE


def assert_api_error(response, status_code: int, code: str, fields: set[str] | None = None) -> dict:
    """The API's error shape, ``fields`` always present: the named fields, or ``{}``."""
    assert response.status_code == status_code, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"code", "message", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    if fields is None:
        assert body["fields"] == {}, body
    else:
        assert set(body["fields"]) == fields, body
    return body


@pytest.fixture
def client():
    # The exceptions a view raises are answered, not raised into the test. An address of
    # its own keeps these tries out of the token endpoint's throttle of other tests.
    return Client(raise_request_exception=False, REMOTE_ADDR="198.51.100.23")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def new_task(world, **extra) -> dict:
    return {
        "campaign": world.campaign.pk,
        "title": "饮水安全排查",
        "issuing_unit": world.unit("锦州市").pk,
        "lead_unit": world.unit("义县").pk,
        "due_date": "2018-11-15",
        **extra,
    }


# Nesting

DEEP_BODIES = {
    "100000 arrays": "[" * 100_000,
    "100000 objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
    # Deep enough to refuse, shallow enough for Python's own parser.
    "one level too many": "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    "inside a field": json.dumps({"title": "x", "children": "@"}).replace('"@"', "[" * 500 + "]" * 500),
}


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deep_nesting_to_the_token_endpoint_is_a_400(client, world, body):
    response = client.post(TOKEN, body, content_type="application/json")
    assert_api_error(response, 400, "too_deep")


@pytest.mark.parametrize("body", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_deep_nesting_to_a_signed_in_write_is_a_400_and_creates_nothing(api, world, body):
    response = api.as_user("city_head").post(TASKS, body, content_type="application/json")
    assert_api_error(response, 400, "too_deep")
    assert not Task.objects.exists()


def test_the_depth_limit_lets_ordinary_nesting_through():
    nested: list = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    check_json(nested)
    with pytest.raises(TooDeep):
        check_json([nested])


# Size, media type, syntax


def test_a_body_of_3_mb_is_a_413(client, api, world):
    body = json.dumps({"username": "a" * 3 * 1024 * 1024, "password": "x"})
    assert_api_error(client.post(TOKEN, body, content_type="application/json"), 413, "request_too_large")
    response = api.as_user("city_head").post(
        TASKS, json.dumps(new_task(world, title="a" * 3 * 1024 * 1024)), content_type="application/json"
    )
    assert_api_error(response, 413, "request_too_large")
    assert not Task.objects.exists()


def test_a_form_over_the_limit_is_a_413(client, world, settings):
    body = "username=" + "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(TOKEN, body, content_type="application/x-www-form-urlencoded")
    assert_api_error(response, 413, "request_too_large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_a_body_in_another_media_type_is_a_415(client, api, world, content_type):
    assert_api_error(client.post(TOKEN, "<a/>", content_type=content_type), 415, "unsupported_media_type")
    response = api.as_user("city_head").post(TASKS, "<task/>", content_type=content_type)
    assert_api_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("body", ['{"username": ', "{'a': 1}", '{"a": NaN}', b"\xff\xfe{"])
def test_malformed_json_is_a_400(client, api, world, body):
    assert_api_error(client.post(TOKEN, body, content_type="application/json"), 400, "parse_error")
    response = api.as_user("city_head").post(TASKS, body, content_type="application/json")
    assert_api_error(response, 400, "parse_error")


def test_every_operation_taking_json_refuses_malformed_json_in_chinese_in_the_error_shape(client, api, world):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    admin = api.as_user("admin")
    checked = 0
    for template, methods in schema["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", template)
        for method, operation in methods.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            response = getattr(admin, method)(url, '{"title": ', content_type="application/json")
            if response.status_code == 404:
                continue  # the row with id 1 is not there; its body is never read
            body = assert_api_error(response, 400, "parse_error")
            assert body["message"] == "请求体不是有效的 JSON（第 1 行第 11 列）。", (method, template)
            checked += 1
    assert checked > 20
    english = admin.post(TASKS, "{", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert assert_api_error(english, 400, "parse_error")["message"].startswith("The request body")


def test_a_json_syntax_error_says_where(client, world):
    body = assert_api_error(
        client.post(TOKEN, '{\n"a": }', content_type="application/json"), 400, "parse_error"
    )
    assert "第 2 行" in body["message"]


# Unknown paths, in production and with DEBUG on


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    "url", ["/api/", "/api", "/api/v2/x", "/api/v1/no-such-thing/", "/api/v1/tasks/abc/"]
)
def test_an_unknown_api_path_is_a_json_404(client, settings, debug, url):
    settings.DEBUG = debug
    assert_api_error(client.get(url), 404, "not_found")
    assert_api_error(client.post(url, "{}", content_type="application/json"), 404, "not_found")


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_unknown_paths_elsewhere_keep_djangos_page(client, settings, debug):
    settings.DEBUG = debug
    response = client.get("/apis/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_a_request_a_middleware_refuses_is_json_too(client, settings, debug):
    # CommonMiddleware refuses a host Duban does not serve before any view runs.
    settings.DEBUG = debug
    assert_api_error(client.get("/api/v1/tasks/", HTTP_HOST="evil.example"), 400, "bad_request")
    page = client.get("/admin/", HTTP_HOST="evil.example")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


def test_ids_below_one_are_a_json_404(api, world):
    assert_api_error(api.as_user("city_head").get("/api/v1/tasks/0/"), 404, "not_found")
    assert_api_error(api.as_user("city_head").get("/api/v1/tasks/-1/"), 404, "not_found")


def test_a_browser_asking_for_html_still_gets_json(api, world):
    response = api.as_user("city_head").get("/api/v1/tasks/987654/", HTTP_ACCEPT="text/html")
    assert_api_error(response, 404, "not_found")


# Unexpected exceptions, through a URLconf of this module


class Broken(ApiView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise RuntimeError("a bug in a view")


def broken_plain_view(request):
    raise RuntimeError("a bug in a plain view")


urlpatterns = [
    path("api/v1/broken/", Broken.as_view()),
    path("api/v1/broken-plain/", broken_plain_view),
    path("broken/", broken_plain_view),
]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize("url", ["/api/v1/broken/", "/api/v1/broken-plain/"])
def test_an_exception_in_a_view_is_a_json_500_and_its_traceback_is_logged(
    client, settings, caplog, debug, url
):
    settings.DEBUG = debug
    with caplog.at_level(logging.ERROR):
        response = client.get(url)
    assert_api_error(response, 500, "server_error")
    assert "bug" not in response.content.decode()
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert len(logged) == 1
    assert logged[0].exc_info[0] is RuntimeError
    assert url in logged[0].getMessage()


@pytest.mark.urls(__name__)
def test_the_exception_still_reaches_whoever_listens_for_it():
    # Error trackers listen to got_request_exception; the test client re-raises what it hears.
    with pytest.raises(RuntimeError, match="a bug in a view"):
        Client().get("/api/v1/broken/")


@pytest.mark.urls(__name__)
def test_an_exception_elsewhere_keeps_djangos_page(client):
    response = client.get("/broken/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


# Stored files gone from MEDIA_ROOT


@pytest.fixture
def attachment(world, target_task, media_root) -> Attachment:
    task_transition(task_id=target_task.pk, actor=world.person("yi_head"), name="accept")
    progress_report_create(
        task_id=target_task.pk,
        actor=world.person("yi_member"),
        text="已完成入户核查。",
        figures={target_task.indicators.get().pk: Decimal(120)},
        files=[SimpleUploadedFile("核查表.pdf", b"%PDF-1.4\n", content_type="application/pdf")],
    )
    return Attachment.objects.get()


def test_a_missing_evidence_file_is_a_json_404_and_an_error_in_the_log(api, attachment, caplog):
    url = f"/api/v1/attachments/{attachment.pk}/"
    assert api.as_user("yi_member").get(url).status_code == 200
    attachment.file.storage.delete(attachment.file.name)
    with caplog.at_level(logging.ERROR):
        response = api.as_user("yi_member").get(url)
    assert_api_error(response, 404, "file_missing")
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert attachment.file.name in record.getMessage()
    assert f"tasks.Attachment {attachment.pk}" in record.getMessage()


def test_a_missing_bulletin_pdf_is_a_json_404_and_an_error_in_the_log(api, world, media_root, caplog):
    bulletin = bulletin_create(
        actor=world.person("city_supervisor"),
        issuer=world.unit("市委督查室"),
        title="百日攻坚第一期通报",
        period_start=datetime.date(2018, 9, 1),
        period_end=datetime.date(2018, 9, 30),
    )
    Bulletin.objects.filter(pk=bulletin.pk).update(pdf="bulletins/2018/1.pdf", pdf_sha256="0" * 64)
    with caplog.at_level(logging.ERROR):
        response = api.as_user("city_supervisor").get(f"/api/v1/bulletins/{bulletin.pk}/pdf/")
    assert_api_error(response, 404, "file_missing")
    assert any("bulletins/2018/1.pdf" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


# Control and bidi characters


@pytest.mark.parametrize(
    "title",
    [
        f"危房改造{RLO}fdp.exe",
        "危房\x00改造",
        "危房\x1b[31m改造",
        "危房\x7f",
        "危房\x85",
        "\u2066危房\u2069",
        "a\u200fb",
    ],
)
def test_a_title_with_control_or_bidi_characters_is_refused_and_nothing_is_created(api, world, title):
    response = api.as_user("city_head").post(TASKS, new_task(world, title=title), format="json")
    assert_api_error(response, 400, "invalid_characters", fields={"title"})
    assert not Task.objects.exists()


def test_an_edit_with_a_bidi_override_is_refused_and_changes_nothing(api, world, make_task):
    task = make_task("危房改造", assign=False)
    response = api.as_user("city_head").patch(f"{TASKS}{task.pk}/", {"title": f"改造{RLO}"}, format="json")
    assert_api_error(response, 400, "invalid_characters", fields={"title"})
    task.refresh_from_db()
    assert task.title == "危房改造"


def test_a_nested_field_is_named_by_its_path(api, world):
    payload = new_task(
        world, kind="target", indicators=[{"name": f"户数{RLO}", "target": "3", "unit_of_measure": "户"}]
    )
    response = api.as_user("city_head").post(TASKS, payload, format="json")
    assert_api_error(response, 400, "invalid_characters", fields={"indicators.0.name"})


@pytest.mark.parametrize("form", ["json", "multipart"])
def test_a_report_with_a_nul_is_refused_and_nothing_is_created(api, world, target_task, media_root, form):
    task_transition(task_id=target_task.pk, actor=world.person("yi_head"), name="accept")
    response = api.as_user("yi_member").post(
        f"{TASKS}{target_task.pk}/reports/", {"text": "已完成\x00入户核查"}, format=form
    )
    assert_api_error(response, 400, "invalid_characters", fields={"text"})
    assert not ProgressReport.objects.exists()


def test_an_evidence_file_name_loses_its_bidi_override(api, world, target_task, media_root):
    task_transition(task_id=target_task.pk, actor=world.person("yi_head"), name="accept")
    upload = SimpleUploadedFile(f"核查表{RLO}gpj.pdf", b"%PDF-1.4\n", content_type="application/pdf")
    response = api.as_user("yi_member").post(
        f"{TASKS}{target_task.pk}/reports/", {"text": "核查表", "files": [upload]}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert Attachment.objects.get().original_name == "核查表gpj.pdf"


def test_the_token_endpoint_refuses_control_characters_too(client, world):
    response = client.post(TOKEN, {"username": "city_head\x00", "password": "x"})
    assert_api_error(response, 400, "invalid_characters", fields={"username"})


def test_line_breaks_tabs_and_the_zero_width_joiner_are_kept(api, world, target_task, media_root):
    title = "危房改造\u200d排查"
    created = api.as_user("city_head").post(TASKS, new_task(world, title=title), format="json")
    assert created.status_code == 201, created.content
    assert Task.objects.get(pk=created.json()["id"]).title == title
    task_transition(task_id=target_task.pk, actor=world.person("yi_head"), name="accept")
    text = "一、入户核查\r\n\t已完成。\n二、公示"
    reported = api.as_user("yi_member").post(
        f"{TASKS}{target_task.pk}/reports/", {"text": text}, format="json"
    )
    assert reported.status_code == 201, reported.content
    assert ProgressReport.objects.get().text == text


# The one place that checks bodies cannot be bypassed by a view


def _api_views(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            view = getattr(pattern.callback, "cls", None)
            if view is not None and issubclass(view, APIView):
                yield route, view


def test_every_api_view_parses_bodies_with_the_checking_parsers():
    views = list(_api_views(get_resolver()))
    assert len(views) > 30
    unchecked = [
        (route, parser.__name__)
        for route, view in views
        for parser in view.parser_classes
        if not issubclass(parser, tuple(BODY_PARSERS))
    ]
    assert unchecked == []


def test_a_list_of_ids_sent_as_an_object_is_refused(api, world, make_task):
    task = make_task()
    client = api.as_user("city_supervisor")
    body = {"level": "admonishment", "reason": "约谈", "people": {}}
    assert_api_error(client.post(f"/api/v1/tasks/{task.pk}/escalations/", body), 400, "invalid", {"people"})
    body = {**new_task(world), "cooperating_units": {str(world.unit("市住建委").pk): True}}
    assert_api_error(api.as_user("city_head").post(TASKS, body), 400, "invalid", {"cooperating_units"})
    assert Task.objects.count() == 1


def test_a_number_where_text_is_expected_is_refused(api, world):
    response = api.as_user("city_head").post(TASKS, {**new_task(world), "title": 12})
    assert_api_error(response, 400, "invalid", {"title"})
    assert not Task.objects.exists()


def test_a_form_is_taken_only_where_a_file_or_a_sign_in_comes(api, world, make_task):
    task = make_task()
    client = api.as_user("city_head")
    form = client.post(f"{TASKS}{task.pk}/transitions/suspend/", {"comment": "汛期"}, format="multipart")
    assert_api_error(form, 415, "unsupported_media_type")
    assert Task.objects.get(pk=task.pk).state == task.state
    signed_in = Client(REMOTE_ADDR="198.51.100.24").post(TOKEN, {"username": "city_head", "password": "x"})
    assert signed_in.status_code == 400  # read as a form, refused for its password
