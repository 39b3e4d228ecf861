from celery import shared_task

from . import services


@shared_task(
    acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3, soft_time_limit=600
)
def bulletin_render(bulletin_id: int) -> None:
    """Render a published bulletin's PDF and mail it (safe to run again)."""
    services.bulletin_render(bulletin_id=bulletin_id)


@shared_task(acks_late=True, soft_time_limit=1800)
def bulletin_render_pending() -> int:
    """Render every published bulletin that has no PDF yet (its own job was never queued)."""
    return services.bulletins_render_pending()
