"""The outbox: every message is stored before it is sent, keeps one Message-ID across
attempts, and is claimed with a lease so that two workers never send it twice."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MessageState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    NO_ADDRESS = "no_address", _("无邮箱地址")
    SUPPRESSED = "suppressed", _("本人已退订")


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{settings.DUBAN['MAIL_DOMAIN']}>"


class OutboundMessage(models.Model):
    """An e-mail stored before it is sent; the Message-ID stays the same on every attempt."""

    kind = models.CharField(max_length=16, default="digest")
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient_unit = models.ForeignKey(
        "responsibility.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, unique=True, default=new_message_id)
    state = models.CharField(max_length=16, choices=MessageState.choices, default=MessageState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A file in the default storage sent along, such as a bulletin's PDF.
    attachment_path = models.CharField(max_length=255, blank=True)
    attachment_name = models.CharField(max_length=255, blank=True)

    class Meta:
        # The table keeps the name it had when the outbox lived with the ladder.
        db_table = "notifications_outboundmessage"
        verbose_name = _("发件箱")
        verbose_name_plural = _("发件箱")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="outbox_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to_address or '—'} · {self.subject}"
