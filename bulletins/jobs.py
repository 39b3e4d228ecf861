from celery import shared_task

from . import notice_services, services


@shared_task(
    acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3, soft_time_limit=600
)
def bulletin_render(bulletin_id: int) -> None:
    """Render a published bulletin's PDF and mail it (safe to run again)."""
    services.bulletin_render(bulletin_id=bulletin_id)


@shared_task(acks_late=True, soft_time_limit=1800)
def bulletin_render_pending() -> int:
    """Render every published bulletin, and every notice, that has no PDF yet (its own job
    was never queued): one schedule entry for the office's documents."""
    return services.bulletins_render_pending() + notice_services.notices_render_pending()


@shared_task(
    acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3, soft_time_limit=300
)
def notice_render(notice_id: int) -> None:
    """Render an issued notice's PDF and mail it to the unit (safe to run again)."""
    notice_services.notice_render(notice_id=notice_id)


@shared_task(
    acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3, soft_time_limit=300
)
def notice_render_reply(notice_id: int) -> None:
    """Render a replied notice's PDF again with its 回执 filled in and mail it (safe to run again)."""
    notice_services.notice_render_reply(notice_id=notice_id)


@shared_task(
    acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3, soft_time_limit=300
)
def notice_render_withdrawn(notice_id: int) -> None:
    """Render a withdrawn notice's PDF again marked 已撤销 (safe to run again)."""
    notice_services.notice_render_withdrawn(notice_id=notice_id)
