"""What the demo is built with: the tree, its people and their tokens, the campaign, and the
steps every demo task is moved by.

Everything is written by the same services the API uses, so the demo's history, rules
and roll-ups are the real ones: a task the services would refuse cannot appear here.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from responsibility.models import ApiToken, Membership, Role, Unit, UnitKind, User
from responsibility.services import membership_create, unit_create, user_create
from tasks.models import Campaign, Responsibility, Task, TaskSource
from tasks.services import ChildSpec, progress_report_create, task_create, task_decompose, task_transition
from tasks.workdays import calendar_for

from .data import COUNTIES, DEPARTMENTS, EMAIL_DOMAIN, RESPONSIBILITIES, YELLOW_WORKING_DAYS, person_names


@dataclass
class DemoUser:
    username: str
    full_name: str
    title: str
    posts: list[tuple[str, str]]  # (unit name, role label)
    token: str


@dataclass
class Demo:
    campaign: Campaign
    users: list[DemoUser]
    password: str


@dataclass
class Builder:
    on: datetime.date
    password: str
    units: dict[str, Unit] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    names: Iterator[str] = field(default_factory=person_names)
    campaign: Campaign | None = None
    responsibilities: dict[str, Responsibility] = field(default_factory=dict)
    # The sources registered so far, by their key in ``demo.campaign.SOURCES``.
    sources: dict[str, TaskSource] = field(default_factory=dict)

    def __post_init__(self) -> None:
        span = datetime.timedelta(days=120)
        self.calendar = calendar_for(self.on - span, self.on + span)

    def workday(self, offset: int) -> datetime.date:
        """The working day ``offset`` working days from today (0: today or the next one)."""
        if offset == 0:
            return self.calendar.workday_on_or_after(self.on)
        return self.calendar.add_working_days(self.on, offset)

    # The tree and its people.

    def unit(self, slug: str, name: str, kind: str, parent: str | None = None, **extra) -> Unit:
        self.units[slug] = unit_create(name=name, kind=kind, parent=self.units.get(parent), **extra)
        return self.units[slug]

    def person(self, username: str, title: str, posts: list[tuple[str, str]], **extra) -> User:
        # Created without a password: see ``set_passwords``.
        user = user_create(
            username=username,
            full_name=extra.pop("full_name", None) or next(self.names),
            email=f"{username}@{EMAIL_DOMAIN}",
            title=title,
            **extra,
        )
        for slug, role in posts:
            membership_create(user=user, unit=self.units[slug], role=role)
        self.people[username] = user
        return user

    def build_tree(self) -> None:
        self.unit("jinzhou", "锦州市", UnitKind.CITY, email=f"jzs@{EMAIL_DOMAIN}")
        self.unit(
            "ducha",
            "市委督查室",
            UnitKind.SUPERVISION_OFFICE,
            "jinzhou",
            email=f"ducha@{EMAIL_DOMAIN}",
            aliases=["督查室", "市委办督查室", "市委督考办"],
        )
        self.unit(
            "zhihuibu",
            "市脱贫攻坚指挥部",
            UnitKind.LEADING_GROUP,
            "jinzhou",
            email=f"zhihuibu@{EMAIL_DOMAIN}",
            aliases=["指挥部", "市脱贫攻坚领导小组", "市扶贫开发领导小组"],
        )
        for slug, name, aliases, _title in DEPARTMENTS:
            self.unit(
                slug, name, UnitKind.DEPARTMENT, "jinzhou", email=f"{slug}@{EMAIL_DOMAIN}", aliases=aliases
            )
        for slug, name, kind, office, _title, townships in COUNTIES:
            self.unit(slug, name, kind, "jinzhou", email=f"{slug}@{EMAIL_DOMAIN}")
            self.unit(
                f"{slug}_ducha_office",
                office,
                UnitKind.SUPERVISION_OFFICE,
                slug,
                email=f"ducha.{slug}@{EMAIL_DOMAIN}",
            )
            for township_slug, township, villages in townships:
                self.unit(township_slug, township, UnitKind.TOWNSHIP, slug)
                for village_slug, village in villages:
                    self.unit(village_slug, village, UnitKind.VILLAGE, township_slug)

    def build_people(self) -> None:
        self.person("jz_secretary", "市委书记", [("jinzhou", Role.HEAD)])
        self.person(
            "jz_mayor", "市长、市脱贫攻坚指挥部总指挥", [("jinzhou", Role.HEAD), ("zhihuibu", Role.HEAD)]
        )
        self.person(
            "vm_poverty",
            "副市长（分管扶贫）、指挥部副总指挥",
            [("jinzhou", Role.LEADER), ("zhihuibu", Role.MEMBER)],
        )
        self.person("vm_housing", "副市长（分管城乡建设）", [("jinzhou", Role.LEADER)])
        self.person("vm_health", "副市长（分管卫生、教育）", [("jinzhou", Role.LEADER)])
        self.person("ducha_chief", "市委督查室主任", [("ducha", Role.SUPERVISOR)])
        self.person("ducha_1", "市委督查室督查专员", [("ducha", Role.SUPERVISOR)])
        self.person("ducha_2", "市委督查室督查专员", [("ducha", Role.SUPERVISOR)])
        for slug, name, _aliases, title in DEPARTMENTS:
            posts = [(slug, Role.HEAD)]
            if slug == "fupin":
                # The poverty office runs the HQ's daily business (指挥部办公室).
                posts.append(("zhihuibu", Role.MEMBER))
                title = "主任、指挥部办公室主任"
            self.person(f"{slug}_head", f"{name}{title}", posts)
            self.person(f"{slug}_staff", f"{name}脱贫攻坚专责联络员", [(slug, Role.MEMBER)])
        for slug, name, _kind, office, head_title, townships in COUNTIES:
            party = "县委书记" if head_title == "县长" else "市委书记"
            self.person(f"{slug}_secretary", f"{name}{party}", [(slug, Role.HEAD)])
            self.person(f"{slug}_head", f"{name}{head_title}", [(slug, Role.HEAD)])
            self.person(f"{slug}_staff", f"{name}扶贫办干部", [(slug, Role.MEMBER)])
            office_name = office if office.startswith(name) else f"{name}{office}"
            self.person(f"{slug}_ducha", f"{office_name}督查员", [(f"{slug}_ducha_office", Role.SUPERVISOR)])
            for township_slug, township, villages in townships:
                self.person(f"{township_slug}_head", f"{township}党委书记", [(township_slug, Role.HEAD)])
                for village_slug, village in villages:
                    self.person(f"{village_slug}_head", f"{village}党支部书记", [(village_slug, Role.HEAD)])
        self.person("admin", "系统管理员", [], full_name="系统管理员", is_staff=True)
        # There is no service for superusers: the administrator is set up as the tests do.
        User.objects.filter(username="admin").update(is_superuser=True)
        self.people["admin"].is_superuser = True

    def set_passwords(self) -> None:
        # One hash for everybody: hashing eighty passwords at Django's work factor would
        # take half a minute, and the demo password is public anyway.
        hashed = make_password(self.password)
        User.objects.filter(pk__in=[user.pk for user in self.people.values()]).update(password=hashed)
        for user in self.people.values():
            user.password = hashed

    def issue_tokens(self) -> None:
        ApiToken.objects.bulk_create(
            ApiToken(user=user, key=ApiToken.generate_key()) for user in self.people.values()
        )

    # The campaign.

    def build_campaign(self) -> Campaign:
        self.campaign = Campaign.objects.create(
            name='精准脱贫"百日攻坚行动"',
            short_name="百日攻坚",
            issuing_unit=self.units["jinzhou"],
            # A hundred days with today a third of the way in: the latest demo task falls due
            # seven weeks from now, and a campaign's work falls due within it.
            starts_on=self.on - datetime.timedelta(days=30),
            ends_on=self.on + datetime.timedelta(days=70),
            yellow_working_days=YELLOW_WORKING_DAYS,
            description=(
                "锦州市脱贫攻坚领导小组部署，落实“八个责任”，开展精准脱贫“百日攻坚行动”。"
                "（演示数据：沿用2018年的名称和数字，日期按今天前后重新安排。）"
            ),
        )
        self.responsibilities = {
            code: Responsibility.objects.create(
                campaign=self.campaign, code=code, name=name, holder=holder, description=text, order=n
            )
            for n, (code, name, holder, text) in enumerate(RESPONSIBILITIES, start=1)
        }
        return self.campaign

    def issue(self, number: str, title: str, lead_unit: str, due: datetime.date, **extra) -> Task:
        """A task issued by the HQ's commander, as the leading group issues them."""
        extra.setdefault("assign", True)
        for key in ("responsible_units", "cooperating_units"):
            if key in extra:
                extra[key] = [self.units[slug] for slug in extra[key]]
        for key in ("lead_leader", "responsible_person"):
            if key in extra:
                extra[key] = self.people[extra[key]]
        if "responsibility" in extra:
            extra["responsibility"] = self.responsibilities[extra["responsibility"]]
        return task_create(
            actor=self.people["jz_mayor"],
            campaign=self.campaign,
            number=number,
            title=title,
            issuing_unit=self.units["zhihuibu"],
            lead_unit=self.units[lead_unit],
            due_date=due,
            **extra,
        )

    def act(self, task: Task, username: str, *names: str, comment: str = "") -> Task:
        for name in names:
            task = task_transition(task_id=task.pk, actor=self.people[username], name=name, comment=comment)
        return task

    def report(self, task: Task, username: str, text: str, figures: dict | None = None) -> None:
        progress_report_create(task_id=task.pk, actor=self.people[username], text=text, figures=figures)

    def split(self, task: Task, username: str, shares: list[tuple[str, str, int, int]]) -> list[Task]:
        """Split a one-indicator target: (unit slug, title, share, due in working days)."""
        indicator = task.indicators.get()
        return task_decompose(
            task_id=task.pk,
            actor=self.people[username],
            children=[
                ChildSpec(
                    title=title,
                    lead_unit=self.units[slug],
                    due_date=self.workday(due),
                    responsible_person=self.people[f"{slug}_head"],
                    targets={indicator.pk: Decimal(share)},
                )
                for slug, title, share, due in shares
            ],
        )

    def leaf_value(self, task: Task, username: str, text: str, value: int) -> None:
        self.report(task, username, text, {task.indicators.get().pk: Decimal(value)})

    def user_rows(self) -> list[DemoUser]:
        posts: dict[int, list[tuple[str, str]]] = {}
        for user_id, unit, role in Membership.objects.order_by("unit__path", "pk").values_list(
            "user_id", "unit__name", "role"
        ):
            posts.setdefault(user_id, []).append((unit, str(Role(role).label)))
        tokens = dict(ApiToken.objects.values_list("user_id", "key"))
        return [
            DemoUser(user.username, user.full_name, user.title, posts.get(user.pk, []), tokens[user.pk])
            for user in self.people.values()
        ]
