"""A database that goes away around a keyed POST answers 503 ``service_unavailable`` in the
error shape of every other API error, also where DRF's handler does not reach (opening or
closing the request's transaction), and the failed request keeps nothing. A database that
does not answer at all fails the connection within seconds rather than holding the worker.

``test_database_restart.py`` shows the same against a real PostgreSQL restart."""

import socket
import time

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction

from core import idempotency
from core.models import IdempotencyRecord
from responsibility.models import Unit, UnitKind
from responsibility.services import unit_create
from tests.helpers import assert_error


def new_unit(world) -> dict:
    return {"name": "河北村", "kind": "village", "parent": world.unit("七里河镇").pk}


@pytest.mark.django_db
def test_a_keyed_post_whose_transaction_cannot_open_answers_503(api, world, monkeypatch):
    def connection_refused(self):
        raise OperationalError("connection refused")

    api.as_user("admin")
    with monkeypatch.context() as patch:
        patch.setattr(transaction.Atomic, "__enter__", connection_refused)
        response = api.post("/api/v1/units/", new_unit(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_error(response, 503, "service_unavailable", strict=True)
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert not Unit.objects.filter(name="河北村").exists()
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_keyed_post_failing_before_its_key_is_claimed_keeps_nothing(api, world, monkeypatch):
    def half_written(request):
        unit_create(name="写了一半", kind=UnitKind.VILLAGE, parent=world.unit("七里河镇"))
        raise OperationalError("terminating connection due to administrator command")

    api.as_user("admin")
    with monkeypatch.context() as patch:
        patch.setattr(idempotency, "idempotency_begin", half_written)
        failed = api.post("/api/v1/units/", new_unit(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_error(failed, 503, "service_unavailable", strict=True)
    assert not Unit.objects.filter(name="写了一半").exists()

    retried = api.post("/api/v1/units/", new_unit(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retried.status_code == 201
    assert Unit.objects.filter(name="河北村").count() == 1


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="connect_timeout is PostgreSQL's")
def test_a_database_that_does_not_answer_fails_within_the_connect_timeout():
    timeout = connection.settings_dict["OPTIONS"]["connect_timeout"]
    with socket.socket() as silent:
        # The kernel accepts the connection; nobody ever answers on it.
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings_dict = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": silent.getsockname()[1]}
        unanswered = type(connections[DEFAULT_DB_ALIAS])(settings_dict)
        started = time.monotonic()
        with pytest.raises(OperationalError):
            unanswered.ensure_connection()
    assert time.monotonic() - started < timeout + 3
