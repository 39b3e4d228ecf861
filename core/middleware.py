"""Every answer under /api/ is JSON, whatever failed.

DRF views answer their own errors through ``core.errors.exception_handler``. What it leaves
(an exception it does not know, a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``) and what fails
before or around a view (another middleware, Django's request parsing, a URL no view
matches) would otherwise be Django's HTML page, or with DEBUG on its technical page.
"""

import logging

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.signals import got_request_exception
from django.http import Http404
from django.utils.log import log_response
from django.utils.translation import gettext_lazy as _

from .errors import DATABASE_ERRORS, error_response, is_api_path, service_unavailable, status_error

logger = logging.getLogger(__name__)

# Headers of a replaced answer that still hold for its JSON form.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() in {
        "application/json",
        "application/problem+json",
    }


class ApiErrorMiddleware:
    """First in MIDDLEWARE, so that it sees every other middleware's answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code >= 400 and is_api_path(request.path) and not _is_json(response):
            response = self._as_json(response)
        return response

    @staticmethod
    def _as_json(response):
        # A DRF error rendered for a browser (Accept: text/html) keeps its code and fields.
        data = getattr(response, "data", None)
        if isinstance(data, dict) and {"code", "message"} <= set(data):
            replacement = error_response(
                response.status_code, data["code"], data["message"], data.get("fields")
            )
        else:
            replacement = status_error(response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        # Django logs each error answer once; the one replaced was, or will be, already.
        replacement._has_been_logged = getattr(response, "_has_been_logged", False)
        return replacement

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        if isinstance(exception, RequestDataTooBig):
            response = status_error(413)
        elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            response = error_response(400, "too_many_fields", _("请求中的字段或文件过多。"))
        elif isinstance(exception, SuspiciousOperation | BadRequest):
            response = status_error(400)
        elif isinstance(exception, Http404):
            response = status_error(404)
        elif isinstance(exception, PermissionDenied):
            response = status_error(403)
        elif isinstance(exception, DATABASE_ERRORS):
            response = service_unavailable()
        else:
            response = status_error(500)
            # Error trackers listen to this signal, and the test client raises the exception.
            got_request_exception.send(sender=type(self), request=request)
        log_response(
            "%s: %s",
            response.reason_phrase,
            request.path,
            response=response,
            request=request,
            logger=logger,
            exception=exception if response.status_code >= 500 else None,
        )
        return response
