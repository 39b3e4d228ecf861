"""The whole ladder of one village task across the 2025 National Day holiday.

Due Monday 29 September 2025. The holiday runs 1–8 October; Sunday 28 September and
Saturday 11 October are worked. With three working days of warning, three working days
overdue for listing and seven for public criticism, the rungs fall on:
reminder 25 Sep, overdue 30 Sep, listed 10 Oct, criticism 15 Oct.
"""

import datetime

import pytest
import time_machine
from django.conf import settings

from notifications.models import Escalation
from notifications.services import escalation_record_manual, sweep_run
from outbox.models import MessageState, OutboundMessage
from responsibility.models import User
from tasks.models import Task
from tasks.rungs import Level, level_of_rank
from tasks.services import ChildSpec, task_create, task_decompose, task_transition

from .conftest import at_nine, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def issue(
    world,
    by: str,
    title: str,
    issuing_unit: str,
    lead_unit: str,
    due_date: datetime.date,
    signer: str,
    **extra,
):
    """A task issued and assigned on 15 September 2025, and signed for at once by ``signer``
    of the lead unit: the ladder below is the task's own; 签收 is chased on its own
    (test_obligations.py)."""
    with time_machine.travel(at_nine(datetime.date(2025, 9, 15)), tick=False):
        task = task_create(
            actor=world.person(by),
            campaign=world.campaign,
            title=title,
            issuing_unit=world.unit(issuing_unit),
            lead_unit=world.unit(lead_unit),
            due_date=due_date,
            assign=True,
            **extra,
        )
        return task_transition(task_id=task.pk, actor=world.person(signer), name="accept")


@pytest.fixture
def village_task(addressed):
    return issue(
        addressed,
        "qilihe_head",
        "大榆树堡村危房改造入户核查",
        "七里河镇",
        "大榆树堡村",
        datetime.date(2025, 9, 29),
        signer="village_a_head",
        number="3",
        lead_leader=addressed.person("leader"),
        responsible_person=addressed.person("village_a_head"),
    )


def sweep_on(day: datetime.date) -> dict:
    with time_machine.travel(at_nine(day), tick=False):
        return sweep_run(day=day)


def unit_address(world, name: str) -> str:
    return f"unit{world.unit(name).pk}@jz.example.cn"


def test_each_rung_is_reached_on_its_working_day_and_told_once(village_task, smtp, world):
    reached: dict[str, datetime.date] = {}
    day = datetime.date(2025, 9, 22)
    while day <= datetime.date(2025, 10, 17):
        sweep_on(day)
        for level in Escalation.objects.filter(task=village_task).values_list("level", flat=True):
            reached.setdefault(level, day)
        day += datetime.timedelta(days=1)

    assert reached == {
        "reminder": datetime.date(2025, 9, 25),
        "overdue": datetime.date(2025, 9, 30),
        "listed": datetime.date(2025, 10, 10),
        "criticism": datetime.date(2025, 10, 15),
    }
    # Exactly one row per rung, however many sweeps ran.
    assert Escalation.objects.filter(task=village_task).count() == 4

    mailbox = smtp.mailbox
    person = "village_a_head@jz.example.cn"
    township_head = "qilihe_head@jz.example.cn"
    county_office = "yi_supervisor@jz.example.cn"
    county_head = "yi_head@jz.example.cn"
    # The responsible person hears of every rung; the chain above joins as it climbs.
    assert len(mailbox.to(person)) == 4
    assert len(mailbox.to(township_head)) == 3  # from overdue on: the issuing township
    assert len(mailbox.to(unit_address(world, "七里河镇"))) == 3
    assert len(mailbox.to(county_office)) == 2  # from listed on: the county's office
    assert len(mailbox.to(unit_address(world, "县委督查室"))) == 2
    assert len(mailbox.to("leader@jz.example.cn")) == 2
    assert len(mailbox.to(county_head)) == 1  # public criticism: the level above the issuer
    assert mailbox.to("city_supervisor@jz.example.cn") == []
    assert mailbox.to("heishan_head@jz.example.cn") == []
    # No message went out twice.
    assert len(mailbox.message_ids()) == len(set(mailbox.message_ids()))


def test_the_task_keeps_the_highest_rung_it_has_reached(village_task, world, smtp):
    def rung() -> str | None:
        return level_of_rank(Task.objects.get(pk=village_task.pk).escalation_rank)

    reached = []
    for day in (22, 25, 30):
        sweep_on(datetime.date(2025, 9, day))
        reached.append(rung())
    assert reached == [None, Level.REMINDER, Level.OVERDUE]

    # A talk recorded by hand ranks above what the sweep reaches later; the sweep never lowers it.
    with time_machine.travel(at_nine(datetime.date(2025, 10, 9)), tick=False):
        escalation_record_manual(
            task_id=village_task.pk,
            actor=world.person("yi_supervisor"),
            level=Level.ADMONISHMENT,
            reason="逾期未改，约谈村支书",
            people=[world.person("village_a_head")],
        )
    sweep_on(datetime.date(2025, 10, 15))
    assert rung() == Level.ADMONISHMENT

    # A due date that comes back to one already chased shows its rung again at the next sweep.
    Task.objects.filter(pk=village_task.pk).update(escalation_rank=None)
    sweep_on(datetime.date(2025, 10, 16))
    assert rung() == Level.CRITICISM


def test_the_digest_is_chinese_with_both_parts_and_the_facts_of_the_item(village_task, smtp):
    sweep_on(datetime.date(2025, 10, 10))  # first sweep: every rung up to listed at once

    (message,) = smtp.mailbox.to("yi_supervisor@jz.example.cn")
    assert "督办" in str(message["Subject"])
    plain = text_of(message)
    html = text_of(message, "html")
    assert "【挂牌督办】" in plain
    assert "大榆树堡村危房改造入户核查" in plain and "大榆树堡村危房改造入户核查" in html
    assert "2025-09-29" in plain
    # Due Monday 29 September 2025, read on 10 October: of the eleven days since, 30
    # September, 9 and 10 October were worked (National Day in between), the three
    # working days at which the item was listed.
    assert "已逾期 3 个工作日" in plain
    assert "11 天" not in plain
    # The link opens the task's page, not the API's JSON.
    assert f"{settings.DUBAN['SITE_URL']}/tasks/{village_task.pk}/" in plain
    assert "/api/" not in plain
    # One item shown once, under its highest new rung, though three rungs were reached.
    assert plain.count("大榆树堡村危房改造入户核查") == 1


def test_the_digest_counts_the_working_days_the_ladder_counts(addressed, smtp):
    """Due Tuesday 30 September 2025: past due through the holiday without a working day
    lost, then listed on Saturday 11 October (worked), its third working day overdue."""
    world = addressed
    with time_machine.travel(at_nine(datetime.date(2025, 9, 15)), tick=False):
        task = task_create(
            actor=world.person("qilihe_head"),
            campaign=world.campaign,
            title="王家屯村饮水安全",
            issuing_unit=world.unit("七里河镇"),
            lead_unit=world.unit("王家屯村"),
            responsible_person=world.person("village_b_head"),
            due_date=datetime.date(2025, 9, 30),
            assign=True,
        )
        task_transition(task_id=task.pk, actor=world.person("village_b_head"), name="accept")
    person = "village_b_head@jz.example.cn"

    sweep_on(datetime.date(2025, 10, 2))
    overdue = text_of(smtp.mailbox.to(person)[-1])
    assert "【逾期催办】" in overdue
    assert "完成时限：2025-09-30，已过完成时限" in overdue
    assert "已逾期" not in overdue

    sweep_on(datetime.date(2025, 10, 10))
    assert len(smtp.mailbox.to(person)) == 1  # two working days: not listed yet
    sweep_on(datetime.date(2025, 10, 11))
    listed = smtp.mailbox.to(person)[-1]
    assert "【挂牌督办】" in text_of(listed)
    assert "完成时限：2025-09-30，已逾期 3 个工作日" in text_of(listed)
    assert "<th>逾期工作日</th>" in text_of(listed, "html")
    assert "<td>3</td>" in text_of(listed, "html")


def test_a_repeated_sweep_sends_nothing_new(village_task, smtp):
    first = sweep_on(datetime.date(2025, 10, 10))
    count = len(smtp.mailbox.messages)
    again = sweep_on(datetime.date(2025, 10, 10))

    assert first["recorded"] == 3
    assert again["recorded"] == 0 and again["messages"] == 0
    assert len(smtp.mailbox.messages) == count


def test_one_digest_per_recipient_lists_all_their_items(addressed, village_task, smtp):
    world = addressed
    issue(
        world,
        "qilihe_head",
        "王家屯村饮水安全",
        "七里河镇",
        "王家屯村",
        datetime.date(2025, 9, 26),
        "village_b_head",
    )
    sweep_on(datetime.date(2025, 9, 30))

    (digest,) = smtp.mailbox.to("qilihe_head@jz.example.cn")
    assert "大榆树堡村危房改造入户核查" in text_of(digest)
    assert "王家屯村饮水安全" in text_of(digest)


def test_suspended_and_closed_tasks_do_not_climb(village_task, world, smtp):
    with time_machine.travel(at_nine(datetime.date(2025, 9, 20)), tick=False):
        task_transition(
            task_id=village_task.pk, actor=world.person("qilihe_head"), name="suspend", comment="汛期暂缓"
        )
    sweep_on(datetime.date(2025, 10, 15))
    assert not Escalation.objects.filter(task=village_task).exists()


def test_people_without_an_address_and_opted_out_reminders_are_kept_visibly(village_task, smtp):
    User.objects.filter(username="village_a_head").update(email="", reminder_opt_out=False)
    sweep_on(datetime.date(2025, 9, 25))

    no_address = OutboundMessage.objects.get(recipient_user__username="village_a_head")
    assert no_address.state == MessageState.NO_ADDRESS

    OutboundMessage.objects.all().delete()
    User.objects.filter(username="village_a_head").update(
        email="village_a_head@jz.example.cn", reminder_opt_out=True
    )
    Escalation.objects.all().delete()
    sweep_on(datetime.date(2025, 9, 25))
    suppressed = OutboundMessage.objects.get(recipient_user__username="village_a_head")
    assert suppressed.state == MessageState.SUPPRESSED
    assert smtp.mailbox.to("village_a_head@jz.example.cn") == []

    # Nobody opts out of being told the work is late.
    sweep_on(datetime.date(2025, 9, 30))
    assert len(smtp.mailbox.to("village_a_head@jz.example.cn")) == 1


def test_an_approved_extension_restarts_the_ladder_against_the_new_date(village_task, world, smtp):
    from tasks.services import extension_decide, extension_request_create

    sweep_on(datetime.date(2025, 9, 30))  # reminder and overdue against 29 September
    with time_machine.travel(at_nine(datetime.date(2025, 9, 30)), tick=False):
        request = extension_request_create(
            task_id=village_task.pk,
            actor=world.person("village_a_head"),
            requested_due_date=datetime.date(2025, 10, 20),
            reason="节日期间施工队停工",
        )
        extension_decide(
            extension_id=request.pk, actor=world.person("qilihe_head"), approve=True, comment="同意"
        )
    assert Task.objects.get(pk=village_task.pk).escalation_rank is None
    sweep_on(datetime.date(2025, 10, 15))
    assert level_of_rank(Task.objects.get(pk=village_task.pk).escalation_rank) == Level.REMINDER
    assert set(
        Escalation.objects.filter(task=village_task, due_date=datetime.date(2025, 10, 20)).values_list(
            "level", flat=True
        )
    ) == {"reminder"}
    assert Escalation.objects.filter(task=village_task, due_date=datetime.date(2025, 9, 29)).count() == 2


@pytest.fixture
def department_split(addressed):
    """The city gives 市住建委 a housing task due at the year's end; the department splits
    out 义县's part, due Monday 29 September 2025 like the village task above."""
    world = addressed
    parent = issue(
        world, "city_head", "全市危房改造", "锦州市", "市住建委", datetime.date(2025, 12, 31), "housing_head"
    )
    with time_machine.travel(at_nine(datetime.date(2025, 9, 15)), tick=False):
        (child,) = task_decompose(
            task_id=parent.pk,
            actor=world.person("housing_head"),
            children=[ChildSpec("义县危房改造", world.unit("义县"), datetime.date(2025, 9, 29))],
        )
        return task_transition(task_id=child.pk, actor=world.person("yi_head"), name="accept")


def test_a_county_task_a_city_department_split_out_is_told_up_to_the_city(department_split, smtp, world):
    assert department_split.issuing_unit == world.unit("市住建委")
    sweep_on(datetime.date(2025, 10, 10))  # overdue and listed
    mailbox = smtp.mailbox
    listed = {
        address: len(mailbox.to(address))
        for address in (
            "city_supervisor@jz.example.cn",
            unit_address(world, "市委督查室"),
            "yi_supervisor@jz.example.cn",
            "housing_head@jz.example.cn",
            "city_head@jz.example.cn",
        )
    }
    # The county's office, and the city's: the department issued it for the city.
    assert listed == {
        "city_supervisor@jz.example.cn": 1,
        unit_address(world, "市委督查室"): 1,
        "yi_supervisor@jz.example.cn": 1,
        "housing_head@jz.example.cn": 1,  # the issuing department's head, from overdue on
        "city_head@jz.example.cn": 0,
    }
    assert "【挂牌督办】" in text_of(mailbox.to("city_supervisor@jz.example.cn")[0])
    # Each row keeps the task's parent, which the bulletin reads to find the chain's top.
    parents = set(Escalation.objects.filter(task=department_split).values_list("task_parent_id", flat=True))
    assert parents == {department_split.parent_id}

    sweep_on(datetime.date(2025, 10, 15))  # 通报

    (criticism,) = mailbox.to("city_head@jz.example.cn")
    assert "【通报】" in text_of(criticism)
    assert "义县危房改造" in text_of(criticism)
    assert len(mailbox.to("city_supervisor@jz.example.cn")) == 2
    assert mailbox.to("heishan_head@jz.example.cn") == []


def test_a_county_task_the_city_issued_is_told_to_both_offices_and_the_head_above(addressed, smtp, world):
    issue(
        world,
        "city_head",
        "义县饮水安全工程",
        "锦州市",
        "七里河镇",
        datetime.date(2025, 9, 29),
        "qilihe_head",
    )
    sweep_on(datetime.date(2025, 10, 15))
    mailbox = smtp.mailbox

    # From the township's work up to the city that issued it: the county's office and the city's.
    assert len(mailbox.to("yi_supervisor@jz.example.cn")) == 1
    assert len(mailbox.to("city_supervisor@jz.example.cn")) == 1
    # The city issued it: its head hears as the issuer; nobody above the city is in this tree.
    assert len(mailbox.to("city_head@jz.example.cn")) == 1
    assert mailbox.to("heishan_head@jz.example.cn") == []
