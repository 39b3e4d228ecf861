"""The pages' tests: the shared tree (tests/conftest.py) with a campaign running now, so
that lights are red, yellow and green by today's date as a browser sees them."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from tasks import lateness
from tasks.models import Campaign
from tasks.services import IndicatorSpec, task_create
from tasks.workdays import calendar_for
from tests.conftest import PASSWORD, World

__all__ = ["PASSWORD"]


def current_campaign(world: World) -> Campaign:
    today = lateness.today()
    return Campaign.objects.create(
        name="巩固脱贫成果专项行动",
        short_name="巩固提升",
        issuing_unit=world.unit("锦州市"),
        starts_on=today - datetime.timedelta(days=90),
        ends_on=today + datetime.timedelta(days=120),
    )


def due_in(working_days: int) -> datetime.date:
    """A due date ``working_days`` working days from today (negative: that many ago)."""
    today = lateness.today()
    return calendar_for(today).add_working_days(today, working_days)


def village_tasks(world: World, campaign: Campaign, *, lead_unit: str = "大榆树堡村") -> dict:
    """Three tasks of a village, red, yellow and green, issued by its township."""

    def make(title, due, **extra):
        return task_create(
            actor=world.person("qilihe_head"),
            campaign=campaign,
            title=title,
            issuing_unit=world.unit("七里河镇"),
            lead_unit=world.unit(lead_unit),
            due_date=due,
            assign=True,
            **extra,
        )

    return {
        "red": make(
            "危房改造入户核查",
            due_in(-2),
            kind="target",
            indicators=[IndicatorSpec(name="D级危房改造", target=Decimal(12), unit_of_measure="户")],
        ),
        "yellow": make("村级光伏电站并网", due_in(1)),
        "green": make("村卫生室标准化建设", due_in(30)),
    }


@pytest.fixture
def campaign(world) -> Campaign:
    return current_campaign(world)


@pytest.fixture
def tasks3(world, campaign) -> dict:
    return village_tasks(world, campaign)


@pytest.fixture
def browser_client(world):
    """A page client; ``browser_client.as_user(username)`` signs that person in."""
    client = Client()

    def as_user(username: str) -> Client:
        client.force_login(world.person(username))
        return client

    client.as_user = as_user
    return client
