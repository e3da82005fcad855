"""`liangshi address`: parse free-text Chinese addresses into standard-address components.

liangshi address parse "湖北鄂州古楼街道洋澜路12号附2" --json
liangshi address parse --file addresses.txt --json      # one address per line
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from liangshi.access.service import SYSTEM
from liangshi.addresses import service
from liangshi.addresses.batch import matches_workbook, read_address_column
from liangshi.addresses.numbering import decode_csv_bytes
from liangshi.addresses.parsing import parse_address
from liangshi.cli.common import database
from liangshi.errors import LiangshiError
from liangshi.registry import Context

app = typer.Typer(help="Addresses / 地址", no_args_is_help=True)

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False)


@app.callback()
def main() -> None:
    """Addresses / 地址."""


def _fail(code: str, zh: str, en: str) -> typer.Exit:
    err.print(f"{code}: {zh} / {en}", markup=False)
    return typer.Exit(2)


@app.command("parse")
def parse(
    texts: list[str] = typer.Argument(None, help="Addresses as written / 地址原文"),
    file: Path | None = typer.Option(None, "--file", "-f", help="A text file, one address per line"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per address, in order"),
    details: bool = typer.Option(
        False, "--details", help="With --json: add the division code, current names and what was not read"
    ),
) -> None:
    """Split addresses into province … room and POI / 地址要素解析."""
    inputs = [t for t in (texts or []) if t.strip()]
    if file is not None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise _fail(
                "file.unreadable",
                f"无法读取文件“{file}”：{exc.strerror or exc}",
                f"Cannot read file {str(file)!r}: {exc.strerror or exc}",
            ) from None
        decoded = decode_csv_bytes(data)
        if not isinstance(decoded, str):
            raise _fail(decoded.error.code, decoded.error.message_zh, decoded.error.message_en)
        inputs += [line.strip() for line in decoded.splitlines() if line.strip()]
    if not inputs:
        raise _fail("address.no_input", "没有要解析的地址", "No address to parse (give TEXT or --file)")
    results = [parse_address(text) for text in inputs]
    if as_json:
        for result in results:
            typer.echo(json.dumps(result.details() if details else result.to_json(), ensure_ascii=False))
        return
    for text, result in zip(inputs, results, strict=True):
        table = Table(title=text, show_header=False)
        table.add_column("field")
        table.add_column("value")
        for name, value in result.to_json().items():
            table.add_row(name, value or "")
        for key, current in result.current.items():
            table.add_row(f"{key} (现名 current)", current)
        if result.notes:
            table.add_row("未能识别 not read", " ".join(result.notes))
        out.print(table)


@app.command("match")
def match(
    texts: list[str] | None = typer.Argument(None, help="Addresses as written"),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="A text or CSV file, one address per line (first column)"
    ),
    as_json: bool = typer.Option(
        True, "--json/--table", help="One JSON object per address (default), or a table"
    ),
    xlsx: Path | None = typer.Option(
        None, "--xlsx", help="Write the matches and candidates to this xlsx file"
    ),
) -> None:
    """Match free-text addresses to the standard addresses in the database, with confidence and reasons."""
    inputs = list(texts or [])
    if file is not None:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise _fail("file.unreadable", f"无法读取文件：{exc}", f"Cannot read the file: {exc}") from None
        try:
            inputs += read_address_column(raw)
        except LiangshiError as exc:
            raise _fail(exc.code, exc.message_zh, exc.message_en) from None
    if not inputs:
        raise _fail("input.empty", "没有输入地址", "No addresses given")
    with database() as (session, clock):
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="address matching")
        results = service.match_batch(session, ctx, inputs)
    if xlsx is not None:
        xlsx.write_bytes(matches_workbook(results, en=False))
        err.print(f"{len(results)} 个地址的匹配结果已写入 / matches written to {xlsx}", markup=False)
        return
    if as_json:
        for r in results:
            typer.echo(json.dumps(r, ensure_ascii=False, default=str))
        return
    table = Table("输入 input", "匹配 level", "标准地址 standard", "置信度 confidence", "依据 reasons")
    for r in results:
        table.add_row(
            r["input"],
            str(r["match_level"] or ""),
            str(r["standard"] or ""),
            f"{r['confidence']:.2f}",
            " ".join(r["reasons"]),
        )
    Console().print(table)
