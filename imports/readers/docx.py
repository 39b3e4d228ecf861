"""Word documents (.docx): every table with a header, numbered through the document; a
document without one is read as a text-form list, its paragraphs as lines."""

from typing import IO
from xml.etree import ElementTree

from django.utils.translation import gettext as _

from imports.table import SourceRow, TableError, parse_number

from .archive import open_zip
from .grid import EMPTY, MAX_COLUMNS, Cell, ensure_row_limit, table_rows
from .textform import text_form_rows

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(data: bytes) -> tuple[list[SourceRow], list[str]]:
    not_docx = _("文件不是有效的 Word（.docx）文件。")
    with open_zip(data, code="not_docx", message=not_docx) as archive:
        try:
            source = archive.open("word/document.xml")
        except KeyError as exc:
            raise TableError(not_docx, code="not_docx") from exc
        return _read_document(source)


def _read_document(source: IO[bytes]) -> tuple[list[SourceRow], list[str]]:
    paragraphs: list[tuple[int, str]] = []
    tables: list[list[list[Cell]]] = []
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
    rows, notes = text_form_rows(paragraphs)
    notes.insert(0, _("按文本格式读取，行号为段落序号。"))
    if auto_numbered:
        notes.append(
            _("文档使用了自动编号，编号无法读取；请把自动编号转为普通文字后再导入，或在导入后核对序号。")
        )
    return rows, notes


def _docx_tables(tables: list[list[list[Cell]]]) -> tuple[list[SourceRow], list[str]] | None:
    """Rows of every table with a header, numbered through all tables of the document."""
    rows: list[SourceRow] = []
    notes: list[str] = []
    used = 0
    offset = 0
    for table in tables:
        grid = [(offset + index, cells) for index, cells in enumerate(table, start=1)]
        offset += len(table)
        try:
            found, found_notes = table_rows(grid)
        except TableError as error:
            if error.code != "no_header":
                raise
            continue
        used += 1
        rows.extend(found)
        notes.extend(note for note in found_notes if note not in notes)
        ensure_row_limit(rows)
    if not used:
        return None
    notes.insert(0, _("已读取文档中的 %(count)d 个表格，行号按各表格的行连续编号。") % {"count": used})
    return rows, notes


def _docx_table(table: ElementTree.Element) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    above: list[Cell] = []
    for row_element in table.findall(f"{_W}tr"):
        row: list[Cell] = [EMPTY] * _docx_int(row_element.find(f"{_W}trPr/{_W}gridBefore"), 0)
        for cell in row_element.findall(f"{_W}tc"):
            span = _docx_int(cell.find(f"{_W}tcPr/{_W}gridSpan"), 1)
            merge = cell.find(f"{_W}tcPr/{_W}vMerge")
            column = len(row)
            if merge is not None and merge.get(f"{_W}val", "continue") != "restart":
                value = above[column] if column < len(above) else EMPTY
            else:
                texts = (_docx_text(paragraph) for paragraph in cell.iter(f"{_W}p"))
                value = Cell("\n".join(text for text in texts if text).strip())
            row.append(value)
            row.extend([EMPTY] * (span - 1))
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
