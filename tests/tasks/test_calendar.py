"""The national calendar (法定节假日 and 调休) is changed by administrators only, checked
against the Monday–Friday rule, and every change is kept."""

import datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from core.models import AppendOnlyError
from tasks.calendar import calendar_day_create, calendar_day_delete, calendar_day_update
from tasks.models import CalendarChange, CalendarDay
from tasks.workdays import calendar_for
from tests.helpers import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

DAYS = "/api/v1/calendar-days/"
D = datetime.date


def day_state(day: CalendarDay) -> tuple:
    return tuple(CalendarDay.objects.filter(pk=day.pk).values_list("date", "kind", "name").first() or ())


@pytest.fixture
def holiday(world) -> CalendarDay:
    return calendar_day_create(
        actor=world.person("admin"), date=D(2099, 10, 1), kind="holiday", name="国庆节"
    )


@pytest.mark.parametrize("username", ["city_supervisor", "yi_supervisor", "city_head", "yi_member"])
def test_only_administrators_change_the_calendar(api, world, holiday, username):
    history = CalendarChange.objects.count()
    api.as_user(username)
    body = {"date": "2099-10-02", "kind": "holiday", "name": "国庆节"}
    assert_error(api.post(DAYS, body, format="json"), 403, "calendar_admin_only")
    assert_error(
        api.patch(f"{DAYS}{holiday.pk}/", {"name": "改名"}, format="json"), 403, "calendar_admin_only"
    )
    assert_error(api.delete(f"{DAYS}{holiday.pk}/"), 403, "calendar_admin_only")

    assert api.get(DAYS, {"date__year": 2099}).json()["results"][0]["name"] == "国庆节"
    assert day_state(holiday) == (D(2099, 10, 1), "holiday", "国庆节")
    assert CalendarDay.objects.count() == 1
    assert CalendarChange.objects.count() == history


def test_an_administrator_enters_changes_and_removes_a_day(api, world):
    api.as_user("admin")
    created = api.post(DAYS, {"date": "2099-10-02", "kind": "holiday", "name": "国庆节"}, format="json")
    assert created.status_code == 201, created.content
    day_id = created.json()["id"]
    assert not calendar_for(D(2099, 10, 2)).is_workday(D(2099, 10, 2))

    changed = api.patch(f"{DAYS}{day_id}/", {"name": "国庆节假期"}, format="json")
    assert changed.status_code == 200, changed.content
    assert api.delete(f"{DAYS}{day_id}/").status_code == 204
    assert not CalendarDay.objects.exists()
    assert calendar_for(D(2099, 10, 2)).is_workday(D(2099, 10, 2))
    actions = list(CalendarChange.objects.order_by("pk").values_list("action", "date"))
    assert actions == [("created", D(2099, 10, 2)), ("updated", D(2099, 10, 2)), ("deleted", D(2099, 10, 2))]


@pytest.mark.parametrize(
    "date, kind, code",
    [
        ("1999-12-31", "holiday", "date_out_of_range"),
        ("2101-01-03", "holiday", "date_out_of_range"),
        ("0218-10-01", "holiday", "date_out_of_range"),
        ("2099-10-03", "holiday", "holiday_on_weekend"),  # a Saturday
        ("2099-10-05", "workday", "workday_on_weekday"),  # a Monday
    ],
)
def test_a_day_the_calendar_cannot_mean_is_refused(api, world, date, kind, code):
    response = api.as_user("admin").post(DAYS, {"date": date, "kind": kind}, format="json")
    assert_error(response, 400, code, fields={"date"})
    assert not CalendarDay.objects.exists()
    assert not CalendarChange.objects.exists()


def test_the_bounds_and_a_weekend_workday_are_accepted(world):
    admin = world.person("admin")
    assert calendar_day_create(actor=admin, date=D(2000, 1, 3), kind="holiday").pk
    assert calendar_day_create(actor=admin, date=D(2100, 12, 31), kind="holiday").pk  # a Friday
    assert calendar_day_create(actor=admin, date=D(2099, 10, 10), kind="workday", name="调休上班").pk


def test_a_change_that_would_make_a_weekday_a_moved_workday_is_refused(api, world, holiday):
    response = api.as_user("admin").patch(f"{DAYS}{holiday.pk}/", {"kind": "workday"}, format="json")
    assert_error(response, 400, "workday_on_weekday", fields={"date"})
    assert day_state(holiday) == (D(2099, 10, 1), "holiday", "国庆节")
    assert CalendarChange.objects.count() == 1  # its creation only


def test_a_second_entry_for_a_date_is_refused_by_the_service_too(world, holiday):
    with pytest.raises(Exception) as refused:
        calendar_day_create(actor=world.person("admin"), date=D(2099, 10, 1), kind="holiday")
    assert refused.value.code == "date_taken"


def test_every_change_is_kept_with_who_when_before_and_after(world):
    admin = world.person("admin")
    moment = datetime.datetime(2025, 9, 1, 2, 0, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        day = calendar_day_create(actor=admin, date=D(2099, 10, 1), kind="holiday", name="国庆")
        calendar_day_update(day_id=day.pk, actor=admin, name="国庆节")
        calendar_day_update(day_id=day.pk, actor=admin, name="国庆节")  # no change, no row
        calendar_day_delete(day_id=day.pk, actor=admin)

    created, updated, deleted = CalendarChange.objects.order_by("pk")
    assert [c.action for c in (created, updated, deleted)] == ["created", "updated", "deleted"]
    assert {c.actor for c in (created, updated, deleted)} == {admin}
    assert created.at == moment
    assert created.before is None and created.after == {
        "id": day.pk,
        "date": "2099-10-01",
        "kind": "holiday",
        "name": "国庆",
    }
    assert updated.before["name"] == "国庆" and updated.after["name"] == "国庆节"
    assert deleted.before == updated.after and deleted.after is None


def test_the_history_cannot_be_rewritten(world, holiday):
    with pytest.raises(AppendOnlyError):
        CalendarChange.objects.update(after=None)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE tasks_calendarchange SET after = NULL")
    assert CalendarChange.objects.get().after["name"] == "国庆节"
