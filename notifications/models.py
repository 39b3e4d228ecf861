"""Escalation (督办): the ladder's rules, the rungs reached and the sweeps that record them.

The ladder is data: ``EscalationRule`` rows, per campaign or the shipped default. The
sweep records each (task, level) it finds due once, as an ``Escalation``; the unique
constraint below is what makes a repeated, concurrent or restarted sweep harmless. New
escalations are then composed into one digest per recipient and stored in the outbox
(``outbox.OutboundMessage``) before anything is sent.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks.models import ChangeRecord
from tasks.rungs import Level

# Mildest first. The sweep reaches the first four; a person decides the last two.
AUTOMATIC_LEVELS = (Level.REMINDER, Level.OVERDUE, Level.LISTED, Level.CRITICISM)
DECIDED_LEVELS = (Level.ADMONISHMENT, Level.ACCOUNTABILITY)
# What the office may record by hand: a reminder now, a listing, a talk, accountability.
MANUAL_LEVELS = (Level.REMINDER, Level.LISTED, *DECIDED_LEVELS)
AUTOMATIC_LEVEL_CHOICES = [(level.value, level.label) for level in AUTOMATIC_LEVELS]
MANUAL_LEVEL_CHOICES = [(level.value, level.label) for level in MANUAL_LEVELS]


class EscalationRule(models.Model):
    """One rung of a campaign's ladder: when it is reached and who is told.

    Rows without a campaign are the default ladder; a campaign with rows of its own uses
    only those. The offset counts working days from the due date: negative before it,
    zero as soon as it has passed, positive for that many working days overdue.
    """

    campaign = models.ForeignKey(
        "tasks.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="escalation_rules"
    )
    level = models.CharField(_("级别"), max_length=16, choices=AUTOMATIC_LEVEL_CHOICES)
    offset_working_days = models.SmallIntegerField(
        _("相对完成时限的工作日数"),
        null=True,
        blank=True,
        help_text=_(
            "负数为到期前，0 为逾期即触发，正数为逾期满该工作日数；预警留空则取攻坚行动的临期预警天数。"
        ),
    )
    notify_responsible = models.BooleanField(_("通知责任人和责任单位"), default=True)
    notify_unit_head = models.BooleanField(_("通知责任单位负责人"), default=False)
    notify_issuer = models.BooleanField(_("通知下达单位"), default=False)
    notify_supervision_office = models.BooleanField(_("通知督查室"), default=False)
    notify_lead_leader = models.BooleanField(_("通知牵头领导"), default=False)
    notify_unit_above = models.BooleanField(_("通知上一级负责人"), default=False)
    # The channels beyond e-mail (which always carries the digest): the group robots of
    # the units told, and SMS to the people told who have a mobile.
    by_robot = models.BooleanField(_("发到被通知单位的工作群"), default=True)
    by_sms = models.BooleanField(_("短信通知被通知人员"), default=False)

    class Meta:
        verbose_name = _("督办规则")
        verbose_name_plural = _("督办规则")
        ordering = ["campaign", "offset_working_days"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "level"], name="escalation_rule_per_campaign"),
            models.UniqueConstraint(
                fields=["level"], condition=Q(campaign__isnull=True), name="escalation_rule_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign or _('默认')} · {self.get_level_display()}"


class LadderChange(ChangeRecord):
    """One change of an escalation rule. ``rule_pk`` is a plain number so that the history
    of a deleted rule still names it."""

    rule_pk = models.PositiveIntegerField()
    # The ladder that changed (empty: the default ladder); a rule moved between ladders
    # names the one it left in ``before``. Permanent, like a task's history.
    campaign = models.ForeignKey(
        "tasks.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(ChangeRecord.Meta):
        verbose_name = _("督办规则变更记录")
        verbose_name_plural = _("督办规则变更记录")
        indexes = [models.Index(fields=["rule_pk", "at"], name="ladder_change_rule_idx")]

    def __str__(self) -> str:
        return f"{self.rule_pk} · {self.get_action_display()}"


class Escalation(models.Model):
    """One rung reached by one task: part of the task's permanent record.

    Automatic rows are unique per (task, level, due date they were measured against): a
    second sweep cannot add one again, and an approved extension, which moves the due
    date, starts the ladder afresh. A row for an obligation is unique per (obligation,
    level, date) alike.
    """

    task = models.ForeignKey("tasks.Task", on_delete=models.PROTECT, related_name="escalations")
    # The task's parent, copied: a task's parent never changes once it is split off, and the
    # bulletin finds the top of each chain of escalations (a row whose parent has none at
    # the same rung) without reading every task of the province for it (bench/FIXES.md).
    task_parent = models.ForeignKey(
        "tasks.Task",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    # The obligation chased (签收, a step, 验收), or empty for the task's own due date; its
    # rows have their own rung history, measured against the obligation's date.
    obligation = models.ForeignKey(
        "tasks.Obligation", null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    level = models.CharField(_("级别"), max_length=16, choices=Level.choices)
    rank = models.PositiveSmallIntegerField()
    due_date = models.DateField(_("完成时限"))
    # Who carried the task when it was reached: the record that 责任倒查 reads.
    lead_unit = models.ForeignKey(
        "responsibility.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位")
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    manual = models.BooleanField(default=False)
    reason = models.TextField(_("理由"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="escalations_concerning",
        verbose_name=_("涉及人员"),
    )
    sweep = models.ForeignKey("Sweep", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # The document that took this rung (a 督办通知单) was withdrawn, or what it chased was
    # owed on one: the row stays in the record, but no longer counts for the task's rung,
    # no longer stops the ladder taking that rung itself, and is not told if it was not yet
    # (``escalations_withdraw``).
    withdrawn_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    # The digests that told of it. Declared here, above the outbox, so that the outbox
    # knows nothing of escalations; the table keeps the name it had when it did.
    messages = models.ManyToManyField(
        "outbox.OutboundMessage",
        blank=True,
        related_name="escalations",
        db_table="notifications_outboundmessage_escalations",
    )

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "level", "due_date"],
                condition=Q(manual=False, obligation__isnull=True),
                name="escalation_once_per_level",
            ),
            models.UniqueConstraint(
                fields=["obligation", "level", "due_date"],
                condition=Q(manual=False, obligation__isnull=False),
                name="escalation_obligation_once_per_level",
            ),
        ]
        indexes = [
            models.Index(fields=["task", "rank"], name="escalation_task_rank_idx"),
            models.Index(
                fields=["created_at"], condition=Q(notified_at__isnull=True), name="escalation_unnotified_idx"
            ),
            # A bulletin's lists of a rung, by due date: the first items are read off the
            # index in order, and the rung's total is counted from it without the rows.
            models.Index(
                fields=["level", "due_date", "task", "lead_unit", "responsible_person", "created_at"],
                name="escalation_listing_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.get_level_display()}"


class Sweep(models.Model):
    """One run of the ladder for a day, split into parts by subtree."""

    day = models.DateField()
    parts_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    escalations_recorded = models.PositiveIntegerField(default=0)
    # Campaigns left out because their ladder could not be applied, once each:
    # [{"campaign", "name", "rule", "level", "code", "message"}].
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.day} #{self.pk}"


class SweepPart(models.Model):
    """Tasks led inside one subtree (or, without a unit, by top-level units)."""

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="parts")
    unit = models.ForeignKey("responsibility.Unit", null=True, on_delete=models.CASCADE, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    recorded = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sweep", "unit"], name="sweep_part_unique")]

    def __str__(self) -> str:
        return f"{self.sweep_id} · {self.unit_id}"
