"""The embedded default for a developer's machine and the demo."""

from .base import *  # noqa: F403

DEBUG = True
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
