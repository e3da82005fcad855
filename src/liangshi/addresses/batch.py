"""Batch matching files: a column of addresses in (xlsx, CSV or text), the ranked matches out as xlsx."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any, BinaryIO

from openpyxl import Workbook, load_workbook

from liangshi.addresses.numbering import decode_csv_bytes
from liangshi.errors import ValidationFailed

__all__ = ["MAX_BATCH", "MAX_UPLOAD", "XLSX", "matches_workbook", "read_address_column", "read_upload"]

MAX_BATCH = 5000
MAX_UPLOAD = 5_000_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADERS = {"地址", "address", "addresses", "地址原文", "住址"}


def _unreadable() -> ValidationFailed:
    return ValidationFailed(
        "address.batch_unreadable",
        "无法读取地址文件：应为 xlsx、CSV 或每行一个地址的文本（UTF-8 或 GB18030）",
        "Cannot read the address file: expected xlsx, CSV or text with one address a line (UTF-8 or GB18030)",
        {"field": "file"},
    )


def read_upload(stream: BinaryIO) -> list[str]:
    """The addresses of an uploaded file, read at most MAX_UPLOAD bytes far."""
    data = stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ValidationFailed(
            "address.batch_file_too_large",
            "地址文件过大（上限 5 MB）",
            "The address file is too large (5 MB at most)",
            {"field": "file"},
        )
    return read_address_column(data)


def read_address_column(data: bytes) -> list[str]:
    """The addresses in the first column of an xlsx sheet or a CSV/text file (a header row is skipped)."""
    values: list[str] = []
    if data[:2] == b"PK":
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError):
            raise _unreadable() from None
        for row in sheet.iter_rows(max_col=1, values_only=True):
            if row and row[0] is not None and str(row[0]).strip():
                values.append(str(row[0]).strip())
    else:
        text = decode_csv_bytes(data)
        if not isinstance(text, str):
            raise _unreadable()
        values = [row[0].strip() for row in csv.reader(text.splitlines()) if row and row[0].strip()]
    if values and values[0].strip().lower() in _HEADERS:
        values = values[1:]
    if not values:
        raise ValidationFailed(
            "address.batch_empty", "文件中没有地址", "The file holds no address", {"field": "file"}
        )
    if len(values) > MAX_BATCH:
        raise ValidationFailed(
            "address.batch_too_large",
            f"一次最多匹配 {MAX_BATCH} 个地址（文件中有 {len(values)} 个）",
            f"At most {MAX_BATCH} addresses a batch (the file holds {len(values)})",
            {"field": "file", "limit": MAX_BATCH, "count": len(values)},
        )
    return values


_COLUMNS = (
    ("input", "输入地址", "Input"),
    ("match_level", "匹配级别", "Match level"),
    ("standard", "标准地址", "Standard address"),
    ("confidence", "置信度", "Confidence"),
    ("address_id", "门牌编号", "Address id"),
    ("dwelling_id", "房屋编号", "Dwelling id"),
    ("reasons", "依据", "Reasons"),
    ("notes", "未能识别", "Not read"),
)
_LEVELS = {
    "area": ("区域", "area"),
    "road": ("街路巷", "road"),
    "plate": ("门牌", "plate"),
    "building": ("楼栋", "building"),
    "unit": ("单元", "unit"),
    "floor": ("楼层", "floor"),
    "room": ("房间", "room"),
}
MATCH_LEVEL_LABELS = _LEVELS  # the match levels' labels (zh, en), for the pages that show a stored level


def matches_workbook(results: list[dict[str, Any]], en: bool) -> bytes:
    """The matches (one row each, in input order) and their ranked candidates (a second sheet) as xlsx."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = "Matches" if en else "匹配结果"
    sheet.append([en_ if en else zh for _, zh, en_ in _COLUMNS])
    for r in results:
        level = _LEVELS.get(r.get("match_level") or "")
        row: list[Any] = []
        for key, _, _ in _COLUMNS:
            value = r.get(key)
            if key == "match_level":
                value = (level[1] if en else level[0]) if level else ""
            elif isinstance(value, list):
                value = " ".join(str(v) for v in value)
            row.append(value)
        sheet.append(row)
    candidates = book.create_sheet("Candidates" if en else "候选地址")
    candidates.append(
        ["Input", "Rank", "Level", "Standard address", "Confidence", "Reasons"]
        if en
        else ["输入地址", "排名", "级别", "标准地址", "置信度", "依据"]
    )
    for r in results:
        for rank, c in enumerate(r.get("candidates") or [], start=1):
            level = _LEVELS.get(c["level"], (c["level"], c["level"]))
            candidates.append(
                [
                    r["input"],
                    rank,
                    level[1] if en else level[0],
                    c["standard"],
                    c["confidence"],
                    " ".join(c["reasons"]),
                ]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
