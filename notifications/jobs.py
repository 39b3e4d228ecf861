"""Celery jobs of the ladder: each loads by id and calls one service.

Every job is safe to run twice (the services are idempotent), so they are acknowledged
late: a worker that dies mid-job leaves the job to be run again.
"""

from celery import shared_task
from django.db import transaction

from outbox.jobs import outbox_flush

from . import services


@shared_task(acks_late=True)
def escalation_sweep(day: str | None = None) -> int:
    """Start today's sweep and hand its parts to the workers."""
    import datetime

    sweep = services.sweep_start(day=datetime.date.fromisoformat(day) if day else None)
    part_ids = list(sweep.parts.values_list("pk", flat=True))
    transaction.on_commit(lambda: [escalation_sweep_part.delay(part_id) for part_id in part_ids])
    return sweep.pk


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def escalation_sweep_part(part_id: int) -> None:
    if services.sweep_part_run(part_id=part_id):
        escalation_digest.delay()


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def escalation_digest() -> int:
    messages = services.digest_compose()
    if messages:
        outbox_flush.delay()
    return len(messages)
