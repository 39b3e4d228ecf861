"""Signing in: failed sign-ins locked out per address and per username on the token
endpoint and the admin's login, the client's address as the trusted proxies saw it,
tokens revoked, killed by a password change and expired when left unused."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from responsibility.models import ApiToken, User
from responsibility.services import token_obtain
from tests.conftest import PASSWORD
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
LOGOUT_URL = "/api/v1/auth/logout/"
ADMIN_LOGIN_URL = "/admin/login/?next=/admin/"
START = datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC)
LIMIT = settings.AXES_FAILURE_LIMIT
LOCKOUT = settings.AXES_COOLOFF_TIME
IDLE = datetime.timedelta(hours=settings.DUBAN["TOKEN_IDLE_HOURS"])


@pytest.fixture
def client() -> APIClient:
    # The throttle's counts live in the cache, which outlives a test's transaction.
    cache.clear()
    return APIClient()


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign_in(client, username: str, password: str, address: str = "127.0.0.1", **headers):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address, **headers
    )


def forged(number: int) -> dict:
    return {"HTTP_X_FORWARDED_FOR": f"198.51.{number // 250}.{number % 250 + 1}"}


# Lock-out on the token endpoint


def test_fifty_guesses_with_forged_addresses_are_stopped_at_the_limit(world, client, clock):
    statuses = [sign_in(client, "yi_head", f"guess-{n}", **forged(n)).status_code for n in range(50)]

    assert statuses == [400] * (LIMIT - 1) + [429] * (50 - LIMIT + 1)
    locked = sign_in(client, "yi_head", f"guess-{50}", **forged(50))
    assert_error(locked, 429, "too_many_failed_logins")
    assert int(locked["Retry-After"]) == LOCKOUT.total_seconds()
    # The right password is refused as long as the lock-out lasts.
    assert_error(sign_in(client, "yi_head", PASSWORD, **forged(51)), 429, "too_many_failed_logins")
    clock.shift(LOCKOUT - datetime.timedelta(seconds=1))
    assert_error(sign_in(client, "yi_head", PASSWORD), 429, "too_many_failed_logins")
    assert not ApiToken.objects.exists()

    clock.shift(datetime.timedelta(seconds=2))
    answer = sign_in(client, "yi_head", PASSWORD)
    assert answer.status_code == 200, answer.content
    assert ApiToken.objects.get(key=answer.json()["token"]).user == world.person("yi_head")


def test_a_username_is_locked_whatever_address_the_guesses_come_from(world, client, clock):
    for n in range(LIMIT):
        sign_in(client, "yi_head", "guess", address=f"10.0.0.{n + 1}")

    assert_error(sign_in(client, "yi_head", PASSWORD, address="10.0.1.1"), 429, "too_many_failed_logins")
    # Somebody else from a fresh address is not concerned.
    assert sign_in(client, "heishan_head", PASSWORD, address="10.0.1.2").status_code == 200


def test_an_address_is_locked_whatever_usernames_it_tries(world, client, clock):
    # X-Forwarded-For is the client's own writing here: a new one per guess changes nothing.
    for n, username in enumerate(["yi_head", "yi_member", "heishan_head", "nobody", "leader"][:LIMIT]):
        sign_in(client, username, "guess", address="10.0.0.9", **forged(n))

    assert_error(
        sign_in(client, "yi_supervisor", PASSWORD, address="10.0.0.9"), 429, "too_many_failed_logins"
    )
    # The same people from another address are not concerned.
    assert sign_in(client, "yi_supervisor", PASSWORD, address="10.0.0.10").status_code == 200
    assert sign_in(client, "yi_head", PASSWORD, address="10.0.0.10").status_code == 200


def test_a_success_before_the_limit_clears_the_failures(world, client, clock):
    for _ in range(LIMIT - 1):
        sign_in(client, "yi_head", "guess")
    assert sign_in(client, "yi_head", PASSWORD).status_code == 200

    statuses = [sign_in(client, "yi_head", "guess").status_code for _ in range(LIMIT - 1)]
    assert statuses == [400] * (LIMIT - 1)


def test_a_client_still_sending_its_dead_token_may_sign_in_again(world, client, clock):
    response = sign_in(client, "yi_head", PASSWORD, HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert response.status_code == 200


# Lock-out on the admin's login form


def admin_login(client: Client, password: str, address: str = "127.0.0.1", **headers):
    return client.post(
        ADMIN_LOGIN_URL, {"username": "admin", "password": password}, REMOTE_ADDR=address, **headers
    )


def signed_in_to_admin(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_the_admin_login_is_locked_out_too(world, clock):
    browser = Client()
    statuses = [admin_login(browser, f"guess-{n}", **forged(n)).status_code for n in range(50)]

    # The form answers 200 with its error until the limit, then the lock-out's 429.
    assert statuses == [200] * (LIMIT - 1) + [429] * (50 - LIMIT + 1)
    refused = admin_login(browser, PASSWORD)
    assert refused.status_code == 429
    assert "分钟后再试" in refused.content.decode()
    assert not signed_in_to_admin(browser)

    clock.shift(LOCKOUT + datetime.timedelta(seconds=1))
    accepted = admin_login(browser, PASSWORD)
    assert accepted.status_code == 302
    assert accepted["Location"] == "/admin/"
    assert signed_in_to_admin(browser)


def test_failures_on_the_api_and_the_admin_count_together(world, client, clock):
    for _ in range(LIMIT - 1):
        sign_in(client, "admin", "guess")
    assert admin_login(Client(), "guess").status_code == 429
    assert admin_login(Client(), PASSWORD).status_code == 429


# The client's address


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, None, "192.0.2.1"),
        (0, "203.0.113.7", "192.0.2.1"),
        (1, None, "192.0.2.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(rf, proxies, forwarded, address):
    from responsibility.lockout import client_address

    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = rf.post(TOKEN_URL, REMOTE_ADDR="192.0.2.1", **headers)
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}):
        assert client_address(request) == address


def test_num_proxies_follows_the_trusted_proxies_setting():
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXIES == 0


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})


def test_without_trusted_proxies_the_throttle_ignores_forwarded_for(world, client, clock, three_a_minute):
    statuses = [sign_in(client, "nobody", "guess", **forged(n)).status_code for n in range(3)]
    assert statuses == [400, 400, 400]
    assert_error(sign_in(client, "yi_head", PASSWORD, **forged(3)), 429, "throttled")


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_one_proxy_the_throttle_and_the_lockout_count_the_hop_it_saw(
    world, client, clock, three_a_minute
):
    # The proxy appends the address it saw; whatever the client wrote before it is noise.
    behind = {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}
    statuses = [
        sign_in(client, "nobody", "guess", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.7").status_code
        for n in range(3)
    ]
    assert statuses == [400, 400, 400]
    assert_error(sign_in(client, "yi_head", PASSWORD, **behind), 429, "throttled")
    # Another client behind the same proxy is counted apart, by throttle and lock-out alike.
    assert sign_in(client, "yi_head", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_one_proxy_an_address_is_locked_out_by_the_hop_it_saw(world, client, clock):
    for n in range(LIMIT):
        sign_in(client, f"nobody{n}", "guess", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.7")

    locked = sign_in(client, "yi_head", PASSWORD, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7")
    assert_error(locked, 429, "too_many_failed_logins")
    assert sign_in(client, "yi_head", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


# Tokens


def token_for(client, username: str = "yi_head") -> str:
    response = sign_in(client, username, PASSWORD)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def tasks_with(client, token: str):
    return client.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {token}")


def test_logout_revokes_the_token(world, client, clock):
    token = token_for(client)
    assert tasks_with(client, token).status_code == 200

    response = client.post(LOGOUT_URL, HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 204
    assert not ApiToken.objects.filter(user__username="yi_head").exists()
    assert_error(tasks_with(client, token), 401, "authentication_failed")
    assert token_for(client) != token


def test_logout_needs_a_caller(world, client):
    assert_error(client.post(LOGOUT_URL), 401, "not_authenticated")


def test_logout_revokes_only_the_callers_token(world, client, clock):
    mine, theirs = token_for(client, "yi_head"), token_for(client, "heishan_head")
    client.post(LOGOUT_URL, HTTP_AUTHORIZATION=f"Token {mine}")
    assert tasks_with(client, theirs).status_code == 200


def change_through_the_api(world, user: User) -> None:
    api = APIClient()
    api.force_authenticate(world.person("admin"))
    response = api.patch(f"/api/v1/people/{user.pk}/", {"password": "Another-pass-2019"}, format="json")
    assert response.status_code == 200, response.content


def change_with_set_password(world, user: User) -> None:
    user.set_password("Another-pass-2019")
    user.save()


def change_in_the_admin(world, user: User) -> None:
    browser = Client()
    browser.force_login(world.person("admin"))
    response = browser.post(
        f"/admin/responsibility/user/{user.pk}/password/",
        {"password1": "Another-pass-2019", "password2": "Another-pass-2019", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.parametrize("change", [change_through_the_api, change_with_set_password, change_in_the_admin])
def test_a_password_change_kills_the_token(world, client, clock, change):
    token = token_for(client)

    change(world, world.person("yi_head"))

    assert_error(tasks_with(client, token), 401, "authentication_failed")
    assert_error(sign_in(client, "yi_head", PASSWORD), 400, "invalid")
    assert tasks_with(client, token_for_password(client, "Another-pass-2019")).status_code == 200


def token_for_password(client, password: str) -> str:
    response = sign_in(client, "yi_head", password)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_saving_a_person_without_a_new_password_keeps_the_token(world, client, clock):
    token = token_for(client)
    person = world.person("yi_head")
    person.title = "县长"
    person.save()
    api = APIClient()
    api.force_authenticate(world.person("admin"))
    assert (
        api.patch(f"/api/v1/people/{person.pk}/", {"phone": "0416-1234567"}, format="json").status_code == 200
    )

    assert tasks_with(client, token).status_code == 200


@pytest.mark.parametrize(
    ("after", "works"),
    [(IDLE - datetime.timedelta(minutes=1), True), (IDLE + datetime.timedelta(minutes=1), False)],
)
def test_a_token_dies_after_lying_idle(world, client, clock, after, works):
    token = token_for(client)
    assert tasks_with(client, token).status_code == 200

    clock.shift(after)
    response = tasks_with(client, token)

    if works:
        assert response.status_code == 200
        assert ApiToken.objects.filter(key=token).exists()
    else:
        assert_error(response, 401, "token_expired")
        assert response["WWW-Authenticate"] == "Token"
        assert not ApiToken.objects.filter(key=token).exists()
        assert_error(tasks_with(client, token), 401, "authentication_failed")


def test_each_use_keeps_a_token_alive(world, client, clock):
    token = token_for(client)
    for _ in range(3):
        clock.shift(IDLE - datetime.timedelta(minutes=1))
        assert tasks_with(client, token).status_code == 200


def test_signing_in_after_the_idle_limit_gives_a_new_token(world, client, clock):
    old = token_for(client)
    clock.shift(IDLE + datetime.timedelta(minutes=1))

    new = token_for(client)

    assert new != old
    assert tasks_with(client, new).status_code == 200
    assert ApiToken.objects.filter(user__username="yi_head").count() == 1


def test_the_last_use_is_written_at_most_once_a_minute(world, client, clock):
    token = token_obtain(user=world.person("yi_head"))

    def use() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert tasks_with(client, token.key).status_code == 200
        return [query["sql"] for query in queries.captured_queries]

    first = use()
    clock.shift(datetime.timedelta(seconds=30))
    within = use()
    assert len(within) == len(first)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == START

    clock.shift(datetime.timedelta(seconds=30))
    after = use()
    assert len(after) == len(first) + 1
    assert sum(sql.startswith("UPDATE") for sql in after) == 1
    assert ApiToken.objects.get(pk=token.pk).last_used_at == START + datetime.timedelta(minutes=1)


def test_the_schema_describes_signing_in_and_out(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {"204", "401"} <= set(paths[LOGOUT_URL]["post"]["responses"])
    assert "too_many_failed_logins" in paths[TOKEN_URL]["post"]["responses"]["429"]["description"]
