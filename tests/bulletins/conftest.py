"""Fixtures of the bulletin tests: media in a temporary folder, a local SMTP server, the
poppler tools that read a rendered PDF back, and a small November of tasks to report on."""

import datetime
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bulletins.models import Bulletin
from bulletins.services import bulletin_create
from notifications.models import Escalation
from notifications.services import escalation_record_manual
from responsibility.models import Unit, User
from tasks.models import Indicator, Task, TaskKind
from tasks.rungs import LEVEL_RANK, Level
from tasks.services import (
    ChildSpec,
    IndicatorSpec,
    indicator_record_values,
    task_decompose,
    task_transition,
)

# The real SMTP server of the notification tests, as the same fixture.
from tests.notifications.conftest import smtp  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD_START = datetime.date(2018, 11, 1)
PERIOD_END = datetime.date(2018, 11, 30)
ISSUED_ON = datetime.date(2018, 12, 3)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def on(day: datetime.date, hour: int = 9):
    """The clock stands at that hour of that day in Shanghai."""
    return time_machine.travel(at(day, hour), tick=False)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Rendered PDFs go to a fresh folder of each test, not to the shared test media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def poppler(tool: str, pdf: Path, *args: str) -> str:
    """What a poppler tool (pdftotext, pdffonts, pdfinfo) prints for the file."""
    command = [tool, *args, str(pdf)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout


def squeezed(text: str) -> str:
    """The text without any white space: pdftotext breaks lines where the page did."""
    return "".join(text.split())


@dataclass
class November:
    """The city's tasks of November 2018 (see the ``november`` fixture)."""

    tasks: dict[str, Task] = field(default_factory=dict)


@pytest.fixture
def act(world):
    def act(task: Task, username: str, name: str, comment: str = "") -> Task:
        return task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)

    return act


@pytest.fixture
def november(world, make_task, act) -> November:
    """Issued by 锦州市 in October, due in November 2018 unless said otherwise:

    - 义县 closes its own task and 七里河镇's on time;
    - 黑山县 closes its task a day late, early in the morning, and 芳山镇's is still open (and listed on
      28 November; the late one was listed in October, before the period);
    - 义县's exit indicators, due in December: one veto indicator met, one not;
    - a rectification item of 义县, found and closed in November, then reopened.
    """
    tasks = {}
    with on(datetime.date(2018, 10, 15)):
        tasks["on_time_county"] = make_task("义县危房改造验收", due_date=datetime.date(2018, 11, 10))
        tasks["on_time_township"] = make_task(
            "七里河镇饮水安全工程", lead_unit="七里河镇", due_date=datetime.date(2018, 11, 20)
        )
        tasks["late"] = make_task(
            "黑山县产业扶贫项目", lead_unit="黑山县", due_date=datetime.date(2018, 11, 15)
        )
        tasks["overdue"] = make_task(
            "芳山镇贫困户档案整理", lead_unit="芳山镇", due_date=datetime.date(2018, 11, 25)
        )
        tasks["exit"] = make_task(
            "义县贫困县退出指标",
            kind=TaskKind.TARGET,
            due_date=datetime.date(2018, 12, 10),
            indicators=[
                IndicatorSpec("住房安全有保障贫困户比例", Decimal(98), "%", veto=True),
                IndicatorSpec("饮水安全有保障贫困户比例", Decimal(100), "%", veto=True),
            ],
        )
    indicator_record_values(
        {
            Indicator.objects.get(task=tasks["exit"], name="住房安全有保障贫困户比例").pk: Decimal("96.4"),
            Indicator.objects.get(task=tasks["exit"], name="饮水安全有保障贫困户比例").pk: Decimal(100),
        }
    )
    with on(datetime.date(2018, 10, 20)):
        escalation_record_manual(
            task_id=tasks["late"].pk,
            actor=world.person("city_supervisor"),
            level=Level.LISTED,
            reason="进度滞后",
        )
    with on(datetime.date(2018, 11, 5)):
        tasks["rectification"] = make_task(
            "危房鉴定不准确", kind=TaskKind.RECTIFICATION, due_date=datetime.date(2018, 12, 25)
        )
    for name, doer in [("on_time_county", "yi_member"), ("rectification", "yi_member")]:
        with on(datetime.date(2018, 11, 9)):
            act(tasks[name], doer, "accept")
            act(tasks[name], doer, "submit", "已完成")
            act(tasks[name], "city_head", "close")
    with on(datetime.date(2018, 11, 20), hour=17):
        act(tasks["on_time_township"], "qilihe_head", "accept")
        act(tasks["on_time_township"], "qilihe_head", "submit", "已通水")
        act(tasks["on_time_township"], "city_head", "close")
    # 07:00 in Shanghai is still the due day in UTC: late only when days are counted locally.
    with on(datetime.date(2018, 11, 16), hour=7):
        act(tasks["late"], "heishan_member", "accept")
        act(tasks["late"], "heishan_member", "submit", "项目已落地")
        act(tasks["late"], "city_head", "close")
    with on(datetime.date(2018, 11, 26)):
        act(tasks["rectification"], "city_supervisor", "reopen", "回头看发现问题反弹")
    with on(datetime.date(2018, 11, 28)):
        escalation_record_manual(
            task_id=tasks["overdue"].pk,
            actor=world.person("city_supervisor"),
            level=Level.LISTED,
            reason="逾期未完成",
        )
    return November(tasks={name: Task.objects.get(pk=task.pk) for name, task in tasks.items()})


@pytest.fixture
def addressed(world):
    """Every unit and person has an e-mail address (the notices' tests)."""
    for user in User.objects.all():
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@jz.example.cn")
    for unit in Unit.objects.all():
        Unit.objects.filter(pk=unit.pk).update(email=f"unit{unit.pk}@jz.example.cn")
    return world


@pytest.fixture
def item(world, make_task, act) -> Task:
    """义县's housing item, issued on 15 October and signed for the next day: it owes
    nothing but the work (the notices' tests)."""
    with on(datetime.date(2018, 10, 15)):
        task = make_task(
            "义县危房改造验收",
            responsible_person=world.person("yi_member"),
            due_date=datetime.date(2018, 11, 30),
        )
    with on(datetime.date(2018, 10, 16)):
        return act(task, "yi_member", "accept")


@pytest.fixture
def draft(world) -> Bulletin:
    """The city office's draft about November 2018."""
    with on(ISSUED_ON):
        return bulletin_create(
            actor=world.person("city_supervisor"),
            issuer=world.unit("市委督查室"),
            title="关于11月份任务推进情况的通报",
            period_start=PERIOD_START,
            period_end=PERIOD_END,
            issued_on=ISSUED_ON,
            main_recipients=[world.unit("义县"), world.unit("黑山县")],
            copy_to=[world.unit("市住建委")],
        )


@pytest.fixture
def split_target(world, make_task):
    """A housing target of 义县 (938 houses), split to 七里河镇 and on to its two villages,
    all due 25 November and behind: 400 houses done, all of them in the township."""
    with on(datetime.date(2018, 10, 15)):
        county = make_task(
            "义县危房改造",
            kind=TaskKind.TARGET,
            due_date=datetime.date(2018, 11, 25),
            indicators=[IndicatorSpec("危房改造", Decimal(938), "户")],
        )
        (township,) = task_decompose(
            task_id=county.pk,
            actor=world.person("yi_head"),
            children=[
                ChildSpec(
                    "七里河镇危房改造",
                    world.unit("七里河镇"),
                    datetime.date(2018, 11, 25),
                    targets={county.indicators.get().pk: Decimal(500)},
                )
            ],
        )
        villages = task_decompose(
            task_id=township.pk,
            actor=world.person("qilihe_head"),
            children=[
                ChildSpec(f"{name}危房改造", world.unit(name), datetime.date(2018, 11, 25))
                for name in ("大榆树堡村", "王家屯村")
            ],
        )
    # The township's 400 rolls up to the county.
    indicator_record_values({township.indicators.get().pk: Decimal(400)})
    chain = [county, township, *villages]
    with on(datetime.date(2018, 11, 28)):
        for task in chain:
            escalation_record_manual(
                task_id=task.pk,
                actor=world.person("city_supervisor"),
                level=Level.LISTED,
                reason="逾期未完成",
            )
            # 通报 is the sweep's rung alone: recorded as the sweep records it.
            Escalation.objects.create(
                task=task,
                task_parent_id=task.parent_id,
                level=Level.CRITICISM,
                rank=LEVEL_RANK[Level.CRITICISM],
                due_date=task.due_date,
                lead_unit=task.lead_unit,
            )
    return chain
