"""The outbox: every message is stored before it is sent, keeps one Message-ID across
attempts, and is claimed with a lease so that two workers never send it twice."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("电子邮件")
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")
    SMS = "sms", _("短信")


ROBOT_CHANNELS = (Channel.WECOM, Channel.DINGTALK)
ROBOT_KIND_CHOICES = [(channel.value, channel.label) for channel in ROBOT_CHANNELS]


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
    """A message stored before it is sent; its id (the e-mail's Message-ID, the SMS's
    OutId) stays the same on every attempt.

    One row per (recipient, channel) and sweep. A robot's markdown longer than the robot
    takes is sent in parts cut at line ends; ``parts_sent`` counts those the robot has
    accepted, so a retry resumes after them instead of posting them again."""

    kind = models.CharField(max_length=16, default="digest")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    robot = models.ForeignKey("Robot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
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
    # Further files sent along, each ``[path, name]``: the notices whose 回执 a digest chases.
    attachments = models.JSONField(default=list, blank=True, db_default=[])
    # An SMS is a template registered with the gateway and its values, not free text.
    sms_template = models.CharField(max_length=64, blank=True)
    sms_params = models.JSONField(default=dict, blank=True)
    parts_sent = models.PositiveSmallIntegerField(default=0)

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


class Robot(models.Model):
    """A unit's group robot: a 企业微信 group robot's webhook, or a 钉钉 custom robot's
    webhook and signing secret.

    The webhook address carries the robot's key, so it is as secret as the signing
    secret: both are stored encrypted (``outbox.secrets``) with a key that lives outside
    the database, and the API never returns them once set. ``recent_sends`` holds the
    times of the robot's last posts: the window that keeps it within its rate limit."""

    unit = models.ForeignKey(
        "responsibility.Unit", on_delete=models.CASCADE, related_name="robots", verbose_name=_("单位")
    )
    kind = models.CharField(_("类别"), max_length=16, choices=ROBOT_KIND_CHOICES)
    name = models.CharField(_("名称"), max_length=100)
    webhook_encrypted = models.TextField()
    secret_encrypted = models.TextField(blank=True)
    active = models.BooleanField(_("启用"), default=True)
    recent_sends = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")
        ordering = ["unit_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="robot_unique_name_per_unit")]

    def __str__(self) -> str:
        return f"{self.unit_id} · {self.name}"


class PersonChannel(models.TextChoices):
    ROBOT = "robot", _("所在单位的工作群")
    SMS = "sms", _("短信")


class Contact(models.Model):
    """How a person is reached beyond e-mail: a mobile for SMS, and the order in which they
    would rather be told. The first of their unit's group and SMS that a rung uses is
    the one that tells them; with the group first, a person in a group that is told of an
    item gets no SMS about it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact", verbose_name=_("人员")
    )
    mobile = models.CharField(_("手机号码"), max_length=20, blank=True)
    channel_order = models.JSONField(
        _("接收顺序"), default=list, blank=True, help_text=_("robot（工作群）、sms（短信），靠前者优先。")
    )

    class Meta:
        verbose_name = _("接收方式")
        verbose_name_plural = _("接收方式")

    def __str__(self) -> str:
        return str(self.user_id)
