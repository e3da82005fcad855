"""Read department files: CSV in UTF-8, UTF-8 with BOM or GB18030, and XLSX (first sheet)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from liangshi.errors import ValidationFailed

ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Table:
    """A file's header and its data rows as (line number, values by header)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    sha256: str


def file_error(code: str, zh: str, en: str, path: Path) -> ValidationFailed:
    """A file-level error (nothing is loaded)."""
    return ValidationFailed(code, zh, en, {"file": str(path)})


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise file_error(
        "file.encoding",
        "文件编码无法识别（支持 UTF-8 与 GB18030）",
        "Unknown file encoding (UTF-8 and GB18030 are supported)",
        path,
    )


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        yield reader.line_num, row


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    # Imported here, not at the top: openpyxl (it loads numpy) is needed only for XLSX files.
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, ["" if v is None else _cell(v) for v in values]
    finally:
        workbook.close()


def _cell(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def open_table(path: Path) -> Table:
    """Open a CSV or XLSX file; refuse an empty file or one without a header."""
    if not path.is_file():
        raise file_error("file.not_found", "文件不存在", "File not found", path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            rows = _xlsx_rows(path)
            first = next(rows, None)
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            raise file_error(
                "file.unreadable",
                f"无法读取文件“{path}”：{exc}",
                f"Cannot read file {str(path)!r}: {exc}",
                path,
            ) from None
    else:
        rows = _csv_rows(_decode(path))
        first = next(rows, None)
    if first is None or not any(cell.strip() for cell in first[1]):
        raise file_error("file.empty", "文件为空或缺少表头", "The file is empty or has no header row", path)
    header = [cell.strip().lstrip("\ufeff") for cell in first[1]]
    return Table(header=header, rows=rows, sha256=sha256_of(path))
