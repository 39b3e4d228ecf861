"""Who changes which ladder, what a ladder must be, the history of every change, and a
sweep that leaves out a campaign whose ladder is broken without stopping for the others."""

import datetime
import io
import logging

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from core.models import AppendOnlyError
from notifications.models import Escalation, EscalationRule, LadderChange, Sweep
from notifications.services import (
    escalation_rule_create,
    escalation_rule_delete,
    escalation_rule_update,
    sweep_run,
)
from outbox.models import OutboundMessage
from tasks.models import CalendarDay, Campaign
from tasks.rungs import Level
from tasks.services import task_create
from tests.helpers import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

RULES = "/api/v1/escalation-rules/"
DUE = datetime.date(2025, 9, 29)  # a Monday
SWEEP_DAY = datetime.date(2025, 9, 30)


def at_nine(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(1, 0), tzinfo=datetime.UTC)


@pytest.fixture
def county_campaign(world) -> Campaign:
    return Campaign.objects.create(
        name="义县人居环境整治",
        issuing_unit=world.unit("义县"),
        starts_on=datetime.date(2018, 9, 1),
        ends_on=datetime.date(2026, 12, 31),
    )


def rule_state(rule: EscalationRule) -> tuple:
    rule = EscalationRule.objects.filter(pk=rule.pk).values_list("campaign", "level", "offset_working_days")
    return tuple(rule.first() or ())


def city_rule(world, **fields) -> EscalationRule:
    return escalation_rule_create(actor=world.person("admin"), campaign=world.campaign, **fields)


# Who


def test_administrators_change_the_default_ladder_and_nobody_else(api, world):
    listed = EscalationRule.objects.get(campaign=None, level=Level.LISTED)
    for username in ("city_supervisor", "yi_supervisor", "city_head", "yi_member"):
        refused = api.as_user(username).patch(
            f"{RULES}{listed.pk}/", {"offset_working_days": 5}, format="json"
        )
        assert_error(refused, 403, "not_your_ladder")
        assert_error(api.delete(f"{RULES}{listed.pk}/"), 403, "not_your_ladder")
        created = api.post(RULES, {"level": Level.LISTED, "offset_working_days": 5}, format="json")
        assert_error(created, 403, "not_your_ladder")
    assert rule_state(listed) == (None, Level.LISTED, 3)
    assert not LadderChange.objects.exists()

    changed = api.as_user("admin").patch(f"{RULES}{listed.pk}/", {"offset_working_days": 5}, format="json")
    assert changed.status_code == 200, changed.content
    assert rule_state(listed) == (None, Level.LISTED, 5)
    assert api.delete(f"{RULES}{listed.pk}/").status_code == 204
    assert not EscalationRule.objects.filter(pk=listed.pk).exists()
    assert list(LadderChange.objects.order_by("pk").values_list("action", flat=True)) == [
        "updated",
        "deleted",
    ]


def test_the_office_of_the_issuing_level_edits_its_campaigns_ladder(api, world):
    body = {"campaign": world.campaign.pk, "level": Level.OVERDUE, "offset_working_days": 1}
    created = api.as_user("city_supervisor").post(RULES, body, format="json")
    assert created.status_code == 201, created.content
    rule = EscalationRule.objects.get(pk=created.json()["id"])
    assert rule_state(rule) == (world.campaign.pk, Level.OVERDUE, 1)

    changed = api.patch(f"{RULES}{rule.pk}/", {"offset_working_days": 2}, format="json")
    assert changed.status_code == 200, changed.content
    assert rule_state(rule) == (world.campaign.pk, Level.OVERDUE, 2)
    assert api.delete(f"{RULES}{rule.pk}/").status_code == 204
    assert not EscalationRule.objects.filter(campaign=world.campaign).exists()


@pytest.mark.parametrize(
    "username",
    [
        "yi_supervisor",  # a county office on the city's campaign
        "city_head",  # the head of the issuing level: chased by the ladder, not its keeper
        "village_a_head",
        "housing_head",
    ],
)
def test_others_may_not_touch_a_city_campaigns_ladder(api, world, username):
    rule = city_rule(world, level=Level.OVERDUE, offset_working_days=1)
    history = LadderChange.objects.count()

    api.as_user(username)
    assert_error(
        api.patch(f"{RULES}{rule.pk}/", {"offset_working_days": 9}, format="json"), 403, "not_your_ladder"
    )
    assert_error(api.delete(f"{RULES}{rule.pk}/"), 403, "not_your_ladder")
    body = {"campaign": world.campaign.pk, "level": Level.LISTED, "offset_working_days": 3}
    assert_error(api.post(RULES, body, format="json"), 403, "not_your_ladder")

    assert rule_state(rule) == (world.campaign.pk, Level.OVERDUE, 1)
    assert EscalationRule.objects.filter(campaign=world.campaign).count() == 1
    assert LadderChange.objects.count() == history


def test_a_county_campaigns_ladder_is_the_county_offices_not_the_citys(world, county_campaign):
    rule = escalation_rule_create(
        actor=world.person("yi_supervisor"),
        campaign=county_campaign,
        level=Level.OVERDUE,
        offset_working_days=0,
    )
    with pytest.raises(Exception) as refused:
        escalation_rule_update(rule_id=rule.pk, actor=world.person("city_supervisor"), offset_working_days=2)
    assert refused.value.code == "not_your_ladder"
    assert rule_state(rule) == (county_campaign.pk, Level.OVERDUE, 0)


def test_a_campaign_issued_by_an_office_belongs_to_its_levels_office(world):
    campaign = Campaign.objects.create(
        name="县委督查室专项督查",
        issuing_unit=world.unit("县委督查室"),
        starts_on=datetime.date(2025, 1, 1),
        ends_on=datetime.date(2025, 12, 31),
    )
    rule = escalation_rule_create(
        actor=world.person("yi_supervisor"), campaign=campaign, level=Level.LISTED, offset_working_days=2
    )
    assert rule.campaign == campaign


def test_moving_a_rule_to_another_ladder_needs_the_right_to_both(world, county_campaign):
    rule = city_rule(world, level=Level.LISTED, offset_working_days=3)
    with pytest.raises(Exception) as refused:
        escalation_rule_update(
            rule_id=rule.pk, actor=world.person("city_supervisor"), campaign=county_campaign
        )
    assert refused.value.code == "not_your_ladder"
    assert rule_state(rule) == (world.campaign.pk, Level.LISTED, 3)


# What a ladder must be


@pytest.mark.parametrize(
    "level, offset, code",
    [
        (Level.LISTED, 32767, "offset_out_of_range"),
        (Level.LISTED, 61, "offset_out_of_range"),
        (Level.REMINDER, -31, "offset_out_of_range"),
        (Level.REMINDER, 0, "reminder_not_before_due"),
        (Level.OVERDUE, -1, "rung_before_due"),
        (Level.CRITICISM, None, "offset_required"),
    ],
)
def test_an_offset_outside_what_a_rung_can_mean_is_refused(api, world, level, offset, code):
    body = {"campaign": world.campaign.pk, "level": level, "offset_working_days": offset}
    response = api.as_user("city_supervisor").post(RULES, body, format="json")
    assert_error(response, 400, code, fields={"offset_working_days"})
    assert not EscalationRule.objects.filter(campaign=world.campaign).exists()
    assert not LadderChange.objects.exists()


@pytest.mark.parametrize(
    "level, offset", [(Level.REMINDER, -30), (Level.REMINDER, None), (Level.CRITICISM, 60)]
)
def test_the_bounds_themselves_are_accepted(world, level, offset):
    assert city_rule(world, level=level, offset_working_days=offset).offset_working_days == offset


def test_the_tester_s_patch_is_refused_and_changes_nothing(api, world):
    listed = EscalationRule.objects.get(campaign=None, level=Level.LISTED)
    response = api.as_user("admin").patch(
        f"{RULES}{listed.pk}/", {"offset_working_days": 32767}, format="json"
    )
    assert_error(response, 400, "offset_out_of_range", fields={"offset_working_days"})
    assert rule_state(listed) == (None, Level.LISTED, 3)
    assert not LadderChange.objects.exists()


def test_a_milder_rung_is_never_reached_after_a_stronger_one(api, world):
    city_rule(world, level=Level.OVERDUE, offset_working_days=0)
    listed = city_rule(world, level=Level.LISTED, offset_working_days=5)
    history = LadderChange.objects.count()

    body = {"campaign": world.campaign.pk, "level": Level.CRITICISM, "offset_working_days": 4}
    response = api.as_user("city_supervisor").post(RULES, body, format="json")
    assert_error(response, 400, "rungs_out_of_order", fields={"offset_working_days"})

    city_rule(world, level=Level.CRITICISM, offset_working_days=7)
    history += 1
    response = api.patch(f"{RULES}{listed.pk}/", {"offset_working_days": 8}, format="json")
    assert_error(response, 400, "rungs_out_of_order", fields={"offset_working_days"})
    assert rule_state(listed) == (world.campaign.pk, Level.LISTED, 5)
    assert LadderChange.objects.count() == history

    # Equal offsets are in order: listed and criticism on the same day.
    assert api.patch(f"{RULES}{listed.pk}/", {"offset_working_days": 7}, format="json").status_code == 200


def test_one_rule_per_level_and_ladder(api, world):
    city_rule(world, level=Level.OVERDUE, offset_working_days=0)
    body = {"campaign": world.campaign.pk, "level": Level.OVERDUE, "offset_working_days": 1}
    response = api.as_user("city_supervisor").post(RULES, body, format="json")
    assert_error(response, 400, "level_taken", fields={"level"})
    assert EscalationRule.objects.filter(campaign=world.campaign).count() == 1


# History


def test_every_change_is_kept_with_who_when_before_and_after(world):
    office = world.person("city_supervisor")
    moment = datetime.datetime(2025, 9, 1, 2, 0, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        rule = escalation_rule_create(
            actor=office, campaign=world.campaign, level=Level.LISTED, offset_working_days=3
        )
        escalation_rule_update(rule_id=rule.pk, actor=office, offset_working_days=4, notify_unit_above=True)
        escalation_rule_update(rule_id=rule.pk, actor=office, offset_working_days=4)  # no change, no row
        escalation_rule_delete(rule_id=rule.pk, actor=office)

    created, updated, deleted = LadderChange.objects.order_by("pk")
    assert [c.action for c in (created, updated, deleted)] == ["created", "updated", "deleted"]
    assert {c.rule_pk for c in (created, updated, deleted)} == {rule.pk}
    assert {c.actor for c in (created, updated, deleted)} == {office}
    assert {c.campaign for c in (created, updated, deleted)} == {world.campaign}
    assert created.at == moment
    assert created.before is None and created.after["offset_working_days"] == 3
    assert updated.before["offset_working_days"] == 3 and updated.before["notify_unit_above"] is False
    assert updated.after["offset_working_days"] == 4 and updated.after["notify_unit_above"] is True
    assert deleted.before == updated.after and deleted.after is None


def test_the_history_cannot_be_rewritten(world):
    city_rule(world, level=Level.LISTED, offset_working_days=3)
    with pytest.raises(AppendOnlyError):
        LadderChange.objects.update(after=None)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM notifications_ladderchange")
    assert LadderChange.objects.count() == 1


# The sweep


@pytest.fixture
def two_campaigns(world, county_campaign):
    """An overdue task in a city campaign (default ladder) and one in the county's
    campaign, whose own ladder the tests then corrupt in the database as the tester did."""
    city_campaign = Campaign.objects.create(
        name="锦州市秋季攻坚",
        issuing_unit=world.unit("锦州市"),
        starts_on=datetime.date(2025, 9, 1),
        ends_on=datetime.date(2025, 12, 31),
    )
    with time_machine.travel(at_nine(datetime.date(2025, 9, 15)), tick=False):
        city_task = task_create(
            actor=world.person("city_head"),
            campaign=city_campaign,
            title="农房建设审批清单",
            issuing_unit=world.unit("锦州市"),
            lead_unit=world.unit("义县"),
            due_date=DUE,
            assign=True,
        )
        county_task = task_create(
            actor=world.person("yi_head"),
            campaign=county_campaign,
            title="七里河镇垃圾清运",
            issuing_unit=world.unit("义县"),
            lead_unit=world.unit("七里河镇"),
            due_date=DUE,
            assign=True,
        )
    office = world.person("yi_supervisor")
    for level, offset in ((Level.OVERDUE, 0), (Level.LISTED, 3)):
        escalation_rule_create(
            actor=office, campaign=county_campaign, level=level, offset_working_days=offset
        )
    return city_task, county_task


def sweep_on(day: datetime.date) -> dict:
    with time_machine.travel(at_nine(day), tick=False):
        return sweep_run(day=day, send=False)


def test_a_corrupted_rule_leaves_out_its_campaign_and_nobody_else(api, world, two_campaigns, caplog):
    city_task, county_task = two_campaigns
    county_campaign = county_task.campaign
    bad = EscalationRule.objects.get(campaign=county_campaign, level=Level.LISTED)
    EscalationRule.objects.filter(pk=bad.pk).update(offset_working_days=32767)

    with caplog.at_level(logging.ERROR, logger="notifications.services.escalations"):
        result = sweep_on(SWEEP_DAY)

    reached = Escalation.objects.filter(task=city_task).values_list("level", flat=True)
    assert sorted(reached) == [Level.OVERDUE, Level.REMINDER]
    assert not Escalation.objects.filter(task=county_task).exists()
    problem = {
        "campaign": county_campaign.pk,
        "name": "义县人居环境整治",
        "rule": bad.pk,
        "level": Level.LISTED,
        "code": "offset_out_of_range",
    }
    # Recorded once although each of the sweep's parts met the broken ladder.
    assert Sweep.objects.get(pk=result["sweep"]).parts_total > 1
    assert [{k: p[k] for k in problem} for p in result["problems"]] == [problem]
    assert "32767" in result["problems"][0]["message"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "义县人居环境整治" in errors[0].getMessage() and f"rule {bad.pk}" in errors[0].getMessage()

    # The county's office and the administrators are told once, through the outbox.
    told = OutboundMessage.objects.filter(kind="ladder")
    assert sorted(m.recipient_user.username for m in told if m.recipient_user) == ["admin", "yi_supervisor"]
    assert [m.recipient_unit.name for m in told if m.recipient_unit] == ["县委督查室"]
    assert all("义县人居环境整治" in m.subject and "32767" in m.body_text for m in told)
    listed = api.as_user("yi_supervisor").get("/api/v1/outbox/").json()["results"]
    assert [m["subject"] for m in listed if m["kind"] == "ladder"] == [told[0].subject]

    # Once repaired, the next sweep records what the county's task reached meanwhile.
    EscalationRule.objects.filter(pk=bad.pk).update(offset_working_days=3)
    again = sweep_on(datetime.date(2025, 10, 1))
    assert again["problems"] == []
    assert Escalation.objects.filter(task=county_task, level=Level.OVERDUE).exists()


def test_a_ladder_the_checks_would_refuse_is_left_out_too(world, two_campaigns):
    city_task, county_task = two_campaigns
    EscalationRule.objects.filter(campaign=county_task.campaign, level=Level.OVERDUE).update(
        offset_working_days=5
    )

    result = sweep_on(SWEEP_DAY)

    assert [p["code"] for p in result["problems"]] == ["rungs_out_of_order"]
    assert Escalation.objects.filter(task=city_task).exists()
    assert not Escalation.objects.filter(task=county_task).exists()


def test_a_calendar_that_cannot_place_a_rung_leaves_out_only_the_campaigns_using_it(world, two_campaigns):
    """Ten years of holidays after the sweep's day, as a bad import might write: the city's
    reminder (counted forward) cannot be placed; the county's rungs (counted back) can."""
    city_task, county_task = two_campaigns
    first = SWEEP_DAY + datetime.timedelta(days=1)
    CalendarDay.objects.bulk_create(
        CalendarDay(date=first + datetime.timedelta(days=n), kind="holiday", name="错误导入")
        for n in range(3700)
    )

    result = sweep_on(SWEEP_DAY)

    assert [(p["campaign"], p["code"], p["level"]) for p in result["problems"]] == [
        (city_task.campaign_id, "calendar_failed", Level.REMINDER)
    ]
    assert not Escalation.objects.filter(task=city_task).exists()
    assert Escalation.objects.filter(task=county_task, level=Level.OVERDUE).exists()


def test_the_command_prints_the_campaigns_left_out(world, two_campaigns):
    _city_task, county_task = two_campaigns
    EscalationRule.objects.filter(campaign=county_task.campaign, level=Level.LISTED).update(
        offset_working_days=32767
    )
    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(at_nine(SWEEP_DAY), tick=False), pytest.raises(CommandError) as failed:
        call_command("escalation_sweep", "--date", SWEEP_DAY.isoformat(), "--no-send", stdout=out, stderr=err)
    assert failed.value.returncode == 1
    assert "1 campaign left out" in str(failed.value)
    assert "2 escalations recorded" in out.getvalue()  # the city's task: reminder and overdue
    assert f"campaign {county_task.campaign.pk} (义县人居环境整治) left out" in err.getvalue()
    assert "offset_out_of_range" in err.getvalue()
