"""API tokens that expire when left unused.

DRF imports this module while loading its settings, before ``core.errors`` can be
imported: the sign-in lock-out lives in ``responsibility.lockout``.
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .models import ApiToken

# Writing the last use on every request would turn each read into a write; a minute is
# far finer than an idle limit counted in hours.
LAST_USE_RESOLUTION = datetime.timedelta(minutes=1)


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, refused once the token has lain unused longer than
    ``DUBAN["TOKEN_IDLE_HOURS"]``; the dead token is deleted so it can never come back."""

    model = ApiToken

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        now = timezone.now()
        if token.is_idle(now):
            token.delete()
            raise exceptions.AuthenticationFailed(
                _("令牌长时间未使用，已失效，请重新登录。"), code="token_expired"
            )
        if now - token.last_used_at >= LAST_USE_RESOLUTION:
            # Conditional, so concurrent requests of one client write it once.
            ApiToken.objects.filter(pk=token.pk, last_used_at__lte=now - LAST_USE_RESOLUTION).update(
                last_used_at=now
            )
        return user, token
