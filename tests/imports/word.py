"""Word documents built in the tests: paragraphs, tables with merged cells, the package."""

import io
import zipfile
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def paragraph(text: str, *, numbered: bool = False) -> str:
    numbering = (
        '<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>' if numbered else ""
    )
    runs = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in text.split("\n"))
    return f"<w:p>{numbering}<w:r>{runs}</w:r></w:p>"


def table(rows) -> str:
    """Rows of cells; a cell is text, ("span", n, text) or "^" to continue the merge above."""
    xml_rows = []
    for row_index, row in enumerate(rows):
        below = rows[row_index + 1] if row_index + 1 < len(rows) else []
        cells = []
        for index, cell in enumerate(row):
            properties = ""
            text = cell
            if isinstance(cell, tuple):
                _kind, span, text = cell
                properties = f'<w:gridSpan w:val="{span}"/>'
            if cell == "^":
                properties, text = "<w:vMerge/>", ""
            elif index < len(below) and below[index] == "^":
                properties = '<w:vMerge w:val="restart"/>'
            cells.append(f"<w:tc><w:tcPr>{properties}</w:tcPr>{paragraph(text)}</w:tc>")
        xml_rows.append(f"<w:tr>{''.join(cells)}</w:tr>")
    return f"<w:tbl>{''.join(xml_rows)}</w:tbl>"


def docx(body: str) -> bytes:
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}<w:sectPr/></w:body></w:document>'
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    relationships = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", relationships)
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()
