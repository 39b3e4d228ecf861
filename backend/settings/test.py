"""Settings for the test suite: the database comes from DATABASE_URL as in production."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / "test-media"
if not os.environ.get("EMAIL_HOST"):
    # A Celery worker started by a test is given a real SMTP server; otherwise mail stays in memory.
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}  # noqa: F405
SECRET_KEY = "duban-test-secret-key-only-for-the-test-suite-0123456789abcdef"
# The test client speaks plain http; everything else stays as in production.
SECURE_SSL_REDIRECT = False
