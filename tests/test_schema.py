"""The OpenAPI schema renders, validates, and tells the truth about errors."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_schema_renders_for_anyone(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi:" in response.content


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_the_schema_covers_the_api(schema):
    paths = set(schema["paths"])
    for expected in (
        "/api/v1/auth/token/",
        "/api/v1/units/",
        "/api/v1/tasks/",
        "/api/v1/tasks/{id}/transitions/{name}/",
        "/api/v1/tasks/{id}/reports/",
        "/api/v1/extensions/{id}/decision/",
        "/api/v1/attachments/{id}/",
    ):
        assert expected in paths


def test_every_operation_declares_its_errors(schema):
    missing = []
    for path, method, operation in operations(schema):
        # Signing out reads no body, so it has nothing to refuse as invalid.
        expected = {"400"} if method in WRITES and path != "/api/v1/auth/logout/" else set()
        if path != "/api/v1/auth/token/":
            expected |= {"401", "403"}
        if "{" in path:
            expected |= {"404"}
        codes = set(operation["responses"])
        if not expected <= codes:
            missing.append((method.upper(), path, sorted(expected - codes)))
    assert missing == []


def test_state_changing_task_operations_declare_conflicts(schema):
    for path, method, operation in operations(schema):
        if path.startswith(("/api/v1/tasks/", "/api/v1/extensions/")) and method in WRITES:
            assert "409" in operation["responses"], (method, path)


def test_the_token_operation_declares_throttling(schema):
    assert {"400", "429"} <= set(schema["paths"]["/api/v1/auth/token/"]["post"]["responses"])


def test_every_error_response_has_the_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "fields"}
    assert set(error["required"]) == {"code", "message", "fields"}
    for path, method, operation in operations(schema):
        for status_code, response in operation["responses"].items():
            if status_code.startswith("4"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, status_code)


def test_transition_names_are_enumerated(schema):
    operation = schema["paths"]["/api/v1/tasks/{id}/transitions/{name}/"]["post"]
    name = next(p for p in operation["parameters"] if p["name"] == "name")
    values = name["schema"]["enum"]
    assert {"accept", "submit", "close", "return", "reopen"} <= set(values)
