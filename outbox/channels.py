"""Setting up the channels: a unit's group robots and a person's mobile and channel order.

Who sets up a unit's robots is ``responsibility.jurisdiction.channel_units_q``; a person's
own mobile and order are theirs and the directory administrators'. A robot's webhook and
secret are encrypted before they are stored (``outbox.vault``) and never read back out
through these services' results other than as "set"."""

import re
import urllib.parse

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from responsibility.jurisdiction import channel_units_q
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user, is_directory_admin

from . import vault
from .models import Channel, Contact, OutboundMessage, PersonChannel, Robot

# The documented webhook of each kind (outbox/senders.py): its host, path and query key.
WEBHOOK_SHAPES = {
    Channel.WECOM: ("qyapi.weixin.qq.com", "/cgi-bin/webhook/send", "key"),
    Channel.DINGTALK: ("oapi.dingtalk.com", "/robot/send", "access_token"),
}
MOBILE = re.compile(r"^1[3-9]\d{9}$")


def robot_list_for_user(user: User) -> QuerySet[Robot]:
    access = access_for_user(user)
    return Robot.objects.filter(channel_units_q(access, "unit__path")).select_related("unit").order_by("pk")


def robot_get_for_user(user: User, robot_id: int) -> Robot:
    robot = robot_list_for_user(user).filter(pk=robot_id).first()
    if robot is None:
        raise NotFound(_("未找到该机器人。"), code="not_found")
    return robot


def _ensure_may_set_up(actor: User, unit: Unit) -> None:
    if not Unit.objects.filter(channel_units_q(access_for_user(actor)), pk=unit.pk).exists():
        message = _("%(unit)s不在您的管辖范围内，不能设置它的工作群机器人。") % {"unit": unit.name}
        raise Forbidden(message, code="outside_jurisdiction", fields={"unit": [message]})


def _invalid(field: str, message, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, fields={field: [message]})


def _checked_webhook(kind: str, webhook: str) -> str:
    """The webhook, if it is the kind's documented address on an allowed host."""
    webhook = (webhook or "").strip()
    url = urllib.parse.urlsplit(webhook)
    host, path, key = WEBHOOK_SHAPES[kind]
    if (
        url.scheme not in ("https", "http")
        or url.hostname not in settings.DUBAN["ROBOT_HOSTS"]
        or url.path != path
        or not urllib.parse.parse_qs(url.query).get(key)
    ):
        message = _("机器人地址应为 %(example)s 形式的群机器人 Webhook 地址。") % {
            "example": f"https://{host}{path}?{key}=…"
        }
        raise _invalid("webhook", message, "invalid_webhook")
    return webhook


def _saved(robot: Robot) -> Robot:
    try:
        with transaction.atomic():
            robot.save()
    except IntegrityError as error:
        raise _invalid("name", _("该单位已有同名的机器人。"), "name_taken") from error
    return robot


def robot_create(
    *, actor: User, unit: Unit, kind: str, name: str, webhook: str, secret: str = "", active: bool = True
) -> Robot:
    """Give a unit's group a robot; the webhook and secret are stored encrypted."""
    _ensure_may_set_up(actor, unit)
    robot = Robot(
        unit=unit,
        kind=kind,
        name=name,
        webhook_encrypted=vault.encrypt(_checked_webhook(kind, webhook)),
        secret_encrypted=vault.encrypt(secret.strip()) if kind == Channel.DINGTALK else "",
        active=active,
    )
    return _saved(robot)


def robot_update(*, robot_id: int, actor: User, **changes) -> Robot:
    """Rename, switch on or off, or replace the webhook or the secret (given: replaced;
    left out: kept)."""
    with transaction.atomic():
        robot = Robot.objects.select_for_update().select_related("unit").get(pk=robot_id)
        _ensure_may_set_up(actor, robot.unit)
        if "name" in changes:
            robot.name = changes["name"]
        if "active" in changes:
            robot.active = changes["active"]
        if "webhook" in changes:
            robot.webhook_encrypted = vault.encrypt(_checked_webhook(robot.kind, changes["webhook"]))
        if "secret" in changes and robot.kind == Channel.DINGTALK:
            robot.secret_encrypted = vault.encrypt(changes["secret"].strip())
        return _saved(robot)


def robot_delete(*, robot_id: int, actor: User) -> None:
    """Remove a robot that never carried a message; one that did is switched off instead,
    so the outbox keeps saying where its messages went."""
    with transaction.atomic():
        robot = Robot.objects.select_for_update().select_related("unit").get(pk=robot_id)
        _ensure_may_set_up(actor, robot.unit)
        if OutboundMessage.objects.filter(robot=robot).exists():
            raise Conflict(_("该机器人已发送过消息，不能删除，请改为停用。"), code="robot_in_use")
        robot.delete()


def _ensure_may_set_contact(actor: User, person: User) -> None:
    if actor.pk != person.pk and not is_directory_admin(actor):
        raise Forbidden(_("只能设置本人的接收方式。"), code="not_your_contact")


def contact_get(*, actor: User, person: User) -> Contact:
    _ensure_may_set_contact(actor, person)
    return Contact.objects.filter(user=person).first() or Contact(user=person)


def contact_update(*, actor: User, person: User, mobile: str, channel_order: list[str]) -> Contact:
    """A person's mobile (a mainland number, or empty: no SMS) and channel order."""
    _ensure_may_set_contact(actor, person)
    mobile = (mobile or "").strip()
    if mobile and not MOBILE.match(mobile):
        raise _invalid("mobile", _("手机号码应为 11 位中国大陆手机号。"), "invalid_mobile")
    if len(set(channel_order)) != len(channel_order) or not set(channel_order) <= set(PersonChannel.values):
        raise _invalid(
            "channel_order", _("接收顺序只能包含 robot、sms，且不能重复。"), "invalid_channel_order"
        )
    with transaction.atomic():
        contact, _created = Contact.objects.select_for_update().get_or_create(user=person)
        contact.mobile, contact.channel_order = mobile, list(channel_order)
        contact.save(update_fields=["mobile", "channel_order"])
    return contact
