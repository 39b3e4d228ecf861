"""The numbered documents a supervision office sends: bulletins (督查通报, 工作简报) and,
per item, 督办通知单 with their 回执."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from responsibility.models import Unit


class BulletinKind(models.TextChoices):
    SUPERVISION = "supervision", _("督查通报")
    BRIEFING = "briefing", _("工作简报")


class BulletinState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已印发")
    WITHDRAWN = "withdrawn", _("已撤回")


class YearlyCounter(models.Model):
    """The last number an issuer gave out in a year of one series; locked while the next is
    taken (``bulletins.numbering``), so numbers have neither gaps nor duplicates."""

    issuer = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.year}: {self.last_number}"


class BulletinCounter(YearlyCounter):
    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "year"], name="bulletin_counter_unique")]


def bulletin_pdf_path(instance: "Bulletin", filename: str) -> str:
    return f"bulletins/{instance.issuer_id}/{instance.year}/{instance.number:03d}-{instance.pk}.pdf"


class Bulletin(ConcurrentTransitionMixin, models.Model):
    issuer = models.ForeignKey(
        Unit, verbose_name=_("发文单位"), on_delete=models.PROTECT, related_name="bulletins"
    )
    kind = models.CharField(
        _("类别"), max_length=16, choices=BulletinKind.choices, default=BulletinKind.SUPERVISION
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveIntegerField(_("期号"))
    title = models.CharField(_("标题"), max_length=200)
    campaign = models.ForeignKey(
        "tasks.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="bulletins"
    )
    period_start = models.DateField(_("统计起始日"))
    period_end = models.DateField(_("统计截止日"))
    issued_on = models.DateField(_("发文日期"))
    distribution_scope = models.CharField(_("发送范围"), max_length=100, blank=True, default="本期发至县团级")
    main_recipients = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name=_("主送"))
    copy_to = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name=_("抄送"))
    printed_on = models.DateField(_("印发日期"), null=True, blank=True)
    intro = models.TextField(_("导语"), blank=True)
    closing = models.TextField(_("结语"), blank=True)

    state = FSMField(default=BulletinState.DRAFT, choices=BulletinState.choices, protected=True)
    # Frozen at publishing: what the PDF shows, whatever the data does afterwards.
    figures = models.JSONField(null=True, blank=True)
    pdf = models.FileField(upload_to=bulletin_pdf_path, max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通报")
        verbose_name_plural = _("通报")
        ordering = ["issuer", "-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year", "number"], name="bulletin_number_unique"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="bulletin_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.year}年第{self.number}期 {self.title}"

    @property
    def is_draft(self) -> bool:
        return self.state == BulletinState.DRAFT

    @transition(field=state, source=BulletinState.DRAFT, target=BulletinState.PUBLISHED)
    def publish(self, *, by, figures: dict) -> None:
        self.published_by, self.published_at, self.figures = by, timezone.now(), figures
        self.printed_on = self.printed_on or timezone.localdate()

    @transition(field=state, source=BulletinState.PUBLISHED, target=BulletinState.WITHDRAWN)
    def withdraw(self, *, reason: str) -> None:
        self.withdrawn_reason, self.withdrawn_at = reason, timezone.now()


class NoticeUrgency(models.TextChoices):
    """The three-colour slips (三色督办单) published offices send, mildest first."""

    PROMPT = "prompt", _("提示")
    URGE = "urge", _("催办")
    LISTED = "listed", _("挂牌")


class NoticeCounter(YearlyCounter):
    """A supervision office's yearly sequence of 督办通知单, apart from its bulletins'."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "year"], name="notice_counter_unique")]


def notice_pdf_path(instance: "Notice", filename: str) -> str:
    return f"notices/{instance.office_id}/{instance.year}/{instance.number:03d}-{instance.pk}.pdf"


class Notice(models.Model):
    """A 督办通知单: the office's numbered notice about one item, sent to the unit that leads
    it, with a 回执 the unit returns by ``reply_by``.

    The facts printed (the unit, the item's deadline) are copied at issue: the notice is
    a document, and says what it said whatever the task does afterwards. Issuing one is a
    rung of the ladder (``escalation``) and opens the 回执 owed (``obligation``)."""

    office = models.ForeignKey(
        Unit, verbose_name=_("督办单位"), on_delete=models.PROTECT, related_name="notices_issued"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveIntegerField(_("编号"))
    task = models.ForeignKey("tasks.Task", on_delete=models.PROTECT, related_name="notices")
    to_unit = models.ForeignKey(
        Unit, verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="notices_received"
    )
    urgency = models.CharField(_("督办类别"), max_length=8, choices=NoticeUrgency.choices)
    request = models.TextField(_("督办要求"))
    due_date = models.DateField(_("完成时限"))
    reply_by = models.DateField(_("回执报送时限"))
    issued_on = models.DateField(_("签发日期"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    escalation = models.OneToOneField(
        "notifications.Escalation", null=True, blank=True, on_delete=models.PROTECT, related_name="notice"
    )
    obligation = models.OneToOneField(
        "tasks.Obligation", null=True, blank=True, on_delete=models.SET_NULL, related_name="notice"
    )
    pdf = models.FileField(upload_to=notice_pdf_path, max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    # The PDF has been rendered again with the 回执 filled in (``notice_render_reply``).
    pdf_replied = models.BooleanField(default=False, db_default=False)
    # The PDF has been rendered marked withdrawn (``notice_render_withdrawn``).
    pdf_withdrawn = models.BooleanField(default=False, db_default=False)

    # The 回执, as the unit returns it.
    reply_measures = models.TextField(_("办理情况及措施"), blank=True)
    reply_date = models.DateField(_("完成或承诺完成日期"), null=True, blank=True)
    reply_completed = models.BooleanField(_("已完成"), null=True, blank=True)
    reply_signer = models.CharField(_("签发人"), max_length=50, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)

    # Withdrawn (撤销) by its office: the number stays used, the 回执 is no longer owed.
    withdrawn_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdraw_reason = models.TextField(_("撤销理由"), blank=True)

    class Meta:
        verbose_name = _("督办通知单")
        verbose_name_plural = _("督办通知单")
        ordering = ["office", "-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["office", "year", "number"], name="notice_number_unique"),
            models.CheckConstraint(
                condition=models.Q(replied_at__isnull=True) | models.Q(reply_date__isnull=False),
                name="notice_reply_dated",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | ~models.Q(withdraw_reason=""),
                name="notice_withdrawal_reasoned",
            ),
        ]
        indexes = [models.Index(fields=["task", "created_at"], name="notice_task_idx")]

    def __str__(self) -> str:
        return f"{self.office} {self.numbering}"

    @property
    def numbering(self) -> str:
        """The number as the notice prints it: 〔2026〕第3号."""
        return f"〔{self.year}〕第{self.number}号"

    @property
    def is_replied(self) -> bool:
        return self.replied_at is not None

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
