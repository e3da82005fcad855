"""`liangshi stats`: the statistics of checking and acceptance, so anyone can check them / 检查验收统计.

liangshi stats wilson 45 50 --json
liangshi stats sample-size --margin 0.05 --p 0.5 --population 1000
liangshi stats acceptance-plan --lot 1000 --aql 0.01 --lq 0.05 --alpha 0.05 --beta 0.10 --model binomial
liangshi stats chapman 900 100 88
"""

from __future__ import annotations

import json
from typing import Any

import typer

from liangshi.cli.common import fail, out
from liangshi.errors import LiangshiError
from liangshi.inspections import rules

app = typer.Typer(no_args_is_help=True, help="Statistics of checking and acceptance / 检查验收统计")


def _print(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
        return
    for line in lines:
        out.print(line)


@app.command("wilson")
def wilson(
    x: int = typer.Argument(..., help="Successes (e.g. households found right)"),
    n: int = typer.Argument(..., help="Trials (households inspected)"),
    z: float = typer.Option(rules.Z95, "--z", help="Normal quantile (1.96 for 95 %)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"low","high","centre"}'),
) -> None:
    """Wilson interval for x of n / 威尔逊区间."""
    try:
        ci = rules.wilson(x, n, z)
    except LiangshiError as exc:
        raise fail(exc) from None
    _print(
        ci.to_json(),
        as_json,
        [
            f"比率 rate {ci.estimate:.4%}  ({x}/{n}, z={z:.4g})",
            f"区间 interval [{ci.low:.4%}, {ci.high:.4%}]  中心 centre {ci.centre:.4%}",
        ],
    )


@app.command("sample-size")
def sample_size(
    margin: float = typer.Option(..., "--margin", help="Half-width wanted, e.g. 0.05"),
    p: float = typer.Option(..., "--p", help="Expected proportion (0.5 when unknown)"),
    population: int = typer.Option(..., "--population", help="Households in the stratum (N)"),
    z: float = typer.Option(rules.Z95, "--z", help="Normal quantile (1.96 for 95 %)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"n"}'),
) -> None:
    """Sample size for a margin, with the finite-population correction / 样本量."""
    try:
        n = rules.sample_size(margin, p, population, z)
    except LiangshiError as exc:
        raise fail(exc) from None
    _print({"n": n}, as_json, [f"样本量 sample size n = {n}  (N={population}, e={margin}, p={p}, z={z:.4g})"])


@app.command("acceptance-plan")
def acceptance_plan(
    lot: int = typer.Option(..., "--lot", help="Lot size N (households of the community)"),
    aql: float = typer.Option(..., "--aql", help="Acceptable quality level (defect rate), e.g. 0.02"),
    lq: float = typer.Option(..., "--lq", help="Limiting quality (defect rate), e.g. 0.10"),
    alpha: float = typer.Option(..., "--alpha", help="Producer's risk: P(reject | AQL)"),
    beta: float = typer.Option(..., "--beta", help="Consumer's risk: P(accept | LQ)"),
    model: str = typer.Option("binomial", "--model", help="binomial or hypergeometric"),
    as_json: bool = typer.Option(False, "--json", help='Print {"n","ac"}'),
) -> None:
    """Single sampling plan (n, Ac) meeting both risks, n the smallest / 抽样验收方案."""
    try:
        plan = rules.acceptance_plan(lot, aql, lq, alpha, beta, model)  # type: ignore[arg-type]
    except LiangshiError as exc:
        raise fail(exc) from None
    _print(
        plan.to_json(),
        as_json,
        [
            f"抽样 sample n = {plan.n}, 接收数 Ac = {plan.ac}  ({plan.model}, lot {lot})",
            f"P(接收 accept | AQL {aql}) = {plan.accept_at_aql:.4f} ≥ {1 - alpha:.4f}",
            f"P(接收 accept | LQ {lq}) = {plan.accept_at_lq:.4f} ≤ {beta:.4f}",
        ],
    )


@app.command("chapman")
def chapman(
    n1: int = typer.Argument(..., help="People in the register (system 1)"),
    n2: int = typer.Argument(..., help="People found by the re-canvass (system 2)"),
    m: int = typer.Argument(..., help="People in both"),
    z: float = typer.Option(rules.Z95, "--z", help="Normal quantile (1.96 for 95 %)"),
    as_json: bool = typer.Option(False, "--json", help='Print {"estimate","variance","low","high"}'),
) -> None:
    """Chapman's two-system population estimate / 双系统人口估计."""
    try:
        est = rules.chapman(n1, n2, m, z)
    except LiangshiError as exc:
        raise fail(exc) from None
    _print(
        est.to_json(),
        as_json,
        [
            f"估计 estimate {est.estimate:,.1f}  方差 variance {est.variance:,.1f}",
            f"区间 interval [{est.low:,.1f}, {est.high:,.1f}]  漏登 missed ≈ {est.estimate - n1:,.1f}",
        ],
    )
