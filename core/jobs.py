"""Queueing Celery jobs from services, and core's own jobs."""

import logging

from celery import shared_task
from django.db import transaction
from django.utils.module_loading import import_string

from . import idempotency

logger = logging.getLogger(__name__)


def enqueue_on_commit(job: str, *args) -> None:
    """Queue the job (by dotted path) once the current transaction commits.

    The work it stands for is already stored in the database, and a beat job picks up
    whatever was not done, so a broker that is down must not fail the request that
    committed: the error is logged, not raised.
    """

    def send() -> None:
        import_string(job).delay(*args)

    transaction.on_commit(send, robust=True)


@shared_task(acks_late=True, soft_time_limit=600)
def idempotency_purge() -> int:
    """Delete the idempotency records past their retention (safe to run again)."""
    return idempotency.idempotency_records_purge()
