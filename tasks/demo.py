"""The demo data set: Jinzhou's 精准脱贫"百日攻坚行动" of 2018, built through the services.

Everything is written by the same services the API uses, so the demo's history, rules
and roll-ups are the real ones: a task the services would refuse cannot appear here.

The campaign keeps its 2018 name, figures and wording (seed 002: 950 + 938 D-grade
houses, the six 一率五落实 veto indicators, the exit procedure by 30 November, micro-credit
of only 2.14 million yuan, the 回头看 findings), but its dates are moved to run around
today, from 60 days ago to 40 days ahead, so that the lists show every traffic light:
red (overdue), yellow (due within the campaign's ``yellow_working_days``) and green. The
exit procedure is planned back from this year's 30 November when that date lies between
today and the campaign's end, otherwise from twenty working days ahead. Township and
village names are plausible, not a census; every person is fictional.

The speech names the "eight responsibilities" 八个责任 without listing them; the catalogue
below is reconstructed from what it assigns: counties the primary responsibility,
townships and villages the concrete one, poverty offices coordination, member
departments their sectors, housing, health and finance their named duties, and the
discipline commission supervision.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count

from django.contrib.auth.hashers import make_password
from django.db import transaction

from responsibility.models import ApiToken, Membership, Responsibility, Role, Unit, UnitKind, User
from responsibility.selectors import access_scope
from responsibility.services import membership_create, unit_create, user_create

from .models import Campaign, Task, TaskKind
from .selectors import today
from .services import (
    ChildSpec,
    IndicatorSpec,
    StepSpec,
    extension_decide,
    extension_request_create,
    procedure_step_complete,
    progress_report_create,
    task_create,
    task_decompose,
    task_transition,
)
from .workdays import calendar_for, plan_backwards

DEMO_PASSWORD = "duban-demo"
YELLOW_WORKING_DAYS = 5
EMAIL_DOMAIN = "jinzhou.example"

# slug, name, aliases, title of the head
DEPARTMENTS = [
    ("zhujian", "市住建委", ["住建委", "市住建局", "住建局", "锦州市住房和城乡建设委员会"], "主任"),
    ("weiji", "市卫计委", ["卫计委", "市卫健委", "锦州市卫生和计划生育委员会"], "主任"),
    ("yiguan", "市医管局", ["医管局", "锦州市医疗卫生服务管理局"], "局长"),
    ("nongwei", "市农委", ["农委", "市农业农村局", "锦州市农村经济委员会"], "主任"),
    ("minzheng", "市民政局", ["民政局", "锦州市民政局"], "局长"),
    ("renshe", "市人社局", ["人社局", "锦州市人力资源和社会保障局"], "局长"),
    ("shangwu", "市商务局", ["商务局", "锦州市商务局"], "局长"),
    ("jiaoyu", "市教育局", ["教育局", "锦州市教育局"], "局长"),
    ("jinrong", "市金融办", ["金融办", "锦州市金融工作办公室"], "主任"),
    ("fupin", "市扶贫办", ["扶贫办", "锦州市扶贫开发办公室"], "主任"),
    ("jiwei", "市纪委监委", ["纪委监委", "市纪委", "市监委"], "副书记"),
]

# slug, name, kind, supervision office, head's title, [(slug, township, [(slug, village)])]
COUNTIES = [
    (
        "yi",
        "义县",
        UnitKind.COUNTY,
        "县委督查室",
        "县长",
        [
            ("qilihe", "七里河镇", [("dayushubao", "大榆树堡村"), ("wangjiatun", "王家屯村")]),
            ("dizangsi", "地藏寺满族乡", [("dizangsicun", "地藏寺村"), ("dawopu", "大窝铺村")]),
            ("toudaohe", "头道河镇", [("xishan", "西山村"), ("shifobao", "石佛堡村"), ("nangou", "南沟村")]),
        ],
    ),
    (
        "heishan",
        "黑山县",
        UnitKind.COUNTY,
        "县委督查室",
        "县长",
        [
            ("fangshan", "芳山镇", [("xinlitun", "新立屯村"), ("fangshancun", "芳山村")]),
            ("baichangmen", "白厂门镇", [("sanjiazi", "三家子村"), ("lijiawopu", "李家窝堡村")]),
            ("badaohao", "八道壕镇", [("yaotun", "腰屯村"), ("beishan", "北山村")]),
        ],
    ),
    (
        "linghai",
        "凌海市",
        UnitKind.COUNTY,
        "凌海市委督查室",
        "市长",
        [
            ("shishan", "石山镇", [("hongqi", "红旗村"), ("zhaojiatun", "赵家屯村")]),
            ("cuiyan", "翠岩镇", [("donggou", "东沟村"), ("qiangang", "前岗村")]),
        ],
    ),
    (
        "beizhen",
        "北镇市",
        UnitKind.COUNTY,
        "北镇市委督查室",
        "市长",
        [
            ("goubangzi", "沟帮子镇", [("xinglong", "兴隆村"), ("qianjin", "前进村")]),
            ("lvyang", "闾阳镇", [("taiping", "太平村"), ("liujia", "刘家村"), ("gaojia", "高家村")]),
        ],
    ),
]

# The "eight responsibilities": code, name, holder, description.
RESPONSIBILITIES = [
    (
        "R1",
        "主体责任",
        "各县（市）党委、政府",
        "承担脱贫攻坚主体责任，重点做好进度安排、项目落地、资金使用、人力调配、推进实施等各项工作。",
    ),
    (
        "R2",
        "具体责任",
        "乡级党委、政府和村两委",
        "对本地区脱贫攻坚工作承担具体责任，抓实、抓细、抓具体，确保各项政策措施到户、到人。",
    ),
    ("R3", "统筹协调责任", "各级扶贫办", "加强统筹协调，充分发挥办公室作用。"),
    (
        "R4",
        "行业扶贫责任",
        "脱贫攻坚领导小组成员单位",
        "明确专门机构，指定专人负责，制定完善配套政策措施，细化具体举措、分解到户、落实到人。",
    ),
    (
        "R5",
        "住房保障责任",
        "住建部门",
        "住建部门是住房保障的责任主体，完成D级危房改造清底任务，紧盯完工率、入住率。",
    ),
    (
        "R6",
        "健康扶贫责任",
        "市卫计委、市医管局",
        "落实“三个一批”救治行动和“六个一工程”，解决因病致贫、因病返贫问题。",
    ),
    (
        "R7",
        "金融扶贫责任",
        "市金融办、各金融机构",
        "用好用活扶贫小额信贷，引导金融机构精准对接。",
    ),
    (
        "R8",
        "监督执纪责任",
        "市纪委监委",
        "深入各县（市）和相关部门开展监督检查，对发现的问题责令坚决纠正、立行立改。",
    ),
]

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐"
    "冯董曹袁邓许傅沈曾彭吕苏卢蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹"
)
GIVEN_NAMES = (
    "建国 志刚 玉兰 淑珍 海涛 春明 立新 秀英 德胜 桂芝 振华 国庆 丽娟 长青 晓东 红梅 宝山 文静 永利 凤霞 "
    "树林 金凤 庆丰 亚平 忠诚 雪梅 福生 慧敏 广军 春燕 铁军 艳华 明远 秀云 少华 丽萍 景山 桂荣 胜利 晓燕"
).split()


def _names() -> Iterator[str]:
    # Surname and given name advance at different rates (7 is prime to the number of given
    # names), so names repeat only after lcm(len(SURNAMES), len(GIVEN_NAMES)) people.
    for n in count():
        yield SURNAMES[n % len(SURNAMES)] + GIVEN_NAMES[(n * 7) % len(GIVEN_NAMES)]


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


def demo_data_exists() -> bool:
    """Whether the database holds anything the demo could clash with or be confused with."""
    return Unit.objects.exists() or User.objects.exists() or Campaign.objects.exists()


@dataclass
class _Builder:
    on: datetime.date
    password: str
    units: dict[str, Unit] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    names: Iterator[str] = field(default_factory=_names)
    campaign: Campaign | None = None
    responsibilities: dict[str, Responsibility] = field(default_factory=dict)

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

    def build_housing(self) -> None:
        city = self.issue(
            "1",
            "农村D级危房改造清底",
            "zhujian",
            self.workday(18),
            kind=TaskKind.TARGET,
            description=(
                "省扶贫系统年初下达资金950户、省住建厅8月初下达资金938户，共1888户，"
                "是省政府对我市的考核任务。倒排工期，抓紧施工，保证质量，紧盯完工率、入住率。"
                "（演示分解：义县950户、黑山县938户。）"
            ),
            responsible_units=["yi", "heishan"],
            cooperating_units=["fupin"],
            lead_leader="vm_housing",
            responsible_person="zhujian_head",
            responsibility="R5",
            indicators=[IndicatorSpec(name="D级危房改造", target=Decimal(1888), unit_of_measure="户")],
        )
        self.act(city, "zhujian_head", "accept")
        yi, heishan = self.split(
            city,
            "zhujian_head",
            [("yi", "义县D级危房改造", 950, 15), ("heishan", "黑山县D级危房改造", 938, 15)],
        )
        self.act(yi, "yi_head", "accept")
        self.act(heishan, "heishan_head", "accept")
        qilihe, dizangsi, toudaohe = self.split(
            yi,
            "yi_head",
            [
                ("qilihe", "七里河镇D级危房改造", 400, 8),
                ("dizangsi", "地藏寺满族乡D级危房改造", 300, 3),
                ("toudaohe", "头道河镇D级危房改造", 250, 12),
            ],
        )
        fangshan, baichangmen, badaohao = self.split(
            heishan,
            "heishan_head",
            [
                ("fangshan", "芳山镇D级危房改造", 380, -2),
                ("baichangmen", "白厂门镇D级危房改造", 320, 8),
                ("badaohao", "八道壕镇D级危房改造", 238, 12),
            ],
        )

        self.act(qilihe, "qilihe_head", "accept")
        self.leaf_value(qilihe, "qilihe_head", "400户全部完工，已全部入住。", 400)
        self.act(qilihe, "qilihe_head", "submit", comment="400户改造任务全部完成，申请验收销号。")
        self.act(qilihe, "yi_head", "close")

        # 地藏寺 splits its share down to the villages, which report themselves.
        self.act(dizangsi, "dizangsi_head", "accept")
        village_a, village_b = self.split(
            dizangsi,
            "dizangsi_head",
            [("dizangsicun", "地藏寺村D级危房改造", 180, 2), ("dawopu", "大窝铺村D级危房改造", 120, 2)],
        )
        self.act(village_a, "dizangsicun_head", "accept")
        self.leaf_value(village_a, "dizangsicun_head", "已完工130户，其余50户正在封顶。", 130)
        self.act(village_b, "dawopu_head", "accept")
        self.leaf_value(village_b, "dawopu_head", "已完工80户，冬季施工前需抢工期。", 80)

        self.act(toudaohe, "toudaohe_head", "accept")
        self.leaf_value(toudaohe, "toudaohe_head", "已完工180户。", 180)

        self.act(fangshan, "fangshan_head", "accept")
        self.leaf_value(fangshan, "fangshan_head", "已完工290户，90户因施工队伍不足滞后。", 290)

        self.act(baichangmen, "baichangmen_head", "accept")
        self.leaf_value(baichangmen, "baichangmen_head", "320户全部完工，入住率100%。", 320)
        self.act(baichangmen, "baichangmen_head", "submit", comment="全部完工，申请验收销号。")
        # 八道壕镇 has not yet signed for its share.

    def build_exit_indicators(self) -> None:
        task = self.issue(
            "2",
            "义县省级贫困县退出“一率五落实”指标",
            "yi",
            self.workday(25),
            kind=TaskKind.TARGET,
            description=(
                "6项指标均为一票否决，一项不达标即不能退出。义县县委、县政府把贫困县退出作为首要政治任务。"
            ),
            lead_leader="vm_poverty",
            responsible_person="yi_secretary",
            responsibility="R1",
            cooperating_units=["fupin", "jiaoyu", "weiji", "zhujian"],
            indicators=[
                IndicatorSpec("综合贫困发生率", Decimal(2), "%", comparison="lte", veto=True),
                IndicatorSpec("住房安全有保障贫困户比例", Decimal(98), "%", veto=True),
                IndicatorSpec("教育扶贫普查建档和教育精准扶贫工程完成率", Decimal(100), "%", veto=True),
                IndicatorSpec("“三个一批”“六个一工程”健康扶贫措施到位率", Decimal(100), "%", veto=True),
                IndicatorSpec("沥青（水泥）路通行政村比例", Decimal(100), "%", veto=True),
                IndicatorSpec("基层综合性文化服务中心建设比例", Decimal(98), "%", veto=True),
            ],
        )
        self.act(task, "yi_staff", "accept")
        values = [
            Decimal("1.6"),
            Decimal("96.4"),
            Decimal(100),
            Decimal(100),
            Decimal("97.5"),
            Decimal("98.6"),
        ]
        figures = {i.pk: v for i, v in zip(task.indicators.order_by("pk"), values, strict=True)}
        self.report(task, "yi_staff", "住房安全和通村路两项尚未达标，正在倒排工期推进。", figures)

    def exit_deadline(self) -> datetime.date:
        november_30 = datetime.date(self.on.year, 11, 30)
        if self.on <= november_30 <= self.campaign.ends_on:
            return november_30
        return self.workday(20)

    def build_exit_procedure(self) -> None:
        deadline = self.exit_deadline()
        names = ["入户核查", "民主评议", "两公示一公告", "销号并录入动态调整数据"]
        dates = plan_backwards(deadline, [10, 5, 10, 3])
        task = self.issue(
            "3",
            "贫困人口、贫困村脱贫退出程序",
            "fupin",
            dates[-1],
            kind=TaskKind.PROCEDURE,
            description=(
                "按照省扶贫办文件要求，倒排工期，完成入户核查、民主评议、两公示一公告等退出程序，"
                "确保动态调整数据11月30日前准确录入。"
            ),
            responsible_units=["yi", "heishan", "linghai", "beizhen"],
            lead_leader="vm_poverty",
            responsible_person="fupin_head",
            responsibility="R3",
            steps=[StepSpec(name, due) for name, due in zip(names, dates, strict=True)],
        )
        self.act(task, "fupin_head", "accept")
        counties = task_decompose(
            task_id=task.pk,
            actor=self.people["fupin_head"],
            children=[
                ChildSpec(
                    title=f"{name}贫困人口、贫困村退出程序",
                    lead_unit=self.units[slug],
                    due_date=dates[-1],
                    responsible_person=self.people[f"{slug}_secretary"],
                )
                for slug, name, *_ in COUNTIES
            ],
        )
        for child, (slug, *_), done in zip(counties, COUNTIES, [2, 1, 0, 0], strict=True):
            if slug == "beizhen":
                continue  # not yet signed for
            self.act(child, f"{slug}_staff", "accept")
            for step in child.steps.order_by("order")[:done]:
                procedure_step_complete(step=step, actor=self.people[f"{slug}_staff"])

    def build_department_tasks(self) -> None:
        health = self.issue(
            "4",
            "落实“三个一批”救治行动和“六个一工程”",
            "weiji",
            self.workday(20),
            cooperating_units=["yiguan"],
            lead_leader="vm_health",
            responsible_person="weiji_head",
            responsibility="R6",
            description="对贫困人口精准医疗识别、全面筛查，实现住院治疗“零负担”，基本实现大病不出县。",
        )
        self.act(health, "weiji_staff", "accept")
        self.report(health, "weiji_staff", "已收治建档立卡贫困人口5011人，定点医疗机构已全部明确。")

        credit = self.issue(
            "5",
            "扶贫小额信贷投放",
            "jinrong",
            self.workday(-5),
            responsible_units=["yi", "heishan", "linghai", "beizhen"],
            lead_leader="vm_poverty",
            responsible_person="jinrong_head",
            responsibility="R7",
            description="协调金融机构精准对接，用好用活扶贫小额贷款，扭转全省排名靠后的局面。",
        )
        self.act(credit, "jinrong_staff", "accept")
        self.report(credit, "jinrong_staff", "全市小额信贷仅放出214万元，排名全省靠后。")

        training = self.issue(
            "6",
            "贫困劳动力技能培训和劳务输出",
            "renshe",
            self.workday(2),
            cooperating_units=["shangwu"],
            lead_leader="vm_poverty",
            responsible_person="renshe_head",
            responsibility="R4",
            description="组织有劳动能力的贫困群众技能培训，搭建企业用工平台，开展劳务输出。",
        )
        self.act(training, "renshe_staff", "accept")
        self.report(training, "renshe_staff", "已举办培训班12期，培训贫困劳动力630人次。")

        graduates = self.issue(
            "7",
            "建档立卡贫困家庭未就业大学生全部就业",
            "jiaoyu",
            self.workday(3),
            cooperating_units=["renshe"],
            lead_leader="vm_health",
            responsible_person="jiaoyu_head",
            responsibility="R4",
        )
        self.act(graduates, "jiaoyu_staff", "accept")
        extension_request_create(
            task_id=graduates.pk,
            actor=self.people["jiaoyu_staff"],
            requested_due_date=self.workday(15),
            reason="部分毕业生在外地求职，需待春节前返乡后逐一对接用人单位。",
        )

        guarantee = self.issue(
            "8",
            "农村低保与扶贫开发两项制度衔接兜底",
            "minzheng",
            self.workday(-4),
            lead_leader="vm_poverty",
            responsible_person="minzheng_head",
            responsibility="R4",
        )
        self.act(guarantee, "minzheng_staff", "accept")
        extension = extension_request_create(
            task_id=guarantee.pk,
            actor=self.people["minzheng_staff"],
            requested_due_date=self.workday(12),
            reason="回头看新识别1240人，需逐户核查低保资格。",
        )
        extension_decide(
            extension=extension, actor=self.people["jz_mayor"], approve=True, comment="同意，务必按期完成。"
        )

        industry = self.issue(
            "9",
            "谋划明年产业扶贫项目库",
            "nongwei",
            self.workday(25),
            lead_leader="vm_poverty",
            responsible_person="nongwei_head",
            responsibility="R4",
        )
        self.act(industry, "nongwei_staff", "accept")
        self.act(industry, "jz_mayor", "suspend", comment="待省扶贫办下达明年项目申报通知后再行启动。")

        discipline = self.issue(
            "10",
            "扶贫领域作风建设和监督检查",
            "jiwei",
            self.workday(30),
            lead_leader="vm_poverty",
            responsible_person="jiwei_head",
            responsibility="R8",
            description="坚决防止数字脱贫、虚假脱贫，对发现的问题责令立行立改。",
        )
        self.act(discipline, "jiwei_staff", "accept")

        self.issue(
            "11",
            "义县贫困县退出摘帽工作方案",
            "yi",
            self.workday(35),
            assign=False,
            lead_leader="vm_poverty",
            responsibility="R1",
        )
        duplicate = self.issue(
            "12",
            "各乡镇每周报送贫困户收入台账",
            "fupin",
            self.workday(10),
            responsibility="R3",
        )
        self.act(duplicate, "jz_mayor", "cancel", comment="与扶贫办月报重复，撤销以减轻基层填表报数负担。")

    def build_rectifications(self) -> None:
        def item(number: str, title: str, county: str, due: int, source: str) -> Task:
            return self.issue(
                number,
                title,
                county,
                self.workday(due),
                kind=TaskKind.RECTIFICATION,
                description=f"问题来源：{source}。县（市）党委、政府主要负责同志为第一责任人。",
                lead_leader="vm_poverty",
                responsible_person=f"{county}_secretary",
                responsibility="R1",
            )

        files = item("Z1", "贫困户脱贫档案填写不完整、不规范", "yi", -10, "脱贫质量“回头看”")
        self.act(files, "yi_staff", "accept")
        self.report(files, "yi_staff", "已逐户补齐七里河镇、头道河镇贫困户档案。")
        self.act(files, "yi_staff", "submit", comment="整改完毕，申请对账销号。")
        self.act(files, "jz_mayor", "close")

        walls = item("Z2", "贫困户信息“三上墙”不到位", "heishan", -3, "脱贫质量“回头看”")
        self.act(walls, "heishan_staff", "accept")
        self.report(walls, "heishan_staff", "已完成全县贫困户信息上墙。")
        self.act(walls, "heishan_staff", "submit", comment="整改完毕，申请对账销号。")
        self.act(walls, "jz_mayor", "close")
        self.act(
            walls,
            "ducha_chief",
            "reopen",
            comment="抽查暗访发现芳山镇新立屯村仍有12户信息未上墙，屡改屡犯，重新整改。",
        )

        income = item("Z3", "贫困户收入漏统、错统", "linghai", -6, "中省第三方评估")
        self.act(income, "linghai_staff", "accept")
        self.report(income, "linghai_staff", "已核查石山镇，翠岩镇尚在核查。")

        members = item("Z4", "将户口簿上已分家单过的子女算作建档立卡人口", "beizhen", 4, "建档立卡“回头看”")
        self.act(members, "beizhen_staff", "accept")
        self.act(members, "beizhen_staff", "submit", comment="已删除不符合条件人口并备案。")

        # Issued, not yet signed for.
        item("Z5", "危房改造以次充好、偷工减料", "yi", 9, "抽查暗访")

    def build(self) -> Demo:
        self.build_tree()
        self.build_people()
        self.set_passwords()
        self.issue_tokens()
        self.build_campaign()
        self.build_housing()
        self.build_exit_indicators()
        self.build_exit_procedure()
        self.build_department_tasks()
        self.build_rectifications()
        return Demo(campaign=self.campaign, users=self.user_rows(), password=self.password)

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


@transaction.atomic
def demo_load(*, password: str = DEMO_PASSWORD) -> Demo:
    """Build the whole demo in one transaction: either all of it is there or none.

    Dates are counted from ``tasks.selectors.today()``, the day the services use too. One
    access scope for the whole load, as for a request: the people act on a tree that is
    built before they do, and adding a membership clears the scope.
    """
    with access_scope():
        return _Builder(on=today(), password=password).build()
