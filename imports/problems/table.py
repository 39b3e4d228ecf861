"""A problem list's columns (问题清单 / 整改台账), and every heading offices give them.

Lists come from an inspection (暗访), an assessment (第三方评估) or a look-back review
(回头看), one problem a row: what is wrong, where, who fixes it, how and by when, and where
the problem came from.
"""

from imports.table import TableShape

COLUMNS = (
    "number",
    "problem",
    "location",
    "responsible_units",
    "responsible_person",
    "lead_leader",
    "measures",
    "deadline",
    "source",
    "remarks",
)
LABELS = {
    "number": "序号",
    "problem": "问题",
    "location": "所在单位",
    "responsible_units": "责任单位",
    "responsible_person": "责任人",
    "lead_leader": "责任领导",
    "measures": "整改措施",
    "deadline": "整改时限",
    "source": "来源",
    "remarks": "备注",
}
VARIANTS = {
    "number": ("序号", "编号", "问题编号"),
    "problem": ("问题", "存在问题", "问题描述", "问题表现", "具体问题", "主要问题", "问题清单", "发现问题"),
    "location": (
        "所在单位",
        "所在地",
        "所在地区",
        "问题所在单位",
        "所在县(市)区",
        "所在乡镇",
        "地区",
        "县(市)区",
    ),
    "responsible_units": ("责任单位", "整改责任单位", "整改单位", "责任部门", "牵头单位"),
    # The one person who answers for the item in its (lead) responsible unit.
    "responsible_person": ("责任人", "具体责任人", "整改责任人", "直接责任人", "责任人员", "单位责任人"),
    # The leader over it (a deputy county head), who is not a member of the unit that
    # rectifies: the item's 牵头领导, a leader of the issuing level, as in a task table.
    "lead_leader": ("责任领导", "牵头领导", "分管领导", "包保领导", "领导责任人"),
    "measures": ("整改措施", "整改方案", "整改要求", "整改目标", "整改措施和目标"),
    "deadline": ("整改时限", "完成时限", "整改期限", "整改完成时限", "完成时间", "时限"),
    "source": ("来源", "问题来源", "发现途径", "问题出处"),
    "remarks": ("备注",),
}
PROBLEM_LIST = TableShape(columns=COLUMNS, labels=LABELS, variants=VARIANTS, key="problem")
