"""`liangshi validate id`: check ID numbers (GB 11643) without a database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from liangshi.cli.common import err, out
from liangshi.clock import Clock
from liangshi.common.idnumber import check_id_number

app = typer.Typer(help="Validate input / 校验", no_args_is_help=True)


@app.command("id")
def validate_id(
    ids: list[str] = typer.Argument(None, help="ID numbers"),
    file: Path = typer.Option(None, "--file", "-f", help="One ID number per line"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input"),
) -> None:
    """Check ID numbers (GB 11643): format, birth date, check character; 15-digit numbers are upgraded."""
    inputs = list(ids or [])
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            err.print(f"[red]file.unreadable[/red]: 无法读取文件 / cannot read {file}: {exc}")
            raise typer.Exit(2) from None
        inputs += [line.strip() for line in text.splitlines() if line.strip()]
    if not inputs:
        err.print("[red]input.empty[/red]: 没有输入 / no ID numbers given")
        raise typer.Exit(2)
    today = Clock().today()
    results = [check_id_number(value, today=today) for value in inputs]
    if as_json:
        for r in results:
            sys.stdout.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table(
        "输入 input", "有效 valid", "规范 normalized", "出生 birth", "性别 sex", "地区 region", "错误 error"
    )
    for r in results:
        j = r.to_json()
        table.add_row(
            *(
                str(j[k]) if j[k] is not None else ""
                for k in ("input", "valid", "normalized", "birth_date", "sex", "region", "error")
            )
        )
    out.print(table)
