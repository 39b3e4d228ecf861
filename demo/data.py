"""The demo's people, units and responsibilities, drawn from seed 002: Jinzhou's
精准脱贫"百日攻坚行动" of 2018.

Township and village names are plausible, not a census; every person is fictional.

The speech names the "eight responsibilities" 八个责任 without listing them; the catalogue
below is reconstructed from what it assigns: counties the primary responsibility,
townships and villages the concrete one, poverty offices coordination, member
departments their sectors, housing, health and finance their named duties, and the
discipline commission supervision.
"""

from collections.abc import Iterator
from itertools import count

from responsibility.models import UnitKind

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


def person_names() -> Iterator[str]:
    # Surname and given name advance at different rates (7 is prime to the number of given
    # names), so names repeat only after lcm(len(SURNAMES), len(GIVEN_NAMES)) people.
    for n in count():
        yield SURNAMES[n % len(SURNAMES)] + GIVEN_NAMES[(n * 7) % len(GIVEN_NAMES)]
