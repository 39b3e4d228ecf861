"""Writes to the responsibility tree: units, people, memberships and catalogues."""

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput

from .models import ApiToken, Membership, Unit, User, path_segment
from .selectors import access_forget


@transaction.atomic
def unit_create(
    *,
    name: str,
    kind: str,
    parent: Unit | None = None,
    short_name: str = "",
    email: str = "",
    aliases: list[str] | None = None,
) -> Unit:
    unit = Unit.objects.create(
        name=name,
        kind=kind,
        parent=parent,
        short_name=short_name,
        email=email,
        aliases=aliases or [],
        path="",
        depth=0 if parent is None else parent.depth + 1,
    )
    # The path holds the unit's own id, known only after the insert.
    unit.path = (parent.path if parent else "") + path_segment(unit.pk)
    Unit.objects.filter(pk=unit.pk).update(path=unit.path)
    return unit


@transaction.atomic
def unit_update(*, unit_id: int, **fields) -> Unit:
    unit = Unit.objects.select_for_update().get(pk=unit_id)
    new_parent = fields.pop("parent", unit.parent)
    for name, value in fields.items():
        setattr(unit, name, value)
    unit.save()
    if new_parent != unit.parent:
        unit = unit_move(unit_id=unit.pk, parent=new_parent)
    return unit


# Sent inside the move's transaction with the subtree's new root path: apps above keep
# copies of where things hang (tasks.scope) and rewrite them then.
unit_moved = Signal()


@transaction.atomic
def unit_move(*, unit_id: int, parent: Unit | None) -> Unit:
    """Re-hang a unit and its whole subtree with one UPDATE of the paths. The unit's row
    is locked first, so two moves of one unit cannot interleave their path updates."""
    unit = Unit.objects.select_for_update().get(pk=unit_id)
    if parent is not None:
        parent.refresh_from_db(fields=["path", "depth"])
    if parent is not None and parent.path.startswith(unit.path):
        message = _("单位不能移动到自己或自己的下级之下。")
        raise InvalidInput(message, code="unit_below_itself", fields={"parent": [message]})
    old_path = unit.path
    new_path = (parent.path if parent else "") + path_segment(unit.pk)
    depth_change = (parent.depth + 1 if parent else 0) - unit.depth
    Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_change,
    )
    Unit.objects.filter(pk=unit.pk).update(parent=parent)
    unit_moved.send(sender=Unit, path=new_path)
    access_forget()
    unit.refresh_from_db()
    return unit


def user_create(
    *,
    username: str,
    full_name: str,
    password: str | None = None,
    email: str = "",
    title: str = "",
    phone: str = "",
    is_staff: bool = False,
    is_active: bool = True,
    reminder_opt_out: bool = False,
) -> User:
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        title=title,
        phone=phone,
        is_staff=is_staff,
        is_active=is_active,
        reminder_opt_out=reminder_opt_out,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def membership_create(*, user: User, unit: Unit, role: str) -> Membership:
    membership, created = Membership.objects.get_or_create(user=user, unit=unit, role=role)
    if created:
        access_forget()
    return membership


def token_obtain(*, user: User) -> ApiToken:
    """The person's API token, as of now: the one they hold, or a new key when they hold
    none or theirs lay idle too long. Signing in counts as a use."""
    now = timezone.now()
    token, created = ApiToken.objects.get_or_create(user=user, defaults={"key": ApiToken.generate_key()})
    if created:
        return token
    if token.is_idle(now):
        token.delete()
        # get_or_create again: two sign-ins at the same moment end with the same new key.
        token, _ = ApiToken.objects.get_or_create(user=user, defaults={"key": ApiToken.generate_key()})
        return token
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
    return token


def token_revoke(*, user: User) -> None:
    ApiToken.objects.filter(user=user).delete()
