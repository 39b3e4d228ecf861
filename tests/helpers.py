"""Assertions shared by the API tests."""

ERROR_KEYS = {"code", "message", "fields"}


def assert_error(
    response, status_code: int, code: str, *, fields: set[str] | None = None, strict: bool = False
) -> dict:
    """The response is Duban's error shape with this status and code. ``fields`` names the
    fields with messages; with ``strict``, no ``fields`` at all is expected otherwise."""
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) <= ERROR_KEYS
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    if fields is not None:
        assert set(body["fields"]) == fields, body
    elif strict:
        assert "fields" not in body, body
    return body
