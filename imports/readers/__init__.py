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

from pathlib import PurePath

from django.utils.translation import gettext as _

from imports.table import TASK_TABLE, SourceRow, TableError, TableShape

from .docx import read_docx
from .plaintext import read_csv, read_txt
from .xlsx import read_xlsx

MAX_FILE_BYTES = 20 * 1024 * 1024


def read_rows(
    data: bytes, filename: str, shape: TableShape = TASK_TABLE
) -> tuple[list[SourceRow], list[str]]:
    """Read a table of ``shape`` (a task table unless told); returns its rows and notes (in
    Chinese) about what was done. Only a task table comes as text or Word as well: the other
    shapes are kept as spreadsheets.

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
        return read_xlsx(data, shape)
    if suffix == ".csv":
        return read_csv(data, shape)
    if shape is not TASK_TABLE:
        raise TableError(_("不支持的文件类型，请上传 .xlsx 或 .csv 文件。"), code="unsupported_format")
    if suffix == ".txt":
        return read_txt(data)
    if suffix == ".docx":
        return read_docx(data)
    if suffix in (".xls", ".et"):
        raise TableError(_("不支持旧版 Excel 文件，请另存为 .xlsx 后再导入。"), code="unsupported_format")
    if suffix in (".doc", ".wps"):
        raise TableError(_("不支持旧版 Word 文件，请另存为 .docx 后再导入。"), code="unsupported_format")
    raise TableError(
        _("不支持的文件类型，请上传 .xlsx、.csv、.docx 或 .txt 文件。"), code="unsupported_format"
    )
