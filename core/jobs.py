"""Queueing Celery jobs from services."""

import logging

from django.db import transaction
from django.utils.module_loading import import_string

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
