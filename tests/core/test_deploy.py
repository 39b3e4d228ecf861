"""The production shape passes Django's deployment checks, guesses at passwords are throttled,
and the API answers no other site's scripts."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from tests.conftest import PASSWORD
from tests.helpers import assert_error

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "backend.settings.base",
    "DJANGO_ALLOWED_HOSTS": "duban.example.cn",
}


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    """manage.py in a fresh process with nothing of Django's from this one's environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(PRODUCTION, **environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_settings_pass_the_deployment_checks():
    secret = secrets.token_urlsafe(50)
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=secret)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_the_production_settings_refuse_the_demo_secret():
    result = manage("check", "--deploy")
    assert result.returncode != 0
    assert "duban.E001" in result.stderr


@pytest.fixture
def auth_rate(monkeypatch):
    """Three tries a minute from one address, which no other test uses."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    address = "203.0.113.7"
    throttle = ScopedRateThrottle()
    key = throttle.cache_format % {"scope": "auth", "ident": address}
    throttle.cache.delete(key)
    yield address
    throttle.cache.delete(key)


def test_guessing_passwords_at_the_token_endpoint_is_throttled(api, auth_rate):
    for guess in ("123456", "password", "duban-demo"):
        response = api.post(
            "/api/v1/auth/token/", {"username": "yi_head", "password": guess}, REMOTE_ADDR=auth_rate
        )
        assert_error(response, 400, "invalid")
    response = api.post(
        "/api/v1/auth/token/", {"username": "yi_head", "password": PASSWORD}, REMOTE_ADDR=auth_rate
    )
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_other_addresses_are_not_held_back_by_the_throttle(api, auth_rate):
    for _ in range(3):
        api.post("/api/v1/auth/token/", {"username": "yi_head", "password": "x"}, REMOTE_ADDR=auth_rate)
    response = api.post("/api/v1/auth/token/", {"username": "yi_head", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token"]


@pytest.mark.parametrize("method", ["get", "options"])
def test_no_cross_origin_access_is_granted(api, method):
    response = getattr(api.as_user("yi_head"), method)("/api/v1/tasks/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 200
    assert not [header for header in response.headers if header.lower().startswith("access-control-")]
