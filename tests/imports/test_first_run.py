"""``manage.py first_run``: a new installation reaches a usable state in one step."""

import datetime
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from responsibility.models import Membership, Unit, UnitKind, User
from tasks.models import CalendarDay, CalendarDayKind

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "通讯录.csv"
PASSWORD = "Jinzhou-duban-2018"
WINTER_2026 = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)


def first_run(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(WINTER_2026, tick=False):
        call_command("first_run", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_administrator_and_the_top_unit_in_one_step_and_again_changes_nothing(monkeypatch):
    monkeypatch.setenv("DUBAN_ADMIN_PASSWORD", PASSWORD)

    out = first_run("--unit", "锦州市", "--email", "admin@jinzhou.example")

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.email == "admin@jinzhou.example"
    assert admin.check_password(PASSWORD)
    assert Unit.objects.get(parent=None).name == "锦州市"
    assert Unit.objects.get(parent=None).kind == UnitKind.CITY
    assert "Administrator admin created." in out and "Top unit 锦州市 created." in out
    assert PASSWORD not in out

    again = first_run("--unit", "锦州市")
    assert "exists: left as it is" in again
    assert User.objects.count() == 1 and Unit.objects.count() == 1


def test_with_the_directory_the_office_is_set_up_and_its_people_can_be_found(monkeypatch):
    monkeypatch.setenv("DUBAN_ADMIN_PASSWORD", PASSWORD)

    out = first_run("--directory", str(EXAMPLE))

    assert "已导入：单位新建 25 个" in out
    assert Membership.objects.filter(user__username="13904160001", unit__name="锦州市").exists()
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "admin", "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/units/", {"name": "七里河镇"}).json()["count"] == 1


def test_a_directory_with_errors_sets_up_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("DUBAN_ADMIN_PASSWORD", PASSWORD)
    bad = tmp_path / "通讯录.csv"
    bad.write_text("单位,上级单位,类别\n锦州市,,州\n", encoding="utf-8")

    with pytest.raises(CommandError) as failed:
        first_run("--unit", "锦州市", "--directory", str(bad))

    assert failed.value.returncode == 1
    assert "Nothing was set up" in str(failed.value)
    assert not User.objects.exists() and not Unit.objects.exists()


def test_without_a_password_given_one_is_made_up_and_shown_once(monkeypatch):
    monkeypatch.delenv("DUBAN_ADMIN_PASSWORD", raising=False)

    out = first_run("--unit", "锦州市")

    (line,) = [line for line in out.splitlines() if line.startswith("Its password, shown once: ")]
    password = line.removeprefix("Its password, shown once: ")
    assert User.objects.get(username="admin").check_password(password)


def test_a_weak_password_is_refused(monkeypatch):
    monkeypatch.setenv("DUBAN_ADMIN_PASSWORD", "admin")
    with pytest.raises(CommandError, match="password is refused"):
        first_run("--unit", "锦州市")
    assert not User.objects.exists()


def test_it_says_where_to_enter_the_next_years_holidays_until_they_are_known(monkeypatch):
    monkeypatch.setenv("DUBAN_ADMIN_PASSWORD", PASSWORD)

    out = first_run("--unit", "锦州市")
    assert "No holiday arrangement is known for 2027" in out
    assert "/api/v1/calendar-days/" in out and "节假日安排" in out

    CalendarDay.objects.create(date=datetime.date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    assert "No holiday arrangement" not in first_run("--unit", "锦州市")


def test_nothing_to_set_up_is_an_error():
    with pytest.raises(CommandError, match="--unit"):
        first_run()
