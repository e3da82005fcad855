"""Reading a department batch: tables from files, uploads and JSON bodies, their columns, each cell checked with the
API's rules, and the problems of the rows that refuse a batch."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from liangshi.common.types import document_number, validation_context
from liangshi.departments import rules
from liangshi.departments.models import Agreement, Department
from liangshi.errors import Forbidden, LiangshiError, ValidationFailed
from liangshi.exchange import formats
from liangshi.exchange.reader import open_table
from liangshi.persons.rules import check_document_agrees
from liangshi.persons.schemas import PersonPatch
from liangshi.persons.service import document_query

MAX_ROW_ERRORS = 50
R = TypeVar("R")


@dataclass
class FeedTable:
    """A department file or JSON body as header and rows (line number, cells) plus its content hash."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    sha256: str


def table_from_file(path: Path) -> FeedTable:
    """A CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX file; wrong encodings and empty files refused."""
    table = open_table(path)
    return FeedTable(path.name, table.header, list(table.rows), table.sha256)


# What an upload may be: a CSV (a name without a suffix is read as one) or a workbook.
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"


def no_file() -> ValidationFailed:
    """A batch upload without a file (the API's multipart field `file`, the web form's file input)."""
    return ValidationFailed(
        "file.required", "请上传文件（字段 file）", "Upload a file (field 'file')", {"field": "file"}
    )


def _upload_type(name: str, content: bytes) -> str:
    """The reader's suffix for an upload: `.xlsx`/`.xlsm` for a workbook, else `.csv`; a file of another type (by
    its name, or a binary file named as a CSV) is refused with `file.type_unsupported` before anything is read."""
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return suffix
    # A CSV is text: a zip archive or NUL bytes in its head mean another kind of file under a CSV's name (a UTF-16
    # text, NULs and all, is left to the reader's clearer encoding error).
    utf16 = content.startswith((b"\xff\xfe", b"\xfe\xff"))
    binary = content.startswith(_ZIP_MAGIC) or (b"\x00" in content[:8192] and not utf16)
    if (suffix and suffix not in UPLOAD_SUFFIXES) or binary:
        raise ValidationFailed(
            "file.type_unsupported",
            "文件类型不受支持：请上传 CSV（UTF-8 或 GB18030）或 XLSX 文件",
            "Unsupported file type: upload a CSV (UTF-8 or GB18030) or XLSX file",
            {"field": "file", "file": Path(name).name, "allowed": list(UPLOAD_SUFFIXES)},
        )
    return ".csv"


def table_from_upload(name: str, content: bytes) -> FeedTable:
    """An uploaded file, read through the same reader as files on disk (a file of another type refused)."""
    suffix = _upload_type(name, content)
    with tempfile.TemporaryDirectory(prefix="liangshi-feed-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        table = table_from_file(path)
    return dataclasses.replace(table, name=Path(name).name or "upload")


def table_from_records(records: Sequence[Mapping[str, Any]], name: str = "body.json") -> FeedTable:
    """A JSON body: a list of records keyed by column."""
    if not records:
        raise ValidationFailed(
            "department.batch_empty", "批次没有记录", "The batch has no records", {"field": "records"}
        )
    header: list[str] = []
    for rec in records:
        for key in rec:
            if key not in header:
                header.append(key)
    rows = [
        (n, ["" if rec.get(k) is None else str(rec.get(k)) for k in header])
        for n, rec in enumerate(records, 1)
    ]
    return FeedTable(name, header, rows, rules.content_hash([dict(r) for r in records]))


@dataclass
class RowProblem:
    """A bad row of a refused batch."""

    line: int
    field: str
    code: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return dataclasses.asdict(self)


def _column_map(header: list[str]) -> dict[int, str]:
    names = {k: k for k in rules.PERSON_COLUMNS} | {zh: k for k, zh in rules.PERSON_COLUMNS.items()}
    # The routing columns departments add (管辖社区): known, not person fields.
    names |= {k: k for k in rules.ROUTE_COLUMNS} | {
        alias: k for k, aliases in rules.ROUTE_COLUMNS.items() for alias in aliases
    }
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for i, name in enumerate(header):
        if not name:
            continue
        key = names.get(name) or names.get(name.lower())
        if key is None:
            unknown.append(name)
        elif key in mapping.values():
            raise ValidationFailed(
                "department.column_repeated", f"列重复：{name}", f"Column given twice: {name}", {"field": key}
            )
        else:
            mapping[i] = key
    if unknown:
        raise ValidationFailed(
            "department.column_unknown",
            f"无法识别的列：{', '.join(unknown)}",
            f"Unknown column(s): {', '.join(unknown)}",
            {
                "field": unknown[0],
                "unknown": unknown,
                "allowed": [*rules.PERSON_COLUMNS, *rules.ROUTE_COLUMNS],
            },
        )
    if "id_number" not in mapping.values():
        # The same message as any import's missing columns; the key column also by its Chinese header.
        missing = ["id_number"]
        shown = f"id_number（{rules.PERSON_COLUMNS['id_number']}）"
        raise ValidationFailed(
            "import.columns_missing",
            f"缺少必需的列：{shown}",
            f"Required columns missing: {', '.join(missing)}",
            {"field": "id_number", "missing": missing},
        )
    return mapping


def feed_column_map(
    header: list[str],
    columns: Mapping[str, str],
    required: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> dict[int, str]:
    """A feed file's columns (position -> key), named by key, by Chinese header (`columns`: key -> header) or by
    an alias; an unknown or repeated column, or a required one missing, refuses the file."""
    names = {k: k for k in columns} | {zh: k for k, zh in columns.items()} | dict(aliases or {})
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for i, name in enumerate(header):
        if not name:
            continue
        key = names.get(name.strip()) or names.get(name.strip().lower())
        if key is None:
            unknown.append(name)
        elif key in mapping.values():
            raise ValidationFailed(
                "department.column_repeated", f"列重复：{name}", f"Column given twice: {name}", {"field": key}
            )
        else:
            mapping[i] = key
    if unknown:
        raise ValidationFailed(
            "department.column_unknown",
            f"无法识别的列：{', '.join(unknown)}",
            f"Unknown column(s): {', '.join(unknown)}",
            {"field": unknown[0], "unknown": unknown, "allowed": list(columns)},
        )
    missing = [k for k in required if k not in mapping.values()]
    if missing:
        shown = ", ".join(f"{k}（{columns[k]}）" for k in missing)
        raise ValidationFailed(
            "import.columns_missing",
            f"缺少必需的列：{shown}",
            f"Required columns missing: {', '.join(missing)}",
            {"field": missing[0], "missing": missing},
        )
    return mapping


def _parse_value(name: str, raw: str, today: dt.date) -> Any:
    """A cell as the register's value, checked with the API's rules."""
    if name == "death_date":
        return formats.parse_date(raw, name)
    if name == "sex":
        value: Any = formats.parse_sex(raw)
    elif name in ("ethnicity", "education", "marital_status"):
        value = formats.code_or_name(name, raw, name)
    elif name == "birth_date":
        value = formats.parse_date(raw, name)
    else:
        value = raw
    data = PersonPatch.model_validate({"expected_version": 1, name: value}, context=validation_context(today))
    return getattr(data, name)


def _row_problem(line: int, exc: LiangshiError | ValidationError, default: str) -> RowProblem:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ())) or default
        ctx = err.get("ctx") or {}
        return RowProblem(
            line,
            loc,
            str(err.get("type")),
            str(ctx.get("zh") or err["msg"]),
            str(ctx.get("en") or err["msg"]),
        )
    return RowProblem(line, str(exc.data.get("field", default)), exc.code, exc.message_zh, exc.message_en)


def _refuse_rows(problems: list[RowProblem], total: int) -> ValidationFailed:
    first = problems[0]
    lines = len({p.line for p in problems})
    return ValidationFailed(
        "department.batch_rows_invalid",
        f"批次有{lines}行数据无效，整批未接收（第{first.line}行 {first.field}：{first.message_zh}）",
        f"{lines} row(s) of the batch are invalid; nothing was accepted "
        f"(line {first.line}, {first.field}: {first.message_en})",
        {
            "rejected": lines,
            "rows": total,
            "errors": [p.as_dict() for p in problems[:MAX_ROW_ERRORS]],
        },
    )


ParsedRow = tuple[int, str, str, dict[str, Any]]


def community_problem(line: int, code: str) -> RowProblem:
    """A row whose 管辖社区 is not a community (or village) of the submitter's jurisdiction."""
    exc = ValidationFailed(
        "department.community_unknown",
        f"管辖社区“{code}”不是本辖区内的社区或村",
        f"The community {code!r} is not a community or village of your jurisdiction",
        {"field": "community_code", "input": code},
    )
    return _row_problem(line, exc, "community_code")


def _agrees_with_id(
    line: int, doc_type: str, number: str, record: dict[str, Any], today: dt.date
) -> list[RowProblem]:
    """The row's birth date and sex against its own ID number (GB 11643 carries both): each disagreement."""
    problems = []
    for name, birth, sex in (
        ("birth_date", record.get("birth_date"), ""),
        ("sex", None, str(record.get("sex") or "")),
    ):
        if name not in record:
            continue
        try:
            check_document_agrees(doc_type, number, birth_date=birth, sex=sex, today=today)
        except LiangshiError as exc:
            problems.append(_row_problem(line, exc, name))
    return problems


def _parse_row(
    line: int,
    values: dict[str, str | None],
    fields: list[str],
    today: dt.date,
    known: dict[tuple[str, str], Any],
) -> tuple[ParsedRow | None, list[RowProblem]]:
    """One row as (line, document type, normalised number, checked values), or every problem it has."""
    problems: list[RowProblem] = []
    number = values.get("id_number")
    doc_type = values.get("doc_type") or "resident_id"
    normalised: str | None = None
    try:
        if not number:
            raise ValidationFailed(
                "value.required", "证件号码不能为空", "The ID number is required", {"field": "id_number"}
            )
        normalised = document_query(number, today)
        if doc_type == "resident_id":
            try:
                normalised = document_number("resident_id", normalised, None, today=today)
            except ValidationFailed as exc:
                raise ValidationFailed(
                    exc.code, exc.message_zh, exc.message_en, {**exc.data, "field": "id_number"}
                ) from None
    except (LiangshiError, ValidationError) as exc:
        problems.append(_row_problem(line, exc, "id_number"))
        normalised = None
    record: dict[str, Any] = {}
    for name in fields:
        raw = values.get(name)
        if raw is None:
            continue
        try:
            # Feeds repeat values (occupations, dates): each distinct cell is checked once.
            cell = (name, raw)
            if cell not in known:
                known[cell] = _parse_value(name, raw, today)
            record[name] = known[cell]
        except (LiangshiError, ValidationError) as exc:
            problems.append(_row_problem(line, exc, name))
    community = values.get("community_code")
    if community is not None and not (len(community) == 12 and community.isdigit()):
        problems.append(community_problem(line, community))
    if normalised is not None:
        problems += _agrees_with_id(line, doc_type, normalised, record, today)
    if problems or normalised is None:
        return None, problems
    return (line, doc_type, normalised, record), []


def _parse_rows(
    table: FeedTable, mapping: dict[int, str], fields: list[str], today: dt.date
) -> tuple[list[ParsedRow], list[RowProblem], dict[int, str]]:
    """Every non-empty row as (line, document type, normalised number, checked values), the problems of the bad
    rows (all of a row's problems: every cell is checked, and the birth date and sex against the row's own ID
    number), and the community code each good row names (line -> code). A batch without rows is refused."""
    parsed: list[ParsedRow] = []
    problems: list[RowProblem] = []
    communities: dict[int, str] = {}
    known: dict[tuple[str, str], Any] = {}
    for line, cells in table.rows:
        if not any(c.strip() for c in cells):
            continue
        values = formats.row_values(mapping, cells)
        row, found = _parse_row(line, values, fields, today, known)
        problems += found
        if row is not None:
            parsed.append(row)
            community = values.get("community_code")
            if community:
                communities[line] = community
    if not parsed and not problems:
        raise ValidationFailed(
            "department.batch_empty", "批次没有记录", "The batch has no records", {"field": "rows"}
        )
    return parsed, problems, communities


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def read_feed_rows(
    table: FeedTable,
    mapping: dict[int, str],
    parse: Callable[[int, dict[str, str], dt.date], tuple[R | None, list[RowProblem]]],
    today: dt.date,
) -> tuple[list[R], list[RowProblem]]:
    """Every non-empty row of a feed checked by `parse`: the good rows and the problems of the bad ones; a file
    with no row at all is refused (`department.batch_empty`)."""
    rows: list[R] = []
    problems: list[RowProblem] = []
    for line, cells in table.rows:
        values = {key: (cells[i] if i < len(cells) else "") for i, key in mapping.items()}
        if not any(v.strip() for v in values.values()):
            continue
        row, found = parse(line, values, today)
        if row is not None:
            rows.append(row)
        problems.extend(found)
    if not rows and not problems:
        raise ValidationFailed(
            "department.batch_empty", "批次没有记录", "The batch has no records", {"field": "rows"}
        )
    return rows, problems


def require_provided(
    agreement: Agreement, dept: Department, *, object_kind: str, field: str, kind: str, zh: str, en: str
) -> None:
    """The agreement must name `field` of `object_kind` among what the department provides (`kind` the feed,
    `zh`/`en` what it sends), else `department.kind_not_provided`."""
    if field not in json.loads(agreement.provides).get(object_kind, []):
        raise Forbidden(
            "department.kind_not_provided",
            f"协议未约定该部门报送：{zh}",
            f"The agreement does not let the department send: {en}",
            {"department": dept.code, "kind": kind, "field": field},
        )
