"""Writes to the responsibility tree: materialised paths, moves, people, memberships."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import InvalidInput
from responsibility.models import Membership, Role, Unit, UnitKind, path_segment
from responsibility.services import (
    membership_create,
    unit_create,
    unit_move,
    unit_update,
    user_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def paths(*names: str) -> dict[str, tuple[str, int]]:
    return {unit.name: (unit.path, unit.depth) for unit in Unit.objects.filter(name__in=names)}


def test_unit_create_builds_the_path_from_the_ancestors(world):
    city, county, town, village = (world.unit(n) for n in ("锦州市", "义县", "七里河镇", "大榆树堡村"))
    assert (city.path, city.depth) == (path_segment(city.pk), 0)
    assert city.path == f"{city.pk:010d}/"
    assert county.path == city.path + path_segment(county.pk)
    assert (village.path, village.depth) == (town.path + path_segment(village.pk), 3)
    assert village.ancestor_ids() == [city.pk, county.pk, town.pk]
    stored = Unit.objects.get(pk=village.pk)
    assert (stored.path, stored.depth) == (village.path, 3)


def test_unit_create_keeps_contact_and_aliases(world):
    unit = unit_create(
        name="县扶贫办",
        kind=UnitKind.DEPARTMENT,
        parent=world.unit("义县"),
        short_name="扶贫办",
        email="fupin@yixian.example.cn",
        aliases=["义县扶贫开发办公室"],
    )
    unit.refresh_from_db()
    assert (unit.short_name, unit.email, unit.aliases) == (
        "扶贫办",
        "fupin@yixian.example.cn",
        ["义县扶贫开发办公室"],
    )
    assert unit.jurisdiction_id == world.unit("义县").pk


def test_unit_move_rewrites_the_whole_subtree_in_one_update(world):
    town, heishan = world.unit("七里河镇"), world.unit("黑山县")
    untouched = paths("义县", "县委督查室", "芳山镇", "新立屯村")
    with CaptureQueriesContext(connection) as queries:
        moved = unit_move(unit_id=town.pk, parent=heishan)
    path_updates = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and '"path"' in q["sql"]
    ]
    assert len(path_updates) == 1

    assert moved.parent_id == heishan.pk
    assert moved.path == heishan.path + path_segment(town.pk)
    after = paths("七里河镇", "大榆树堡村", "王家屯村")
    assert after == {
        "七里河镇": (moved.path, 2),
        "大榆树堡村": (moved.path + path_segment(world.unit("大榆树堡村").pk), 3),
        "王家屯村": (moved.path + path_segment(world.unit("王家屯村").pk), 3),
    }
    assert paths("义县", "县委督查室", "芳山镇", "新立屯村") == untouched
    assert Unit.objects.filter(path__startswith=heishan.path).count() == 6


def test_unit_move_to_the_root_shortens_the_subtree(world):
    county = unit_move(unit_id=world.unit("义县").pk, parent=None)
    assert (county.parent_id, county.path, county.depth) == (None, path_segment(county.pk), 0)
    village = Unit.objects.get(name="大榆树堡村")
    assert village.depth == 2
    assert village.path.startswith(county.path)
    assert not village.path.startswith(world.unit("锦州市").path)


@pytest.mark.parametrize("target", ["义县", "七里河镇", "王家屯村"])
def test_a_unit_cannot_move_below_itself(world, target):
    before = dict(Unit.objects.values_list("name", "path"))
    with pytest.raises(InvalidInput) as refused:
        unit_move(unit_id=world.unit("义县").pk, parent=world.unit(target))
    assert refused.value.code == "unit_below_itself"
    assert set(refused.value.fields) == {"parent"}
    assert dict(Unit.objects.values_list("name", "path")) == before
    assert Unit.objects.get(name="义县").parent_id == world.unit("锦州市").pk


def test_unit_update_changes_fields_and_moves_when_the_parent_changes(world):
    town = unit_update(unit_id=world.unit("七里河镇").pk, short_name="七里河", parent=world.unit("黑山县"))
    town.refresh_from_db()
    assert town.short_name == "七里河"
    assert town.path.startswith(world.unit("黑山县").path)
    assert Unit.objects.get(name="王家屯村").path.startswith(town.path)


def test_unit_update_without_a_new_parent_does_not_move(world):
    town = world.unit("七里河镇")
    old_path = town.path
    with CaptureQueriesContext(connection) as queries:
        unit_update(unit_id=town.pk, name="七里河镇人民政府")
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "LIKE" in q["sql"]]
    town.refresh_from_db()
    assert (town.name, town.path) == ("七里河镇人民政府", old_path)


def test_user_create_with_and_without_a_password(db):
    with_login = user_create(username="liu_ganshi", full_name="刘干事", password="Qilihe-2018!")
    assert with_login.check_password("Qilihe-2018!")
    without = user_create(username="wang_wuhu", full_name="王五户", title="贫困户联络员")
    assert not without.has_usable_password()
    assert without.title == "贫困户联络员"


def test_user_create_takes_every_field_the_people_api_accepts(db):
    user = user_create(
        username="zhao_cunguan",
        full_name="赵村官",
        phone="0416-1234567",
        email="zhao@jz.example.cn",
        is_active=False,
        reminder_opt_out=True,
    )
    user.refresh_from_db()
    assert (user.is_active, user.reminder_opt_out, user.phone) == (False, True, "0416-1234567")


@pytest.mark.parametrize("username", ["has space", "", "x" * 151])
def test_user_create_refuses_bad_usernames(db, username):
    with pytest.raises(ValidationError):
        user_create(username=username, full_name="某某")


def test_user_create_refuses_a_taken_username(world):
    with pytest.raises(ValidationError):
        user_create(username="yi_head", full_name="孙县长二号")


def test_membership_create_is_idempotent(world):
    user, unit = world.person("yi_member"), world.unit("七里河镇")
    first = membership_create(user=user, unit=unit, role=Role.MEMBER)
    again = membership_create(user=user, unit=unit, role=Role.MEMBER)
    assert first.pk == again.pk
    head = membership_create(user=user, unit=unit, role=Role.HEAD)
    assert head.pk != first.pk
    assert Membership.objects.filter(user=user).count() == 3
