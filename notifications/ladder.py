"""When each rung of the ladder is reached, as a condition on the due date.

A sweep on day ``today`` turns each rule into one comparison of ``Task.due_date`` with a
date computed here once, so the database can select every task that reached any rung of
any campaign's ladder with one set-based statement, whatever the number of tasks.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q

from tasks.workdays import WorkCalendar

from .models import LEVEL_RANK, EscalationRule, Level

# The default ladder, mildest first. A data migration writes it as rules without a
# campaign; the office edits those rows (or gives a campaign rows of its own).
DEFAULT_LADDER = [
    # level, offset in working days (None: the campaign's yellow-light days before), audience
    (Level.REMINDER, None, {}),
    (Level.OVERDUE, 0, {"notify_unit_head": True, "notify_issuer": True}),
    (
        Level.LISTED,
        3,
        {
            "notify_unit_head": True,
            "notify_issuer": True,
            "notify_supervision_office": True,
            "notify_lead_leader": True,
        },
    ),
    (
        Level.CRITICISM,
        7,
        {
            "notify_unit_head": True,
            "notify_issuer": True,
            "notify_supervision_office": True,
            "notify_lead_leader": True,
            "notify_unit_above": True,
        },
    ),
]

AUDIENCE_FLAGS = (
    "notify_responsible",
    "notify_unit_head",
    "notify_issuer",
    "notify_supervision_office",
    "notify_lead_leader",
    "notify_unit_above",
)


@dataclass(frozen=True)
class Rung:
    level: str
    offset: int
    audience: frozenset[str]

    @property
    def rank(self) -> int:
        return LEVEL_RANK[self.level]


def rung_from_rule(rule: EscalationRule, yellow_working_days: int) -> Rung:
    offset = rule.offset_working_days
    if offset is None:
        offset = -yellow_working_days
    return Rung(rule.level, offset, frozenset(flag for flag in AUDIENCE_FLAGS if getattr(rule, flag)))


def ladders_for(campaigns) -> dict[int, list[Rung]]:
    """Each campaign's rungs: its own rules if it has any, else the default ladder."""
    campaigns = list(campaigns)
    rules = list(
        EscalationRule.objects.filter(Q(campaign__isnull=True) | Q(campaign__in=[c.pk for c in campaigns]))
    )
    defaults = [rule for rule in rules if rule.campaign_id is None]
    ladders = {}
    for campaign in campaigns:
        own = [rule for rule in rules if rule.campaign_id == campaign.pk]
        chosen = own or defaults
        ladders[campaign.pk] = sorted(
            (rung_from_rule(rule, campaign.yellow_working_days) for rule in chosen), key=lambda r: r.rank
        )
    return ladders


def reached_before(rung: Rung, today: datetime.date, calendar: WorkCalendar) -> datetime.date:
    """The tasks due before the returned date have reached ``rung`` on ``today``."""
    if rung.offset < 0:
        # Due within that many working days (or already past it).
        return calendar.add_working_days(today, -rung.offset) + datetime.timedelta(days=1)
    if rung.offset == 0:
        return today
    # Overdue by at least ``offset`` working days: at least that many working days lie in
    # (due_date, today], i.e. the due date is before the offset-th working day counted
    # back from today.
    latest_worked = today if calendar.is_workday(today) else calendar.add_working_days(today, -1)
    return calendar.add_working_days(latest_worked, -(rung.offset - 1))
