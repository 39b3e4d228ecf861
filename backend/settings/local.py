"""The embedded default for a developer's machine and the demo."""

from .base import *  # noqa: F403

DEBUG = True
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405

# The demo is served over plain http on 127.0.0.1.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Static files straight from the apps' folders, without `collectstatic` (whitenoise).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
