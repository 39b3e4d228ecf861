from django.db import models
from django.utils.translation import gettext_lazy as _

from tasks.models import Task


class TaskWording(models.Model):
    """What an office wrote in an imported task's row, beside what the words resolved to.

    "6月底前" is a date and "各有关部门" four units on the task; the table is the office's
    document, and its export gives back the office's words for as long as the task still
    has what they resolved to. Once a task's units, leader or due date change after the
    import (a reassignment, an extension), the export writes what the task has now.
    """

    task = models.OneToOneField(Task, primary_key=True, on_delete=models.CASCADE, related_name="wording")
    lead_leader = models.TextField(_("牵头领导（原文）"), blank=True)
    lead_unit = models.TextField(_("牵头单位（原文）"), blank=True)
    responsible_units = models.TextField(_("责任单位（原文）"), blank=True)
    cooperating_units = models.TextField(_("配合单位（原文）"), blank=True)
    deadline = models.TextField(_("完成时限（原文）"), blank=True)
    # {"lead_leader": id or null, "lead_unit": id, "units": [[unit id, role], ...],
    # "due_date": "YYYY-MM-DD"}: the task's fields as the words set them.
    resolved = models.JSONField(_("解析结果"), default=dict)

    class Meta:
        verbose_name = _("任务原文")
        verbose_name_plural = _("任务原文")

    def __str__(self) -> str:
        return str(self.task_id)


class ProblemRecord(models.Model):
    """A rectification item (整改事项) as a problem list (问题清单) gave it, and the identity a
    re-import finds it by.

    Identity: the campaign, the problem's text compared without whitespace, full-width
    forms or closing punctuation (``key``), and the unit it is anchored to: its 所在单位
    when the list names one, else its lead 责任单位. The same wording in two counties is
    two problems; the same row imported again is the item already made. The list's cells
    are kept as written, beside the ids and date they resolved to (``resolved``), so that
    a re-import compares the office's words and their meaning with what it gave before,
    not with what the item has become since (an extension, a reassignment).
    """

    task = models.OneToOneField(Task, primary_key=True, on_delete=models.CASCADE, related_name="problem")
    campaign = models.ForeignKey("tasks.Campaign", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("问题（比对用）"), max_length=500)
    anchor_unit = models.ForeignKey("responsibility.Unit", on_delete=models.PROTECT, related_name="+")
    location_unit = models.ForeignKey(
        "responsibility.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    row = models.PositiveIntegerField(_("表中行号"), default=0)
    location = models.TextField(_("所在单位（原文）"), blank=True)
    responsible_units = models.TextField(_("责任单位（原文）"), blank=True)
    responsible_person = models.TextField(_("责任人（原文）"), blank=True, default="")
    lead_leader = models.TextField(_("责任领导（原文）"), blank=True, default="", db_default="")
    measures = models.TextField(_("整改措施"), blank=True)
    deadline = models.TextField(_("整改时限（原文）"), blank=True)
    # Where the problem was found, as the list words it (暗访, 第三方评估, 回头看): the item's
    # source is the ``TaskSource`` these words name (``imports.problems.services.problem_sources``).
    source = models.TextField(_("问题来源"), blank=True)
    # {"location": id or null, "lead_unit": id, "units": [[unit id, role], ...],
    # "due_date": "YYYY-MM-DD" or null for 立行立改, "responsible_person": id or null,
    # "lead_leader": id or null}
    resolved = models.JSONField(_("解析结果"), default=dict)

    class Meta:
        verbose_name = _("问题清单条目")
        verbose_name_plural = _("问题清单条目")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "anchor_unit", "key"], name="problem_record_identity"
            ),
        ]

    def __str__(self) -> str:
        return self.key[:40]
