"""The rows of any table, from a grid of cells: find the header, then map each row onto it.

Every format with a grid (a sheet, CSV, a Word table) ends here; a header row may be
followed by a sub-header row, and a header printed again further down is skipped.
"""

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import NamedTuple

from django.utils.translation import gettext as _

from imports.table import TASK_TABLE, RowError, SourceRow, TableError, TableShape

MAX_DATA_ROWS = 20_000
HEADER_SCAN_ROWS = 10
HEADER_SCAN_LIMIT = 50

# Columns beyond this are never read; a header is always within the first few columns.
MAX_COLUMNS = 100


class Cell(NamedTuple):
    text: str
    problem: str = ""  # "formula" or "error"


EMPTY = Cell("")


def table_rows(
    grid: Iterable[tuple[int, Sequence[Cell]]], shape: TableShape = TASK_TABLE
) -> tuple[list[SourceRow], list[str]]:
    """Find the header of a ``shape`` table among the first rows of ``grid`` and map every
    later row onto it."""
    lines = iter(grid)
    header, header_texts = _find_header(lines, shape)
    # A two-level header puts "牵头单位 / 配合单位" under a merged "责任单位".
    sub_header_rows = 2
    rows: list[SourceRow] = []
    for row_number, cells in lines:
        if sub_header_rows:
            sub_header_rows -= 1
            extended = _extend_header(header, header_texts, cells, shape)
            if extended is not None:
                header = extended
                continue
            sub_header_rows = 0
        source_row = _source_row(row_number, header, cells, shape)
        if source_row is not None:
            rows.append(source_row)
            ensure_row_limit(rows)
    return rows, _header_notes(header, header_texts, shape)


def _find_header(
    lines: Iterator[tuple[int, Sequence[Cell]]], shape: TableShape
) -> tuple[dict[int, str], list[str]]:
    """The header and its cells' texts, read from ``lines`` up to the header row only."""
    seen = scanned = 0
    for _row_number, cells in lines:
        seen += 1
        if any(cell.text for cell in cells):
            scanned += 1
            header = _match_header(cells, shape)
            if header is not None:
                return header, [cell.text for cell in cells]
        if scanned >= HEADER_SCAN_ROWS or seen >= HEADER_SCAN_LIMIT:
            break
    expected = "、".join(variants[0] for variants in shape.variants.values())
    raise TableError(
        _("在前 %(rows)d 行中没有找到表头。表头应包含“%(key)s”以及%(columns)s等列中的至少两列。")
        % {"rows": HEADER_SCAN_ROWS, "key": shape.labels[shape.key], "columns": expected},
        code="no_header",
    )


def _match_header(cells: Sequence[Cell], shape: TableShape) -> dict[int, str] | None:
    header = {index: column for index, cell in enumerate(cells) if (column := shape.header_column(cell.text))}
    if shape.key not in header.values() or len(header) < 3:
        return None
    _check_duplicates(header, cells, shape)
    return header


def _extend_header(
    header: dict[int, str], header_texts: list[str], cells: Sequence[Cell], shape: TableShape
) -> dict[int, str] | None:
    """The header completed by a sub-header row, or None when ``cells`` is not one.

    Every non-empty cell of a sub-header row is either a known label or a repeat of the
    header cell above (a vertical merge filled down); at least one is a new label.
    """
    extended = dict(header)
    changed = False
    for index, cell in enumerate(cells):
        if not cell.text:
            continue
        above = header_texts[index] if index < len(header_texts) else ""
        column = shape.header_column(cell.text)
        if cell.text == above:
            continue
        if column is None:
            return None
        extended[index] = column
        changed = True
    if not changed:
        return None
    _check_duplicates(extended, cells, shape)
    return extended


def _check_duplicates(header: dict[int, str], cells: Sequence[Cell], shape: TableShape) -> None:
    seen: dict[str, int] = {}
    for index, column in header.items():
        if column in seen:
            first = cells[seen[column]].text if seen[column] < len(cells) else ""
            raise TableError(
                _("表头中“%(first)s”和“%(second)s”都表示“%(label)s”，请只保留一列。")
                % {"first": first, "second": cells[index].text, "label": shape.labels[column]},
                code="duplicate_header",
            )
        seen[column] = index


def _source_row(
    row_number: int, header: dict[int, str], cells: Sequence[Cell], shape: TableShape
) -> SourceRow | None:
    values = dict.fromkeys(shape.columns, "")
    errors: list[RowError] = []
    for index, column in header.items():
        cell = cells[index] if index < len(cells) else EMPTY
        if cell.problem == "formula":
            errors.append(
                RowError(
                    row=row_number,
                    column=column,
                    code="formula",
                    message=_("“%(label)s”单元格含公式（%(formula)s），请复制后选择性粘贴为数值再导入。")
                    % {"label": shape.labels[column], "formula": cell.text[:60]},
                )
            )
        elif cell.problem == "error":
            errors.append(
                RowError(
                    row=row_number,
                    column=column,
                    code="cell_error",
                    message=_("“%(label)s”单元格是错误值 %(value)s。")
                    % {"label": shape.labels[column], "value": cell.text},
                )
            )
        else:
            values[column] = cell.text
    if not errors and not any(values.values()):
        return None
    if not errors and _repeats_header(values, shape):
        return None
    return SourceRow(row=row_number, values=values, errors=errors)


def _repeats_header(values: dict[str, str], shape: TableShape) -> bool:
    """A header printed again further down, as tables copied from several pages have."""
    filled = [(column, text) for column, text in values.items() if text]
    return len(filled) >= 2 and all(shape.header_column(text) == column for column, text in filled)


def _header_notes(header: dict[int, str], header_texts: list[str], shape: TableShape) -> list[str]:
    notes = []
    ignored = [text for index, text in enumerate(header_texts) if text and index not in header]
    if ignored:
        notes.append(_("以下列未识别，已忽略：%(columns)s。") % {"columns": "、".join(ignored)})
    missing = [shape.labels[column] for column in shape.columns if column not in header.values()]
    if missing:
        notes.append(_("表中没有以下列：%(columns)s。") % {"columns": "、".join(missing)})
    return notes


def ensure_row_limit(rows: Sized) -> None:
    """Every reader checks as it goes, so an oversized file is refused before it is all read."""
    if len(rows) > MAX_DATA_ROWS:
        raise TableError(
            _("数据超过 %(rows)d 行，请拆分后再导入。") % {"rows": MAX_DATA_ROWS}, code="too_many_rows"
        )
