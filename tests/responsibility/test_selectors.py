"""Reads of the tree and what each person's memberships reach."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from responsibility.models import Membership, Role, Unit, UnitKind, User, subtree_q
from responsibility.selectors import (
    access_for_user,
    access_scope,
    may_see_contact,
    membership_list_for_user,
    parent_path,
    person_list_for_user,
    unit_subtree_ids,
)
from responsibility.services import membership_create, unit_create, unit_move
from tests.conftest import PEOPLE

pytestmark = pytest.mark.django_db

YI_SUBTREE = {"义县", "县委督查室", "七里河镇", "大榆树堡村", "王家屯村"}


def subtree(root: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(subtree_q([root.path]))


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        (
            "锦州市",
            {"锦州市", "市委督查室", "市住建委", "黑山县", "芳山镇", "新立屯村"} | YI_SUBTREE,
        ),
        ("义县", YI_SUBTREE),
        ("七里河镇", {"七里河镇", "大榆树堡村", "王家屯村"}),
        ("新立屯村", {"新立屯村"}),
    ],
)
def test_a_subtree_at_any_depth_is_one_query(world, django_assert_num_queries, root, expected):
    within = world.unit(root)
    with django_assert_num_queries(1):
        names = {unit.name for unit in subtree(within)}
    assert names == expected


def test_a_deep_subtree_is_still_one_query(world, django_assert_num_queries):
    parent = world.unit("王家屯村")
    for level in range(8):
        parent = unit_create(name=f"第{level + 1}村民小组", kind=UnitKind.DEPARTMENT, parent=parent)
    assert parent.depth == 11
    with django_assert_num_queries(1):
        assert len(list(subtree(world.unit("义县")))) == len(YI_SUBTREE) + 8


def test_another_root_stays_out_of_the_subtree(world):
    city = world.unit("锦州市")
    other = unit_create(name="葫芦岛市", kind=UnitKind.CITY)
    assert other not in subtree(city)
    assert list(subtree(other)) == [other]


def test_unit_subtree_ids_is_a_subquery_of_several_roots(world, django_assert_num_queries):
    roots = [world.unit("七里河镇").path, world.unit("芳山镇").path]
    with django_assert_num_queries(1):
        names = set(Unit.objects.filter(pk__in=unit_subtree_ids(roots)).values_list("name", flat=True))
    assert names == {"七里河镇", "大榆树堡村", "王家屯村", "芳山镇", "新立屯村"}
    assert not Unit.objects.filter(subtree_q([])).exists()


def test_parent_path(world):
    county, town = world.unit("义县"), world.unit("七里河镇")
    assert parent_path(town.path) == county.path
    root = world.unit("锦州市").path
    assert parent_path(root) == root


@pytest.mark.parametrize(
    ("username", "visible_root", "supervised"),
    [
        ("yi_member", "义县", False),
        ("yi_head", "义县", False),
        ("village_a_head", "大榆树堡村", False),
        ("housing_member", "市住建委", False),
        # A supervision office supervises the level it belongs to, not only itself.
        ("yi_supervisor", "义县", True),
        ("city_supervisor", "锦州市", True),
    ],
)
def test_access_for_user_per_role(world, username, visible_root, supervised):
    access = access_for_user(world.person(username))
    root = world.unit(visible_root)
    assert access.visible_paths == (root.path,)
    assert access.supervised_paths == ((root.path,) if supervised else ())
    assert not access.is_admin
    assert access.supervises(world.unit("大榆树堡村")) is (supervised and visible_root in {"义县", "锦州市"})
    visible = {u.name for u in Unit.objects.filter(pk__in=unit_subtree_ids(access.visible_paths))}
    assert visible == {u.name for u in subtree(root)}


def test_heads_and_members_act_only_where_they_hold_the_role(world):
    head = access_for_user(world.person("yi_head"))
    member = access_for_user(world.person("yi_member"))
    county, town = world.unit("义县"), world.unit("七里河镇")
    assert head.is_head_of(county.pk) and not head.is_head_of(town.pk)
    assert member.is_member_of_any([town.pk, county.pk]) and not member.is_head_of(county.pk)
    assert not member.is_member_of_any([town.pk])


def test_a_leader_reaches_nothing_by_membership(world):
    # The deputy mayor holds the leader role in the city: it lets him lead (牵头) the city's
    # tasks, not see the city's work.
    access = access_for_user(world.person("leader"))
    assert access.roles == {world.unit("锦州市").pk: frozenset({Role.LEADER})}
    assert access.visible_paths == access.supervised_paths == ()
    assert not access.supervises(world.unit("锦州市"))


def test_the_superuser_is_admin(world):
    assert access_for_user(world.person("admin")).is_admin
    assert not access_for_user(world.person("city_head")).is_admin


def test_anonymous_reaches_nothing(db):
    access = access_for_user(AnonymousUser())
    assert (access.user_id, access.visible_paths, access.is_admin) == (None, (), False)


def test_several_memberships_are_loaded_in_one_query(world, django_assert_num_queries):
    user = world.person("yi_member")
    membership_create(user=user, unit=world.unit("芳山镇"), role=Role.HEAD)
    membership_create(user=user, unit=world.unit("市委督查室"), role=Role.SUPERVISOR)
    with django_assert_num_queries(1):
        access = access_for_user(user)
    assert set(access.visible_paths) == {
        world.unit("义县").path,
        world.unit("芳山镇").path,
        world.unit("锦州市").path,
    }
    assert access.supervised_paths == (world.unit("锦州市").path,)
    assert access.is_head_of(world.unit("芳山镇").pk)


def test_outside_a_scope_every_call_reads_the_memberships(world, django_assert_num_queries):
    user = world.person("yi_member")
    assert access_for_user(user).visible_paths == (world.unit("义县").path,)
    Membership.objects.filter(user=user).delete()
    with django_assert_num_queries(2):
        assert access_for_user(user).visible_paths == ()
        assert access_for_user(user).visible_paths == ()


def test_a_scope_reads_each_users_memberships_once(world, django_assert_num_queries):
    member, head = world.person("yi_member"), world.person("yi_head")
    with access_scope():
        with django_assert_num_queries(2):
            first = access_for_user(member)
            assert access_for_user(member) is first
            assert access_for_user(head) is not first
            with access_scope():
                assert access_for_user(member) is first
    with django_assert_num_queries(1):
        assert access_for_user(member) is not first


def test_a_scope_forgets_what_it_read_when_memberships_or_the_tree_change(world):
    user = world.person("heishan_member")
    with access_scope():
        assert not access_for_user(user).is_member_of_any([world.unit("义县").pk])
        membership_create(user=user, unit=world.unit("义县"), role=Role.MEMBER)
        assert access_for_user(user).is_member_of_any([world.unit("义县").pk])
        old_path = world.unit("义县").path
        county = unit_move(unit_id=world.unit("义县").pk, parent=world.unit("黑山县"))
        assert county.path != old_path
        assert county.path in access_for_user(user).visible_paths


# The people directory

CITY_CHAIN = {"city_head", "leader"}  # members of 锦州市 itself, above every unit of the city


@pytest.mark.parametrize(
    ("username", "listed", "with_contact"),
    [
        (
            "village_a_head",
            {"village_a_head", "qilihe_head", "yi_head", "yi_member"} | CITY_CHAIN,
            {"village_a_head"},
        ),
        (
            "yi_member",
            {"yi_head", "yi_member", "yi_supervisor", "qilihe_head", "village_a_head", "village_b_head"}
            | CITY_CHAIN,
            {"yi_head", "yi_member"},
        ),
        (
            "yi_supervisor",
            {"yi_head", "yi_member", "yi_supervisor", "qilihe_head", "village_a_head", "village_b_head"}
            | CITY_CHAIN,
            {"yi_head", "yi_member", "yi_supervisor", "qilihe_head", "village_a_head", "village_b_head"},
        ),
        (
            "heishan_member",
            {"heishan_head", "heishan_member"} | CITY_CHAIN,
            {"heishan_head", "heishan_member"},
        ),
        ("leader", {"leader"}, {"leader"}),
    ],
)
def test_the_directory_lists_people_within_reach_and_the_chain_above(world, username, listed, with_contact):
    people = person_list_for_user(world.person(username))
    assert {person.username for person in people} == listed
    assert {person.username for person in people if person.contact_visible} == with_contact


def test_a_supervision_office_reads_the_contacts_of_the_whole_level(world):
    people = person_list_for_user(world.person("city_supervisor"))
    everyone = {username for username, *_ in PEOPLE}
    assert {person.username for person in people} == everyone
    assert {person.username for person in people if person.contact_visible} == everyone


def test_administrators_read_the_whole_directory(world):
    admin = world.person("admin")
    people = person_list_for_user(admin)
    assert {person.username for person in people} == {username for username, *_ in PEOPLE} | {"admin"}
    assert all(person.contact_visible for person in people)
    assert membership_list_for_user(admin).count() == len(PEOPLE)


def test_may_see_contact_decides_one_person_as_the_list_does(world):
    reader = world.person("heishan_member")
    for person in User.objects.all():
        listed = person_list_for_user(reader).filter(pk=person.pk).first()
        assert may_see_contact(reader, person) == bool(listed and listed.contact_visible), person.username


def test_memberships_are_listed_within_reach_and_the_callers_own(world):
    def listed(username: str) -> set[tuple[str, str]]:
        memberships = membership_list_for_user(world.person(username))
        return {(m.user.username, m.unit.name) for m in memberships}

    assert listed("village_a_head") == {
        ("village_a_head", "大榆树堡村"),
        ("qilihe_head", "七里河镇"),
        ("yi_head", "义县"),
        ("yi_member", "义县"),
        ("city_head", "锦州市"),
        ("leader", "锦州市"),
    }
    assert listed("leader") == {("leader", "锦州市")}
    assert ("yi_supervisor", "县委督查室") in listed("yi_member")
    assert not {name for _, name in listed("heishan_head")} & {"义县", "县委督查室", "七里河镇"}
