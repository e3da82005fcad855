"""Read department files: CSV in UTF-8, UTF-8 with BOM or GB18030, and XLSX (first sheet)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from liangshi.errors import ValidationFailed

ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Limits:
    """What a department file may hold, checked before its rows are read (issue 18: an XLSX bomb of 930 KB
    unpacks to 2.4M rows; a CSV line of 1 GB)."""

    xlsx_uncompressed_bytes: int = 100_000_000
    rows: int = 1_000_000
    columns: int = 200
    line_chars: int = 1_000_000
    field_chars: int = 131_072  # the csv module's own default field limit


LIMITS = Limits()
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


@dataclass(frozen=True)
class Table:
    """A file's header and its data rows as (line number, values by header)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    sha256: str


def file_error(code: str, zh: str, en: str, path: Path, **data: int) -> ValidationFailed:
    """A file-level error (nothing is loaded); it names the file, never its server path (an upload's is a temp
    directory)."""
    return ValidationFailed(code, zh, en, {"file": path.name, **data})


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _encoding(path: Path) -> str:
    """The first of ENCODINGS that decodes the whole file, found by streaming it (never held whole in memory)."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise file_error(
        "file.encoding",
        "文件编码无法识别（支持 UTF-8 与 GB18030）",
        "Unknown file encoding (UTF-8 and GB18030 are supported)",
        path,
    )


def _csv_rows(path: Path, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    encoding = _encoding(path)

    def lines() -> Iterator[str]:
        with path.open(encoding=encoding, newline="") as fh:
            number = 0
            while True:
                line = fh.readline(limits.line_chars + 1)
                if not line:
                    return
                number += 1
                if len(line.rstrip("\r\n")) > limits.line_chars:
                    raise file_error(
                        "file.line_too_long",
                        f"第{number}行超过{limits.line_chars}个字符",
                        f"Line {number} is longer than {limits.line_chars} characters",
                        path,
                        line=number,
                        limit=limits.line_chars,
                    )
                yield line

    reader = csv.reader(lines())
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            line = reader.line_num
            raise file_error(
                "file.field_too_long",
                f"第{line}行的字段超过{limits.field_chars}个字符或格式有误",
                f"A field on line {line} is longer than {limits.field_chars} characters or malformed",
                path,
                line=line,
                limit=limits.field_chars,
            ) from None
        if reader.line_num > limits.rows + 1:
            raise _too_many_rows(path, limits)
        if len(row) > limits.columns:
            raise _too_many_columns(path, limits)
        if any(len(cell) > limits.field_chars for cell in row):
            raise file_error(
                "file.field_too_long",
                f"第{reader.line_num}行的字段超过{limits.field_chars}个字符或格式有误",
                f"A field on line {reader.line_num} is longer than {limits.field_chars} characters or malformed",
                path,
                line=reader.line_num,
                limit=limits.field_chars,
            )
        yield reader.line_num, row


def _too_many_rows(path: Path, limits: Limits) -> ValidationFailed:
    return file_error(
        "file.too_many_rows",
        f"文件超过{limits.rows}行",
        f"The file has more than {limits.rows} rows",
        path,
        limit=limits.rows,
    )


def _too_many_columns(path: Path, limits: Limits) -> ValidationFailed:
    return file_error(
        "file.too_many_columns",
        f"文件超过{limits.columns}列",
        f"The file has more than {limits.columns} columns",
        path,
        limit=limits.columns,
    )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _count_rows(head: bytes, fh: IO[bytes]) -> int:
    count = head.count(b"<row")
    tail = head[-3:]
    for block in iter(lambda: fh.read(1 << 20), b""):
        count += (tail + block).count(b"<row")
        tail = block[-3:]
    return count


def check_xlsx(path: Path, limits: Limits = LIMITS) -> None:
    """Refuse a workbook whose archive unpacks beyond the limit or whose sheets declare too many rows or columns,
    from the zip directory and each sheet's <dimension>, before openpyxl parses anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > limits.xlsx_uncompressed_bytes:
                raise file_error(
                    "file.too_large_unpacked",
                    f"工作簿解压后超过{limits.xlsx_uncompressed_bytes}字节",
                    f"The workbook unpacks to more than {limits.xlsx_uncompressed_bytes} bytes",
                    path,
                    limit=limits.xlsx_uncompressed_bytes,
                )
            for member in members:
                if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
                    continue
                with archive.open(member) as fh:
                    head = fh.read(4096)
                    found = _DIMENSION.search(head)
                    if found is not None and found.group(4) is not None:
                        if int(found.group(4)) > limits.rows + 1:
                            raise _too_many_rows(path, limits)
                        if _column_number(found.group(3)) > limits.columns:
                            raise _too_many_columns(path, limits)
                    # The dimension may be missing or false: count the rows in the XML itself (inflating at
                    # most the unpacked limit, far faster than parsing).
                    if _count_rows(head, fh) > limits.rows + 1:
                        raise _too_many_rows(path, limits)
    except (zipfile.BadZipFile, OSError, EOFError):
        zh_reason, en_reason = "不是有效的XLSX工作簿", "not a valid XLSX workbook"
        raise file_error(
            "file.unreadable",
            f"无法读取文件“{path.name}”：{zh_reason}",
            f"Cannot read file {path.name!r}: {en_reason}",
            path,
        ) from None


def _xlsx_rows(path: Path, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    # Imported here, not at the top: openpyxl (it loads numpy) is needed only for XLSX files.
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        # The dimension may be missing or false: the limits hold while streaming too.
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if line > limits.rows + 1:
                raise _too_many_rows(path, limits)
            if len(values) > limits.columns:
                raise _too_many_columns(path, limits)
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


def open_table(path: Path, limits: Limits = LIMITS) -> Table:
    """Open a CSV or XLSX file; refuse an empty file, one without a header, or one beyond the limits."""
    if not path.is_file():
        raise file_error("file.not_found", "文件不存在", "File not found", path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        check_xlsx(path, limits)
        try:
            rows = _xlsx_rows(path, limits)
            first = next(rows, None)
        except ValidationFailed:
            raise
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            reason = str(exc).replace(str(path), path.name).replace(str(path.parent), "")
            raise file_error(
                "file.unreadable",
                f"无法读取文件“{path.name}”：{reason}",
                f"Cannot read file {path.name!r}: {reason}",
                path,
            ) from None
    else:
        rows = _csv_rows(path, limits)
        first = next(rows, None)
    if first is None or not any(cell.strip() for cell in first[1]):
        raise file_error("file.empty", "文件为空或缺少表头", "The file is empty or has no header row", path)
    header = [cell.strip().lstrip("\ufeff") for cell in first[1]]
    return Table(header=header, rows=rows, sha256=sha256_of(path))
