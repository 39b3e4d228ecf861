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
