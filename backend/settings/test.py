"""Settings for the test suite: the database comes from DATABASE_URL as in production."""

import os
from urllib.parse import urlsplit

from .base import *  # noqa: F403
from .base import VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / "test-media"
if not os.environ.get("EMAIL_HOST"):
    # A Celery worker started by a test is given a real SMTP server; otherwise mail stays in memory.
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}  # noqa: F405
SECRET_KEY = "duban-test-secret-key-only-for-the-test-suite-0123456789abcdef"
if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("REDIS_URL"):
    # Each parallel test process (gw0, gw1, ...) gets the Redis database below the last one's,
    # counting down from REDIS_URL's: a test clears the cache and counts throttled requests,
    # which must not touch another process's.
    _redis = urlsplit(os.environ["REDIS_URL"])
    _number = int(_redis.path.strip("/") or 0) - int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    CACHES = {  # noqa: F405
        "default": {**CACHES["default"], "LOCATION": _redis._replace(path=f"/{_number}").geturl()}  # noqa: F405
    }
# The test client speaks plain http; everything else stays as in production.
SECURE_SSL_REDIRECT = False

# Static files straight from the apps' folders, without `collectstatic` (whitenoise).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
