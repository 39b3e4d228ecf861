"""Failed sign-ins: who is calling from where, and the answer once they are locked out.

They are counted by django-axes, kept because it hooks into Django's own
``authenticate()`` and so covers the token endpoint and the admin's login form (and any
later login page) with one counter, stores its attempts in the database we already run,
and ships ``axes_reset`` for an administrator who has to let someone back in early.
"""

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.settings import api_settings

from core.errors import error_response, is_api_path

TOO_MANY_FAILED_LOGINS = "too_many_failed_logins"


def client_address(request) -> str:
    """The address a request came from, trusting X-Forwarded-For only as far as the
    configured proxies wrote it: each trusted proxy appends the address it saw, so with N
    proxies the client is the N-th entry from the right, and anything further left is
    whatever the client chose to send. With no trusted proxies the header is ignored.

    DRF's throttles follow the same rule through ``NUM_PROXIES``, set from the same
    setting, so the throttle and the lock-out count the same address.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies == 0 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-min(proxies, len(hops))]


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The answer to a sign-in refused because of too many failures (django-axes calls it
    for any login path): the API's error shape under ``/api/``, a plain page elsewhere.
    The right password gets the same answer until the lock-out ends."""
    message = _("登录失败次数过多，已暂时锁定，请 %(minutes)d 分钟后再试。") % {"minutes": lockout_minutes()}
    headers = {"Retry-After": str(int(settings.AXES_COOLOFF_TIME.total_seconds()))}
    if is_api_path(request.path):
        return error_response(
            status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_FAILED_LOGINS, message, headers=headers
        )
    return HttpResponse(
        message,
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers=headers,
        content_type="text/plain; charset=utf-8",
    )
