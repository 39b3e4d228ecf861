"""The production settings plus the floor views the API benchmark compares against."""

from backend.settings.base import *  # noqa: F403
from backend.settings.base import ALLOWED_HOSTS, DATABASES

ROOT_URLCONF = "bench.floor_urls"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
DATABASES["default"]["CONN_MAX_AGE"] = 60
# The benchmarks talk plain HTTP on localhost; in production a proxy terminates TLS.
SECURE_SSL_REDIRECT = False
