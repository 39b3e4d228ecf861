"""Shared fixtures: a small slice of Jinzhou's responsibility tree, taken from the seeds.

锦州市
├── 市委督查室 (supervision office of the city)
├── 市住建委 (department)
├── 义县
│   ├── 县委督查室
│   └── 七里河镇
│       ├── 大榆树堡村
│       └── 王家屯村
└── 黑山县
    └── 芳山镇
        └── 新立屯村
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from responsibility.models import Role, Unit, UnitKind, User
from responsibility.services import membership_create, unit_create, user_create
from tasks.models import Campaign, Task
from tasks.services import IndicatorSpec, task_create

PASSWORD = "Duban-test-2018"


@dataclass
class World:
    units: dict[str, Unit] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    campaign: Campaign | None = None

    def unit(self, name: str) -> Unit:
        return self.units[name]

    def person(self, username: str) -> User:
        return self.people[username]


def _tree() -> dict[str, Unit]:
    units: dict[str, Unit] = {}

    def add(name: str, kind: str, parent: str | None = None, **extra) -> None:
        units[name] = unit_create(name=name, kind=kind, parent=units.get(parent), **extra)

    add("锦州市", UnitKind.CITY)
    add("市委督查室", UnitKind.SUPERVISION_OFFICE, "锦州市", email="ducha@jz.example.cn")
    add("市住建委", UnitKind.DEPARTMENT, "锦州市", aliases=["住建委", "市住建局"])
    add("义县", UnitKind.COUNTY, "锦州市")
    add("县委督查室", UnitKind.SUPERVISION_OFFICE, "义县")
    add("七里河镇", UnitKind.TOWNSHIP, "义县")
    add("大榆树堡村", UnitKind.VILLAGE, "七里河镇")
    add("王家屯村", UnitKind.VILLAGE, "七里河镇")
    add("黑山县", UnitKind.COUNTY, "锦州市")
    add("芳山镇", UnitKind.TOWNSHIP, "黑山县")
    add("新立屯村", UnitKind.VILLAGE, "芳山镇")
    return units


# username, full name, unit, role
PEOPLE = [
    ("city_head", "王市长", "锦州市", Role.HEAD),
    ("city_supervisor", "李督查", "市委督查室", Role.SUPERVISOR),
    ("housing_head", "赵主任", "市住建委", Role.HEAD),
    ("housing_member", "钱科员", "市住建委", Role.MEMBER),
    ("yi_head", "孙县长", "义县", Role.HEAD),
    ("yi_member", "周干事", "义县", Role.MEMBER),
    ("yi_supervisor", "吴督查", "县委督查室", Role.SUPERVISOR),
    ("qilihe_head", "郑镇长", "七里河镇", Role.HEAD),
    ("village_a_head", "冯书记", "大榆树堡村", Role.HEAD),
    ("village_b_head", "陈书记", "王家屯村", Role.HEAD),
    ("heishan_head", "褚县长", "黑山县", Role.HEAD),
    ("heishan_member", "卫干事", "黑山县", Role.MEMBER),
    # A deputy mayor: a leader of the city level, who may lead (牵头) the city's tasks.
    ("leader", "蒋副市长", "锦州市", Role.LEADER),
]


def build_world() -> World:
    """The tree, its people, an administrator and the 100-day campaign, written to the database."""
    world = World(units=_tree())
    for username, full_name, unit_name, role in PEOPLE:
        user = user_create(username=username, full_name=full_name, password=PASSWORD)
        if unit_name:
            membership_create(user=user, unit=world.units[unit_name], role=role)
        world.people[username] = user
    admin = user_create(username="admin", full_name="系统管理员", password=PASSWORD, is_staff=True)
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    admin.is_superuser = True
    world.people["admin"] = admin
    world.campaign = Campaign.objects.create(
        name='精准脱贫"百日攻坚行动"',
        short_name="百日攻坚",
        issuing_unit=world.units["锦州市"],
        starts_on=datetime.date(2018, 9, 1),
        ends_on=datetime.date(2018, 12, 10),
    )
    return world


@pytest.fixture
def world(db) -> World:
    return build_world()


def task_maker(world: World) -> Callable[..., Task]:
    """A function that creates a task issued by 锦州市 to a unit; assigned unless told otherwise."""

    def make(
        title: str = "危房改造",
        *,
        lead_unit: str = "义县",
        due_date: datetime.date = datetime.date(2018, 11, 30),
        issuer: str = "city_head",
        issuing_unit: str = "锦州市",
        assign: bool = True,
        **extra,
    ) -> Task:
        return task_create(
            actor=world.person(issuer),
            campaign=world.campaign,
            title=title,
            issuing_unit=world.unit(issuing_unit),
            lead_unit=world.unit(lead_unit),
            due_date=due_date,
            assign=assign,
            **extra,
        )

    return make


@pytest.fixture
def make_task(world):
    """Create a task issued by 锦州市 to a unit; assigned unless told otherwise."""
    return task_maker(world)


@pytest.fixture
def target_task(world, make_task) -> Task:
    """The seeds' housing target: 950 + 938 dilapidated houses renovated (义县 leads)."""
    return make_task(
        "农村危房改造",
        kind="target",
        indicators=[IndicatorSpec(name="危房改造", target=Decimal(1888), unit_of_measure="户")],
    )


@pytest.fixture
def api(world):
    """An API client; ``api.as_user(username)`` authenticates it as that person."""
    client = APIClient()

    def as_user(username: str | None) -> APIClient:
        client.force_authenticate(user=world.person(username) if username else None)
        return client

    client.as_user = as_user
    return client
