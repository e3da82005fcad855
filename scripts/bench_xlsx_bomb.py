# ruff: noqa: E501  (the OOXML boilerplate is clearer unbroken)
"""Build an XLSX bomb (a small file unpacking to millions of rows) and time how long the reader takes to refuse it.

Usage: .venv/bin/python scripts/bench_xlsx_bomb.py [ROWS]   (issue 18: the goal is refusal within 1 s)
"""

from __future__ import annotations

import sys
import tempfile
import time
import zipfile
from pathlib import Path

from liangshi.errors import ValidationFailed
from liangshi.exchange import reader

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def build(path: Path, rows: int, dimension: bool) -> None:
    """A workbook of `rows` one-cell rows, its sheet XML streamed into the archive."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8"?>')
            fh.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                fh.write(f'<dimension ref="A1:A{rows}"/>'.encode())
            fh.write(b"<sheetData>")
            row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
            block = row * 10_000
            for _ in range(rows // 10_000):
                fh.write(block)
            fh.write(b"</sheetData></worksheet>")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2_400_000
    with tempfile.TemporaryDirectory() as tmp:
        for dimension in (True, False):
            path = Path(tmp) / f"bomb-{dimension}.xlsx"
            build(path, rows, dimension)
            unpacked = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
            started = time.perf_counter()
            try:
                reader.open_table(path)
                outcome = "ACCEPTED"
            except ValidationFailed as exc:
                outcome = exc.code
            seconds = time.perf_counter() - started
            print(
                f"rows={rows} dimension={'yes' if dimension else 'no'} file={path.stat().st_size} bytes "
                f"unpacked={unpacked} bytes -> {outcome} in {seconds * 1000:.1f} ms"
            )


if __name__ == "__main__":
    main()
