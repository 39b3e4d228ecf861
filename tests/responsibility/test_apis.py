"""The directory API: tokens, units, people, memberships, responsibility catalogues."""

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from responsibility.apis import TokenApi
from responsibility.models import ApiToken, Membership, Role, Unit, User
from responsibility.selectors import access_for_user
from tasks.models import Responsibility
from tests.conftest import PASSWORD, PEOPLE
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> APIClient:
    cache.clear()
    return APIClient()


# Tokens


def test_a_good_password_gets_a_token_that_works(world, client):
    response = client.post(
        "/api/v1/auth/token/", {"username": "yi_head", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get(key=token).user == world.person("yi_head")
    assert client.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    again = client.post("/api/v1/auth/token/", {"username": "yi_head", "password": PASSWORD}, format="json")
    assert again.json()["token"] == token


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"username": "yi_head", "password": "wrong-password"}, {"non_field_errors"}),
        ({"username": "nobody", "password": PASSWORD}, {"non_field_errors"}),
        ({"username": "yi_head"}, {"password"}),
        ({}, {"username", "password"}),
    ],
)
def test_bad_credentials_get_400_and_no_token(world, client, body, fields):
    assert_error(client.post("/api/v1/auth/token/", body, format="json"), 400, "invalid", fields=fields)
    assert not ApiToken.objects.exists()


def test_a_deactivated_person_gets_no_token(world, client):
    User.objects.filter(username="yi_member").update(is_active=False)
    response = client.post(
        "/api/v1/auth/token/", {"username": "yi_member", "password": PASSWORD}, format="json"
    )
    assert_error(response, 400, "invalid", fields={"non_field_errors"})


def test_a_bad_token_is_401(world, client):
    response = client.get("/api/v1/tasks/", HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert_error(response, 401, "authentication_failed")


def test_the_token_endpoint_has_its_own_throttle_scope(world, client, monkeypatch):
    assert TokenApi.throttle_scope == "auth"
    assert ScopedRateThrottle in TokenApi.throttle_classes
    assert "auth" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    bad = {"username": "yi_head", "password": "guess"}
    statuses = [client.post("/api/v1/auth/token/", bad, format="json").status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
    throttled = client.post(
        "/api/v1/auth/token/", {"username": "yi_head", "password": PASSWORD}, format="json"
    )
    assert_error(throttled, 429, "throttled")
    assert "Retry-After" in throttled
    assert not ApiToken.objects.exists()


# Units


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def test_units_within_a_subtree(api, world):
    api.as_user("village_a_head")
    assert names(api.get("/api/v1/units/", {"within": world.unit("七里河镇").pk})) == {
        "七里河镇",
        "大榆树堡村",
        "王家屯村",
    }
    assert names(api.get("/api/v1/units/", {"within": world.unit("义县").pk, "kind": "village"})) == {
        "大榆树堡村",
        "王家屯村",
    }
    assert names(api.get("/api/v1/units/", {"within": 987654})) == set()
    assert names(api.get("/api/v1/units/", {"name": "督查"})) == {"市委督查室", "县委督查室"}
    assert names(api.get("/api/v1/units/", {"parent": world.unit("锦州市").pk})) == {
        "市委督查室",
        "市住建委",
        "义县",
        "黑山县",
    }
    assert_error(api.get("/api/v1/units/", {"within": "义县"}), 400, "invalid", fields={"within"})


def test_a_unit_shows_its_depth_but_not_its_path(api, world):
    body = api.as_user("yi_member").get(f"/api/v1/units/{world.unit('大榆树堡村').pk}/").json()
    assert body["depth"] == 3
    assert body["parent"] == world.unit("七里河镇").pk
    assert "path" not in body


def test_administrators_add_units_under_the_right_parent(api, world):
    town = world.unit("七里河镇")
    response = api.as_user("admin").post(
        "/api/v1/units/",
        {"name": "河北村", "kind": "village", "parent": town.pk, "aliases": ["河北"], "depth": 9},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["depth"] == 3
    unit = Unit.objects.get(name="河北村")
    assert unit.path == town.path + f"{unit.pk:010d}/"
    assert unit.aliases == ["河北"]


@pytest.mark.parametrize("username", ["city_head", "city_supervisor", "yi_member"])
def test_only_administrators_change_the_tree(api, world, username):
    api.as_user(username)
    created = api.post("/api/v1/units/", {"name": "河北村", "kind": "village"}, format="json")
    assert_error(created, 403, "permission_denied")
    patched = api.patch(f"/api/v1/units/{world.unit('义县').pk}/", {"name": "义州"}, format="json")
    assert_error(patched, 403, "permission_denied")
    assert not Unit.objects.filter(name__in=["河北村", "义州"]).exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "大榆树堡村", "kind": "village", "parent": "七里河镇"}, {"non_field_errors"}),
        ({"name": "河北村", "kind": "hamlet", "parent": "七里河镇"}, {"kind"}),
        ({"name": "", "kind": "village"}, {"name"}),
        ({"name": "河北村", "kind": "village", "email": "not-an-email"}, {"email"}),
    ],
)
def test_bad_units_are_refused(api, world, body, fields):
    if "parent" in body:
        body = {**body, "parent": world.unit(body["parent"]).pk}
    count = Unit.objects.count()
    assert_error(
        api.as_user("admin").post("/api/v1/units/", body, format="json"), 400, "invalid", fields=fields
    )
    assert Unit.objects.count() == count


def test_moving_a_unit_moves_its_subtree(api, world):
    town = world.unit("七里河镇")
    response = api.as_user("admin").patch(
        f"/api/v1/units/{town.pk}/", {"parent": world.unit("黑山县").pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["depth"] == 2
    heishan = world.unit("黑山县")
    assert names(api.get("/api/v1/units/", {"within": heishan.pk})) == {
        "黑山县",
        "芳山镇",
        "新立屯村",
        "七里河镇",
        "大榆树堡村",
        "王家屯村",
    }
    assert Unit.objects.get(name="王家屯村").path.startswith(heishan.path)


@pytest.mark.parametrize("target", ["义县", "王家屯村"])
def test_a_unit_cannot_move_below_itself(api, world, target):
    before = dict(Unit.objects.values_list("name", "path"))
    response = api.as_user("admin").patch(
        f"/api/v1/units/{world.unit('义县').pk}/", {"parent": world.unit(target).pk}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"parent"}
    assert dict(Unit.objects.values_list("name", "path")) == before


def test_units_are_never_deleted(api, world):
    response = api.as_user("admin").delete(f"/api/v1/units/{world.unit('王家屯村').pk}/")
    assert_error(response, 405, "method_not_allowed")
    assert Unit.objects.filter(name="王家屯村").exists()


# People


def test_administrators_create_people_with_a_validated_password(api, world):
    response = api.as_user("admin").post(
        "/api/v1/people/",
        {
            "username": "liu_ganshi",
            "full_name": "刘干事",
            "title": "扶贫专干",
            "phone": "0416-7000000",
            "password": "Qilihe-fupin-2018",
            "reminder_opt_out": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "password" not in body
    assert body["reminder_opt_out"] is True
    user = User.objects.get(username="liu_ganshi")
    assert user.check_password("Qilihe-fupin-2018")
    assert user.password != "Qilihe-fupin-2018"


def test_a_person_may_be_entered_inactive_and_without_a_login(api, world):
    response = api.as_user("admin").post(
        "/api/v1/people/", {"username": "wang_wuhu", "full_name": "王五户", "is_active": False}, format="json"
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(username="wang_wuhu")
    assert not user.is_active
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    "password",
    ["short1", "12345678901", "password123", "liu_ganshi_2018"],
)
def test_weak_passwords_are_refused(api, world, password):
    response = api.as_user("admin").post(
        "/api/v1/people/",
        {"username": "liu_ganshi", "full_name": "刘干事", "password": password},
        format="json",
    )
    body = assert_error(response, 400, "invalid", fields={"password"})
    assert body["fields"]["password"]
    assert not User.objects.filter(username="liu_ganshi").exists()


def test_changing_a_password_is_validated_against_the_person(api, world):
    api.as_user("admin")
    yi_member = world.person("yi_member")
    weak = api.patch(f"/api/v1/people/{yi_member.pk}/", {"password": "yi_member1"}, format="json")
    assert_error(weak, 400, "invalid", fields={"password"})
    assert User.objects.get(pk=yi_member.pk).check_password(PASSWORD)
    good = api.patch(f"/api/v1/people/{yi_member.pk}/", {"password": "Qilihe-2018-new"}, format="json")
    assert good.status_code == 200
    assert User.objects.get(pk=yi_member.pk).check_password("Qilihe-2018-new")


def test_a_taken_username_is_refused(api, world):
    response = api.as_user("admin").post(
        "/api/v1/people/", {"username": "yi_head", "full_name": "孙县长"}, format="json"
    )
    assert_error(response, 400, "invalid", fields={"username"})


def test_everyone_reads_people_only_administrators_write(api, world):
    api.as_user("village_b_head")
    listed = api.get("/api/v1/people/")
    assert listed.status_code == 200
    assert "password" not in listed.json()["results"][0]
    me = world.person("village_b_head")
    assert_error(
        api.patch(f"/api/v1/people/{me.pk}/", {"is_staff": True}, format="json"), 403, "permission_denied"
    )
    assert_error(
        api.post("/api/v1/people/", {"username": "x1", "full_name": "某人"}, format="json"),
        403,
        "permission_denied",
    )
    assert not world.person("village_b_head").is_staff


@pytest.fixture
def contacts(world):
    for username, *_ in PEOPLE:
        User.objects.filter(username=username).update(email=f"{username}@jz.example.cn", phone="0416-2000000")


def test_the_directory_shows_contacts_only_to_those_who_need_them_and_never_who_is_staff(
    api, world, contacts
):
    listed = api.as_user("village_a_head").get("/api/v1/people/", {"page_size": 100})
    assert listed.status_code == 200, listed.content
    rows = {row["username"]: row for row in listed.json()["results"]}
    assert set(rows) == {"village_a_head", "qilihe_head", "yi_head", "yi_member", "city_head", "leader"}
    assert rows["village_a_head"]["email"] == "village_a_head@jz.example.cn"
    assert rows["village_a_head"]["phone"] == "0416-2000000"
    for username in set(rows) - {"village_a_head"}:
        assert "email" not in rows[username] and "phone" not in rows[username], username
    assert not any("is_staff" in row for row in rows.values())

    office = api.as_user("yi_supervisor").get(f"/api/v1/people/{world.person('village_b_head').pk}/")
    assert office.json()["email"] == "village_b_head@jz.example.cn"
    assert "is_staff" not in office.json()
    admin = api.as_user("admin").get(f"/api/v1/people/{world.person('heishan_head').pk}/")
    assert admin.json()["phone"] == "0416-2000000"
    assert "is_staff" not in admin.json()


def test_a_person_outside_reach_is_not_found(api, world):
    api.as_user("heishan_member")
    for username in ("yi_head", "yi_supervisor", "admin"):
        assert_error(api.get(f"/api/v1/people/{world.person(username).pk}/"), 404, "not_found")
    assert api.get(f"/api/v1/people/{world.person('city_head').pk}/").status_code == 200


def test_administrators_set_is_staff_without_it_being_shown(api, world):
    yi_member = world.person("yi_member")
    api.as_user("admin")
    response = api.patch(f"/api/v1/people/{yi_member.pk}/", {"is_staff": True}, format="json")
    assert response.status_code == 200, response.content
    assert "is_staff" not in response.json()
    assert User.objects.get(pk=yi_member.pk).is_staff
    created = api.post(
        "/api/v1/people/",
        {"username": "liu_ganshi", "full_name": "刘干事", "email": "liu@jz.example.cn", "is_staff": True},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "liu@jz.example.cn"
    assert "is_staff" not in created.json()
    assert User.objects.get(username="liu_ganshi").is_staff


@pytest.mark.parametrize("path", ["/api/v1/people/", "/api/v1/memberships/"])
@pytest.mark.parametrize("username", ["yi_supervisor", "yi_member", "admin"])
def test_a_directory_page_costs_the_same_queries_whatever_its_length(
    api, world, django_assert_num_queries, path, username
):
    api.as_user(username)
    # The caller's memberships (an administrator's are not needed), the count and the page.
    queries = 2 if username == "admin" else 3
    with django_assert_num_queries(queries):
        one = api.get(path, {"page_size": 1})
    with django_assert_num_queries(queries):
        many = api.get(path, {"page_size": 100})
    assert len(one.json()["results"]) == 1
    assert len(many.json()["results"]) > 4


# Memberships


def test_memberships_are_listed_only_within_reach(api, world):
    listed = api.as_user("heishan_member").get("/api/v1/memberships/", {"page_size": 100}).json()["results"]
    units = {Unit.objects.get(pk=row["unit"]).name for row in listed}
    assert units == {"黑山县", "锦州市"}
    yi_membership = Membership.objects.get(user=world.person("yi_member"))
    assert_error(api.get(f"/api/v1/memberships/{yi_membership.pk}/"), 404, "not_found")


def test_administrators_grant_roles_that_widen_access(api, world):
    yi_member = world.person("yi_member")
    response = api.as_user("admin").post(
        "/api/v1/memberships/",
        {"user": yi_member.pk, "unit": world.unit("黑山县").pk, "role": "member"},
        format="json",
    )
    assert response.status_code == 201, response.content
    access = access_for_user(world.person("yi_member"))
    assert world.unit("黑山县").path in access.visible_paths

    duplicate = api.post(
        "/api/v1/memberships/",
        {"user": yi_member.pk, "unit": world.unit("黑山县").pk, "role": "member"},
        format="json",
    )
    assert_error(duplicate, 400, "invalid", fields={"non_field_errors"})
    listed = api.get("/api/v1/memberships/", {"user": yi_member.pk})
    assert {row["unit"] for row in listed.json()["results"]} == {
        world.unit("义县").pk,
        world.unit("黑山县").pk,
    }

    removed = api.delete(f"/api/v1/memberships/{response.json()['id']}/")
    assert removed.status_code == 204
    assert not Membership.objects.filter(user=yi_member, unit=world.unit("黑山县")).exists()


def test_a_granted_or_revoked_membership_counts_from_the_next_request(api, world, make_task):
    # The same person object across requests, as a long-lived client session holds it:
    # what the memberships reach is read per request, never kept on the person.
    task = make_task(lead_unit="义县")
    client = api.as_user("heishan_member")
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    Membership.objects.create(user=world.person("heishan_member"), unit=world.unit("义县"), role=Role.MEMBER)
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 200
    Membership.objects.filter(user=world.person("heishan_member"), unit=world.unit("义县")).delete()
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 404


def test_memberships_refuse_unknown_roles_and_non_administrators(api, world):
    body = {"user": world.person("leader").pk, "unit": world.unit("锦州市").pk, "role": "mayor"}
    assert_error(
        api.as_user("admin").post("/api/v1/memberships/", body, format="json"),
        400,
        "invalid",
        fields={"role"},
    )
    body["role"] = Role.HEAD
    assert_error(
        api.as_user("city_head").post("/api/v1/memberships/", body, format="json"), 403, "permission_denied"
    )
    assert not Membership.objects.filter(user=world.person("leader"), role__in=["mayor", Role.HEAD]).exists()


# Responsibility catalogues


EIGHT = [
    ("一", "落实主体责任", "县委、县政府"),
    ("二", "落实行业部门责任", "市住建委"),
]


def test_administrators_keep_the_catalogue(api, world):
    api.as_user("admin")
    ids = []
    for order, (code, name, holder) in enumerate(EIGHT, start=1):
        response = api.post(
            "/api/v1/responsibilities/",
            {"campaign": world.campaign.pk, "code": code, "name": name, "holder": holder, "order": order},
            format="json",
        )
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])

    listed = api.as_user("village_a_head").get("/api/v1/responsibilities/", {"campaign": world.campaign.pk})
    assert [row["name"] for row in listed.json()["results"]] == ["落实主体责任", "落实行业部门责任"]

    api.as_user("admin")
    patched = api.patch(
        f"/api/v1/responsibilities/{ids[0]}/", {"description": "脱贫攻坚第一责任人"}, format="json"
    )
    assert patched.status_code == 200
    assert Responsibility.objects.get(pk=ids[0]).description == "脱贫攻坚第一责任人"
    assert api.delete(f"/api/v1/responsibilities/{ids[1]}/").status_code == 204
    assert list(Responsibility.objects.values_list("code", flat=True)) == ["一"]


def test_a_catalogue_code_is_unique_within_its_campaign(api, world):
    Responsibility.objects.create(campaign=world.campaign, code="一", name="落实主体责任")
    response = api.as_user("admin").post(
        "/api/v1/responsibilities/",
        {"campaign": world.campaign.pk, "code": "一", "name": "重复"},
        format="json",
    )
    assert_error(response, 400, "invalid", fields={"non_field_errors"})
    assert Responsibility.objects.count() == 1


@pytest.mark.parametrize("username", ["city_head", "city_supervisor", "housing_head"])
def test_others_only_read_the_catalogue(api, world, username):
    entry = Responsibility.objects.create(campaign=world.campaign, code="一", name="落实主体责任")
    api.as_user(username)
    assert api.get(f"/api/v1/responsibilities/{entry.pk}/").status_code == 200
    body = {"campaign": world.campaign.pk, "code": "二", "name": "落实行业部门责任"}
    assert_error(api.post("/api/v1/responsibilities/", body, format="json"), 403, "permission_denied")
    assert_error(
        api.patch(f"/api/v1/responsibilities/{entry.pk}/", {"name": "改"}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(api.delete(f"/api/v1/responsibilities/{entry.pk}/"), 403, "permission_denied")
    assert list(Responsibility.objects.values_list("name", flat=True)) == ["落实主体责任"]


def test_directories_need_a_login(api, world):
    api.as_user(None)
    for path in ("/api/v1/units/", "/api/v1/people/", "/api/v1/memberships/", "/api/v1/responsibilities/"):
        assert_error(api.get(path), 401, "not_authenticated")
