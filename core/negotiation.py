"""Content negotiation for the endpoints that answer with a file.

A download answers with its file (a PDF, a workbook) and with its errors as JSON. DRF's own
negotiation knows only the renderers, JSON and the browsable API, so a client that states
the file's own type (``Accept: application/pdf``) would get a 406 for a good request. Here the
file's types count as offered: a client asking for one of them, for JSON, or for anything
(no Accept, ``*/*``) is served; a client asking only for what the endpoint cannot give
gets the project's JSON 406, which names what it offers.
"""

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.mediatypes import _MediaType

from .errors import DomainError


class NotAcceptable(DomainError):
    status_code = status.HTTP_406_NOT_ACCEPTABLE
    code = "not_acceptable"
    default_message = _("无法提供 Accept 请求头所要的类型。")


def _quality(media_range: _MediaType) -> float:
    try:
        return float(media_range.params.get("q", 1))
    except ValueError:
        return 1.0


def accepts(accept_header: str, offered: Iterable[str]) -> bool:
    """Whether an Accept header takes one of the ``offered`` types (RFC 9110 §12.5.1): an
    absent header takes everything; a range with ``q=0`` excludes what it names."""
    if not accept_header.strip():
        return True
    ranges = [_MediaType(part.strip()) for part in accept_header.split(",") if part.strip()]
    for media_type in offered:
        offer = _MediaType(media_type)
        # The most specific range that names the offer decides, so that
        # "*/*, application/pdf;q=0" excludes the PDF.
        matching = [r for r in ranges if r.main_type and offer.match(r)]
        if matching and _quality(max(matching, key=lambda r: r.precedence)) > 0:
            return True
    return False


def ensure_accepted(request, offered: Iterable[str]) -> None:
    """Refuse with a JSON 406 a request whose Accept takes none of ``offered`` nor JSON."""
    offered = [*offered, JSONRenderer.media_type]
    if not accepts(request.META.get("HTTP_ACCEPT", ""), offered):
        raise NotAcceptable(
            _("无法提供 Accept 请求头所要的类型；此接口提供 %(types)s。") % {"types": "、".join(offered)}
        )


class FileDownloadMixin:
    """A view answering with a file of ``file_media_types``, and with errors as JSON.

    ``file_media_types`` of ``("*/*",)`` says the type is known only once the file is
    loaded; the view then calls ``ensure_accepted`` with it."""

    file_media_types: tuple[str, ...] = ()

    def perform_content_negotiation(self, request, force=False):
        renderer = JSONRenderer()
        if not force:
            ensure_accepted(request, self.file_media_types)
        return renderer, renderer.media_type
