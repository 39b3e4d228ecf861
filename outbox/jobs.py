"""The outbox's Celery job: send what is due. Safe to run twice (each message is claimed
with a lease), so it is acknowledged late."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=600)
def outbox_flush() -> dict:
    return services.outbox_flush()
