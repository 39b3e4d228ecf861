"""The campaign's work: what the city's HQ issued in the 100-day campaign and how far each
piece has got, played through the services as the people concerned would.

The campaign keeps its 2018 name, figures and wording (seed 002: 950 + 938 D-grade
houses, the six 一率五落实 veto indicators, the exit procedure by 30 November, micro-credit
of only 2.14 million yuan, the 回头看 findings), but its dates are moved to run around
today, from 30 days ago to 70 days ahead, so that the lists show every traffic light:
red (overdue), yellow (due within the campaign's ``yellow_working_days``) and green. The
exit procedure is planned back from this year's 30 November when that date lies between
today and the campaign's end, otherwise from twenty working days ahead.
"""

import datetime
from decimal import Decimal

from bulletins.models import Notice, NoticeUrgency
from bulletins.notice_services import notice_issue
from tasks.lateness import start_of_day
from tasks.models import (
    Obligation,
    ObligationKind,
    ReportSchedule,
    SourceKind,
    Task,
    TaskKind,
    TaskScope,
    TaskSource,
)
from tasks.obligations import next_obligation_refresh
from tasks.schedules import due_dates, schedule_label
from tasks.services import (
    ChildSpec,
    IndicatorSpec,
    StepSpec,
    extension_decide,
    extension_request_create,
    procedure_step_complete,
    report_schedule_set,
    source_create,
    task_decompose,
    task_recheck_record,
)
from tasks.workdays import plan_backwards

from .builder import Builder
from .data import COUNTIES

# The meeting that decided the campaign (seed 002) and the leader's 批示 on the central
# assessment's findings (seed 003), registered by the city's office as their sources; and
# the inspections whose findings are the rectification items.
SOURCES = {
    "meeting": {
        "kind": SourceKind.MEETING,
        "title": "市脱贫攻坚领导小组第九次会议暨落实“八个责任”开展精准脱贫“百日攻坚行动”推进会议定事项",
        "document_number": "锦脱贫组纪〔2018〕9号",
        "issued_by": "锦州市脱贫攻坚领导小组",
        "original_text": (
            "实现今年所有建档立卡中D级危房要清底的目标，这是硬指标。各县（市）党委政府和住建部门要"
            "倒排工期，抓紧施工，保证质量，紧盯完工率、入住率，确保完成今年的危房改建改造清底任务。"
        ),
        "days_before": 30,
    },
    "instruction": {
        "kind": SourceKind.INSTRUCTION,
        "title": "关于中央考核和中省第三方评估反馈问题整改的批示",
        "document_number": "锦市领导批示〔2018〕21号",
        "issued_by": "市脱贫攻坚指挥部",
        "original_text": (
            "从中省考核和评估反馈情况看，全国全省的共性问题我们都有，特别是在精准识别、精准帮扶、精准退出"
            "等方面，仍然有很多“屡改屡犯”的老问题，各级各部门务必要引起高度重视，把脱贫攻坚问题整改作为"
            "一项严肃的政治任务，扎扎实实抓好整改。"
        ),
        "days_before": 25,
    },
    "lookback": {"kind": SourceKind.INSPECTION, "title": "脱贫质量“回头看”", "days_before": 20},
    "register_lookback": {"kind": SourceKind.INSPECTION, "title": "建档立卡“回头看”", "days_before": 20},
    "spot_check": {"kind": SourceKind.INSPECTION, "title": "抽查暗访", "days_before": 10},
    "relocation_lookback": {
        "kind": SourceKind.INSPECTION,
        "title": "易地扶贫搬迁“回头看”",
        "days_before": 30,
    },
}


def demo_source(builder: Builder, key: str) -> TaskSource:
    """The source ``key`` of ``SOURCES``, registered by the city's office once."""
    registered = builder.sources
    if key not in registered:
        fields = dict(SOURCES[key])
        registered[key] = source_create(
            actor=builder.people["ducha_chief"],
            registered_by=builder.units["ducha"],
            document_date=builder.on - datetime.timedelta(days=fields.pop("days_before")),
            **fields,
        )
    return registered[key]


def build_housing(builder: Builder) -> None:
    city = builder.issue(
        "1",
        "农村D级危房改造清底",
        "zhujian",
        builder.workday(18),
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
        source=demo_source(builder, "meeting"),
    )
    builder.act(city, "zhujian_head", "accept")
    yi, heishan = builder.split(
        city,
        "zhujian_head",
        [("yi", "义县D级危房改造", 950, 15), ("heishan", "黑山县D级危房改造", 938, 15)],
    )
    builder.act(yi, "yi_head", "accept")
    builder.act(heishan, "heishan_head", "accept")
    qilihe, dizangsi, toudaohe = builder.split(
        yi,
        "yi_head",
        [
            ("qilihe", "七里河镇D级危房改造", 400, 8),
            ("dizangsi", "地藏寺满族乡D级危房改造", 300, 3),
            ("toudaohe", "头道河镇D级危房改造", 250, 12),
        ],
    )
    fangshan, baichangmen, badaohao = builder.split(
        heishan,
        "heishan_head",
        [
            ("fangshan", "芳山镇D级危房改造", 380, -2),
            ("baichangmen", "白厂门镇D级危房改造", 320, 8),
            ("badaohao", "八道壕镇D级危房改造", 238, 12),
        ],
    )

    builder.act(qilihe, "qilihe_head", "accept")
    builder.leaf_value(qilihe, "qilihe_head", "400户全部完工，已全部入住。", 400)
    builder.act(qilihe, "qilihe_head", "submit", comment="400户改造任务全部完成，申请验收销号。")
    builder.act(qilihe, "yi_head", "close")

    # 地藏寺 splits its share down to the villages, which report themselves.
    builder.act(dizangsi, "dizangsi_head", "accept")
    village_a, village_b = builder.split(
        dizangsi,
        "dizangsi_head",
        [("dizangsicun", "地藏寺村D级危房改造", 180, 2), ("dawopu", "大窝铺村D级危房改造", 120, 2)],
    )
    builder.act(village_a, "dizangsicun_head", "accept")
    builder.leaf_value(village_a, "dizangsicun_head", "已完工130户，其余50户正在封顶。", 130)
    builder.act(village_b, "dawopu_head", "accept")
    builder.leaf_value(village_b, "dawopu_head", "已完工80户，冬季施工前需抢工期。", 80)

    builder.act(toudaohe, "toudaohe_head", "accept")
    builder.leaf_value(toudaohe, "toudaohe_head", "已完工180户。", 180)

    builder.act(fangshan, "fangshan_head", "accept")
    builder.leaf_value(fangshan, "fangshan_head", "已完工290户，90户因施工队伍不足滞后。", 290)

    builder.act(baichangmen, "baichangmen_head", "accept")
    builder.leaf_value(baichangmen, "baichangmen_head", "320户全部完工，入住率100%。", 320)
    builder.act(baichangmen, "baichangmen_head", "submit", comment="全部完工，申请验收销号。")
    # 八道壕镇 has not yet signed for its share, handed down a week ago; 白厂门镇 submitted
    # its share in time, and 黑山县 has not verified it within its limit.
    owed_since(badaohao, ObligationKind.SIGN_FOR, handed=builder.workday(-5), due=builder.workday(-2))
    owed_since(baichangmen, ObligationKind.VERIFY, handed=builder.workday(-7), due=builder.workday(-2))


def build_exit_indicators(builder: Builder) -> None:
    task = builder.issue(
        "2",
        "义县省级贫困县退出“一率五落实”指标",
        "yi",
        builder.workday(25),
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
    builder.act(task, "yi_staff", "accept")
    values = [
        Decimal("1.6"),
        Decimal("96.4"),
        Decimal(100),
        Decimal(100),
        Decimal("97.5"),
        Decimal("98.6"),
    ]
    figures = {i.pk: v for i, v in zip(task.indicators.order_by("pk"), values, strict=True)}
    builder.report(task, "yi_staff", "住房安全和通村路两项尚未达标，正在倒排工期推进。", figures)


def exit_deadline(builder: Builder) -> datetime.date:
    november_30 = datetime.date(builder.on.year, 11, 30)
    if builder.on <= november_30 <= builder.campaign.ends_on:
        return november_30
    return builder.workday(20)


def build_exit_procedure(builder: Builder) -> None:
    deadline = exit_deadline(builder)
    names = ["入户核查", "民主评议", "两公示一公告", "销号并录入动态调整数据"]
    dates = plan_backwards(deadline, [10, 5, 10, 3])
    task = builder.issue(
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
    builder.act(task, "fupin_head", "accept")
    counties = task_decompose(
        task_id=task.pk,
        actor=builder.people["fupin_head"],
        children=[
            ChildSpec(
                title=f"{name}贫困人口、贫困村退出程序",
                lead_unit=builder.units[slug],
                due_date=dates[-1],
                responsible_person=builder.people[f"{slug}_secretary"],
            )
            for slug, name, *_ in COUNTIES
        ],
    )
    for child, (slug, *_), done in zip(counties, COUNTIES, [2, 1, 0, 0], strict=True):
        if slug == "beizhen":
            continue  # not yet signed for
        builder.act(child, f"{slug}_staff", "accept")
        for step in child.steps.order_by("order")[:done]:
            procedure_step_complete(task_id=child.pk, step_id=step.pk, actor=builder.people[f"{slug}_staff"])


def build_department_tasks(builder: Builder) -> None:
    health = builder.issue(
        "4",
        "落实“三个一批”救治行动和“六个一工程”",
        "weiji",
        builder.workday(20),
        cooperating_units=["yiguan"],
        lead_leader="vm_health",
        responsible_person="weiji_head",
        responsibility="R6",
        description="对贫困人口精准医疗识别、全面筛查，实现住院治疗“零负担”，基本实现大病不出县。",
    )
    builder.act(health, "weiji_staff", "accept")
    builder.report(health, "weiji_staff", "已收治建档立卡贫困人口5011人，定点医疗机构已全部明确。")

    credit = builder.issue(
        "5",
        "扶贫小额信贷投放",
        "jinrong",
        builder.workday(-5),
        responsible_units=["yi", "heishan", "linghai", "beizhen"],
        lead_leader="vm_poverty",
        responsible_person="jinrong_head",
        responsibility="R7",
        description="协调金融机构精准对接，用好用活扶贫小额贷款，扭转全省排名靠后的局面。",
    )
    builder.act(credit, "jinrong_staff", "accept")
    builder.report(credit, "jinrong_staff", "全市小额信贷仅放出214万元，排名全省靠后。")

    training = builder.issue(
        "6",
        "贫困劳动力技能培训和劳务输出",
        "renshe",
        builder.workday(2),
        cooperating_units=["shangwu"],
        lead_leader="vm_poverty",
        responsible_person="renshe_head",
        responsibility="R4",
        description="组织有劳动能力的贫困群众技能培训，搭建企业用工平台，开展劳务输出。",
    )
    builder.act(training, "renshe_staff", "accept")
    builder.report(training, "renshe_staff", "已举办培训班12期，培训贫困劳动力630人次。")

    graduates = builder.issue(
        "7",
        "建档立卡贫困家庭未就业大学生全部就业",
        "jiaoyu",
        builder.workday(3),
        cooperating_units=["renshe"],
        lead_leader="vm_health",
        responsible_person="jiaoyu_head",
        responsibility="R4",
    )
    builder.act(graduates, "jiaoyu_staff", "accept")
    extension_request_create(
        task_id=graduates.pk,
        actor=builder.people["jiaoyu_staff"],
        requested_due_date=builder.workday(15),
        reason="部分毕业生在外地求职，需待春节前返乡后逐一对接用人单位。",
    )

    guarantee = builder.issue(
        "8",
        "农村低保与扶贫开发两项制度衔接兜底",
        "minzheng",
        builder.workday(-4),
        lead_leader="vm_poverty",
        responsible_person="minzheng_head",
        responsibility="R4",
    )
    builder.act(guarantee, "minzheng_staff", "accept")
    extension = extension_request_create(
        task_id=guarantee.pk,
        actor=builder.people["minzheng_staff"],
        requested_due_date=builder.workday(12),
        reason="回头看新识别1240人，需逐户核查低保资格。",
    )
    extension_decide(
        extension_id=extension.pk,
        actor=builder.people["jz_mayor"],
        approve=True,
        comment="同意，务必按期完成。",
    )

    industry = builder.issue(
        "9",
        "谋划明年产业扶贫项目库",
        "nongwei",
        builder.workday(25),
        lead_leader="vm_poverty",
        responsible_person="nongwei_head",
        responsibility="R4",
    )
    builder.act(industry, "nongwei_staff", "accept")
    builder.act(industry, "jz_mayor", "suspend", comment="待省扶贫办下达明年项目申报通知后再行启动。")

    discipline = builder.issue(
        "10",
        "扶贫领域作风建设和监督检查",
        "jiwei",
        builder.workday(30),
        lead_leader="vm_poverty",
        responsible_person="jiwei_head",
        responsibility="R8",
        description="坚决防止数字脱贫、虚假脱贫，对发现的问题责令立行立改。",
    )
    builder.act(discipline, "jiwei_staff", "accept")

    builder.issue(
        "11",
        "义县贫困县退出摘帽工作方案",
        "yi",
        builder.workday(35),
        assign=False,
        lead_leader="vm_poverty",
        responsibility="R1",
    )
    duplicate = builder.issue(
        "12",
        "各乡镇每周报送贫困户收入台账",
        "fupin",
        builder.workday(10),
        responsibility="R3",
    )
    builder.act(duplicate, "jz_mayor", "cancel", comment="与扶贫办月报重复，撤销以减轻基层填表报数负担。")


def build_rectifications(builder: Builder) -> None:
    def item(number: str, title: str, county: str, due: int, source: str) -> Task:
        return builder.issue(
            number,
            title,
            county,
            builder.workday(due),
            kind=TaskKind.RECTIFICATION,
            source=demo_source(builder, source),
            description="县（市）党委、政府主要负责同志为第一责任人。",
            lead_leader="vm_poverty",
            responsible_person=f"{county}_secretary",
            responsibility="R1",
        )

    files = item("Z1", "贫困户脱贫档案填写不完整、不规范", "yi", -10, "lookback")
    builder.act(files, "yi_staff", "accept")
    builder.report(files, "yi_staff", "已逐户补齐七里河镇、头道河镇贫困户档案。")
    builder.act(files, "yi_staff", "submit", comment="整改完毕，申请对账销号。")
    builder.act(files, "jz_mayor", "close")
    # 回头看 falls due 40 working days after 销号; the demo, built in one moment, dates this
    # one as if closed weeks ago, so that the office's re-check is due in two working days.
    recheck_due_on(files, builder.workday(2))
    walls = item("Z2", "贫困户信息“三上墙”不到位", "heishan", -3, "lookback")
    builder.act(walls, "heishan_staff", "accept")
    builder.report(walls, "heishan_staff", "已完成全县贫困户信息上墙。")
    builder.act(walls, "heishan_staff", "submit", comment="整改完毕，申请对账销号。")
    builder.act(walls, "jz_mayor", "close")
    builder.act(
        walls,
        "ducha_chief",
        "reopen",
        comment="抽查暗访发现芳山镇新立屯村仍有12户信息未上墙，屡改屡犯，重新整改。",
    )

    income = item("Z3", "贫困户收入漏统、错统", "linghai", -6, "instruction")
    builder.act(income, "linghai_staff", "accept")
    builder.report(income, "linghai_staff", "已核查石山镇，翠岩镇尚在核查。")

    members = item("Z4", "将户口簿上已分家单过的子女算作建档立卡人口", "beizhen", 4, "register_lookback")
    builder.act(members, "beizhen_staff", "accept")
    builder.act(members, "beizhen_staff", "submit", comment="已删除不符合条件人口并备案。")

    # Issued, not yet signed for.
    unsigned = item("Z5", "危房改造以次充好、偷工减料", "yi", 9, "spot_check")

    # Closed, then found again at the office's re-check: reopened with a new date.
    moved = item("Z6", "易地扶贫搬迁户旧房未按期拆除复垦", "linghai", -8, "relocation_lookback")
    builder.act(moved, "linghai_staff", "accept")
    builder.act(moved, "linghai_staff", "submit", comment="旧房已全部拆除，申请对账销号。")
    builder.act(moved, "jz_mayor", "close")
    task_recheck_record(
        task_id=moved.pk,
        actor=builder.people["jz_mayor"],
        result="failed",
        notes="回头看复查发现大有乡3户旧房仍未拆除、宅基地未复垦，复查未通过，重新整改。",
        due_date=builder.workday(15),
    )
    build_notices(builder, listed=income, unsigned=unsigned)


def build_notices(builder: Builder, *, listed: Task, unsigned: Task) -> None:
    """The city office's 督办通知单: a 挂牌 notice on the late income item, its 回执 due in
    three working days; a 提示 notice on the unsigned item whose 回执 was due yesterday and
    is chased (dated back as ``owed_since`` dates the rest)."""
    office = builder.people["ducha_chief"]
    notice_issue(
        actor=office,
        task_id=listed.pk,
        urgency=NoticeUrgency.LISTED,
        request="凌海市贫困户收入漏统、错统问题整改逾期，挂牌督办。请于回执时限前将翠岩镇核查结果和整改措施书面报市委督查室。",
        reply_by=builder.workday(3),
    )
    reminder = notice_issue(
        actor=office,
        task_id=unsigned.pk,
        urgency=NoticeUrgency.PROMPT,
        request="请义县立即签收危房改造质量问题整改事项，明确责任人和整改时限，并报送回执。",
        reply_by=builder.workday(1),
    )
    missed = builder.workday(-1)
    Notice.objects.filter(pk=reminder.pk).update(reply_by=missed, issued_on=builder.workday(-4))
    Obligation.objects.filter(pk=reminder.obligation_id).update(due_date=missed)
    next_obligation_refresh(Task.objects.get(pk=unsigned.pk))


def recheck_due_on(task: Task, due: datetime.date) -> None:
    """Date a closed item's pending re-check ``due`` (see ``owed_since``)."""
    pending = Obligation.objects.filter(task=task, kind=ObligationKind.RECHECK, met_at__isnull=True)
    pending.update(due_date=due)
    next_obligation_refresh(Task.objects.get(pk=task.pk))


def owed_since(task: Task, kind: str, *, handed: datetime.date, due: datetime.date) -> None:
    """Date an obligation the demo's services opened today as if the item had reached its
    owner on ``handed``: the demo is built in one moment, the office's work took weeks."""
    moment = start_of_day(handed) + datetime.timedelta(hours=9)
    moved = (
        {"assigned_at": moment}
        if kind == ObligationKind.SIGN_FOR
        else {"submitted_at": moment, "submitted_on": handed}
    )
    Task.objects.filter(pk=task.pk).update(**moved)
    TaskScope.objects.filter(task_id=task.pk).update(
        **{k: v for k, v in moved.items() if k == "submitted_on"}
    )
    Obligation.objects.filter(task=task, kind=kind, met_at__isnull=True).update(due_date=due)
    next_obligation_refresh(Task.objects.get(pk=task.pk))


def build_report_schedules(builder: Builder) -> None:
    """Tasks reported on a cycle (按期反馈): "各牵头单位要于每月28日前将各项工作任务进展情况报送"
    (a city plan's words). The poverty office's monthly report is ongoing work (长期坚持) and
    missed its last period; the housing committee's weekly figures are owed this week."""
    monthly = builder.issue(
        "13",
        "汇总各牵头单位脱贫攻坚工作进展",
        "fupin",
        builder.campaign.ends_on,
        lead_leader="vm_poverty",
        responsible_person="fupin_head",
        responsibility="R3",
        description="各牵头单位要于每月28日前将各项工作任务进展情况报送市扶贫办，由市扶贫办汇总后报指挥部。",
    )
    # Work without a final date: only the import sets it today, so the demo writes it.
    Task.objects.filter(pk=monthly.pk).update(ongoing=True, deadline_text="长期坚持，每月28日前报送")
    TaskScope.objects.filter(task_id=monthly.pk).update(ongoing=True)
    builder.act(monthly, "fupin_staff", "accept")
    schedule = report_schedule_set(
        task_id=monthly.pk,
        actor=builder.people["jz_mayor"],
        cadence="monthly",
        day=28,
        wording="每月28日前报送",
    )
    missed_period(monthly, schedule, builder.on)

    weekly = builder.issue(
        "14",
        "农村危房改造进度周报",
        "zhujian",
        builder.workday(40),
        lead_leader="vm_poverty",
        responsible_person="zhujian_head",
        responsibility="R2",
    )
    builder.act(weekly, "zhujian_staff", "accept")
    report_schedule_set(
        task_id=weekly.pk, actor=builder.people["jz_mayor"], cadence="weekly", day=5, wording="每周五前"
    )


def missed_period(task: Task, schedule: ReportSchedule, on: datetime.date) -> None:
    """The period before today as if the schedule had been set a month ago and nobody
    reported: the demo is built in one moment, the office's cycle ran for weeks."""
    past = due_dates(schedule, on - datetime.timedelta(days=45), on - datetime.timedelta(days=1))
    if not past:
        return
    Obligation.objects.create(
        task=task,
        kind=ObligationKind.REPORT,
        key=past[-1].isoformat(),
        label=schedule_label(schedule),
        owed_by_id=task.lead_unit_id,
        due_date=past[-1],
    )
    next_obligation_refresh(Task.objects.get(pk=task.pk))


def build_work(builder: Builder) -> None:
    """Issue every task of the builder's campaign and bring each to its state of today."""
    build_housing(builder)
    build_exit_indicators(builder)
    build_exit_procedure(builder)
    build_department_tasks(builder)
    build_report_schedules(builder)
    build_rectifications(builder)
