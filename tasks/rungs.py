"""The rungs of the 督办 ladder, mildest first.

A task's record says how far up the ladder it has gone (``Task.escalation_rank``), so the
levels and their ranks live with the tasks: every app above reads them from here, and a
rank turns into a level through ``LEVEL_OF_RANK``, never through the enum's order.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    REMINDER = "reminder", _("预警")
    OVERDUE = "overdue", _("逾期催办")
    LISTED = "listed", _("挂牌督办")
    CRITICISM = "criticism", _("通报")
    ADMONISHMENT = "admonishment", _("约谈")
    ACCOUNTABILITY = "accountability", _("问责")


# Stored in every escalation row and on the task: these numbers are data, not positions.
LEVEL_RANK = {
    Level.REMINDER: 1,
    Level.OVERDUE: 2,
    Level.LISTED: 3,
    Level.CRITICISM: 4,
    Level.ADMONISHMENT: 5,
    Level.ACCOUNTABILITY: 6,
}
LEVEL_OF_RANK = {rank: level for level, rank in LEVEL_RANK.items()}


def level_of_rank(rank: int | None) -> Level | None:
    """The level a stored rank stands for; None for a task that reached no rung."""
    return LEVEL_OF_RANK[rank] if rank else None
