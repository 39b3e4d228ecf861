from django.core.checks import run_checks

from backend.settings.base import DEMO_SECRET_KEY


def test_the_demo_secret_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = DEMO_SECRET_KEY
    assert "duban.E001" in [error.id for error in run_checks()]


def test_the_demo_secret_is_accepted_for_the_local_demo(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = DEMO_SECRET_KEY
    assert "duban.E001" not in [error.id for error in run_checks()]
