"""Error responses as the OpenAPI schema describes them: every view lists its own."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

Error = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="Machine-readable error code."),
        "message": serializers.CharField(help_text="Human message in the request's language."),
        "fields": serializers.DictField(help_text="Messages per invalid field; {} when it concerns none."),
    },
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=Error, description=description)


BAD_REQUEST = {400: _error("Invalid input; nothing was changed.")}
UNAUTHENTICATED = {401: _error("Not signed in.")}
FORBIDDEN = {403: _error("Not allowed for this user.")}
NOT_FOUND = {404: _error("Not found, or not visible to this user.")}
CONFLICT = {409: _error("Not allowed in the current state, or changed concurrently.")}
THROTTLED = {429: _error("Too many requests.")}
UNSUPPORTED_MEDIA_TYPE = {415: _error("The request body is in a media type the operation does not take.")}
NOT_ACCEPTABLE = {
    406: _error("The Accept header asks only for types this operation cannot give; the message names them.")
}
TOO_LARGE = {413: _error("The request body is larger than the server takes.")}

ERRORS = {**BAD_REQUEST, **TOO_LARGE, **UNSUPPORTED_MEDIA_TYPE, **THROTTLED}
READ_ERRORS = {**UNAUTHENTICATED, **FORBIDDEN, **NOT_FOUND}
# A list refuses a filter value or page it cannot read rather than ignore it.
LIST_ERRORS = {400: _error("A filter's value, or the page or page size, is invalid."), **READ_ERRORS}
WRITE_ERRORS = {**BAD_REQUEST, **READ_ERRORS, **CONFLICT, **TOO_LARGE, **UNSUPPORTED_MEDIA_TYPE}


# Writes that answer with the changed resource skip it for ``Prefer: return=minimal``.
PREFER = OpenApiParameter(
    "Prefer",
    str,
    OpenApiParameter.HEADER,
    enum=["return=minimal", "return=representation"],
    description="return=minimal: answer 204 without reading the changed resource back (RFC 7240).",
)
MINIMAL = {204: OpenApiResponse(description="Done, as asked by Prefer: return=minimal; no body.")}


def crud_schema(serializer, *, filtered: bool = True, **describe: str) -> dict:
    """extend_schema_view arguments for a model viewset: success and error responses, and
    what each action does for the caller (``list=``, ``retrieve=``, ``create=``, ``update=``,
    ``partial_update=``, ``destroy=``; the docs show no docstring). ``filtered`` says
    whether its list takes filters, and so may answer 400."""
    from drf_spectacular.utils import extend_schema

    responses = {
        "list": {200: serializer(many=True), **(LIST_ERRORS if filtered else READ_ERRORS)},
        "retrieve": {200: serializer, **READ_ERRORS},
        "create": {201: serializer, **WRITE_ERRORS},
        "update": {200: serializer, **WRITE_ERRORS},
        "partial_update": {200: serializer, **WRITE_ERRORS},
        "destroy": {204: None, **WRITE_ERRORS},
    }
    return {
        action: extend_schema(description=describe[action], responses=answers)
        for action, answers in responses.items()
        if action in describe
    }


def postprocess_path_ids(result, generator, request, public):
    """Every integer path parameter names a row by its id, and ids start at 1: the schema
    says so (minimum 1), and an id below it answers 404 like any id that names nothing."""
    for operation in _operations(result):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path" and parameter.get("schema", {}).get("type") == "integer":
                parameter["schema"]["minimum"] = 1
    return result


def postprocess_paginated_lists(result, generator, request, public):
    """A paginated list refuses a page or page size that is not a positive integer with a
    400 (core.pagination), whether or not the view also takes filters."""
    for operation in _operations(result):
        names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
        if {"page", "page_size"} <= names and "400" not in operation.get("responses", {}):
            operation["responses"]["400"] = {
                "description": "A page or page size that is not a positive integer.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
    return result


# Query parameters that refuse an empty value (core.pagination).
REFUSE_EMPTY = frozenset({"page", "page_size"})


def postprocess_empty_filters(result, generator, request, public):
    """A filter left empty (``?level=``, ``?due_before=``, as an HTML form sends it) filters
    nothing, as django-filter reads it; the schema says so by allowing the empty value
    beside the filter's own. A filter of several choices refuses an empty one, and so do
    the page and page size, as their schemas already say."""
    for operation in _operations(result):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") != "query" or parameter.get("name") in REFUSE_EMPTY:
                continue
            if "enum" in schema:
                if "" not in schema["enum"]:
                    schema["enum"] = [*schema["enum"], ""]
            elif schema.get("type") not in ("string", "array") or "format" in schema:
                parameter["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    return result


def postprocess_text_characters(result, generator, request, public):
    """Every text a client sends refuses control and text-direction characters
    (``core.parsers``); the request schemas say so with a pattern on each string, and on
    the keys of free-form objects, so that a client (and a fuzzer) knows before sending."""
    from .parsers import ALLOWED_TEXT_PATTERN

    def mark(schema):
        if isinstance(schema, list):
            for item in schema:
                mark(item)
            return
        if not isinstance(schema, dict):
            return
        if schema.get("type") == "string" and "format" not in schema and "enum" not in schema:
            schema.setdefault("pattern", ALLOWED_TEXT_PATTERN)
        if schema.get("type") == "object" and schema.get("additionalProperties") not in (None, False):
            schema.setdefault("propertyNames", {"pattern": ALLOWED_TEXT_PATTERN})
        for value in schema.values():
            mark(value)

    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            mark(component)
    for operation in _operations(result):
        for content in operation.get("requestBody", {}).get("content", {}).values():
            mark(content.get("schema"))
    return result


def _operations(result):
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            if isinstance(operation, dict):
                yield operation
