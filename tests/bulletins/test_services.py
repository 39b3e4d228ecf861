"""Drafting, numbering, figures, publishing, mailing and withdrawing bulletins."""

import datetime
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bulletins import figures as content
from bulletins.models import Bulletin, BulletinCounter, BulletinState
from bulletins.services import (
    bulletin_create,
    bulletin_figures,
    bulletin_publish,
    bulletin_render,
    bulletin_scope,
    bulletin_update,
    bulletin_withdraw,
)
from core.errors import Forbidden, InvalidInput, InvalidTransition
from notifications.models import Escalation
from notifications.services import escalation_record_manual, sweep_run
from outbox.models import MessageState, OutboundMessage
from outbox.services import outbox_flush
from responsibility.models import Unit
from tasks.rungs import Level
from tasks.services import task_update

from .conftest import ISSUED_ON, PERIOD_END, PERIOD_START, on

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def create(world, issued_on=ISSUED_ON, *, by="city_supervisor", issuer="市委督查室", **fields) -> Bulletin:
    return bulletin_create(
        actor=world.person(by),
        issuer=world.unit(issuer),
        title=fields.pop("title", "工作简报"),
        period_start=fields.pop("period_start", PERIOD_START),
        period_end=fields.pop("period_end", PERIOD_END),
        issued_on=issued_on,
        **fields,
    )


def publish(world, bulletin: Bulletin, by: str = "city_supervisor") -> Bulletin:
    with on(ISSUED_ON):
        return bulletin_publish(bulletin_id=bulletin.pk, actor=world.person(by))


def reload(bulletin: Bulletin) -> Bulletin:
    return Bulletin.objects.get(pk=bulletin.pk)


# numbering


def test_numbers_run_per_issuer_and_year(world):
    city_2018 = [create(world).number for _ in range(3)]
    city_2019 = create(world, datetime.date(2019, 1, 4))
    county_2018 = create(world, by="yi_supervisor", issuer="县委督查室")
    city_again = create(world, datetime.date(2018, 12, 28))

    assert city_2018 == [1, 2, 3]
    assert (city_2019.year, city_2019.number) == (2019, 1)
    assert (county_2018.year, county_2018.number) == (2018, 1)
    assert (city_again.year, city_again.number) == (2018, 4)


def test_a_draft_without_a_date_is_dated_and_numbered_today(world):
    with on(datetime.date(2019, 3, 1)):
        bulletin = create(world, None)

    assert (bulletin.issued_on, bulletin.year, bulletin.number) == (datetime.date(2019, 3, 1), 2019, 1)


@pytest.mark.parametrize("username", ["yi_head", "yi_supervisor", "city_head", "housing_head"])
def test_only_heads_and_supervisors_of_the_issuer_draft(world, username):
    with pytest.raises(Forbidden):
        create(world, by=username)

    # No number was used up.
    assert not Bulletin.objects.exists()
    assert not BulletinCounter.objects.filter(last_number__gt=0).exists()


def test_a_reversed_period_is_refused_before_a_number_is_taken(world):
    with pytest.raises(InvalidInput) as refused:
        create(world, period_start=PERIOD_END, period_end=PERIOD_START)

    assert refused.value.code == "period_reversed"
    assert not BulletinCounter.objects.filter(last_number__gt=0).exists()
    assert create(world).number == 1


# editing


def test_a_draft_is_edited_and_keeps_its_number(world, draft):
    edited = bulletin_update(
        bulletin_id=draft.pk,
        actor=world.person("city_supervisor"),
        title="关于11月份脱贫攻坚任务推进情况的通报",
        intro="现将有关情况通报如下。",
        issued_on=datetime.date(2018, 12, 5),
        copy_to=[world.unit("县委督查室")],
    )

    stored = reload(edited)
    assert stored.title == "关于11月份脱贫攻坚任务推进情况的通报"
    assert stored.intro == "现将有关情况通报如下。"
    assert stored.issued_on == datetime.date(2018, 12, 5)
    assert (stored.year, stored.number) == (2018, 1)
    assert list(stored.copy_to.all()) == [world.unit("县委督查室")]
    assert set(stored.main_recipients.all()) == {world.unit("义县"), world.unit("黑山县")}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"number": 7}, "field_locked"),
        ({"issuer_id": 1}, "field_locked"),
        ({"period_end": datetime.date(2018, 10, 31)}, "period_reversed"),
    ],
)
def test_a_draft_refuses_bad_edits_and_stays(world, draft, changes, code):
    with pytest.raises(InvalidInput) as refused:
        bulletin_update(bulletin_id=draft.pk, actor=world.person("city_supervisor"), **changes)

    assert refused.value.code == code
    stored = reload(draft)
    assert (stored.number, stored.period_end, stored.issuer) == (1, PERIOD_END, world.unit("市委督查室"))


def test_only_the_issuer_edits(world, draft):
    with pytest.raises(Forbidden):
        bulletin_update(bulletin_id=draft.pk, actor=world.person("yi_head"), title="改")
    assert reload(draft).title == draft.title


# figures


def test_the_figures_of_a_period(november, draft):
    figures = bulletin_figures(draft)

    assert figures["level"] == "锦州市"
    assert figures["period"] == ["2018-11-01", "2018-11-30"]
    assert figures["as_of"] == "2018-12-03"
    assert figures["headline"] == {
        "due": 4,
        "closed_on_time": 2,
        "closed_late": 1,
        "overdue": 1,
        "on_time_rate": 50.0,
    }


def test_the_units_one_level_down_are_ranked_best_first(november, draft):
    figures = bulletin_figures(draft)

    columns = ("unit", "due", "closed_on_time", "closed_late", "overdue", "on_time_rate")
    assert [tuple(row[column] for column in columns) for row in figures["ranking"]] == [
        ("义县", 2, 2, 0, 0, 100.0),
        ("黑山县", 2, 0, 1, 1, 0.0),
    ]
    assert [row["unit"] for row in figures["best"]] == ["义县"]
    assert [row["unit"] for row in figures["worst"]] == ["黑山县"]


def test_items_listed_in_the_period_are_named(november, draft):
    listed = bulletin_figures(draft)["listed"]

    # The late task was listed in October, before the period: not in this issue.
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert item["task"] == november.tasks["overdue"].pk
    assert (item["title"], item["unit"], item["due_date"]) == ("芳山镇贫困户档案整理", "芳山镇", "2018-11-25")
    assert item["days_overdue"] == 8  # to 3 December
    assert item["state"] == "已下达"
    assert bulletin_figures(draft)["criticised"] == {"total": 0, "items": []}


def test_a_closed_item_is_late_until_its_closing_day_in_shanghai(world, november):
    # 黑山县's task, listed in October, due 15 November, closed at 07:00 on the 16th in
    # Shanghai: still the 15th in UTC.
    bulletin = create(world, period_start=datetime.date(2018, 10, 1))
    items = {item["task"]: item for item in bulletin_figures(bulletin)["listed"]["items"]}

    assert items[november.tasks["late"].pk]["days_overdue"] == 1


def test_an_item_listed_twice_is_named_once(world, november, draft):
    # Listed again by hand the next day: the same task, rung and due date.
    with on(datetime.date(2018, 11, 29)):
        escalation_record_manual(
            task_id=november.tasks["overdue"].pk,
            actor=world.person("city_supervisor"),
            level=Level.LISTED,
            reason="仍未完成",
        )
    listed = bulletin_figures(draft)["listed"]

    assert listed["total"] == 1
    assert [item["task"] for item in listed["items"]] == [november.tasks["overdue"].pk]


def test_an_item_listed_many_times_leaves_room_on_the_page_for_the_next(world, november, draft, monkeypatch):
    # Two items a page: the first rows read (eight) are all the same item's, so more are
    # read until the second item is found.
    monkeypatch.setattr(content, "LISTED_LIMIT", 2)
    overdue, exit_work = november.tasks["overdue"], november.tasks["exit"]
    with on(datetime.date(2018, 11, 29)):
        for task_id in [overdue.pk] * 8 + [exit_work.pk]:
            escalation_record_manual(
                task_id=task_id, actor=world.person("city_supervisor"), level=Level.LISTED, reason="仍未完成"
            )
    assert Escalation.objects.filter(task=overdue, level=Level.LISTED).count() == 9
    listed = bulletin_figures(draft)["listed"]

    assert listed["total"] == 2
    assert [item["task"] for item in listed["items"]] == [overdue.pk, exit_work.pk]


def test_an_item_is_named_under_the_unit_that_carried_it_when_it_was_listed(world, november, draft):
    with on(datetime.date(2018, 11, 29)):
        task_update(
            task_id=november.tasks["overdue"].pk,
            actor=world.person("city_head"),
            lead_unit=world.unit("七里河镇"),
        )

    (item,) = bulletin_figures(draft)["listed"]["items"]
    assert item["unit"] == "芳山镇"
    # 七里河镇 (义县) carries it now, but did not when it was listed.
    county = create(world, by="yi_supervisor", issuer="县委督查室")
    assert bulletin_figures(county)["listed"] == {"total": 0, "items": []}


def test_a_veto_indicator_not_met_is_named(november, draft):
    figures = bulletin_figures(draft)

    assert figures["veto_not_met"]["total"] == 1
    (item,) = figures["veto_not_met"]["items"]
    assert (item["name"], item["task"], item["unit"]) == (
        "住房安全有保障贫困户比例",
        "义县贫困县退出指标",
        "义县",
    )
    assert (item["target"], item["current"], item["unit_of_measure"]) == ("≥ 98", "96.4", "%")
    # Not behind schedule: the target task is due in December.
    assert figures["targets_behind"]["total"] == 0


def test_a_reopened_rectification_item_is_a_repeated_problem(november, draft):
    rectification = bulletin_figures(draft)["rectification"]

    assert {key: value for key, value in rectification.items() if key != "repeated"} == {
        "found": 1,
        "closed": 0,  # closed in November, but open again
        "open": 1,
        "overdue": 0,
        "reopened": 1,
        # Reopened by hand before its re-check fell due: the re-check was made moot.
        "recheck": {"due": 0, "passed": 0, "failed": 0, "missed": 0},
    }
    assert [(r["title"], r["unit"], r["reopen_count"], r["state"]) for r in rectification["repeated"]] == [
        ("危房鉴定不准确", "义县", 1, "办理中")
    ]


def test_a_county_office_reports_on_its_county_only(world, november):
    bulletin = create(world, by="yi_supervisor", issuer="县委督查室")
    figures = bulletin_figures(bulletin)

    assert figures["level"] == "义县"
    assert figures["headline"]["due"] == 2
    assert [row["unit"] for row in figures["ranking"]] == ["七里河镇"]
    assert figures["listed"]["total"] == 0
    # One unit ranked: it is on neither list.
    assert figures["best"] == figures["worst"] == []


# publishing


def test_publishing_freezes_the_figures(world, november, act, draft):
    published = publish(world, draft)
    frozen = reload(published).figures
    act(november.tasks["overdue"], "city_head", "cancel", "任务调整")

    live = content.bulletin_figures(bulletin_scope(published))
    assert live["headline"]["due"] == 3
    assert frozen["headline"]["due"] == 4
    assert bulletin_figures(reload(published)) == frozen
    stored = reload(published)
    assert stored.state == BulletinState.PUBLISHED
    assert stored.published_by == world.person("city_supervisor")
    assert stored.printed_on == ISSUED_ON


def test_a_published_bulletin_is_not_edited_or_published_again(world, draft):
    publish(world, draft)

    with pytest.raises(InvalidTransition) as refused:
        bulletin_update(bulletin_id=draft.pk, actor=world.person("city_supervisor"), title="改")
    assert refused.value.code == "bulletin_published"
    with pytest.raises(InvalidTransition):
        publish(world, draft)
    assert reload(draft).title == draft.title


def test_only_the_issuer_publishes(world, draft):
    with pytest.raises(Forbidden):
        publish(world, draft, by="yi_head")
    assert reload(draft).state == BulletinState.DRAFT


@pytest.fixture
def addressed(world) -> dict[str, str]:
    """The counties have e-mail addresses; 市住建委 (copied) has none."""
    addresses = {"义县": "yixian@jz.example.cn", "黑山县": "heishan@jz.example.cn"}
    for name, address in addresses.items():
        Unit.objects.filter(pk=world.unit(name).pk).update(email=address)
    return addresses


def test_publishing_mails_the_pdf_to_the_main_and_copied_units(
    world, draft, addressed, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as scheduled:
        publish(world, draft)
    # The render job is queued after the commit; here it runs in this process.
    assert len(scheduled) == 1
    bulletin_render(bulletin_id=draft.pk)
    outbox_flush()

    bulletin = reload(draft)
    assert len(bulletin.pdf_sha256) == 64
    assert sorted(str(m["To"]) for m in smtp.mailbox.messages) == sorted(addressed.values())
    for address in addressed.values():
        (message,) = smtp.mailbox.to(address)
        assert "市委督查室督查通报2018年第1期" in str(message["Subject"])
        (attachment,) = message.iter_attachments()
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "督查通报2018年第1期.pdf"
        assert hashlib.sha256(attachment.get_content()).hexdigest() == bulletin.pdf_sha256
    stored = OutboundMessage.objects.filter(kind="bulletin")
    assert sorted(stored.values_list("recipient_unit__name", "state")) == [
        ("义县", MessageState.SENT),
        ("市住建委", MessageState.NO_ADDRESS),
        ("黑山县", MessageState.SENT),
    ]


def test_a_title_on_two_lines_is_mailed_on_one(world, draft, addressed, smtp):
    bulletin_update(
        bulletin_id=draft.pk, actor=world.person("city_supervisor"), title="关于11月份\n任务推进情况的通报"
    )
    bulletin_render(bulletin_id=publish(world, draft).pk)

    assert outbox_flush() == {MessageState.SENT: 2}
    # A long subject is folded after "Subject:", so it is parsed with a leading space.
    assert {str(m["Subject"]).strip() for m in smtp.mailbox.messages} == {
        "市委督查室督查通报2018年第1期：关于11月份 任务推进情况的通报"
    }


def test_rendering_again_changes_nothing(world, draft, addressed):
    bulletin = bulletin_render(bulletin_id=publish(world, draft).pk)
    before = (bulletin.pdf.name, bulletin.pdf_sha256, OutboundMessage.objects.count())

    again = bulletin_render(bulletin_id=bulletin.pk)

    assert (again.pdf.name, again.pdf_sha256, OutboundMessage.objects.count()) == before
    assert OutboundMessage.objects.count() == 3


def test_a_draft_is_not_rendered(draft):
    assert not bulletin_render(bulletin_id=draft.pk).pdf


def test_a_bulletin_withdrawn_before_its_pdf_was_made_is_neither_rendered_nor_mailed(world, draft, addressed):
    publish(world, draft)
    bulletin_withdraw(bulletin_id=draft.pk, actor=world.person("city_supervisor"), reason="数据有误")

    assert not bulletin_render(bulletin_id=draft.pk).pdf
    assert not OutboundMessage.objects.exists()


# withdrawing


def test_withdrawing_needs_a_reason_and_keeps_the_bulletin(world, draft):
    publish(world, draft)

    with pytest.raises(InvalidInput) as refused:
        bulletin_withdraw(bulletin_id=draft.pk, actor=world.person("city_supervisor"), reason="  ")
    assert refused.value.code == "reason_required"
    assert reload(draft).state == BulletinState.PUBLISHED

    with on(datetime.date(2018, 12, 4)):
        bulletin_withdraw(
            bulletin_id=draft.pk, actor=world.person("city_supervisor"), reason="数据有误，重新印发"
        )
    stored = reload(draft)
    assert stored.state == BulletinState.WITHDRAWN
    assert stored.withdrawn_reason == "数据有误，重新印发"
    assert stored.withdrawn_at.date() == datetime.date(2018, 12, 4)
    assert (stored.year, stored.number) == (2018, 1)
    assert stored.figures is not None
    # The number stays used: the next issue is the second.
    assert create(world).number == 2


def test_a_draft_is_not_withdrawn_and_others_do_not_withdraw(world, draft):
    with pytest.raises(InvalidTransition):
        bulletin_withdraw(bulletin_id=draft.pk, actor=world.person("city_supervisor"), reason="作废")
    publish(world, draft)
    with pytest.raises(Forbidden):
        bulletin_withdraw(bulletin_id=draft.pk, actor=world.person("yi_head"), reason="作废")
    assert reload(draft).state == BulletinState.PUBLISHED


# A late target split down the tree, and ranking like with like


def test_a_late_target_split_down_the_tree_is_listed_once_with_the_units_behind_it(
    world, split_target, draft
):
    figures = bulletin_figures(draft)

    for block in ("listed", "criticised"):
        assert figures[block]["total"] == 1, block
        (item,) = figures[block]["items"]
        assert (item["task"], item["unit"]) == (split_target[0].pk, "义县")
        assert item["behind"] == ["大榆树堡村", "王家屯村"]


def test_a_county_bulletin_lists_the_chain_at_its_own_top(world, split_target):
    county = create(world, by="yi_supervisor", issuer="县委督查室")

    (item,) = bulletin_figures(county)["listed"]["items"]
    assert item["unit"] == "义县"
    assert item["behind"] == ["大榆树堡村", "王家屯村"]


def test_an_item_nobody_below_is_behind_on_names_no_units_under_it(november, draft):
    (item,) = bulletin_figures(draft)["listed"]["items"]
    assert item["behind"] == []


def test_targets_behind_cover_every_level_of_a_split(world, split_target, draft):
    behind = bulletin_figures(draft)["targets_behind"]

    rows = [(item["unit"], item["target"], item["current"]) for item in behind["items"]]
    assert rows == [("义县", "≥ 938", "400"), ("七里河镇", "≥ 500", "400")]
    assert behind["total"] == 2


def test_nobody_is_on_the_red_list_when_every_unit_is_at_zero(world, make_task, draft):
    with on(datetime.date(2018, 10, 15)):
        make_task("义县任务", due_date=datetime.date(2018, 11, 20))
        make_task("黑山县任务一", lead_unit="黑山县", due_date=datetime.date(2018, 11, 20))
        make_task("黑山县任务二", lead_unit="黑山县", due_date=datetime.date(2018, 11, 21))
    figures = bulletin_figures(draft)

    assert [row["on_time_rate"] for row in figures["ranking"]] == [0.0, 0.0]
    assert figures["best"] == []
    # 黑山县 has more overdue: still named on the black list.
    assert [row["unit"] for row in figures["worst"]] == ["黑山县"]


def test_a_city_department_is_ranked_apart_from_the_counties(world, make_task, november, draft):
    with on(datetime.date(2018, 10, 15)):
        make_task("住建委危房鉴定", lead_unit="市住建委", due_date=datetime.date(2018, 11, 20))
    figures = bulletin_figures(draft)

    assert [row["unit"] for row in figures["ranking"]] == ["义县", "黑山县"]
    assert [row["unit"] for row in figures["departments"]["ranking"]] == ["市住建委"]
    assert figures["departments"]["best"] == figures["departments"]["worst"] == []


def test_the_figures_cost_the_same_queries_however_many_chains_are_listed(
    world, make_task, split_target, draft
):
    with CaptureQueriesContext(connection) as one_chain:
        bulletin_figures(draft)
    with on(datetime.date(2018, 10, 15)):
        more = [
            make_task(f"黑山县任务{n}", lead_unit=unit, due_date=datetime.date(2018, 11, 20))
            for n, unit in enumerate(["黑山县", "芳山镇", "新立屯村"])
        ]
    with on(datetime.date(2018, 11, 28)):
        for task in more:
            escalation_record_manual(
                task_id=task.pk, actor=world.person("city_supervisor"), level=Level.LISTED, reason="逾期"
            )
    with CaptureQueriesContext(connection) as four_chains:
        figures = bulletin_figures(draft)

    assert figures["listed"]["total"] == 4
    assert len(four_chains) == len(one_chain)


def test_an_item_chased_for_its_due_date_and_for_signing_for_it_is_listed_once(world, november, draft):
    # 芳山镇 never signed for its task (due 18 October) and let its due date (25 November)
    # pass: the sweep reaches the rungs against both dates, each with its own history.
    for day in (datetime.date(2018, 11, 28), datetime.date(2018, 11, 30)):
        with on(day):
            sweep_run(day=day)
    task = november.tasks["overdue"]
    assert Escalation.objects.filter(task=task, obligation__isnull=False).exists()
    assert Escalation.objects.filter(task=task, obligation__isnull=True, manual=False).exists()
    figures = bulletin_figures(draft)
    for level in ("listed", "criticised"):
        tasks = [item["task"] for item in figures[level]["items"]]
        assert len(tasks) == len(set(tasks)), (level, figures[level])
        assert figures[level]["total"] == len(tasks)
    (item,) = [item for item in figures["listed"]["items"] if item["task"] == task.pk]
    # Named by the earliest date it owed past: the sign-for of 18 October.
    assert item["due_date"] == "2018-10-18"
