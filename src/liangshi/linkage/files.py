"""Batch files for ``liangshi link dedupe``: read and check the input CSV, write the clusters CSV.

Input columns: ``record_id`` (required, unique, non-empty) and any of ``source, name, sex, birth_date,
id_number, phone, address`` (missing columns and empty cells are empty values; other columns are ignored).
A bad file is refused as a whole with a :class:`~liangshi.errors.ValidationFailed`; nothing is written.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from liangshi.errors import ValidationFailed
from liangshi.linkage.records import LinkRecord

__all__ = ["INPUT_COLUMNS", "read_records", "write_clusters"]

INPUT_COLUMNS: tuple[str, ...] = (
    "record_id",
    "source",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "phone",
    "address",
)


def encoding_error(path: Path, encoding: str, why_zh: str, why_en: str) -> ValidationFailed:
    """The one refusal of a file that is not in the encoding it was read with (why: what gave it away)."""
    return ValidationFailed(
        "linkage.encoding",
        f"文件不是 {encoding} 编码（{why_zh}）；请另存为 UTF-8，或用 --encoding 指定（如 gb18030）",
        f"The file is not {encoding}-encoded ({why_en}); "
        "save it as UTF-8 or name its encoding with --encoding (e.g. gb18030)",
        {"path": str(path), "encoding": encoding},
    )


def read_records(path: Path, *, encoding: str = "utf-8") -> list[LinkRecord]:
    """Read and check a records CSV (UTF-8, with or without BOM, unless ``encoding`` says otherwise)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(
            "linkage.file_unreadable",
            f"无法读取文件：{path}（{exc.strerror}）",
            f"Cannot read the file {path} ({exc.strerror})",
            {"path": str(path)},
        ) from None
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = raw.decode(codec)
    except (UnicodeDecodeError, LookupError) as exc:
        at = getattr(exc, "start", 0)
        raise encoding_error(
            path, encoding, f"第 {at} 字节处无法解码", f"cannot decode at byte {at}"
        ) from None
    if "\x00" in text:
        raise encoding_error(
            path, encoding, "含有空字符，可能是 UTF-16 编码", "it contains NUL characters: UTF-16?"
        )
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "record_id" not in header:
        raise ValidationFailed(
            "linkage.missing_column",
            "缺少必需的列：record_id",
            "Missing required column: record_id",
            {"path": str(path), "missing": ["record_id"], "columns": header},
        )
    reader.fieldnames = header
    records: list[LinkRecord] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        values = {c: (row.get(c) or "").strip() for c in INPUT_COLUMNS}
        rid = values["record_id"]
        if not rid:
            raise ValidationFailed(
                "linkage.empty_record_id",
                f"第 {line} 行的 record_id 为空",
                f"Line {line}: record_id is empty",
                {"path": str(path), "line": line},
            )
        if rid in seen:
            where_zh, where_en = f"第 {seen[rid]} 行和第 {line} 行", f"lines {seen[rid]} and {line}"
            raise ValidationFailed(
                "linkage.duplicate_record_id",
                f"record_id 重复：{rid}（{where_zh}）",
                f"Duplicate record_id {rid} ({where_en})",
                {"path": str(path), "record_id": rid, "lines": [seen[rid], line]},
            )
        seen[rid] = line
        records.append(
            LinkRecord(
                record_id=rid,
                source=values["source"],
                name=values["name"] or None,
                sex=values["sex"] or None,
                birth_date=values["birth_date"] or None,
                id_number=values["id_number"] or None,
                phone=values["phone"] or None,
                address=values["address"] or None,
            )
        )
    return records


def write_clusters(path: Path, records: Sequence[LinkRecord], clusters: Mapping[str, str]) -> None:
    """Write ``record_id,cluster_id`` for every record, in input order, atomically (temp file, rename)."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=".clusters-", suffix=".csv", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id", "cluster_id"])
            for r in records:
                writer.writerow([r.record_id, clusters[r.record_id]])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
