"""When each rung of the ladder is reached, as a condition on the due date.

A sweep on day ``today`` turns each rule into one comparison of ``Task.due_date`` with a
date computed here once, so the database can select every task that reached any rung of
any campaign's ladder with one set-based statement, whatever the number of tasks.
"""

import datetime
from dataclasses import dataclass
from itertools import pairwise

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks.rungs import LEVEL_RANK, Level
from tasks.workdays import WorkCalendar

from .models import AUTOMATIC_LEVELS, EscalationRule

# Six weeks' warning is already more than a reminder "near the deadline"; a quarter
# overdue (the seeds report progress quarterly, 每季度形象进度) is as late as public
# criticism still means anything. The bounds also keep every date the sweep computes a
# few months from today, far inside the calendar's ten-year scan.
MIN_OFFSET = -30
MAX_OFFSET = 60

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

# The rungs the default ladder also tells by SMS: a listing and public criticism are
# what a head must not miss; a reminder and an overdue notice go to the group.
DEFAULT_SMS_LEVELS = (Level.LISTED, Level.CRITICISM)

CHANNEL_FLAGS = ("by_robot", "by_sms")


def install_default_ladder() -> None:
    """Write the default ladder's missing rules as today's migrations leave them (the
    rungs told by SMS included); rules already there, perhaps changed by the office, stay.
    For a database emptied by ``flush``, which keeps the tables but not the rows the
    migrations wrote."""
    for level, offset, audience in DEFAULT_LADDER:
        EscalationRule.objects.get_or_create(
            campaign=None,
            level=level,
            defaults={"offset_working_days": offset, "by_sms": level in DEFAULT_SMS_LEVELS, **audience},
        )


ROBOT = "robot"
SMS = "sms"

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
    channels: frozenset[str] = frozenset({ROBOT})

    @property
    def rank(self) -> int:
        return LEVEL_RANK[self.level]


def rung_from_rule(rule: EscalationRule, yellow_working_days: int) -> Rung:
    offset = rule.offset_working_days
    if offset is None:
        offset = -yellow_working_days
    return Rung(
        rule.level,
        offset,
        frozenset(flag for flag in AUDIENCE_FLAGS if getattr(rule, flag)),
        frozenset(channel for channel, flag in ((ROBOT, rule.by_robot), (SMS, rule.by_sms)) if flag),
    )


def rules_for(campaigns) -> dict[int, list[EscalationRule]]:
    """Each campaign's rules, mildest first: its own if it has any, else the default ladder."""
    campaigns = list(campaigns)
    rules = list(
        EscalationRule.objects.filter(Q(campaign__isnull=True) | Q(campaign__in=[c.pk for c in campaigns]))
    )
    defaults = [rule for rule in rules if rule.campaign_id is None]
    chosen = {}
    for campaign in campaigns:
        own = [rule for rule in rules if rule.campaign_id == campaign.pk]
        chosen[campaign.pk] = sorted(own or defaults, key=lambda rule: LEVEL_RANK.get(rule.level, 0))
    return chosen


def ladders_for(campaigns) -> dict[int, list[Rung]]:
    """Each campaign's rungs: its own rules if it has any, else the default ladder."""
    campaigns = list(campaigns)
    rules = rules_for(campaigns)
    return {
        campaign.pk: [rung_from_rule(rule, campaign.yellow_working_days) for rule in rules[campaign.pk]]
        for campaign in campaigns
    }


@dataclass(frozen=True)
class LadderError:
    """Why a ladder cannot be applied, naming the rule at fault."""

    code: str
    message: str
    rule: EscalationRule
    field: str = "offset_working_days"


def ladder_errors(rules: list[EscalationRule]) -> list[LadderError]:
    """What is wrong with one ladder (a campaign's rules, or the default ones).

    Each rule: a level the sweep reaches; an offset within MIN_OFFSET..MAX_OFFSET; a
    reminder before the due date (or empty: the campaign's yellow-light days), every
    other rung on or after it. Together: a milder rung is never reached later than a
    stronger one, so reminder < overdue ≤ listed ≤ criticism. The services refuse a
    change that would leave such an error; the sweep leaves out a ladder that has one
    (rows written before these checks, or by hand in the database).
    """
    errors = []
    for rule in rules:
        level = Level(rule.level).label if rule.level in Level.values else rule.level
        offset = rule.offset_working_days
        if rule.level not in AUTOMATIC_LEVELS:
            errors.append(LadderError("invalid_level", _("督办规则的级别无效。"), rule, "level"))
        elif offset is None:
            if rule.level != Level.REMINDER:
                message = _("“%(level)s”须填写相对完成时限的工作日数。") % {"level": level}
                errors.append(LadderError("offset_required", message, rule))
        elif not MIN_OFFSET <= offset <= MAX_OFFSET:
            message = _("“%(level)s”的工作日数须在 %(low)s 到 %(high)s 之间，现为 %(offset)s。") % {
                "level": level,
                "low": MIN_OFFSET,
                "high": MAX_OFFSET,
                "offset": offset,
            }
            errors.append(LadderError("offset_out_of_range", message, rule))
        elif rule.level == Level.REMINDER and offset >= 0:
            message = _("预警须在完成时限之前：工作日数须为负数，或留空取临期预警天数。")
            errors.append(LadderError("reminder_not_before_due", message, rule))
        elif rule.level != Level.REMINDER and offset < 0:
            message = _("“%(level)s”在逾期后才触发：工作日数不能为负数。") % {"level": level}
            errors.append(LadderError("rung_before_due", message, rule))
    if errors:
        return errors
    ordered = sorted(rules, key=lambda rule: LEVEL_RANK[rule.level])
    for milder, stronger in pairwise(ordered):
        # Only a reminder may be empty, and it then falls before the due date: before
        # every rung after it, which the checks above keep at zero or later.
        if (milder.offset_working_days or -1) > (stronger.offset_working_days or -1):
            message = _("“%(milder)s”不能晚于“%(stronger)s”触发。") % {
                "milder": Level(milder.level).label,
                "stronger": Level(stronger.level).label,
            }
            errors.append(LadderError("rungs_out_of_order", message, stronger))
    return errors


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


@dataclass(frozen=True)
class LadderProblem:
    """A campaign left out of a sweep: its ladder could not be applied on the day."""

    campaign_id: int
    campaign_name: str
    rule_id: int | None
    level: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {
            "campaign": self.campaign_id,
            "name": self.campaign_name,
            "rule": self.rule_id,
            "level": self.level,
            "code": self.code,
            "message": str(self.message),
        }


# What a calendar that cannot answer raises: no working day in reach (ValueError), a
# date past the year 9999 (OverflowError), a year nobody knows (NotImplementedError).
CALENDAR_ERRORS = (ValueError, OverflowError, NotImplementedError)


def rung_bounds(
    campaigns, today: datetime.date, calendar: WorkCalendar
) -> tuple[list[tuple[int, str, int, datetime.date]], list[LadderProblem]]:
    """Every rung of every campaign as (campaign, level, rank, reached before), and the
    campaigns left out.

    Each campaign is computed on its own: a ladder with an error (see ``ladder_errors``)
    or a rung the calendar cannot place leaves out that campaign, never the others.
    """
    campaigns = list(campaigns)
    rules = rules_for(campaigns)
    computed: dict[int, datetime.date | Exception] = {}
    rows, problems = [], []
    for campaign in campaigns:
        ladder = rules[campaign.pk]
        errors = ladder_errors(ladder)
        if errors:
            error = errors[0]
            problems.append(
                LadderProblem(
                    campaign.pk, campaign.name, error.rule.pk, error.rule.level, error.code, error.message
                )
            )
            continue
        own_rows = []
        for rule in ladder:
            rung = rung_from_rule(rule, campaign.yellow_working_days)
            if rung.offset not in computed:
                try:
                    computed[rung.offset] = reached_before(rung, today, calendar)
                except CALENDAR_ERRORS as failure:
                    computed[rung.offset] = failure
            before = computed[rung.offset]
            if isinstance(before, Exception):
                message = _("无法按节假日安排推算“%(level)s”的日期（%(error)s）。") % {
                    "level": Level(rule.level).label,
                    "error": before,
                }
                problems.append(
                    LadderProblem(campaign.pk, campaign.name, rule.pk, rule.level, "calendar_failed", message)
                )
                break
            own_rows.append((campaign.pk, rung.level, rung.rank, before))
        else:
            rows.extend(own_rows)
    return rows, problems
