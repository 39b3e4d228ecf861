"""Text files: CSV (comma- or tab-separated) and .txt, as a list of tasks or a tab-separated
table; UTF-8, UTF-16 or GB18030."""

import csv
import io

from django.utils.translation import gettext as _

from imports.table import TASK_TABLE, SourceRow, TableError, TableShape

from .archive import OLE_SIGNATURE, ZIP_SIGNATURE
from .grid import Cell, table_rows
from .textform import text_form_rows


def _decode(data: bytes) -> tuple[str, list[str]]:
    not_text = TableError(_("文件不是文本文件。"), code="not_text")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode 文本" export.
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as exc:
            raise not_text from exc
    if data.startswith(ZIP_SIGNATURE) or data.startswith(OLE_SIGNATURE) or b"\x00" in data:
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


def read_csv(data: bytes, shape: TableShape = TASK_TABLE) -> tuple[list[SourceRow], list[str]]:
    text, notes = _decode(data)
    sample = text[:10_000]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows, table_notes = table_rows(
            ((number, [Cell(value.strip()) for value in record]) for number, record in enumerate(reader, 1)),
            shape,
        )
    except csv.Error as exc:
        raise TableError(_("CSV 文件格式有误：%(error)s") % {"error": exc}, code="not_text") from exc
    return rows, notes + table_notes


def read_txt(data: bytes) -> tuple[list[SourceRow], list[str]]:
    text, notes = _decode(data)
    try:
        rows, text_notes = text_form_rows(enumerate(text.splitlines(), start=1))
    except TableError as error:
        if error.code != "no_tasks" or "\t" not in text:
            raise
        # A table saved from Excel as tab-separated text.
        grid = (
            (number, [Cell(value.strip()) for value in line.split("\t")])
            for number, line in enumerate(text.splitlines(), start=1)
        )
        try:
            rows, text_notes = table_rows(grid)
        except TableError as table_error:
            if table_error.code != "no_header":
                raise
            raise error from None
    return rows, notes + text_notes
