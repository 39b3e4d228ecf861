"""``Prefer: return=minimal`` (RFC 7240): a client that does not need the changed resource
back says so, and the server skips reading and rendering it."""

from rest_framework import status
from rest_framework.response import Response

MINIMAL = "return=minimal"


def prefers_minimal(request) -> bool:
    """Whether one of the request's preferences is ``return=minimal``. Preferences are
    comma-separated and may carry parameters after ``;``; the value may be quoted."""
    for preference in request.headers.get("Prefer", "").split(","):
        name, _, value = preference.split(";")[0].partition("=")
        if name.strip().lower() == "return" and value.strip().strip('"').lower() == "minimal":
            return True
    return False


def minimal_response() -> Response:
    """204: the change is made and there is nothing to read back."""
    return Response(status=status.HTTP_204_NO_CONTENT, headers={"Preference-Applied": MINIMAL})
