"""The OpenAPI schema renders, validates, and tells the truth about errors."""

import inspect
import re
from pathlib import Path

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


def _strings(node, path=""):
    """Every string schema under ``node``, with where it stands."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "format" not in node and "enum" not in node:
            yield path, node
        for key, value in node.items():
            yield from _strings(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}/{index}")


def test_every_text_a_request_sends_declares_the_characters_it_refuses(schema):
    from core.parsers import ALLOWED_TEXT_PATTERN

    requests = {
        name: value for name, value in schema["components"]["schemas"].items() if name.endswith("Request")
    }
    texts = list(_strings(requests))
    assert len(texts) > 50
    # A field with a pattern of its own (a username's) must refuse the same characters.
    undeclared = [
        where
        for where, text in texts
        if text.get("pattern") != ALLOWED_TEXT_PATTERN
        and not (text.get("pattern") and re.search(text["pattern"], "a\u202eb\x00") is None)
    ]
    assert undeclared == []


def test_a_one_choice_filter_declares_its_empty_value_and_a_several_choice_one_does_not(schema):
    parameters = {
        (path, parameter["name"]): parameter["schema"]
        for path, method, operation in operations(schema)
        if method == "get"
        for parameter in operation.get("parameters", [])
    }
    assert "" in parameters["/api/v1/escalation-rules/", "level"]["enum"]
    assert "" not in parameters["/api/v1/tasks/", "state"]["items"]["enum"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/people/", "is_active"),
        ("/api/v1/tasks/", "overdue"),
        ("/api/v1/tasks/", "top_level"),
        ("/api/v1/escalations/", "manual"),
    ],
)
def test_a_yes_or_no_filter_refuses_anything_else(world, api, path, name):
    client = api.as_user("city_head")
    assert client.get(path, {name: "true"}).status_code == 200
    assert client.get(path, {name: "0"}).status_code == 200
    refused = client.get(path, {name: "maybe"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid" and set(refused.json()["fields"]) == {name}
    assert client.get(path, {name: ""}).status_code == 200


def _accepts_empty(schema: dict) -> bool:
    options = schema.get("anyOf", [schema])
    return any(
        "" in option.get("enum", []) or (option.get("type") == "string" and "format" not in option)
        for option in options
    )


def test_every_query_parameter_takes_an_empty_value_exactly_when_the_schema_says(schema, world, api):
    client = api.as_user("admin")
    checked = 0
    for path, method, operation in operations(schema):
        if method != "get" or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            status = client.get(path, {parameter["name"]: ""}).status_code
            assert (status == 200) == _accepts_empty(parameter["schema"]), (path, parameter["name"], status)
            checked += 1
    assert checked > 40


# Words of the code, not of the caller: a description holding one was written for developers.
INTERNAL_WORDS = ("DRF", "``", "docstring", "serializer", "queryset", "selector", "Base of", "For DRF views")


def _internal_docs() -> set[str]:
    """The docstrings of the views' shared bases, which an operation would inherit."""
    from rest_framework import generics, views, viewsets

    from core import apis, idempotency, negotiation

    bases = [
        apis.ApiView,
        apis.ListApi,
        apis.ModelViewSet,
        idempotency.IdempotentMixin,
        negotiation.FileDownloadMixin,
        views.APIView,
        generics.ListAPIView,
        viewsets.ModelViewSet,
    ]
    return {inspect.getdoc(base) for base in bases if inspect.getdoc(base)}


def test_every_operation_tells_its_caller_what_it_does(schema):
    internal = _internal_docs()
    assert "Base of every Duban API view: keyed POSTs are idempotent." in internal
    problems = []
    for path, method, operation in operations(schema):
        description = operation.get("description", "")
        if len(description) < 10:
            problems.append((method.upper(), path, "no description"))
        elif description in internal or any(word in description for word in INTERNAL_WORDS):
            problems.append((method.upper(), path, description))
    assert problems == []


def test_the_operations_of_one_path_are_described_each_for_itself(schema):
    for path, methods in schema["paths"].items():
        descriptions = [operation["description"] for operation in methods.values()]
        assert len(set(descriptions)) == len(descriptions), path


def test_a_report_in_a_form_says_its_figures_are_json(schema):
    body = schema["paths"]["/api/v1/tasks/{id}/reports/"]["post"]["requestBody"]["content"]
    for media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        assert body[media_type]["encoding"] == {"figures": {"contentType": "application/json"}}
    figures = schema["components"]["schemas"]["ReportInputRequest"]["properties"]["figures"]
    item = schema["components"]["schemas"][figures["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(item["properties"]) == {"indicator", "value"}


def _readme_operations() -> list[tuple[str, str]]:
    """Every ``METHOD /api/...`` the README's endpoint table names, as (method, path)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    found = []
    for methods, path in re.findall(r"`((?:[A-Z]+/)*[A-Z]+) (/api/[^`\s]+)`", readme):
        for method in methods.split("/"):
            found.append((method.lower(), path))
    return found


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


def test_every_operation_the_readme_names_is_in_the_schema(schema):
    """The README's table is read by callers: each path and method it names must exist
    (the extension decision is /api/v1/extensions/{id}/decision/, not under the task)."""
    known = {(method, _shape(path)) for path, method, _ in operations(schema)}
    named = _readme_operations()
    assert ("post", "/api/v1/extensions/{id}/decision/") in named
    assert len(named) > 15
    assert [(method, path) for method, path in named if (method, _shape(path)) not in known] == []
