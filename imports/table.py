"""The shape every source format is read into, whatever it looked like on disk."""

import re
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput
from imports.text import compact

COLUMNS = (
    "number",
    "task",
    "lead_leader",
    "lead_unit",
    "responsible_units",
    "cooperating_units",
    "deadline",
    "source",
    "remarks",
)

# The label a column is shown under in messages, and every heading it is recognised by.
COLUMN_LABELS = {
    "number": "序号",
    "task": "任务",
    "lead_leader": "牵头领导",
    "lead_unit": "牵头单位",
    "responsible_units": "责任单位",
    "cooperating_units": "配合单位",
    "deadline": "完成时限",
    "source": "来源",
    "remarks": "备注",
}
HEADER_VARIANTS = {
    "number": ("序号", "编号"),
    "task": ("任务", "任务内容", "工作任务", "重点任务", "主要任务"),
    "lead_leader": ("牵头领导", "责任领导"),
    "lead_unit": ("牵头单位", "牵头部门"),
    "responsible_units": ("责任单位", "责任部门"),
    "cooperating_units": ("配合单位", "协办单位", "配合部门"),
    "deadline": ("完成时限", "时间节点", "完成时间", "完成期限", "时限"),
    # Where the task comes from (立项来源): "市委常委会议定（2018年第5次）", "省委督查发现问题".
    "source": ("来源", "任务来源", "事项来源", "交办来源"),
    "remarks": ("备注",),
}
_TRAILING_NOTE = re.compile(r"\([^()]*\)$")


@dataclass(frozen=True)
class TableShape:
    """What a kind of table is made of: its columns in order, the label each is shown under
    in messages, every heading it is recognised by, and the column a header must have.

    The task table is one shape and the directory (通讯录) another; the readers find either
    one's header the same way, so both get the same notes and the same row and column errors."""

    columns: tuple[str, ...]
    labels: dict[str, str]
    variants: dict[str, tuple[str, ...]]
    key: str

    def header_column(self, text: str) -> str | None:
        """The canonical column a header cell names, or None.

        Whitespace (including line breaks inside a cell), a required-field star, a trailing
        colon and a trailing note in parentheses such as "完成时限（截止日期）" are ignored.
        """
        lookup = self._lookup
        key = compact(text).strip("*:")
        if key in lookup:
            return lookup[key]
        return lookup.get(_TRAILING_NOTE.sub("", key))

    @cached_property
    def _lookup(self) -> dict[str, str]:
        return {variant: column for column, variants in self.variants.items() for variant in variants}


TASK_TABLE = TableShape(columns=COLUMNS, labels=COLUMN_LABELS, variants=HEADER_VARIANTS, key="task")


@dataclass
class RowError:
    row: int
    column: str
    code: str
    message: str


@dataclass
class SourceRow:
    """One row of the source after header detection.

    ``values`` holds every name of ``COLUMNS``; a column the source lacks is "". ``errors``
    are problems of single cells that the reader already knows about (a formula, an Excel
    error value, a field given twice); such a row must not be imported as it stands.
    """

    row: int
    values: dict[str, str]
    errors: list[RowError] = field(default_factory=list)


class TableError(InvalidInput):
    """The whole file is unusable: nothing in it can be imported."""

    code = "invalid_table"
    default_message = _("无法读取该文件。")


def header_column(text: str) -> str | None:
    """The task table's column a header cell names, or None (``TableShape.header_column``)."""
    return TASK_TABLE.header_column(text)


@dataclass(frozen=True)
class NumberMark:
    """A numbering mark at the start of a text, as Chinese documents nest them.

    Levels: 1 "一、", 2 "（一）", 3 "1." / "1、" / a bare "1", 4 "（1）", 5 "①".
    """

    level: int
    mark: str
    rest: str


_CHINESE_NUMERAL = "[一二三四五六七八九十百零〇]+"
_NUMBER_PATTERNS = (
    # A bare "一" is a mark only when it is the whole cell, as in a 序号 column.
    (1, re.compile(rf"^{_CHINESE_NUMERAL}(?:\s*[、.．]|$)")),
    (2, re.compile(rf"^[（(]\s*{_CHINESE_NUMERAL}\s*[）)][、.．]?")),
    (3, re.compile(r"^\d{1,3}(?:\s*[、.．](?!\d)|$)")),
    (4, re.compile(r"^[（(]\s*\d{1,3}\s*[）)][、.．]?")),
    (5, re.compile(r"^[\u2460-\u2473]")),
)


def parse_number(text: str) -> NumberMark | None:
    """Split a leading numbering mark off ``text``; None when it does not start with one."""
    text = text.strip()
    for level, pattern in _NUMBER_PATTERNS:
        match = pattern.match(text)
        if match:
            return NumberMark(level=level, mark=match.group(0).strip(), rest=text[match.end() :].strip())
    return None
