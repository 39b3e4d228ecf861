"""Addresses of Duban's own pages, for messages that leave the system (e-mail, robots, SMS).

Every channel builds its links here, so a message on any channel opens the same page."""

from django.conf import settings


def task_page_url(task_id: int) -> str:
    """Where a person reading a message opens the task: its page (pages/), which sends a
    reader who is signed out through sign-in and back to the task."""
    return f"{settings.DUBAN['SITE_URL']}/tasks/{task_id}/"
