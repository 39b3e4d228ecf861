"""Domain errors and the one place that turns every error into an HTTP answer.

Every error body has the same shape: ``{"code": "...", "message": "...", "fields": {...}}``,
with ``message`` in the request's language and ``fields`` always present: the messages per
invalid field, ``{}`` when the error belongs to no field. DRF views answer through
``exception_handler``; whatever else fails under ``/api/`` (a middleware, Django's request
parsing, an unexpected exception) is answered in the same shape by
``core.middleware.ApiErrorMiddleware`` and the handlers at the end of this module.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A rule of the domain refused the request; nothing was changed."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    default_message = _("请求无效。")

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    pass


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    default_message = _("当前状态不允许此操作。")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("任务当前状态不允许此操作。")


class ConcurrentChange(Conflict):
    code = "concurrent_change"
    default_message = _("该记录已被他人修改，请刷新后重试。")


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"
    default_message = _("您没有执行该操作的权限。")


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    default_message = _("未找到。")


# The database is unreachable or restarting: the request's transaction is rolled back and
# the client may retry (with its Idempotency-Key), told when in the 503's Retry-After.
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER = {"Retry-After": "5"}


# The answer under /api/ for each status Django itself may give, when no view chose one.
STATUS_ERRORS = {
    400: ("bad_request", _("请求无效。")),
    403: ("permission_denied", Forbidden.default_message),
    404: ("not_found", NotFound.default_message),
    405: ("method_not_allowed", _("不允许该请求方法。")),
    413: ("request_too_large", _("请求体过大。")),
    415: ("unsupported_media_type", _("不支持该请求的媒体类型。")),
    500: ("server_error", _("服务器内部错误，已记录，请稍后重试。")),
    503: ("service_unavailable", _("服务暂时不可用，请稍后重试。")),
}


def error_body(code: str, message, fields: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": fields or {}}


def error_response(
    status_code: int, code: str, message, fields: dict | None = None, **kwargs
) -> JsonResponse:
    """An error answered outside DRF, in the same shape."""
    return JsonResponse(
        error_body(code, message, fields),
        status=status_code,
        json_dumps_params={"ensure_ascii": False},
        **kwargs,
    )


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _service_unavailable_body() -> dict:
    return error_body(*STATUS_ERRORS[503])


def _flatten(detail):
    """DRF's nested ErrorDetail lists as plain strings, keeping their structure."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, _flatten(exc.fields)), status=exc.status_code)
    if isinstance(exc, ConcurrentTransition):
        exc = ConcurrentChange()
        return Response(error_body(exc.code, exc.message), status=exc.status_code)
    if isinstance(exc, TransitionNotAllowed):
        exc = InvalidTransition()
        return Response(error_body(exc.code, exc.message), status=exc.status_code)
    if isinstance(exc, DATABASE_ERRORS):
        return Response(
            _service_unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=RETRY_AFTER
        )
    if isinstance(exc, Http404):
        return Response(error_body("not_found", _("未找到。")), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(
            error_body("permission_denied", exc.args[0] if exc.args else Forbidden.default_message),
            status=status.HTTP_403_FORBIDDEN,
        )
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            # A message raised outside a serializer belongs to no one field.
            fields = {api_settings.NON_FIELD_ERRORS_KEY: fields}
        return Response(
            error_body("invalid", _("提交的数据有误。"), fields),
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        detail = exc.detail if not isinstance(exc.detail, (list, dict)) else exc.default_detail
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = error_body(code, detail)
    return response


def service_unavailable() -> JsonResponse:
    """The 503 for a database error met outside a DRF view's handler (opening or committing
    the transaction around it), in the same shape as every other API error."""
    return error_response(status.HTTP_503_SERVICE_UNAVAILABLE, *STATUS_ERRORS[503], headers=RETRY_AFTER)


def status_error(status_code: int) -> JsonResponse:
    code, message = STATUS_ERRORS.get(status_code, STATUS_ERRORS[400 if status_code < 500 else 500])
    return error_response(status_code, code, message)


def bad_request(request, exception):
    """Django's 400 (a request it could not read: a host it does not serve, a body too
    large or with too many fields), as JSON under ``/api/``, elsewhere Django's own page."""
    if is_api_path(request.path):
        return status_error(400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api_path(request.path):
        return status_error(403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    """Django's 404 for a URL no view matches (``/api/v1/tasks/abc/``): under ``/api/`` in
    the same error shape as every other API error, elsewhere Django's own page."""
    if is_api_path(request.path):
        return status_error(404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api_path(request.path):
        return status_error(500)
    return defaults.server_error(request)
