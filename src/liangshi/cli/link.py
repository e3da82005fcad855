"""`liangshi link`: batch record linkage (issue 7).

liangshi link dedupe --input records.csv --out clusters.csv [--engine duckdb|spark]
liangshi link explain --input records.csv RECORD_A RECORD_B
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from liangshi.cli.common import err, fail, out
from liangshi.clock import Clock
from liangshi.errors import LiangshiError, NotFound
from liangshi.linkage import cluster, files, score
from liangshi.linkage.api import ACCEPT, explain_pair
from liangshi.mpi.cli import add_commands as add_mpi_commands

app = typer.Typer(help="Record linkage / 记录关联（查重）", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Record linkage."""


@app.command("dedupe")
def dedupe(
    input_path: Path = typer.Option(..., "--input", "-i", help="CSV: record_id, source, name, sex, …"),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write record_id,cluster_id"),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark (local mode)"),
    model: str = typer.Option("expert", "--model", help="expert (default) or trained (EM on this file)"),
    threshold: float = typer.Option(
        None, "--threshold", min=0.0, max=1.0, help="Link probability (default: the engine's ACCEPT)"
    ),
    encoding: str = typer.Option("utf-8", "--encoding", help="Input encoding (utf-8, gb18030, …)"),
) -> None:
    """Cluster the records that are the same person; write a cluster id for every input row."""
    steps = ("读取 reading", "规范化 normalising", "比对评分 scoring", "聚类 clustering", "写出 writing")
    try:
        score.check_options(engine=engine, model=model)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=err,
        ) as progress:  # fmt: skip
            task = progress.add_task(steps[0], total=len(steps))
            records = files.read_records(input_path, encoding=encoding)
            progress.update(task, advance=1, description=f"{steps[1]} ({len(records):,})")
            frame = score.prepare(records, today=Clock().today())
            progress.update(task, advance=1, description=f"{steps[2]} ({engine})")
            cut = ACCEPT if threshold is None else threshold
            predictions = score.predict_frame(frame, engine=engine, model=model, min_probability=cut)
            progress.update(task, advance=1, description=f"{steps[3]} ({len(predictions):,} pairs)")
            clusters = cluster.clusters(frame, predictions, threshold=cut)
            progress.update(task, advance=1, description=steps[4])
            files.write_clusters(out, records, clusters)
            progress.update(task, advance=1, description="完成 done")
    except LiangshiError as exc:
        raise fail(exc) from None
    groups = len(set(clusters.values()))
    print(f"记录 records {len(records):,}, 人员簇 clusters {groups:,}; 已写入 written to {out}")


@app.command("explain")
def explain(
    input_path: Path = typer.Option(..., "--input", "-i", help="The records CSV"),
    a: str = typer.Argument(..., help="record_id of the first record"),
    b: str = typer.Argument(..., help="record_id of the second record"),
    encoding: str = typer.Option("utf-8", "--encoding"),
) -> None:
    """Why two records are (not) the same person: each field's comparison level and weight."""
    try:
        records = {r.record_id: r for r in files.read_records(input_path, encoding=encoding)}
        for rid in (a, b):
            if rid not in records:
                raise NotFound(
                    "linkage.record_not_found",
                    f"文件中没有该记录：{rid}",
                    f"No such record in the file: {rid}",
                    {"record_id": rid},
                )
        probability, weight, evidence = explain_pair(records[a], records[b], today=Clock().today())
    except LiangshiError as exc:
        raise fail(exc) from None
    table = Table("字段 field", "比对级别 level", "权重 weight (log2)")
    for item in evidence:
        table.add_row(item.field, item.level, f"{item.weight:+.2f}")
    table.add_row("合计 total", "", f"{weight:+.2f}")
    out.print(table)
    err.print(f"匹配概率 match probability: {probability:.6f}")


# `liangshi link persons`: the master person index over the register.
add_mpi_commands(app)
