"""Turn an uploaded file into ``SourceRow``s: spreadsheets, CSV, and the text form of Word documents.

Nothing here touches the database, and nothing here interprets a cell beyond finding which
column it belongs to; deadlines, unit names and heading levels are the next layer's job.

Merged cells: a vertical merge (the same lead leader or deadline spanning several tasks)
is filled down, so every row of the range gets the top-left value in the range's first
column. A horizontal merge keeps its value in the first column only, which leaves a
heading row such as "一、产业扶贫" merged across the table with only that cell filled. Word
tables follow the same rule (``vMerge`` fills down, ``gridSpan`` does not fill across).

Formulas: the file is opened without cached values, and a cell holding a formula becomes
an empty value plus a ``RowError`` with code "formula" on its row. A table whose cells
depend on other cells should be pasted as values before it is imported, so that what the
office reviewed is what gets imported.
"""

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePath
from typing import IO, NamedTuple
from xml.etree import ElementTree

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.utils.cell import range_boundaries

from .table import (
    COLUMN_LABELS,
    COLUMNS,
    HEADER_VARIANTS,
    RowError,
    SourceRow,
    TableError,
    header_column,
    parse_number,
)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Small parts (styles, a short sheet) can compress very well without being a bomb.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
MAX_DATA_ROWS = 20_000
HEADER_SCAN_ROWS = 10
HEADER_SCAN_LIMIT = 50
# Columns beyond this are never read; a header is always within the first few columns.
MAX_COLUMNS = 100
EXCEL_MAX_ROWS = 1_048_576

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SIGNATURE = b"PK\x03\x04"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class _Cell(NamedTuple):
    text: str
    problem: str = ""  # "formula" or "error"


_EMPTY = _Cell("")


def read_rows(data: bytes, filename: str) -> tuple[list[SourceRow], list[str]]:
    """Read a task table; returns its rows and notes (in Chinese) about what was done.

    Raises ``TableError`` when the file as a whole cannot be used.
    """
    if not data:
        raise TableError(_("文件为空。"), code="empty_file")
    if len(data) > MAX_FILE_BYTES:
        raise TableError(
            _("文件超过 %(size)d MB，请拆分后再导入。") % {"size": MAX_FILE_BYTES // (1024 * 1024)},
            code="file_too_large",
        )
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data)
    if suffix == ".csv":
        return _read_csv(data)
    if suffix == ".txt":
        return _read_txt(data)
    if suffix == ".docx":
        return _read_docx(data)
    if suffix in (".xls", ".et"):
        raise TableError(_("不支持旧版 Excel 文件，请另存为 .xlsx 后再导入。"), code="unsupported_format")
    if suffix in (".doc", ".wps"):
        raise TableError(_("不支持旧版 Word 文件，请另存为 .docx 后再导入。"), code="unsupported_format")
    raise TableError(
        _("不支持的文件类型，请上传 .xlsx、.csv、.docx 或 .txt 文件。"), code="unsupported_format"
    )


def _table_rows(grid: Iterable[tuple[int, Sequence[_Cell]]]) -> tuple[list[SourceRow], list[str]]:
    """Find the header among the first rows of ``grid`` and map every later row onto it."""
    header: dict[int, str] | None = None
    header_texts: list[str] = []
    seen = scanned = 0
    sub_header_rows = 0
    rows: list[SourceRow] = []
    for row_number, cells in grid:
        if header is None:
            seen += 1
            if not any(cell.text for cell in cells):
                if seen >= HEADER_SCAN_LIMIT:
                    break
                continue
            scanned += 1
            header = _match_header(cells)
            if header is None:
                if scanned >= HEADER_SCAN_ROWS or seen >= HEADER_SCAN_LIMIT:
                    break
                continue
            header_texts = [cell.text for cell in cells]
            # A two-level header puts "牵头单位 / 配合单位" under a merged "责任单位".
            sub_header_rows = 2
            continue
        if sub_header_rows:
            sub_header_rows -= 1
            extended = _extend_header(header, header_texts, cells)
            if extended is not None:
                header = extended
                continue
            sub_header_rows = 0
        source_row = _source_row(row_number, header, cells)
        if source_row is None:
            continue
        rows.append(source_row)
        if len(rows) > MAX_DATA_ROWS:
            raise _too_many_rows()
    if header is None:
        expected = "、".join(variants[0] for variants in HEADER_VARIANTS.values())
        raise TableError(
            _("在前 %(rows)d 行中没有找到表头。表头应包含“任务”以及%(columns)s等列中的至少两列。")
            % {"rows": HEADER_SCAN_ROWS, "columns": expected},
            code="no_header",
        )
    return rows, _header_notes(header, header_texts)


def _match_header(cells: Sequence[_Cell]) -> dict[int, str] | None:
    header = {index: column for index, cell in enumerate(cells) if (column := header_column(cell.text))}
    if "task" not in header.values() or len(header) < 3:
        return None
    _check_duplicates(header, cells)
    return header


def _extend_header(
    header: dict[int, str], header_texts: list[str], cells: Sequence[_Cell]
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
        column = header_column(cell.text)
        if cell.text == above:
            continue
        if column is None:
            return None
        extended[index] = column
        changed = True
    if not changed:
        return None
    _check_duplicates(extended, cells)
    return extended


def _check_duplicates(header: dict[int, str], cells: Sequence[_Cell]) -> None:
    seen: dict[str, int] = {}
    for index, column in header.items():
        if column in seen:
            first = cells[seen[column]].text if seen[column] < len(cells) else ""
            raise TableError(
                _("表头中“%(first)s”和“%(second)s”都表示“%(label)s”，请只保留一列。")
                % {"first": first, "second": cells[index].text, "label": COLUMN_LABELS[column]},
                code="duplicate_header",
            )
        seen[column] = index


def _source_row(row_number: int, header: dict[int, str], cells: Sequence[_Cell]) -> SourceRow | None:
    values = dict.fromkeys(COLUMNS, "")
    errors: list[RowError] = []
    for index, column in header.items():
        cell = cells[index] if index < len(cells) else _EMPTY
        if cell.problem == "formula":
            errors.append(
                RowError(
                    row=row_number,
                    column=column,
                    code="formula",
                    message=_("“%(label)s”单元格含公式（%(formula)s），请复制后选择性粘贴为数值再导入。")
                    % {"label": COLUMN_LABELS[column], "formula": cell.text[:60]},
                )
            )
        elif cell.problem == "error":
            errors.append(
                RowError(
                    row=row_number,
                    column=column,
                    code="cell_error",
                    message=_("“%(label)s”单元格是错误值 %(value)s。")
                    % {"label": COLUMN_LABELS[column], "value": cell.text},
                )
            )
        else:
            values[column] = cell.text
    if not errors and not any(values.values()):
        return None
    if not errors and _repeats_header(values):
        return None
    return SourceRow(row=row_number, values=values, errors=errors)


def _repeats_header(values: dict[str, str]) -> bool:
    """A header printed again further down, as tables copied from several pages have."""
    filled = [(column, text) for column, text in values.items() if text]
    return len(filled) >= 2 and all(header_column(text) == column for column, text in filled)


def _header_notes(header: dict[int, str], header_texts: list[str]) -> list[str]:
    notes = []
    ignored = [text for index, text in enumerate(header_texts) if text and index not in header]
    if ignored:
        notes.append(_("以下列未识别，已忽略：%(columns)s。") % {"columns": "、".join(ignored)})
    missing = [COLUMN_LABELS[column] for column in COLUMNS if column not in header.values()]
    if missing:
        notes.append(_("表中没有以下列：%(columns)s。") % {"columns": "、".join(missing)})
    return notes


def _too_many_rows() -> TableError:
    return TableError(
        _("数据超过 %(rows)d 行，请拆分后再导入。") % {"rows": MAX_DATA_ROWS}, code="too_many_rows"
    )


def _open_zip(data: bytes, *, code: str, message: str) -> zipfile.ZipFile:
    if data.startswith(_OLE_SIGNATURE):
        raise TableError(
            _("这是旧版 Office 文件或已加密的文件，请取消密码并另存为 .xlsx 或 .docx 后再导入。"),
            code="unsupported_format",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise TableError(message, code=code) from exc
    total = 0
    for info in infos:
        total += info.file_size
        # zipfile never inflates past the declared size, so the declared sizes bound the work.
        too_dense = (
            info.file_size > RATIO_CHECK_MIN_BYTES
            and info.file_size > info.compress_size * MAX_COMPRESSION_RATIO
        )
        if total > MAX_UNCOMPRESSED_BYTES or too_dense:
            raise TableError(_("文件解压后异常庞大，拒绝读取。"), code="zip_bomb")
        if info.flag_bits & 0x1:
            raise TableError(_("文件已加密，请取消密码后再导入。"), code="encrypted")
    return archive


def _read_xlsx(data: bytes) -> tuple[list[SourceRow], list[str]]:
    not_spreadsheet = _("文件不是有效的 Excel（.xlsx）文件。")
    archive = _open_zip(data, code="not_spreadsheet", message=not_spreadsheet)
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
                rows, notes = _table_rows(_xlsx_grid(worksheet, merges))
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
    carried: dict[int, tuple[_Cell, int]] = {}
    for row_number, cells in enumerate(worksheet.iter_rows(max_col=MAX_COLUMNS), start=1):
        if row_number > EXCEL_MAX_ROWS:
            raise TableError(_("工作表行数超出 Excel 的上限。"), code="not_spreadsheet")
        carried = {index: value for index, value in carried.items() if value[1] >= row_number}
        for index, last_row in merges.get(row_number, ()):
            if index < len(cells):
                carried[index] = (_xlsx_cell(cells[index]), last_row)
        yield row_number, _XlsxRow(cells, {index: value[0] for index, value in carried.items()})


class _XlsxRow(Sequence[_Cell]):
    """A sheet row whose cells are converted only when read: most columns never are."""

    def __init__(self, cells: tuple, carried: dict[int, _Cell]):
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


def _xlsx_cell(cell) -> _Cell:
    value = cell.value
    if value is None:
        return _EMPTY
    if cell.data_type == "f":
        return _Cell(getattr(value, "text", None) or str(value), "formula")
    if cell.data_type == "e":
        return _Cell(str(value), "error")
    return _Cell(_plain_text(value))


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


def _decode(data: bytes) -> tuple[str, list[str]]:
    not_text = TableError(_("文件不是文本文件。"), code="not_text")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode 文本" export.
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as exc:
            raise not_text from exc
    if data.startswith(_ZIP_SIGNATURE) or data.startswith(_OLE_SIGNATURE) or b"\x00" in data:
        raise not_text
    try:
        text, notes = data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        try:
            text, notes = data.decode("gb18030"), [_("文件不是 UTF-8 编码，已按 GB18030（GBK）读取。")]
        except UnicodeDecodeError as exc:
            raise not_text from exc
    controls = sum(1 for char in text[:10_000] if ord(char) < 32 and char not in "\t\n\r\f")
    if controls > max(3, len(text[:10_000]) // 100):
        raise not_text
    return text, notes


def _read_csv(data: bytes) -> tuple[list[SourceRow], list[str]]:
    text, notes = _decode(data)
    sample = text[:10_000]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows, table_notes = _table_rows(
            (number, [_Cell(value.strip()) for value in record]) for number, record in enumerate(reader, 1)
        )
    except csv.Error as exc:
        raise TableError(_("CSV 文件格式有误：%(error)s") % {"error": exc}, code="not_text") from exc
    return rows, notes + table_notes


def _read_txt(data: bytes) -> tuple[list[SourceRow], list[str]]:
    text, notes = _decode(data)
    try:
        rows, text_notes = _text_form_rows(enumerate(text.splitlines(), start=1))
    except TableError as error:
        if error.code != "no_tasks" or "\t" not in text:
            raise
        # A table saved from Excel as tab-separated text.
        grid = (
            (number, [_Cell(value.strip()) for value in line.split("\t")])
            for number, line in enumerate(text.splitlines(), start=1)
        )
        try:
            rows, text_notes = _table_rows(grid)
        except TableError as table_error:
            if table_error.code != "no_header":
                raise
            raise error from None
    return rows, notes + text_notes


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


def _text_form_rows(lines: Iterable[tuple[int, str]]) -> tuple[list[SourceRow], list[str]]:
    """Rows from a numbered list of tasks, each followed by lines such as "牵头单位：…"."""
    tokens: list[tuple[int, str, object]] = []
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

    rows: list[SourceRow] = []
    current: SourceRow | None = None
    current_level = 0
    has_fields = False
    preamble = 0
    ignored: list[int] = []
    for position, (line_number, kind, payload) in enumerate(tokens):
        next_kind = tokens[position + 1][1] if position + 1 < len(tokens) else ""
        if kind == "numbered":
            task, inline = _trailing_fields(payload.rest)
            current = _text_row(line_number, payload.mark, task)
            current_level, has_fields = payload.level, False
            rows.append(current)
            for column, value in inline:
                _set_field(current, line_number, column, value)
                has_fields = True
        elif kind == "field":
            if current is None:
                ignored.append(line_number)
                continue
            for column, value in payload:
                _set_field(current, line_number, column, value)
            has_fields = True
        elif current is not None and not has_fields and current_level >= 3:
            current.values["task"] = f"{current.values['task']}\n{payload}".strip()
        elif next_kind == "field":
            # A task whose number Word generated and the text does not hold.
            current = _text_row(line_number, "", payload)
            current_level, has_fields = 3, False
            rows.append(current)
        elif current is None:
            preamble += 1
        else:
            ignored.append(line_number)
        if len(rows) > MAX_DATA_ROWS:
            raise _too_many_rows()

    if not any(row.values["task"] for row in rows):
        raise TableError(
            _("没有找到任务。文本格式的任务应以“1.”等编号开头，其后逐行写明“牵头单位：”“完成时限：”等。"),
            code="no_tasks",
        )
    notes = []
    if preamble:
        notes.append(_("开头的 %(count)d 段标题或说明文字已忽略。") % {"count": preamble})
    if ignored:
        listed = "、".join(str(number) for number in ignored[:20]) + ("等" if len(ignored) > 20 else "")
        notes.append(_("第 %(lines)s 行无法识别为任务或字段，已忽略。") % {"lines": listed})
    return rows, notes


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


def _read_docx(data: bytes) -> tuple[list[SourceRow], list[str]]:
    not_docx = _("文件不是有效的 Word（.docx）文件。")
    with _open_zip(data, code="not_docx", message=not_docx) as archive:
        try:
            source = archive.open("word/document.xml")
        except KeyError as exc:
            raise TableError(not_docx, code="not_docx") from exc
        return _read_document(source)


def _read_document(source: IO[bytes]) -> tuple[list[SourceRow], list[str]]:
    paragraphs: list[tuple[int, str]] = []
    tables: list[list[list[_Cell]]] = []
    auto_numbered = False
    table_depth = 0
    paragraph_number = 0
    try:
        with source:
            for event, element in ElementTree.iterparse(source, events=("start", "end")):
                if element.tag == f"{_W}tbl":
                    table_depth += 1 if event == "start" else -1
                    if event == "end" and table_depth == 0:
                        tables.append(_docx_table(element))
                        element.clear()
                elif event == "end" and element.tag == f"{_W}p" and table_depth == 0:
                    paragraph_number += 1
                    text = _docx_text(element)
                    if element.find(f"{_W}pPr/{_W}numPr") is not None and parse_number(text) is None:
                        auto_numbered = True
                    paragraphs.extend((paragraph_number, line) for line in text.split("\n"))
                    element.clear()
    except ElementTree.ParseError as exc:
        raise TableError(_("Word 文件已损坏，无法读取。"), code="not_docx") from exc

    table_result = _docx_tables(tables)
    if table_result is not None:
        return table_result
    rows, notes = _text_form_rows(paragraphs)
    notes.insert(0, _("按文本格式读取，行号为段落序号。"))
    if auto_numbered:
        notes.append(
            _("文档使用了自动编号，编号无法读取；请把自动编号转为普通文字后再导入，或在导入后核对序号。")
        )
    return rows, notes


def _docx_tables(tables: list[list[list[_Cell]]]) -> tuple[list[SourceRow], list[str]] | None:
    """Rows of every table with a header, numbered through all tables of the document."""
    rows: list[SourceRow] = []
    notes: list[str] = []
    used = 0
    offset = 0
    for table in tables:
        grid = [(offset + index, cells) for index, cells in enumerate(table, start=1)]
        offset += len(table)
        try:
            table_rows, table_notes = _table_rows(grid)
        except TableError as error:
            if error.code != "no_header":
                raise
            continue
        used += 1
        rows.extend(table_rows)
        notes.extend(note for note in table_notes if note not in notes)
        if len(rows) > MAX_DATA_ROWS:
            raise _too_many_rows()
    if not used:
        return None
    notes.insert(0, _("已读取文档中的 %(count)d 个表格，行号按各表格的行连续编号。") % {"count": used})
    return rows, notes


def _docx_table(table: ElementTree.Element) -> list[list[_Cell]]:
    rows: list[list[_Cell]] = []
    above: list[_Cell] = []
    for row_element in table.findall(f"{_W}tr"):
        row: list[_Cell] = [_EMPTY] * _docx_int(row_element.find(f"{_W}trPr/{_W}gridBefore"), 0)
        for cell in row_element.findall(f"{_W}tc"):
            span = _docx_int(cell.find(f"{_W}tcPr/{_W}gridSpan"), 1)
            merge = cell.find(f"{_W}tcPr/{_W}vMerge")
            column = len(row)
            if merge is not None and merge.get(f"{_W}val", "continue") != "restart":
                value = above[column] if column < len(above) else _EMPTY
            else:
                texts = (_docx_text(paragraph) for paragraph in cell.iter(f"{_W}p"))
                value = _Cell("\n".join(text for text in texts if text).strip())
            row.append(value)
            row.extend([_EMPTY] * (span - 1))
        rows.append(row)
        above = row
    return rows


def _docx_int(element: ElementTree.Element | None, default: int) -> int:
    if element is None:
        return default
    try:
        return max(1 if default else 0, min(int(element.get(f"{_W}val", default)), MAX_COLUMNS))
    except ValueError:
        return default


def _docx_text(paragraph: ElementTree.Element) -> str:
    parts = []
    for element in paragraph.iter():
        if element.tag == f"{_W}t":
            parts.append(element.text or "")
        elif element.tag == f"{_W}tab":
            parts.append("\t")
        elif element.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return "".join(parts).strip()
