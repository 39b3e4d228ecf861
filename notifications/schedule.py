"""The beat schedule, in one place. A migration writes it into django-celery-beat's
tables, where the office can change times or switch entries off; beat runs with the
DatabaseScheduler and reads it from there."""

DEFAULT_SCHEDULE = [
    # name, job, how often: ("crontab", minute, hour) or ("every", seconds)
    ("督办扫描 escalation sweep", "notifications.jobs.escalation_sweep", ("crontab", "30", "8")),
    # Picks up escalations recorded by hand, or left by a sweep that did not finish.
    ("督办汇总 escalation digests", "notifications.jobs.escalation_digest", ("every", 300)),
    # Retries messages whose SMTP attempt failed, and those a dead worker had claimed.
    ("发件箱 outbox flush", "notifications.jobs.outbox_flush", ("every", 60)),
]
