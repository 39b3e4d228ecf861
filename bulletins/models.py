"""Numbered bulletins (督查通报, 工作简报) that a supervision office publishes."""

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


class BulletinCounter(models.Model):
    """The last number an issuer gave out in a year; locked while the next is taken, so
    numbers have neither gaps nor duplicates."""

    issuer = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "year"], name="bulletin_counter_unique")]

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.year}: {self.last_number}"


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
