"""One handler turns every error into {"code", "message", "fields"} with the right status."""

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils import translation
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, serializers

from core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    error_body,
    exception_handler,
)


@pytest.fixture(autouse=True)
def chinese():
    # Requests leave their language active in the thread; these tests call the handler directly.
    with translation.override("zh-hans"):
        yield


def handle(exc):
    response = exception_handler(exc, {})
    assert response is not None
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("exc", "status_code", "code"),
    [
        (DomainError(), 400, "invalid"),
        (InvalidInput("数据有误", code="not_later"), 400, "not_later"),
        (Conflict(), 409, "conflict"),
        (InvalidTransition(), 409, "invalid_transition"),
        (Forbidden(), 403, "permission_denied"),
        (NotFound(), 404, "not_found"),
        (ConcurrentTransition("stale"), 409, "concurrent_change"),
        (TransitionNotAllowed("no"), 409, "invalid_transition"),
        (OperationalError("server closed the connection"), 503, "service_unavailable"),
        (InterfaceError("connection already closed"), 503, "service_unavailable"),
        (Http404("任务 42"), 404, "not_found"),
        (DjangoPermissionDenied(), 403, "permission_denied"),
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.AuthenticationFailed(), 401, "authentication_failed"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.UnsupportedMediaType("text/csv"), 415, "unsupported_media_type"),
        (exceptions.Throttled(wait=30), 429, "throttled"),
        (exceptions.ParseError(), 400, "parse_error"),
    ],
)
def test_every_error_has_a_status_a_code_and_a_message(exc, status_code, code):
    got_status, body = handle(exc)
    assert got_status == status_code
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) == {"code", "message", "fields"}
    assert body["fields"] == {}


def test_domain_errors_carry_their_fields_as_plain_strings():
    message = serializers.ErrorDetail("须晚于当前完成时限。", code="not_later")
    status_code, body = handle(
        InvalidInput("数据有误", code="not_later", fields={"requested_due_date": [message]})
    )
    assert status_code == 400
    assert body == {
        "code": "not_later",
        "message": "数据有误",
        "fields": {"requested_due_date": ["须晚于当前完成时限。"]},
    }
    assert type(body["fields"]["requested_due_date"][0]) is str


def test_validation_errors_keep_their_nesting():
    detail = {"children": [{}, {"title": ["该字段是必填项。"]}], "due_date": ["日期格式错误。"]}
    status_code, body = handle(exceptions.ValidationError(detail))
    assert status_code == 400
    assert body["code"] == "invalid"
    assert body["message"] == "提交的数据有误。"
    assert body["fields"] == detail


def test_a_validation_error_without_a_field_still_gives_a_mapping():
    status_code, body = handle(exceptions.ValidationError("用户名或密码错误。"))
    assert status_code == 400
    assert body["fields"] == {"non_field_errors": ["用户名或密码错误。"]}


def test_a_django_permission_message_is_kept():
    assert handle(DjangoPermissionDenied("只有督查室可以录入。"))[1]["message"] == "只有督查室可以录入。"
    assert handle(DjangoPermissionDenied())[1]["message"] == str(Forbidden.default_message)


def test_a_dict_detail_falls_back_to_the_default_message():
    exc = exceptions.APIException({"detail": "内部"})
    status_code, body = handle(exc)
    assert status_code == 500
    assert body["message"] == str(exceptions.APIException.default_detail)


def test_the_wait_of_a_throttle_is_told():
    response = exception_handler(exceptions.Throttled(wait=30), {})
    assert response["Retry-After"] == "30"


def test_programming_errors_are_left_to_django():
    assert exception_handler(ValueError("bug"), {}) is None


def test_the_message_follows_the_active_language_and_the_code_does_not():
    exc = NotFound()
    with translation.override("zh-hans"):
        chinese = handle(exc)[1]
    with translation.override("en"):
        english = handle(exc)[1]
    assert chinese == {"code": "not_found", "message": "未找到。", "fields": {}}
    assert english["code"] == "not_found"


def test_error_body_always_has_fields():
    assert error_body("conflict", "冲突") == {"code": "conflict", "message": "冲突", "fields": {}}
    assert error_body("invalid", "有误", {}) == {"code": "invalid", "message": "有误", "fields": {}}
    assert error_body("invalid", "有误", {"a": ["b"]})["fields"] == {"a": ["b"]}


def test_a_domain_error_is_an_exception_with_its_message():
    error = Conflict()
    assert str(error) == "当前状态不允许此操作。"
    assert error.fields == {}
    assert InvalidTransition("已办结").code == "invalid_transition"


@pytest.mark.parametrize("exc", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_a_database_error_tells_the_client_when_to_retry(exc):
    response = exception_handler(exc, {})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
