"""Setting up group robots and people's channels through the API: who may, what is shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbox import vault
from outbox.models import Channel, Contact, OutboundMessage, Robot
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=a1b2c3"

# Who sets up which unit's group robot: the reach of a unit one heads, or the level one's
# office supervises, the reach's root included (responsibility.jurisdiction.channel_units_q).
MATRIX = [
    ("admin", "黑山县", True),
    ("city_supervisor", "新立屯村", True),
    ("city_head", "义县", True),
    ("yi_head", "义县", True),
    ("yi_head", "大榆树堡村", True),
    ("yi_head", "县委督查室", True),
    ("yi_head", "黑山县", False),
    ("yi_head", "锦州市", False),
    ("yi_supervisor", "七里河镇", True),
    ("yi_supervisor", "芳山镇", False),
    ("yi_member", "义县", False),
    ("qilihe_head", "王家屯村", True),
    ("qilihe_head", "义县", False),
    ("housing_head", "市住建委", True),
    ("housing_head", "锦州市", False),
    ("village_a_head", "王家屯村", False),
    ("leader", "义县", False),
]


def robot_of(unit, name="工作群") -> Robot:
    return Robot.objects.create(unit=unit, kind="wecom", name=name, webhook_encrypted=vault.encrypt(WECOM))


@pytest.mark.parametrize(("username", "unit", "allowed"), MATRIX)
def test_who_sets_up_a_units_robot_follows_jurisdiction(api, world, username, unit, allowed):
    body = {"unit": world.unit(unit).pk, "kind": "wecom", "name": "督办工作群", "webhook": WECOM}
    response = api.as_user(username).post("/api/v1/robots/", body, format="json")
    if allowed:
        assert response.status_code == 201, response.content
        assert Robot.objects.filter(unit=world.unit(unit)).count() == 1
    else:
        assert_error(response, 403, "outside_jurisdiction", fields={"unit"})
        assert not Robot.objects.exists()


@pytest.mark.parametrize(("username", "unit", "allowed"), MATRIX)
def test_a_robot_outside_ones_jurisdiction_is_not_listed_read_changed_or_deleted(
    api, world, username, unit, allowed
):
    robot = robot_of(world.unit(unit))
    client = api.as_user(username)
    listed = [item["id"] for item in client.get("/api/v1/robots/").json()["results"]]
    assert (robot.pk in listed) is allowed
    if allowed:
        assert client.get(f"/api/v1/robots/{robot.pk}/").status_code == 200
        assert (
            client.patch(f"/api/v1/robots/{robot.pk}/", {"active": False}, format="json").status_code == 200
        )
        assert client.delete(f"/api/v1/robots/{robot.pk}/").status_code == 204
    else:
        for response in (
            client.get(f"/api/v1/robots/{robot.pk}/"),
            client.patch(f"/api/v1/robots/{robot.pk}/", {"active": False}, format="json"),
            client.delete(f"/api/v1/robots/{robot.pk}/"),
        ):
            assert_error(response, 404, "not_found")
        robot.refresh_from_db()
        assert robot.active


def test_the_webhook_and_the_secret_are_stored_encrypted_and_never_returned(api, world):
    client = api.as_user("yi_head")
    body = {"unit": world.unit("义县").pk, "kind": "dingtalk", "name": "县督办群", "webhook": DINGTALK}
    response = client.post("/api/v1/robots/", {**body, "secret": "SECabc123"}, format="json")
    assert response.status_code == 201
    answers = [
        response,
        client.get(f"/api/v1/robots/{response.json()['id']}/"),
        client.get("/api/v1/robots/"),
    ]
    for answer in answers:
        assert "a1b2c3" not in answer.content.decode() and "SECabc123" not in answer.content.decode()
    assert response.json()["webhook_host"] == "oapi.dingtalk.com" and response.json()["secret_set"] is True
    robot = Robot.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_encrypted, secret_encrypted FROM outbox_robot")
        stored = " ".join(cursor.fetchone())
    assert "a1b2c3" not in stored and "SECabc123" not in stored
    assert (
        vault.decrypt(robot.webhook_encrypted) == DINGTALK
        and vault.decrypt(robot.secret_encrypted) == "SECabc123"
    )

    # Changing the name keeps the secret; a new secret replaces it.
    client.patch(f"/api/v1/robots/{robot.pk}/", {"name": "县督办工作群"}, format="json")
    robot.refresh_from_db()
    assert robot.name == "县督办工作群" and vault.decrypt(robot.secret_encrypted) == "SECabc123"
    client.patch(f"/api/v1/robots/{robot.pk}/", {"secret": "SECnew"}, format="json")
    robot.refresh_from_db()
    assert vault.decrypt(robot.secret_encrypted) == "SECnew"


@pytest.mark.parametrize(
    "webhook",
    [
        "https://evil.example.com/cgi-bin/webhook/send?key=abc",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
        "https://qyapi.weixin.qq.com/other?key=abc",
        "ftp://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        DINGTALK,
    ],
)
def test_a_webhook_that_is_not_the_kinds_documented_address_is_refused(api, world, webhook):
    body = {"unit": world.unit("义县").pk, "kind": "wecom", "name": "群", "webhook": webhook}
    response = api.as_user("yi_head").post("/api/v1/robots/", body, format="json")
    assert_error(response, 400, "invalid_webhook", fields={"webhook"})
    assert not Robot.objects.exists()


def test_two_robots_of_one_unit_need_different_names_and_one_that_sent_is_switched_off_not_deleted(
    api, world
):
    robot = robot_of(world.unit("义县"))
    client = api.as_user("yi_head")
    body = {"unit": world.unit("义县").pk, "kind": "wecom", "name": "工作群", "webhook": WECOM}
    assert_error(client.post("/api/v1/robots/", body, format="json"), 400, "name_taken", fields={"name"})
    OutboundMessage.objects.create(channel=Channel.WECOM, robot=robot, subject="s", body_text="b")
    assert_error(client.delete(f"/api/v1/robots/{robot.pk}/"), 409, "robot_in_use")
    assert Robot.objects.filter(pk=robot.pk).exists()


def test_the_robot_list_costs_a_fixed_number_of_queries(api, world):
    for name in ("义县", "七里河镇", "大榆树堡村", "王家屯村"):
        robot_of(world.unit(name))
    client = api.as_user("yi_head")
    client.get("/api/v1/robots/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/robots/")
    robot_of(world.unit("县委督查室"))
    with CaptureQueriesContext(connection) as more:
        assert client.get("/api/v1/robots/").json()["count"] == 5
    assert len(more) == len(few)


def test_a_person_sets_their_own_mobile_and_order_and_nobody_elses(api, world):
    me = world.person("yi_head")
    client = api.as_user("yi_head")
    assert client.get(f"/api/v1/people/{me.pk}/contact/").json() == {"mobile": "", "channel_order": []}
    response = client.put(
        f"/api/v1/people/{me.pk}/contact/",
        {"mobile": "13912345678", "channel_order": ["sms", "robot"]},
        format="json",
    )
    assert response.json() == {"mobile": "13912345678", "channel_order": ["sms", "robot"]}
    assert Contact.objects.get(user=me).mobile == "13912345678"

    colleague = world.person("yi_member")
    body = {"mobile": "13900000000", "channel_order": []}
    assert_error(
        client.put(f"/api/v1/people/{colleague.pk}/contact/", body, format="json"), 403, "not_your_contact"
    )
    assert_error(client.get(f"/api/v1/people/{colleague.pk}/contact/"), 403, "not_your_contact")
    admin = api.as_user("admin")
    assert admin.put(f"/api/v1/people/{colleague.pk}/contact/", body, format="json").status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"mobile": "12345", "channel_order": []}, "invalid_mobile"),
        ({"mobile": "13912345678", "channel_order": ["sms", "sms"]}, "invalid_channel_order"),
    ],
)
def test_a_bad_mobile_or_order_is_refused_and_changes_nothing(api, world, body, code):
    me = world.person("yi_head")
    response = api.as_user("yi_head").put(f"/api/v1/people/{me.pk}/contact/", body, format="json")
    assert_error(response, 400, code)
    assert not Contact.objects.exists()


def test_the_outbox_lists_each_message_with_its_channel_and_masks_a_mobile(api, world):
    robot = robot_of(world.unit("义县"))
    me = world.person("yi_head")
    OutboundMessage.objects.create(
        channel=Channel.WECOM, robot=robot, recipient_unit=world.unit("义县"), subject="群"
    )
    OutboundMessage.objects.create(
        channel=Channel.SMS, recipient_user=me, to_address="13912345678", subject="短信"
    )
    client = api.as_user("yi_head")
    [sms] = client.get("/api/v1/outbox/").json()["results"]
    assert sms["channel"] == "sms" and sms["to_address"] == "139****5678" and sms["robot"] is None
    rows = api.as_user("admin").get("/api/v1/outbox/", {"channel": "wecom"}).json()["results"]
    assert [(row["channel"], row["robot"]["name"]) for row in rows] == [("wecom", "工作群")]
