"""Tasks written as text rather than in a table: a numbered list, each task followed by
lines such as "牵头单位：市住建委", or with its fields in parentheses after it. A .txt file
and a Word document without a table are read this way.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from imports.table import (
    COLUMN_LABELS,
    COLUMNS,
    HEADER_VARIANTS,
    RowError,
    SourceRow,
    TableError,
    header_column,
    parse_number,
)

from .grid import ensure_row_limit

_FIELD_VARIANTS = sorted(
    (
        variant
        for column, variants in HEADER_VARIANTS.items()
        if column not in ("number", "task")
        for variant in variants
    ),
    key=len,
    reverse=True,
)
_FIELD_LABEL = re.compile(r"(?:^|(?<=[；;，,。\s]))(" + "|".join(_FIELD_VARIANTS) + r")\s*[:：]")
_FIELD_VALUE_TRAILER = "；;，,。 \t\u3000"


def _fields(content: str) -> list[tuple[str, str]] | None:
    """``[(column, value), ...]`` when ``content`` starts with "牵头单位：…", else None.

    Several fields may share a line: "牵头领导：张三；牵头单位：市住建委".
    """
    content = content.strip()
    labels = list(_FIELD_LABEL.finditer(content))
    if not labels or labels[0].start() != 0:
        return None
    fields = []
    for match, following in zip(labels, labels[1:] + [None], strict=True):
        end = following.start() if following else len(content)
        column = header_column(match.group(1))
        fields.append((column, content[match.end() : end].strip().rstrip(_FIELD_VALUE_TRAILER).strip()))
    return fields


def _trailing_fields(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Split "完成危房改造（牵头单位：市住建委；完成时限：10月底前）" into the task and its fields."""
    stripped = text.rstrip().rstrip("。；;").rstrip()
    if not stripped.endswith(("）", ")")):
        return text, []
    depth = 0
    for index in range(len(stripped) - 1, -1, -1):
        char = stripped[index]
        if char in "）)":
            depth += 1
        elif char in "（(":
            depth -= 1
            if depth == 0:
                fields = _fields(stripped[index + 1 : -1])
                if fields:
                    return stripped[:index].rstrip(), fields
                return text, []
    return text, []


def text_form_rows(lines: Iterable[tuple[int, str]]) -> tuple[list[SourceRow], list[str]]:
    """Rows from a numbered list of tasks, each followed by lines such as "牵头单位：…"."""
    tokens = _tokens(lines)
    listing = _Listing()
    for position, (line_number, kind, payload) in enumerate(tokens):
        if kind == "numbered":
            task, inline = _trailing_fields(payload.rest)
            listing.start_task(line_number, payload.mark, task, payload.level)
            if inline:
                listing.add_fields(line_number, inline)
        elif kind == "field":
            listing.add_fields(line_number, payload)
        else:
            next_kind = tokens[position + 1][1] if position + 1 < len(tokens) else ""
            listing.add_line(line_number, payload, next_kind)
        ensure_row_limit(listing.rows)
    if not any(row.values["task"] for row in listing.rows):
        raise TableError(
            _("没有找到任务。文本格式的任务应以“1.”等编号开头，其后逐行写明“牵头单位：”“完成时限：”等。"),
            code="no_tasks",
        )
    return listing.rows, listing.notes()


def _tokens(lines: Iterable[tuple[int, str]]) -> list[tuple[int, str, Any]]:
    """Each non-empty line as (line number, kind, payload): "field" with its fields,
    "numbered" with its number mark, or "other" with its text."""
    tokens: list[tuple[int, str, Any]] = []
    for line_number, raw in lines:
        line = raw.strip()
        if not line:
            continue
        fields = _fields(line)
        mark = parse_number(line) if fields is None else None
        if fields is not None:
            tokens.append((line_number, "field", fields))
        elif mark is not None and mark.rest:
            tokens.append((line_number, "numbered", mark))
        else:
            tokens.append((line_number, "other", line))
    return tokens


@dataclass
class _Listing:
    """The tasks read so far, and the lines that were not."""

    rows: list[SourceRow] = field(default_factory=list)
    current: SourceRow | None = None
    current_level: int = 0
    has_fields: bool = False
    preamble: int = 0
    ignored: list[int] = field(default_factory=list)

    def start_task(self, line_number: int, number: str, task: str, level: int) -> None:
        self.current = _text_row(line_number, number, task)
        self.current_level, self.has_fields = level, False
        self.rows.append(self.current)

    def add_fields(self, line_number: int, fields: list[tuple[str, str]]) -> None:
        if self.current is None:
            self.ignored.append(line_number)
            return
        for column, value in fields:
            _set_field(self.current, line_number, column, value)
        self.has_fields = True

    def add_line(self, line_number: int, text: str, next_kind: str) -> None:
        """A line that is neither numbered nor a field."""
        if self.current is not None and not self.has_fields and self.current_level >= 3:
            self.current.values["task"] = f"{self.current.values['task']}\n{text}".strip()
        elif next_kind == "field":
            # A task whose number Word generated and the text does not hold.
            self.start_task(line_number, "", text, 3)
        elif self.current is None:
            self.preamble += 1
        else:
            self.ignored.append(line_number)

    def notes(self) -> list[str]:
        notes = []
        if self.preamble:
            notes.append(_("开头的 %(count)d 段标题或说明文字已忽略。") % {"count": self.preamble})
        if self.ignored:
            listed = "、".join(str(number) for number in self.ignored[:20])
            listed += "等" if len(self.ignored) > 20 else ""
            notes.append(_("第 %(lines)s 行无法识别为任务或字段，已忽略。") % {"lines": listed})
        return notes


def _text_row(line_number: int, number: str, task: str) -> SourceRow:
    values = dict.fromkeys(COLUMNS, "")
    values["number"] = number
    values["task"] = task.strip()
    return SourceRow(row=line_number, values=values)


def _set_field(row: SourceRow, line_number: int, column: str, value: str) -> None:
    if row.values[column]:
        row.errors.append(
            RowError(
                row=row.row,
                column=column,
                code="duplicate_field",
                message=_("“%(label)s”重复出现（第 %(line)d 行），已保留第一次的内容。")
                % {"label": COLUMN_LABELS[column], "line": line_number},
            )
        )
        return
    row.values[column] = value
