"""The beat schedule, in one place. A migration writes it into django-celery-beat's
tables, where the office can change times or switch entries off; beat runs with the
DatabaseScheduler and reads it from there."""

DEFAULT_SCHEDULE = [
    # name, job, how often: ("crontab", minute, hour) or ("every", seconds)
    ("督办扫描 escalation sweep", "notifications.jobs.escalation_sweep", ("crontab", "30", "8")),
    # Picks up escalations recorded by hand, or left by a sweep that did not finish.
    ("督办汇总 escalation digests", "notifications.jobs.escalation_digest", ("every", 300)),
    # Retries messages whose SMTP attempt failed, and those a dead worker had claimed.
    ("发件箱 outbox flush", "outbox.jobs.outbox_flush", ("every", 60)),
    # Renders published bulletins whose rendering job never ran (the broker was down).
    ("通报生成 bulletin rendering", "bulletins.jobs.bulletin_render_pending", ("every", 300)),
    # Idempotency records past their retention (DUBAN["IDEMPOTENCY_RETENTION_DAYS"]); at
    # night, when hardly any request is inserting records.
    ("幂等记录清理 idempotency purge", "core.jobs.idempotency_purge", ("crontab", "15", "3")),
]


def install_schedule(apps) -> None:
    """Write the entries missing from django-celery-beat's tables (used by migrations);
    entries already there, perhaps changed by the office, are left as they are."""
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    for name, job, (kind, *when) in DEFAULT_SCHEDULE:
        if kind == "crontab":
            minute, hour = when
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone="Asia/Shanghai",
            )
            PeriodicTask.objects.get_or_create(name=name, defaults={"task": job, "crontab": crontab})
        else:
            interval, _ = IntervalSchedule.objects.get_or_create(every=when[0], period="seconds")
            PeriodicTask.objects.get_or_create(name=name, defaults={"task": job, "interval": interval})
