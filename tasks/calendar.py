"""Changing the working-day calendar: the national holiday arrangement (法定节假日 and
调休) that every deadline of every campaign is counted in.

It is one calendar for the whole country, so only administrators change it; a supervision
office that finds a year missing asks them. Every change is checked against what
``tasks.workdays`` assumes (Monday to Friday are worked unless an entry says otherwise)
and kept in ``CalendarChange``.
"""

import datetime

from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, InvalidInput
from responsibility.models import User
from responsibility.selectors import access_for_user

from .models import CalendarChange, CalendarDay, CalendarDayKind

# Deadlines are set for the campaigns of this century; a date outside is a typing error
# (0218 for 2018), not a holiday.
FIRST_YEAR = 2000
LAST_YEAR = 2100
DAY_FIELDS = ("date", "kind", "name")


def _ensure_admin(actor: User) -> None:
    if not access_for_user(actor).is_admin:
        raise Forbidden(
            _("节假日安排是全国统一的工作日历，只有系统管理员可以修改。"), code="calendar_admin_only"
        )


def _refuse(code: str, message, field: str) -> InvalidInput:
    return InvalidInput(message, code=code, fields={field: [message]})


def _validate(day: CalendarDay) -> None:
    if not FIRST_YEAR <= day.date.year <= LAST_YEAR:
        message = _("日期须在 %(first)s 年到 %(last)s 年之间。") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        raise _refuse("date_out_of_range", message, "date")
    if day.kind not in CalendarDayKind.values:
        raise _refuse("invalid_kind", _("类别须为法定节假日或调休上班。"), "kind")
    weekend = day.date.weekday() >= 5
    # Without an entry, Monday to Friday are worked and weekends are not: an entry that
    # repeats that changes nothing and hides a mistaken date.
    if day.kind == CalendarDayKind.HOLIDAY and weekend:
        raise _refuse("holiday_on_weekend", _("周末本不上班，无需登记为法定节假日。"), "date")
    if day.kind == CalendarDayKind.WORKDAY and not weekend:
        raise _refuse("workday_on_weekday", _("调休上班只能安排在周末。"), "date")
    others = CalendarDay.objects.filter(date=day.date)
    if day.pk is not None:
        others = others.exclude(pk=day.pk)
    if others.exists():
        raise _refuse("date_taken", _("这一天已有节假日安排。"), "date")


def _snapshot(day: CalendarDay) -> dict:
    data = model_to_dict(day, fields=DAY_FIELDS)
    return {"id": day.pk, **data, "date": day.date.isoformat()}


def _saved(day: CalendarDay) -> CalendarDay:
    try:
        with transaction.atomic():
            day.save()
    except IntegrityError as error:
        # Another entry for the same date committed in between.
        raise _refuse("date_taken", _("这一天已有节假日安排。"), "date") from error
    return day


def calendar_day_create(*, actor: User, date: datetime.date, kind: str, name: str = "") -> CalendarDay:
    _ensure_admin(actor)
    day = CalendarDay(date=date, kind=kind, name=name)
    _validate(day)
    with transaction.atomic():
        _saved(day)
        CalendarChange.objects.create(
            actor=actor, action=CalendarChange.Action.CREATED, date=day.date, after=_snapshot(day)
        )
    return day


def calendar_day_update(*, day_id: int, actor: User, **changes) -> CalendarDay:
    _ensure_admin(actor)
    with transaction.atomic():
        day = CalendarDay.objects.select_for_update().get(pk=day_id)
        before = _snapshot(day)
        for name, value in changes.items():
            setattr(day, name, value)
        _validate(day)
        after = _snapshot(day)
        if after == before:
            return day
        _saved(day)
        CalendarChange.objects.create(
            actor=actor, action=CalendarChange.Action.UPDATED, date=day.date, before=before, after=after
        )
    return day


def calendar_day_delete(*, day_id: int, actor: User) -> None:
    _ensure_admin(actor)
    with transaction.atomic():
        day = CalendarDay.objects.select_for_update().get(pk=day_id)
        before = _snapshot(day)
        day.delete()
        CalendarChange.objects.create(
            actor=actor,
            action=CalendarChange.Action.DELETED,
            date=datetime.date.fromisoformat(before["date"]),
            before=before,
        )
