"""Idempotency-Key for POST: village networks drop connections, and a client that retries
with the same key gets the first answer back while nothing is written twice.

The record is inserted in the same transaction as the request's own writes, so either
both exist or neither does; a concurrent retry waits on the unique key and then replays.
Records are kept for ``DUBAN["IDEMPOTENCY_RETENTION_DAYS"]``; a retry after that runs as
a new request.
"""

import datetime
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import DATABASE_ERRORS, Conflict, InvalidInput, service_unavailable
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
PURGE_BATCH_SIZE = 10_000


class Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


def _fingerprint(request, data) -> str:
    """A digest of what was asked: the same key with a different request is refused."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    files = request.FILES
    fields = (
        {key: value for key, value in data.lists() if key not in files} if hasattr(data, "lists") else data
    )
    digest.update(json.dumps(fields, sort_keys=True, default=str).encode())
    for name in sorted(files):
        for upload in files.getlist(name):
            digest.update(name.encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def idempotency_begin(request, *, key: str | None = None, data=None) -> IdempotencyRecord | None:
    """Claim the request's key, or raise Replay with the answer already given.

    The API reads the key from the header and the body from DRF's ``request.data``; a page's
    form, which cannot set a header without JavaScript, passes the key it carries in a
    hidden field and its ``request.POST``."""
    key = key or request.headers.get(HEADER)
    if request.method != "POST" or not key:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(_("Idempotency-Key 过长。"), code="invalid_idempotency_key")
    principal = f"user:{request.user.pk}" if request.user.is_authenticated else "anonymous"
    fingerprint = _fingerprint(request, request.data if data is None else data)
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                key=key,
                principal=principal,
                method=request.method,
                path=request.path,
                request_hash=fingerprint,
            )
    except IntegrityError:
        record = IdempotencyRecord.objects.get(key=key, principal=principal)
    if record.request_hash != fingerprint:
        raise Conflict(_("该 Idempotency-Key 已用于另一个请求。"), code="idempotency_key_reused")
    if record.status_code is None:
        raise Conflict(_("相同 Idempotency-Key 的请求正在处理中。"), code="idempotency_in_progress")
    raise Replay(record)


def idempotency_finish(record: IdempotencyRecord, response) -> None:
    if response.status_code >= 500:
        # Rolled back with the request's writes (see IdempotentMixin.dispatch).
        return
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    record.status_code = response.status_code
    record.content_type = response.get("Content-Type", "")
    record.body = bytes(response.content)
    record.save(update_fields=["status_code", "content_type", "body"])


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body or b""), status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_records_purge(
    *, now: datetime.datetime | None = None, batch_size: int = PURGE_BATCH_SIZE
) -> int:
    """Delete the records older than the retention; returns how many went.

    A key whose record is gone is unknown again: a retry carrying it runs as a new request
    and is recorded anew. The records go in DELETE statements of ``batch_size`` rows, each
    committed on its own, so the first purge of a long backlog does not hold the locks of
    one huge transaction while requests keep inserting records."""
    retention = datetime.timedelta(days=settings.DUBAN["IDEMPOTENCY_RETENTION_DAYS"])
    expired = IdempotencyRecord.objects.filter(created_at__lt=(now or timezone.now()) - retention)
    purged = 0
    while True:
        batch = Subquery(expired.order_by().values("pk")[:batch_size])
        deleted, _ = IdempotencyRecord.objects.filter(pk__in=batch).delete()
        purged += deleted
        if deleted < batch_size:
            return purged


class IdempotentMixin:
    """For DRF views: wraps a keyed POST in one transaction with its idempotency record."""

    _idempotency_record = None

    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST" or not request.headers.get(HEADER):
            return super().dispatch(request, *args, **kwargs)
        try:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if response.status_code >= 500:
                    # A failed request keeps nothing, its key included: a retry must run
                    # again rather than meet an unfinished record and be refused as still
                    # in progress. Nor is a commit tried on a connection that just failed.
                    transaction.set_rollback(True)
                return response
        except DATABASE_ERRORS:
            # The database went away while the transaction was opened, committed or
            # closed, where DRF's handler does not reach. A COMMIT whose answer was lost
            # may still have been applied: a retry with the same key then replays it.
            return service_unavailable()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = idempotency_begin(request)

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return replay_response(exc.record)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotency_record is not None and not response.has_header("Idempotent-Replayed"):
            idempotency_finish(self._idempotency_record, response)
        return response
