"""Excel workbooks (.xlsx, .xlsm): the first sheet with a header is read, the active sheet first."""

import datetime
import io
import re
import zipfile
from collections.abc import Iterator, Sequence

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.utils.cell import range_boundaries

from imports.table import TASK_TABLE, SourceRow, TableError, TableShape

from .archive import open_zip
from .grid import EMPTY, MAX_COLUMNS, Cell, table_rows

EXCEL_MAX_ROWS = 1_048_576


def read_xlsx(data: bytes, shape: TableShape = TASK_TABLE) -> tuple[list[SourceRow], list[str]]:
    not_spreadsheet = _("文件不是有效的 Excel（.xlsx）文件。")
    archive = open_zip(data, code="not_spreadsheet", message=not_spreadsheet)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:
        archive.close()
        # openpyxl reports a damaged package with whatever the failing step raised.
        raise TableError(not_spreadsheet, code="not_spreadsheet") from exc
    try:
        worksheets = list(workbook.worksheets)
        active = workbook.active
        if active in worksheets:
            worksheets.remove(active)
            worksheets.insert(0, active)
        first_error: TableError | None = None
        for worksheet in worksheets:
            # Generators other than Excel often write a wrong <dimension>; read to the end.
            worksheet.reset_dimensions()
            merges = _xlsx_merges(archive, worksheet._worksheet_path)
            try:
                rows, notes = table_rows(_xlsx_grid(worksheet, merges), shape)
            except TableError as error:
                if error.code != "no_header":
                    raise
                first_error = first_error or error
                continue
            if len(worksheets) > 1:
                notes.insert(0, _("已读取工作表“%(title)s”。") % {"title": worksheet.title})
            if merges:
                notes.append(_("表格含纵向合并的单元格，已把其内容填入所覆盖的每一行。"))
            return rows, notes
        raise first_error or TableError(_("工作簿中没有工作表。"), code="no_header")
    except TableError:
        raise
    except Exception as exc:
        raise TableError(_("Excel 文件已损坏，无法读取。"), code="not_spreadsheet") from exc
    finally:
        workbook.close()
        archive.close()


# A <mergeCell ref="B3:B9"/> element, with or without a namespace prefix.
_MERGE_CELL = re.compile(rb"""<(?:\w+:)?mergeCell\b[^>]*?\bref=["']([A-Za-z]+[0-9]+:[A-Za-z]+[0-9]+)["']""")
# Longer than any <mergeCell> element: kept from each chunk for the next one.
_MERGE_OVERLAP = 512


def _xlsx_merges(archive: zipfile.ZipFile, path: str) -> dict[int, list[tuple[int, int]]]:
    """Vertical merges of a sheet by first row: ``{row: [(column index, last row), ...]}``.

    Read-only worksheets do not expose merged ranges, so the sheet part is read once more
    for its ``<mergeCell>`` elements, which follow the sheet data. They are found by
    scanning the bytes in chunks: parsing every cell's XML again only to reach them would
    repeat the most expensive part of reading the table (bench/FIXES.md).
    """
    merges: dict[int, list[tuple[int, int]]] = {}
    with archive.open(path.lstrip("/")) as source:
        buffer = b""
        while chunk := source.read(1 << 20):
            buffer += chunk
            consumed = 0
            for match in _MERGE_CELL.finditer(buffer):
                min_col, min_row, _max_col, max_row = range_boundaries(match.group(1).decode().upper())
                if max_row > min_row and min_col <= MAX_COLUMNS:
                    merges.setdefault(min_row, []).append((min_col - 1, max_row))
                consumed = match.end()
            buffer = buffer[max(consumed, len(buffer) - _MERGE_OVERLAP) :]
    return merges


def _xlsx_grid(worksheet, merges: dict[int, list[tuple[int, int]]]) -> Iterator[tuple[int, "_XlsxRow"]]:
    carried: dict[int, tuple[Cell, int]] = {}
    for row_number, cells in enumerate(worksheet.iter_rows(max_col=MAX_COLUMNS), start=1):
        if row_number > EXCEL_MAX_ROWS:
            raise TableError(_("工作表行数超出 Excel 的上限。"), code="not_spreadsheet")
        carried = {index: value for index, value in carried.items() if value[1] >= row_number}
        for index, last_row in merges.get(row_number, ()):
            if index < len(cells):
                carried[index] = (_xlsx_cell(cells[index]), last_row)
        yield row_number, _XlsxRow(cells, {index: value[0] for index, value in carried.items()})


class _XlsxRow(Sequence[Cell]):
    """A sheet row whose cells are converted only when read: most columns never are."""

    def __init__(self, cells: tuple, carried: dict[int, Cell]):
        self._cells = cells
        self._carried = carried

    def __len__(self) -> int:
        return len(self._cells)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index in self._carried:
            return self._carried[index]
        return _xlsx_cell(self._cells[index])


def _xlsx_cell(cell) -> Cell:
    value = cell.value
    if value is None:
        return EMPTY
    if cell.data_type == "f":
        return Cell(getattr(value, "text", None) or str(value), "formula")
    if cell.data_type == "e":
        return Cell(str(value), "error")
    return Cell(_plain_text(value))


def _plain_text(value) -> str:
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
