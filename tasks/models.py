from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from core.models import AppendOnlyModel
from responsibility.models import Unit

from .transitions import TRANSITIONS, Side, declared


class Campaign(models.Model):
    name = models.CharField(_("名称"), max_length=200)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    issuing_unit = models.ForeignKey(
        Unit, verbose_name=_("发文单位"), on_delete=models.PROTECT, related_name="campaigns"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    description = models.TextField(_("说明"), blank=True)
    yellow_working_days = models.PositiveSmallIntegerField(
        _("临期预警工作日数"),
        default=3,
        help_text=_("到期前多少个工作日亮黄灯。"),
    )
    # Defaults and their sources: README, "What is owed by when".
    sign_for_working_days = models.PositiveSmallIntegerField(
        _("签收时限（工作日）"),
        default=3,
        help_text=_("任务下达后多少个工作日内须签收，逾期未签收即督办。"),
    )
    verify_working_days = models.PositiveSmallIntegerField(
        _("验收时限（工作日）"),
        default=5,
        help_text=_("申请销号后下达单位须在多少个工作日内验收，逾期即向下达单位督办。"),
    )
    # 回头看: how long after 销号 the issuer re-checks a rectification item (README, "回头看").
    # A database default too, so that rows written by SQL (bench/) get it.
    recheck_working_days = models.PositiveSmallIntegerField(
        _("回头看复查时限（工作日）"),
        default=40,
        db_default=40,
        help_text=_("整改事项销号后多少个工作日内由下达单位回头看复查；0 表示不复查。"),
    )
    # 立行立改 in an imported problem list: due this many working days after the import
    # (README, "Importing a problem list"). A database default too, as above.
    immediate_working_days = models.PositiveSmallIntegerField(
        _("立行立改时限（工作日）"),
        default=5,
        db_default=5,
        validators=[MinValueValidator(1)],
        help_text=_("问题清单中“立行立改”的问题，导入后多少个工作日内须整改完成。"),
    )

    class Meta:
        verbose_name = _("攻坚行动")
        verbose_name_plural = _("攻坚行动")
        ordering = ["-starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="campaign_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Responsibility(models.Model):
    """One entry of a campaign's catalogue, such as one of the "eight responsibilities"."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responsibilities")
    code = models.CharField(_("编号"), max_length=20)
    name = models.CharField(_("责任"), max_length=100)
    description = models.TextField(_("内容"), blank=True)
    holder = models.CharField(_("责任主体"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        # The table keeps the name it had when the catalogue lived with the units.
        db_table = "responsibility_responsibility"
        verbose_name = _("责任清单")
        verbose_name_plural = _("责任清单")
        ordering = ["campaign", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="responsibility_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class TaskKind(models.TextChoices):
    TASK = "task", _("一般任务")
    TARGET = "target", _("指标任务")
    PROCEDURE = "procedure", _("程序任务")
    RECTIFICATION = "rectification", _("整改事项")


class TaskState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ASSIGNED = "assigned", _("已下达")
    IN_PROGRESS = "in_progress", _("办理中")
    SUBMITTED = "submitted", _("已申请销号")
    CLOSED = "closed", _("已销号")
    SUSPENDED = "suspended", _("暂缓")
    CANCELLED = "cancelled", _("已撤销")


# States in which a task is still owed: these can run late.
OPEN_STATES = (TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.SUBMITTED)
# States from which a task can still be cancelled or has not finished its life.
UNFINISHED_STATES = (TaskState.DRAFT, *OPEN_STATES, TaskState.SUSPENDED)
SUSPENDABLE_STATES = (TaskState.ASSIGNED, TaskState.IN_PROGRESS)


class Task(ConcurrentTransitionMixin, models.Model):
    """One assigned piece of work and its lifecycle.

    The transitions below are pure: they check and change this row's own fields. Each is
    ``@declared`` with its action name, the side that may run it and its history event
    (``tasks.transitions``); checking who runs it, saving, history and side effects live in
    ``tasks.services``.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="tasks")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    number = models.CharField(_("序号"), max_length=40, blank=True)
    title = models.CharField(_("任务"), max_length=500)
    description = models.TextField(_("任务内容"), blank=True)
    kind = models.CharField(_("类别"), max_length=16, choices=TaskKind.choices, default=TaskKind.TASK)
    responsibility = models.ForeignKey(
        Responsibility,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("所属责任"),
    )
    issuing_unit = models.ForeignKey(
        Unit, verbose_name=_("下达单位"), on_delete=models.PROTECT, related_name="issued_tasks"
    )
    lead_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("牵头领导"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_tasks",
    )
    lead_unit = models.ForeignKey(
        Unit, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="led_tasks"
    )
    units = models.ManyToManyField(Unit, through="TaskUnit", related_name="tasks")
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responsible_tasks",
    )
    due_date = models.DateField(_("完成时限"))
    original_due_date = models.DateField(_("原定完成时限"))
    # The deadline as the source table wrote it when it was not one date ("长期坚持",
    # "每月28日前"); such tasks fall due at the campaign's end.
    deadline_text = models.CharField(_("时限说明"), max_length=50, blank=True)
    # 长期坚持: the work has no final date. ``due_date`` then holds the campaign's end, so
    # that lists keep their order, but the work is never overdue by it; what such a task
    # owes by a date is its reports (``ReportSchedule``), chased as obligations.
    ongoing = models.BooleanField(_("长期坚持"), default=False, db_default=False)
    # Where the work came from (a 批示, a meeting's decision …): given to a top-level task,
    # and carried by the pieces it is split into, so that a unit finds its share of a 批示
    # by the source and sees the document it answers to (``tasks.sources``).
    source = models.ForeignKey(
        "TaskSource",
        verbose_name=_("来源"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    # Tasks made by importing a decomposition table are matched by number on re-import.
    imported = models.BooleanField(default=False)
    notes = models.CharField(_("备注"), max_length=500, blank=True)

    state = FSMField(_("状态"), default=TaskState.DRAFT, choices=TaskState.choices, protected=True)
    state_before_suspension = models.CharField(max_length=16, blank=True)
    suspended_on = models.DateField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重新打开次数"), default=0)
    # The highest rung of the ladder reached against the current due date, kept by the
    # services that record escalations; a new due date starts the ladder again.
    escalation_rank = models.PositiveSmallIntegerField(_("督办级别"), null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The office's day of the submission, kept beside the instant so that "submitted by its
    # due date" is a comparison of two columns in SQL, as the sweep and the lights need it.
    submitted_on = models.DateField(null=True, blank=True)
    # The earliest date among the task's unmet obligations other than its own due date
    # (``Obligation``), and among those warned of before their date (steps), kept by
    # ``tasks.obligations``: the lights read these columns (``tasks.lateness``).
    next_obligation_date = models.DateField(null=True, blank=True)
    next_warned_date = models.DateField(null=True, blank=True)
    # How many of the task's own indicators are not met, the veto ones (一票否决) apart,
    # kept by ``tasks.standing`` whenever indicators are written: a bulletin counts and
    # lists a province's unmet indicators from these instead of joining every indicator to
    # its task (bench/FIXES.md).
    targets_not_met = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    veto_not_met = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["due_date", "pk"]
        indexes = [
            models.Index(fields=["state", "due_date"], name="task_state_due_idx"),
            models.Index(fields=["campaign", "number"], name="task_campaign_number_idx"),
            # Repeated problems (屡改屡犯), most often reopened first: a bulletin lists the
            # first of a few thousand instead of sorting a province's tasks (bench/FIXES.md).
            models.Index(
                fields=["-reopen_count", "due_date", "id"],
                condition=models.Q(reopen_count__gt=0),
                name="task_reopened_idx",
            ),
            # Cancelled tasks, which bulletins leave out of their escalation figures: an
            # index-only read of a few thousand ids instead of visiting their rows.
            models.Index(
                fields=["id"], condition=models.Q(state=TaskState.CANCELLED), name="task_cancelled_idx"
            ),
            # The tasks with unmet indicators, by due date: a bulletin's lists of them read
            # their first rows off these instead of sorting every indicator in scope.
            models.Index(
                fields=["due_date", "id"],
                condition=models.Q(targets_not_met__gt=0),
                name="task_targets_not_met_idx",
            ),
            models.Index(
                fields=["due_date", "id"],
                condition=models.Q(veto_not_met__gt=0),
                name="task_veto_not_met_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def move_due_date(self, due_date) -> None:
        """A new due date starts the ladder again: rungs reached against the old date
        stay in the record but no longer describe the task."""
        if due_date != self.due_date:
            self.due_date = due_date
            self.escalation_rank = None

    def links(self) -> list["TaskUnit"]:
        """The unit links with their units, read at most once per task object: the
        prefetch if the caller made one, else one query on first use. Most writes are
        decided by the issuing and lead units alone and never read them (bench/FIXES.md)."""
        models.prefetch_related_objects(
            [self], models.Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit"))
        )
        return list(self.task_units.all())

    @declared("assign", side=Side.ISSUER, event="assigned", label=_("下达"))
    @transition(field=state, source=TaskState.DRAFT, target=TaskState.ASSIGNED)
    def assign(self) -> None:
        self.assigned_at = timezone.now()

    @declared("accept", side=Side.RESPONSIBLE, event="accepted", label=_("签收"))
    @transition(field=state, source=TaskState.ASSIGNED, target=TaskState.IN_PROGRESS)
    def accept(self) -> None:
        pass

    @declared("submit", side=Side.RESPONSIBLE, event="submitted", label=_("申请销号"), needs_comment=True)
    @transition(field=state, source=TaskState.IN_PROGRESS, target=TaskState.SUBMITTED)
    def submit(self) -> None:
        self.submitted_at = timezone.now()
        self.submitted_on = timezone.localdate(self.submitted_at, timezone.get_default_timezone())

    @declared("close", side=Side.ISSUER, event="closed", label=_("验收销号"))
    @transition(field=state, source=TaskState.SUBMITTED, target=TaskState.CLOSED)
    def close(self) -> None:
        self.closed_at = timezone.now()

    @declared("return", side=Side.ISSUER, event="returned", label=_("退回"), needs_comment=True)
    @transition(field=state, source=TaskState.SUBMITTED, target=TaskState.IN_PROGRESS)
    def send_back(self) -> None:
        self.submitted_at = None
        self.submitted_on = None

    @declared("suspend", side=Side.ISSUER, event="suspended", label=_("暂缓"), needs_comment=True)
    @transition(field=state, source=SUSPENDABLE_STATES, target=TaskState.SUSPENDED)
    def suspend(self, *, today) -> None:
        self.state_before_suspension = self.state
        self.suspended_on = today

    @declared("resume", side=Side.ISSUER, event="resumed", label=_("恢复"))
    # The target is the returned state, not GET_STATE: django-fsm evaluates GET_STATE
    # after the method has run, when state_before_suspension is already cleared.
    @transition(field=state, source=TaskState.SUSPENDED, target=RETURN_VALUE(*SUSPENDABLE_STATES))
    def resume(self, *, new_due_date) -> str:
        # The overdue clock stood still while suspended: the caller passes the due date
        # moved by the working days the task spent suspended.
        previous = self.state_before_suspension
        self.move_due_date(new_due_date)
        self.state_before_suspension = ""
        self.suspended_on = None
        return previous

    @declared("cancel", side=Side.ISSUER, event="cancelled", label=_("撤销"), needs_comment=True)
    @transition(field=state, source=UNFINISHED_STATES, target=TaskState.CANCELLED)
    def cancel(self) -> None:
        pass

    def _is_rectification(self) -> bool:
        return self.kind == TaskKind.RECTIFICATION

    @declared(
        "reopen", side=Side.ISSUER_OR_SUPERVISOR, event="reopened", label=_("重新整改"), needs_comment=True
    )
    @transition(
        field=state,
        source=TaskState.CLOSED,
        target=TaskState.IN_PROGRESS,
        conditions=[_is_rectification],
    )
    def reopen(self) -> None:
        self.reopen_count += 1
        self.closed_at = None
        self.submitted_at = None
        self.submitted_on = None

    @declared(
        "return_to_issuer",
        side=Side.LEAD,
        event="returned_to_issuer",
        label=_("退回交办单位"),
        needs_comment=True,
    )
    @transition(field=state, source=TaskState.ASSIGNED, target=TaskState.DRAFT)
    def return_to_issuer(self) -> None:
        # Back with the issuer as a draft: the lead unit no longer sees it, the issuer edits
        # it (another lead unit, say) and issues it again, which opens a new sign-for window.
        self.assigned_at = None


class TaskUnitRole(models.TextChoices):
    RESPONSIBLE = "responsible", _("责任单位")
    COOPERATING = "cooperating", _("配合单位")


class TaskUnit(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="task_units")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="task_units")
    role = models.CharField(max_length=16, choices=TaskUnitRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="task_unit_unique"),
        ]
        indexes = [models.Index(fields=["unit", "task"], name="task_unit_by_unit_idx")]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.unit_id} · {self.role}"


class Comparison(models.TextChoices):
    AT_LEAST = "gte", "≥"
    AT_MOST = "lte", "≤"


class Indicator(models.Model):
    """A quantitative target of a task; a decomposed target rolls up from its children."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("指标"), max_length=200)
    unit_of_measure = models.CharField(_("计量单位"), max_length=20, blank=True)
    comparison = models.CharField(max_length=3, choices=Comparison.choices, default=Comparison.AT_LEAST)
    target = models.DecimalField(_("目标值"), max_digits=16, decimal_places=4)
    current_value = models.DecimalField(_("当前值"), max_digits=16, decimal_places=4, default=Decimal(0))
    veto = models.BooleanField(_("一票否决"), default=False)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["task", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_met(self) -> bool:
        if self.comparison == Comparison.AT_LEAST:
            return self.current_value >= self.target
        return self.current_value <= self.target


class ProcedureStep(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(_("步骤"), max_length=100)
    due_date = models.DateField(_("完成时限"))
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["task", "order"]
        constraints = [
            models.UniqueConstraint(fields=["task", "order"], name="procedure_step_order_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ProgressReport(models.Model):
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="reports")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("进展情况"))
    figures = models.JSONField(_("指标数据"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.created_at:%Y-%m-%d}"


class ReportCadence(models.TextChoices):
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    WEEKLY = "weekly", _("每周")
    ONCE = "once", _("一次")


class ReportSchedule(models.Model):
    """When a task's lead unit reports its progress (按期反馈): each period owes one report.

    ``day`` is the day of the month (monthly), the day of the quarter's last month
    (quarterly; empty for the quarter's last day, 每季度末), or the weekday, 1 for Monday
    (周一) to 7 for Sunday (weekly); ``once_on`` the one date of a single report. How a
    period's date follows, and which report meets it, is ``tasks.schedules``; ``wording``
    keeps the office's words ("每月28日前") for the export and the pages."""

    task = models.OneToOneField(
        Task, primary_key=True, on_delete=models.CASCADE, related_name="report_schedule"
    )
    cadence = models.CharField(_("报送周期"), max_length=16, choices=ReportCadence.choices)
    day = models.PositiveSmallIntegerField(_("报送日"), null=True, blank=True)
    once_on = models.DateField(_("报送日期"), null=True, blank=True)
    wording = models.CharField(_("报送要求（原文）"), max_length=50, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("报送要求")
        verbose_name_plural = _("报送要求")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(cadence="monthly", day__gte=1, day__lte=31, once_on__isnull=True)
                    | models.Q(cadence="quarterly", day__isnull=True, once_on__isnull=True)
                    | models.Q(cadence="quarterly", day__gte=1, day__lte=31, once_on__isnull=True)
                    | models.Q(cadence="weekly", day__gte=1, day__lte=7, once_on__isnull=True)
                    | models.Q(cadence="once", day__isnull=True, once_on__isnull=False)
                ),
                name="report_schedule_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.wording or self.get_cadence_display()}"


class ObligationKind(models.TextChoices):
    """What a task owes besides its own due date (the kind "task", kept on ``Task``)."""

    SIGN_FOR = "sign_for", _("签收")
    STEP = "step", _("步骤")
    VERIFY = "verify", _("验收")
    REPORT = "report", _("报送")
    REPLY = "reply", _("回执")
    RECHECK = "recheck", _("复查")


class RecheckResult(models.TextChoices):
    """What the issuer found when it re-checked a closed item (回头看)."""

    PASSED = "passed", _("复查通过")
    FAILED = "failed", _("复查未通过")


class Obligation(models.Model):
    """One thing a unit owes on a task by a date, besides the task's own due date.

    Written by ``tasks.obligations`` when the work becomes owed (assigned: sign for it and
    finish its steps; submitted: the issuer verifies it) and met when it is done. The
    sweep chases unmet rows exactly as it chases overdue tasks (``notifications``); the
    lights, counts and ledgers read ``Task.next_obligation_date``, the earliest unmet one.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="obligations")
    kind = models.CharField(_("类别"), max_length=16, choices=ObligationKind.choices)
    # The step or period the row is for ("" for signing for and verifying): one unmet row
    # per task, kind and key.
    key = models.CharField(max_length=40, blank=True)
    label = models.CharField(_("事项"), max_length=100, blank=True)
    step = models.ForeignKey(
        ProcedureStep, null=True, blank=True, on_delete=models.CASCADE, related_name="obligations"
    )
    # Who owes it: the lead unit, or the issuing unit for a verification.
    owed_by = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位"))
    due_date = models.DateField(_("应完成日期"))
    met_at = models.DateTimeField(null=True, blank=True)
    # Set with ``met_at`` when the row stopped being owed without being met: the item went
    # back to its issuer (退回交办单位), or a changed schedule dropped a period already warned
    # of. Ledgers count such a period neither missed nor reported late (补报), and the
    # task's periods do not list it.
    voided = models.BooleanField(default=False, db_default=False)
    # A re-check's finding, once recorded (``tasks.services.recheck``); blank for the other
    # kinds, and for a re-check made moot by reopening the item by hand.
    result = models.CharField(
        _("复查结果"), max_length=8, choices=RecheckResult.choices, blank=True, default="", db_default=""
    )
    # The highest rung reached against this row's date, kept by the sweep.
    escalation_rank = models.PositiveSmallIntegerField(_("督办级别"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("应办事项")
        verbose_name_plural = _("应办事项")
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "key"],
                condition=models.Q(met_at__isnull=True),
                name="obligation_unmet_once",
            ),
        ]
        indexes = [
            # The sweep reads the unmet rows due before its latest bound.
            models.Index(
                fields=["due_date"], condition=models.Q(met_at__isnull=True), name="obligation_unmet_idx"
            ),
            # A bulletin's 回头看 figures read the re-checks alone, a small part of the
            # obligations (签收, steps and report periods are most of them).
            models.Index(
                fields=["task"],
                condition=models.Q(kind=ObligationKind.RECHECK),
                name="obligation_recheck_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.get_kind_display()} · {self.due_date}"


class StoredFile(models.Model):
    """A file kept privately under a name of our own (``tasks.attachments``): what the
    uploader called it, its type, size and SHA-256. Evidence, a re-check's files and a
    source document's files are each one, with their own owner and storage path."""

    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        abstract = True
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Stored under a name of our own: the uploader's name is kept only as data.
    return f"evidence/{instance.report.task_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(StoredFile):
    report = models.ForeignKey(ProgressReport, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)


def recheck_attachment_path(instance: "RecheckAttachment", filename: str) -> str:
    # As evidence: a name of our own, under the item it was found on.
    return f"rechecks/{instance.obligation.task_id}/{instance.sha256[:2]}/{instance.sha256}"


class RecheckAttachment(StoredFile):
    """A file the issuer found on a re-check (回头看: a photo of the site, the check sheet),
    kept against the re-check's obligation row and served only to those who see its task,
    like evidence (``tasks.attachments``)."""

    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=recheck_attachment_path, max_length=255)


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class DecidedRequest(ConcurrentTransitionMixin, models.Model):
    """What a request the issuing side decides keeps of its decision: who, when, why.
    Each kind declares its own states and the transitions that call ``_decided``."""

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    def _decided(self, by, comment: str) -> None:
        self.decided_by, self.decided_at, self.decision_comment = by, timezone.now(), comment


class ExtensionRequest(DecidedRequest):
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="extension_requests")
    requested_due_date = models.DateField(_("申请延期至"))
    reason = models.TextField(_("理由"))
    state = FSMField(default=ExtensionState.PENDING, choices=ExtensionState.choices, protected=True)

    class Meta(DecidedRequest.Meta):
        constraints = [
            # One open request per task: a second would race the first for the due date.
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(state="pending"), name="one_pending_extension"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.requested_due_date}"

    @transition(field=state, source=ExtensionState.PENDING, target=ExtensionState.APPROVED)
    def approve(self, *, by, comment: str) -> None:
        self._decided(by, comment)

    @transition(field=state, source=ExtensionState.PENDING, target=ExtensionState.REJECTED)
    def reject(self, *, by, comment: str) -> None:
        self._decided(by, comment)


class TransferState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已同意")
    REFUSED = "refused", _("未同意")
    WITHDRAWN = "withdrawn", _("已撤回")
    # Closed by the task itself: it was signed for, returned, suspended or cancelled, or given
    # another lead unit, and a transfer no longer makes sense (``transfers_supersede``).
    SUPERSEDED = "superseded", _("已失效")


class TransferRequest(DecidedRequest):
    """转办: the lead unit asks, before signing for the task, that it go to another unit; the
    issuing side approves (the lead unit changes) or refuses (the asker still owes the
    sign-for, by its original date)."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="transfer_requests")
    from_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("原牵头单位")
    )
    to_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("转办至"))
    reason = models.TextField(_("理由"))
    state = FSMField(default=TransferState.PENDING, choices=TransferState.choices, protected=True)
    # What closed a superseded request: the transition's name (``accept``, ``return_to_issuer``,
    # ``suspend``, ``cancel``), ``edit`` or ``import`` for a new lead unit.
    closed_because = models.CharField(_("失效原因"), max_length=32, blank=True)

    class Meta(DecidedRequest.Meta):
        verbose_name = _("转办申请")
        verbose_name_plural = _("转办申请")
        constraints = [
            # One open request per task: two would race for the lead unit.
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(state="pending"), name="one_pending_transfer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.to_unit_id}"

    @transition(field=state, source=TransferState.PENDING, target=TransferState.APPROVED)
    def approve(self, *, by, comment: str) -> None:
        self._decided(by, comment)

    @transition(field=state, source=TransferState.PENDING, target=TransferState.REFUSED)
    def refuse(self, *, by, comment: str) -> None:
        self._decided(by, comment)

    @transition(field=state, source=TransferState.PENDING, target=TransferState.WITHDRAWN)
    def withdraw(self, *, by, comment: str) -> None:
        self._decided(by, comment)


# What a task's history records: its creation, one event per transition (declared on
# ``Task``'s methods, ``tasks.transitions``), and the changes that keep its state. Member
# names are the values upper-cased (``EventAction.RETURNED``); the values are stored.
EventAction = models.TextChoices(
    "EventAction",
    [
        ("CREATED", ("created", _("创建"))),
        *((t.event_member, (t.event, t.label)) for t in TRANSITIONS.values()),
        ("REPORTED", ("reported", _("报送进展"))),
        ("DECOMPOSED", ("decomposed", _("分解"))),
        ("REASSIGNED", ("reassigned", _("调整责任"))),
        ("EDITED", ("edited", _("修改"))),
        ("EXTENSION_REQUESTED", ("extension_requested", _("申请延期"))),
        ("EXTENSION_APPROVED", ("extension_approved", _("批准延期"))),
        ("EXTENSION_REJECTED", ("extension_rejected", _("驳回延期"))),
        ("STEP_COMPLETED", ("step_completed", _("完成步骤"))),
        ("NOTICE_ISSUED", ("notice_issued", _("下发督办通知单"))),
        ("NOTICE_REPLIED", ("notice_replied", _("报送回执"))),
        ("NOTICE_WITHDRAWN", ("notice_withdrawn", _("撤销督办通知单"))),
        ("RECHECKED", ("rechecked", _("回头看复查"))),
        ("TRANSFER_REQUESTED", ("transfer_requested", _("申请转办"))),
        ("TRANSFER_APPROVED", ("transfer_approved", _("同意转办"))),
        ("TRANSFER_REFUSED", ("transfer_refused", _("不同意转办"))),
        ("TRANSFER_WITHDRAWN", ("transfer_withdrawn", _("撤回转办申请"))),
        ("TRANSFER_SUPERSEDED", ("transfer_superseded", _("转办申请失效"))),
    ],
    module=__name__,
)


class TaskEvent(AppendOnlyModel):
    """The task's permanent history: written once, never changed or deleted."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=32, choices=EventAction.choices)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["task", "at"], name="task_event_task_at_idx")]


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日")
    WORKDAY = "workday", _("调休上班")


class CalendarDay(models.Model):
    """A day the State Council's holiday notice moves off the Monday–Friday rule."""

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=8, choices=CalendarDayKind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class ChangeRecord(AppendOnlyModel):
    """One change of a setting row that every deadline depends on (a calendar entry, a
    rung of a ladder): who, when, and the row as a dict before and after it. ``before`` is
    empty for a row created, ``after`` for one deleted. Here, in the lowest app that keeps
    such settings, so that ``notifications`` can keep its ladder's history alike."""

    class Action(models.TextChoices):
        CREATED = "created", _("新增")
        UPDATED = "updated", _("修改")
        DELETED = "deleted", _("删除")

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-at", "-pk"]


class CalendarChange(ChangeRecord):
    """One change of the office's calendar entries. The entry is named by its date, which
    outlives a deleted row and is what people recognise."""

    date = models.DateField()

    class Meta(ChangeRecord.Meta):
        verbose_name = _("节假日安排变更记录")
        verbose_name_plural = _("节假日安排变更记录")

    def __str__(self) -> str:
        return f"{self.date} {self.get_action_display()}"


class TaskScope(models.Model):
    """Each task under every unit whose subtree holds one of its units: the issuing unit
    and its ancestors (``issuing``), the lead, responsible and cooperating units and theirs.

    Visibility's answer kept ready: a person who sees a unit's subtree sees the tasks under
    that unit issued by it or no longer drafts (``tasks.selectors``), and a list of them
    in due-date order is one range of ``task_scope_list_idx``, filtered on the columns the
    list filters on, copied here from the task. ``tasks.scope`` keeps the rows right; every
    service that creates a task, changes its units or one of these columns calls it."""

    # Their indexes are the two below.
    task = models.ForeignKey(Task, on_delete=models.CASCADE, db_index=False, related_name="scopes")
    # No database constraint on these: the rows are a copy, written in bulk, and the
    # task's own columns hold the constraints.
    unit = models.ForeignKey(
        Unit, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    issuing = models.BooleanField()
    state = models.CharField(max_length=16, choices=TaskState.choices)
    kind = models.CharField(max_length=16, choices=TaskKind.choices)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    parent = models.ForeignKey(
        Task, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    due_date = models.DateField()
    closed_at = models.DateTimeField(null=True)
    # What the lights and lateness read besides the due date (``tasks.lateness``).
    submitted_on = models.DateField(null=True)
    next_obligation_date = models.DateField(null=True)
    next_warned_date = models.DateField(null=True)
    ongoing = models.BooleanField(default=False, db_default=False)

    class Meta:
        indexes = [
            # Lists and counts of a unit's tasks read this index alone (an index-only scan
            # while the table is vacuumed): the unit, the list's order, the columns its
            # filters and the dashboard test.
            models.Index(
                fields=["unit", "due_date", "task"],
                include=["state", "kind", "issuing", "campaign", "parent", "closed_at"],
                name="task_scope_list_idx",
            ),
        ]
        constraints = [
            # Also the index by which a task's rows are found and rewritten.
            models.UniqueConstraint(fields=["task", "unit"], name="task_scope_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.unit_id}"


class SourceKind(models.TextChoices):
    """Where an office's work comes from (立项登记's 来源), as published office rules list it."""

    INSTRUCTION = "instruction", _("批示")
    MEETING = "meeting", _("会议议定")
    HIGHER_LEVEL = "higher_level", _("上级交办")
    INSPECTION = "inspection", _("督查发现")
    PUBLIC = "public", _("群众反映")
    OTHER = "other", _("其他")


class TaskSource(models.Model):
    """The document a piece of work comes from: a leader's 批示, a meeting's 议定事项, an item
    the level above handed down, a problem an inspection found, a complaint. Registered by
    a unit (立项登记) before the task it becomes is created; one document may become several
    tasks (a meeting decides many things)."""

    kind = models.CharField(_("来源类别"), max_length=16, choices=SourceKind.choices)
    document_number = models.CharField(_("文号"), max_length=100, blank=True)
    document_date = models.DateField(_("成文日期"), null=True, blank=True)
    issued_by = models.CharField(_("来文单位"), max_length=200, blank=True)
    title = models.CharField(_("标题"), max_length=500, blank=True)
    original_text = models.TextField(_("原文"), blank=True)
    # The unit that registered it: whoever sees that unit's subtree sees the document, and
    # tasks made from it are issued within that unit's reach.
    registered_by = models.ForeignKey(
        Unit, verbose_name=_("登记单位"), on_delete=models.PROTECT, related_name="registered_sources"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("任务来源")
        verbose_name_plural = _("任务来源")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind"], name="task_source_kind_idx")]

    def __str__(self) -> str:
        return " ".join(part for part in (self.get_kind_display(), self.document_number, self.title) if part)


def source_attachment_path(instance: "SourceAttachment", filename: str) -> str:
    # As evidence: a name of our own, the uploader's kept only as data.
    return f"sources/{instance.source_id}/{instance.sha256[:2]}/{instance.sha256}"


class SourceAttachment(StoredFile):
    """A file of a source document (the scanned 批示, the minutes, a photo), kept privately
    and served only to those who may see the source, like evidence (``tasks.attachments``)."""

    source = models.ForeignKey(TaskSource, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=source_attachment_path, max_length=255)


class SourceEventAction(models.TextChoices):
    CREATED = "created", _("登记")
    EDITED = "edited", _("修改")
    DELETED = "deleted", _("删除")


class SourceEvent(AppendOnlyModel):
    """A source's permanent history, as a task's (``TaskEvent``): who registered, corrected
    or deleted it, when, and what it said before and after. Written once, never changed,
    and kept after the source is deleted, so that a deletion is on the record too."""

    # No database constraint: the row keeps the id of a source deleted since.
    source = models.ForeignKey(
        TaskSource, on_delete=models.DO_NOTHING, db_constraint=False, related_name="events"
    )
    # The source's registering unit (it never changes): who sees that unit's subtree reads
    # the history of a source that is gone.
    registered_by = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=16, choices=SourceEventAction.choices)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("来源记录")
        verbose_name_plural = _("来源记录")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["source", "at"], name="source_event_source_at_idx")]
