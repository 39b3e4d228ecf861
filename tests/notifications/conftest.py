"""A real SMTP server on localhost (aiosmtpd) that keeps what it accepts."""

import datetime
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from responsibility.models import Unit, User
from tasks.models import Campaign, Task
from tasks.services import task_create


class Mailbox:
    """The SMTP server's handler: accepts, refuses or holds messages as a test tells it."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()  # addresses answered with 550
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


def text_of(message: email.message.EmailMessage, subtype: str = "plain") -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()


@pytest.fixture
def smtp(settings):
    """Point Django's SMTP backend at a fresh local server; ``smtp.mailbox`` holds the mail."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


SWEEP_DAY = datetime.date(2025, 9, 30)


@pytest.fixture(autouse=True)
def autumn_2025(request):
    """Most of these tests sweep the autumn of 2025, across its National Day holiday: the
    world's campaign runs on until then, so its tasks may fall due in it."""
    if "world" in request.fixturenames:
        world = request.getfixturevalue("world")
        Campaign.objects.filter(pk=world.campaign.pk).update(ends_on=datetime.date(2025, 12, 31))
        world.campaign.refresh_from_db()


@pytest.fixture
def overdue_tasks(world) -> dict[str, Task]:
    """Four tasks in three subtrees, all due Monday 29 September 2025 and so overdue when
    swept on ``SWEEP_DAY``; every person and unit of the world has an e-mail address."""
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@jz.example.cn")
    for unit in Unit.objects.all():
        Unit.objects.filter(pk=unit.pk).update(email=f"unit{unit.pk}@jz.example.cn")
    due = datetime.date(2025, 9, 29)

    def make(
        title: str, issuer: str, issuing_unit: str, lead_unit: str, responsible: str | None = None
    ) -> Task:
        return task_create(
            actor=world.person(issuer),
            campaign=world.campaign,
            title=title,
            issuing_unit=world.unit(issuing_unit),
            lead_unit=world.unit(lead_unit),
            responsible_person=world.person(responsible) if responsible else None,
            due_date=due,
            assign=True,
        )

    return {
        "houses": make(
            "大榆树堡村危房改造入户核查", "qilihe_head", "七里河镇", "大榆树堡村", "village_a_head"
        ),
        "water": make("王家屯村饮水安全", "qilihe_head", "七里河镇", "王家屯村"),
        "roads": make("新立屯村通村公路", "heishan_head", "黑山县", "新立屯村"),
        "permits": make("农房建设审批清单", "city_head", "锦州市", "市住建委"),
    }


def at_nine(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(1, 0), tzinfo=datetime.UTC)  # 09:00 in Shanghai


@pytest.fixture
def addressed(world):
    """Everyone and every unit of the world has an e-mail address."""
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@jz.example.cn")
    for unit in Unit.objects.all():
        Unit.objects.filter(pk=unit.pk).update(email=f"unit{unit.pk}@jz.example.cn")
    return world
