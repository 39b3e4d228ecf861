import datetime
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# One path segment per ancestor: wide enough for any id a province will reach.
PATH_SEGMENT_WIDTH = 10
PATH_SEPARATOR = "/"


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县(市)区")
    TOWNSHIP = "township", _("乡镇")
    VILLAGE = "village", _("村")
    DEPARTMENT = "department", _("部门")
    LEADING_GROUP = "leading_group", _("领导小组/指挥部")
    SUPERVISION_OFFICE = "supervision_office", _("督查室")


GEOGRAPHIC_KINDS = frozenset(
    {UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWNSHIP, UnitKind.VILLAGE}
)


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT_WIDTH}d}{PATH_SEPARATOR}"


class Unit(models.Model):
    """A node of the responsibility tree.

    Geographic units form the levels (province → village); departments, leading groups
    and supervision offices hang under the level they belong to. ``path`` is a
    materialised path of ancestor ids, so a subtree at any depth is one indexed
    ``path LIKE 'prefix%'`` query.
    """

    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    kind = models.CharField(_("类别"), max_length=32, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=False)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    email = models.EmailField(_("电子邮箱"), blank=True)
    aliases = models.JSONField(_("别名"), default=list, blank=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["path"]
        indexes = [
            # varchar_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%' under
            # any collation; other databases ignore the operator class.
            models.Index(fields=["path"], name="unit_path_idx", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="unit_unique_name_per_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_geographic(self) -> bool:
        return self.kind in GEOGRAPHIC_KINDS

    @property
    def jurisdiction_id(self) -> int | None:
        """The level a unit acts for: itself, or the level an office is attached to."""
        return self.pk if self.is_geographic or self.parent_id is None else self.parent_id

    def ancestor_ids(self) -> list[int]:
        return [int(segment) for segment in self.path.split(PATH_SEPARATOR) if segment][:-1]


class User(AbstractUser):
    """A person who carries responsibility; those without a login have no usable password."""

    full_name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职务"), max_length=100, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    # Opting out covers only the mildest escalation level (reminders); nobody can opt out
    # of being told that their work is late.
    reminder_opt_out = models.BooleanField(_("不接收预警提醒"), default=False)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")

    def __str__(self) -> str:
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        # Whatever path changes the password (the API, the admin, changepassword, a hash
        # written directly), the API token signed in with the old one stops working.
        update_fields = kwargs.get("update_fields")
        previous = None
        if self.pk is not None and (update_fields is None or "password" in update_fields):
            previous = User.objects.filter(pk=self.pk).values_list("password", flat=True).first()
        super().save(*args, **kwargs)
        if previous is not None and previous != self.password:
            ApiToken.objects.filter(user_id=self.pk).delete()


class ApiToken(models.Model):
    """A person's API key: one per person, as with DRF's own tokens, so signing in again
    returns the same key until it is revoked, dies with a password change or lies unused
    longer than ``DUBAN["TOKEN_IDLE_HOURS"]``."""

    # Not the primary key, so the secret never shows in an admin URL or a log of one.
    key = models.CharField(_("密钥"), max_length=40, unique=True)
    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="api_token", verbose_name=_("人员")
    )
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用时间"), default=timezone.now)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} · {self.key[:8]}…"

    @staticmethod
    def generate_key() -> str:
        return secrets.token_hex(20)

    def is_idle(self, now: datetime.datetime) -> bool:
        return now - self.last_used_at >= datetime.timedelta(hours=settings.DUBAN["TOKEN_IDLE_HOURS"])


class Role(models.TextChoices):
    MEMBER = "member", _("成员")
    HEAD = "head", _("负责人")
    SUPERVISOR = "supervisor", _("督查人员")
    LEADER = "leader", _("领导")


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


def ancestor_paths(path: str) -> list[str]:
    """The paths of every unit above the one at ``path``, nearest last."""
    segments = path.split(PATH_SEPARATOR)[:-1]
    return [PATH_SEPARATOR.join(segments[:n]) + PATH_SEPARATOR for n in range(1, len(segments))]


def subtree_q(paths: list[str], field: str = "path") -> Q:
    """A filter matching units under any of ``paths`` (each path includes itself)."""
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition
