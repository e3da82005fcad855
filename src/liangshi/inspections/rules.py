"""The statistics of checking and acceptance (检查验收): intervals, sample sizes, acceptance plans, coverage.

Pure functions over numbers (DOMAIN.md, "Checking and acceptance, as statistics"); the distributions come from
scipy. Bad input raises `ValidationFailed` with a stable code and writes nothing (there is nothing to write here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as st

from liangshi.errors import ValidationFailed
from liangshi.inspections import missed as missed_interval

Z95 = float(st.norm.ppf(0.975))
Model = Literal["binomial", "hypergeometric"]
MODELS: tuple[Model, ...] = ("binomial", "hypergeometric")
# The acceptance plan's search looks at sample sizes in blocks that double (32, 64, 128, …, at most 512): a plan's n
# is small against a city's lots, so the first blocks hold it and the larger sizes are never computed.
_FIRST_BLOCK = 32
_BLOCK = 512
# How a plan's households are drawn (stored with the plan, so that a redraw uses the method it was drawn with):
# "pcg64" (since stop 25): numpy's PCG64 keys, see `draw_array`; "sample": Python's random.Random(seed).sample over
# the sorted ids, with which the plans before stop 25 were drawn.
DrawMethod = Literal["pcg64", "sample"]
DRAW_METHODS: tuple[DrawMethod, ...] = ("pcg64", "sample")


@dataclass(frozen=True)
class Interval:
    """A proportion's point estimate p̂, the interval's centre (Wilson's, pulled towards ½) and its bounds."""

    estimate: float
    centre: float
    low: float
    high: float

    def to_json(self) -> dict[str, float]:
        """`{"low", "high", "centre"}` as `liangshi stats wilson --json` prints it."""
        return {"low": self.low, "high": self.high, "centre": self.centre}


@dataclass(frozen=True)
class Plan:
    """A single sampling plan: inspect n of the lot, accept if the defects found are at most `ac`."""

    n: int
    ac: int
    model: Model
    lot: int
    accept_at_aql: float
    accept_at_lq: float

    def to_json(self) -> dict[str, int]:
        """`{"n", "ac"}` as `liangshi stats acceptance-plan --json` prints it."""
        return {"n": self.n, "ac": self.ac}


@dataclass(frozen=True)
class Chapman:
    """Chapman's two-system estimate of a population with its variance and interval."""

    estimate: float
    variance: float
    low: float
    high: float

    def to_json(self) -> dict[str, float]:
        """`{"estimate", "variance", "low", "high"}` as `liangshi stats chapman --json` prints it."""
        return {"estimate": self.estimate, "variance": self.variance, "low": self.low, "high": self.high}


def _z(z: float) -> float:
    if not math.isfinite(z) or z <= 0:
        raise ValidationFailed("stats.bad_z", "z 值须大于 0", "z must be greater than 0", {"z": z})
    return z


def _risk(value: float, field: str) -> float:
    if not math.isfinite(value) or not 0 < value < 1:
        raise ValidationFailed(
            "stats.out_of_range",
            f"{field} 须在 0 与 1 之间（不含端点）",
            f"{field} must lie strictly between 0 and 1",
            {"field": field, "value": value},
        )
    return value


def _count(value: int, field: str, *, minimum: int = 0) -> int:
    if value < minimum:
        raise ValidationFailed(
            "stats.bad_count",
            f"{field} 须为不小于 {minimum} 的整数",
            f"{field} must be a whole number of at least {minimum}",
            {"field": field, "value": value, "minimum": minimum},
        )
    return value


def wilson(x: int, n: int, z: float = Z95) -> Interval:
    """Wilson's interval for x successes in n trials: centre (p̂ + z²/2n)/(1 + z²/n), half-width
    z/(1 + z²/n)·√(p̂(1−p̂)/n + z²/4n²) (DOMAIN.md). Closed form on purpose: scipy's
    `binomtest(x, n).proportion_ci(method="wilson")` gives the same bounds (tests/inspections/test_rules.py checks
    it) but computes a p-value first, 0.7 ms a call, which a city's 300 communities × 5 rates would pay."""
    _count(n, "n", minimum=1)
    _count(x, "x")
    if x > n:
        raise ValidationFailed(
            "stats.more_than_trials",
            "成功数不能大于样本量",
            "The count cannot exceed the number of trials",
            {"x": x, "n": n},
        )
    z = _z(z)
    p = x / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(estimate=p, centre=centre, low=max(0.0, centre - half), high=min(1.0, centre + half))


def sample_size(margin: float, p: float, population: int, z: float = Z95) -> int:
    """Households to sample for a margin e: n₀ = z²p(1−p)/e², with the finite-population correction n₀/(1+(n₀−1)/N)."""
    _risk(margin, "margin")
    _risk(p, "p")
    _count(population, "population", minimum=1)
    z = _z(z)
    n0 = z * z * p * (1 - p) / (margin * margin)
    n = n0 / (1 + (n0 - 1) / population)
    # 384.16000000000003 is 385, 278.0000000001 is 278: round away the float noise before taking the ceiling.
    return max(1, min(population, math.ceil(round(n, 9))))


def _defects(lot: int, aql: float, lq: float) -> tuple[int, int]:
    """Defective units in a lot at the AQL (rounded up) and at the LQ (rounded down): both risks conservative."""
    return math.ceil(round(aql * lot, 9)), math.floor(round(lq * lot, 9))


def check_plan_inputs(aql: float, lq: float, alpha: float, beta: float) -> None:
    """Quality levels and risks strictly between 0 and 1, and the AQL below the LQ."""
    _risk(aql, "aql")
    _risk(lq, "lq")
    _risk(alpha, "alpha")
    _risk(beta, "beta")
    if aql >= lq:
        raise ValidationFailed(
            "stats.aql_not_below_lq",
            "可接收质量水平须低于极限质量",
            "The acceptable quality level must be below the limiting quality",
            {"aql": aql, "lq": lq},
        )


def accept_probability(
    n: int, ac: int, p: float, *, model: Model = "binomial", lot: int | None = None, round_up: bool = False
) -> float:
    """The operating characteristic: P(defects in the sample ≤ ac) for a lot with defect rate p.

    Hypergeometric: the lot holds ⌊p·N⌋ defective units (⌈p·N⌉ with `round_up`, as at the AQL).
    """
    if model == "binomial":
        return float(st.binom.cdf(ac, n, p))
    assert lot is not None
    defects = math.ceil(round(p * lot, 9)) if round_up else math.floor(round(p * lot, 9))
    return float(st.hypergeom.cdf(ac, lot, defects, n))


def _largest_ac_within(
    lot: int, defects: int, ns: npt.NDArray[np.int64], beta: float
) -> npt.NDArray[np.int64]:
    """For each sample size n, the largest c with P(X ≤ c) ≤ β for X hypergeometric (lot, defects, n), −1 when even
    P(X = 0) is above β: the first c whose cdf exceeds β, less one, from scipy's cdf over c = 0, 1, … (a window
    that doubles until every n has crossed β; scipy's ppf, its quantile, costs thirty times as much a value)."""
    width = 8
    while True:
        above = st.hypergeom.cdf(np.arange(width)[:, None], lot, defects, ns[None, :]) > beta
        if above[-1].all():
            first: npt.NDArray[np.int64] = np.argmax(above, axis=0)
            return first - 1
        width *= 2


def acceptance_plan(
    lot: int, aql: float, lq: float, alpha: float, beta: float, model: Model = "binomial"
) -> Plan:
    """The smallest n (and its largest Ac) with P(accept | AQL) ≥ 1 − α and P(accept | LQ) ≤ β.

    For each n the largest Ac that keeps the consumer's risk is the best for the producer (the OC rises with Ac), so
    n is the first sample size at which that Ac also keeps the producer's risk. Binomial: lots large against the
    sample; hypergeometric: the lot holds ⌈AQL·N⌉ defective units at the AQL and ⌊LQ·N⌋ at the LQ.
    """
    _count(lot, "lot", minimum=1)
    check_plan_inputs(aql, lq, alpha, beta)
    if model not in MODELS:
        raise ValidationFailed(
            "stats.bad_model",
            "抽样模型须为 binomial 或 hypergeometric",
            "The model must be binomial or hypergeometric",
            {"model": model},
        )
    if model == "hypergeometric":
        d_aql, d_lq = _defects(lot, aql, lq)
        if d_lq <= d_aql:
            raise ValidationFailed(
                "stats.lot_too_small",
                "批量太小，无法区分可接收质量与极限质量",
                "The lot is too small to tell the acceptable quality from the limiting quality",
                {"lot": lot, "aql": aql, "lq": lq},
            )
    found: tuple[int, int] | None = None
    # Sample sizes in blocks, smallest first: the search stops at the first block holding a plan.
    start, block = 1, _FIRST_BLOCK
    while start <= lot:
        ns = np.arange(start, min(lot, start + block - 1) + 1)
        start, block = start + block, min(2 * block, _BLOCK)
        if model == "binomial":
            c = st.binom.ppf(beta, ns, lq)
            c = np.where(st.binom.cdf(c, ns, lq) > beta, c - 1, c)
            good = st.binom.cdf(c, ns, aql)
        else:
            c = _largest_ac_within(lot, d_lq, ns, beta)
            good = st.hypergeom.cdf(c, lot, d_aql, ns)
        ok = np.flatnonzero((c >= 0) & (good >= 1 - alpha))
        if ok.size:
            found = int(ns[ok[0]]), int(c[ok[0]])
            break
    if found is None:
        raise ValidationFailed(
            "stats.no_plan",
            "在该批量内没有同时满足两种风险的抽样方案",
            "No sampling plan within the lot meets both risks",
            {"lot": lot, "aql": aql, "lq": lq, "alpha": alpha, "beta": beta, "model": model},
        )
    n, ac = found
    return Plan(
        n=n,
        ac=ac,
        model=model,
        lot=lot,
        accept_at_aql=accept_probability(n, ac, aql, model=model, lot=lot, round_up=True),
        accept_at_lq=accept_probability(n, ac, lq, model=model, lot=lot),
    )


def oc_curve(plan: Plan, points: int = 41, upto: float | None = None) -> list[tuple[float, float]]:
    """The plan's operating characteristic: (defect rate, probability of acceptance) from 0 to `upto`."""
    top = 1.0 if upto is None else upto
    return [
        (p, accept_probability(plan.n, plan.ac, p, model=plan.model, lot=plan.lot))
        for p in (top * i / (points - 1) for i in range(points))
    ]


def check_sample(n: int, lot: int) -> None:
    """A sample cannot be larger than its lot."""
    if n > lot:
        raise ValidationFailed(
            "stats.sample_exceeds_lot",
            "样本量不能大于批量",
            "The sample cannot be larger than its lot",
            {"n": n, "lot": lot},
        )


def chapman(n1: int, n2: int, m: int, z: float = Z95) -> Chapman:
    """Chapman's estimate N̂ = (n₁+1)(n₂+1)/(m+1) − 1 with its variance and a log-normal interval (Chao 1987).

    The interval is r + (N̂ − r)/C … r + (N̂ − r)·C with r = n₁ + n₂ − m the people seen and
    C = exp(z·√ln(1 + Var/(N̂ − r)²)): it never falls below the people actually seen, where N̂ ± z√Var can.
    """
    _count(n1, "n1")
    _count(n2, "n2")
    _count(m, "m")
    z = _z(z)
    if m > min(n1, n2):
        raise ValidationFailed(
            "stats.matched_exceeds_systems",
            "两系统共有人数不能超过任一系统的人数",
            "The people found by both cannot outnumber either system",
            {"n1": n1, "n2": n2, "m": m},
        )
    estimate = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    seen = n1 + n2 - m
    unseen = estimate - seen
    if unseen <= 0 or variance <= 0:
        return Chapman(estimate=estimate, variance=variance, low=float(seen), high=max(float(seen), estimate))
    c = math.exp(z * math.sqrt(math.log(1 + variance / unseen**2)))
    return Chapman(estimate=estimate, variance=variance, low=seen + unseen / c, high=seen + unseen * c)


def chapman_sum(strata: Sequence[tuple[int, int, int]], z: float = Z95) -> Chapman:
    """Chapman per post-stratum, summed: estimates and variances add; the interval is the sum's normal one."""
    parts = [chapman(n1, n2, m, z) for n1, n2, m in strata]
    estimate = sum(p.estimate for p in parts)
    variance = sum(p.variance for p in parts)
    seen = sum(n1 + n2 - m for n1, n2, m in strata)
    half = _z(z) * math.sqrt(variance)
    return Chapman(
        estimate=estimate, variance=variance, low=max(float(seen), estimate - half), high=estimate + half
    )


def stratified(strata: Sequence[tuple[int, int, int]], z: float = Z95) -> Interval:
    """A rate rolled up over strata (x_h right of n_h sampled from N_h): Σ W_h p̂_h, W_h = N_h/ΣN, with the
    FPC-corrected variance; see `weighted` for the interval."""
    if not strata:
        raise ValidationFailed("stats.no_strata", "没有可汇总的层", "There are no strata to roll up", {})
    for _x, n, big_n in strata:
        check_sample(n, big_n)
    total = sum(big_n for _x, _n, big_n in strata)
    return weighted([(x, n, big_n / total, n / big_n) for x, n, big_n in strata], z)


def weighted(parts: Sequence[tuple[int, int, float, float]], z: float = Z95) -> Interval:
    """A rate over strata given (x_h, n_h, weight W_h, sampling fraction f_h): p̂ = Σ W_h p̂_h / Σ W_h, and
    Var = Σ W_h² p̂_h(1−p̂_h)/n_h·(1−f_h) / (Σ W_h)².

    The interval is Wilson's at the effective sample size p̂(1−p̂)/Var (Kish), which stays inside [0, 1] and is
    the stratum's own Wilson interval when there is one stratum sampled with replacement. Strata with n_h = 0
    (nothing to count there) carry no weight.
    """
    z = _z(z)
    live = []
    for x, n, w, f in parts:
        _count(n, "n")
        if x > n:
            raise ValidationFailed(
                "stats.more_than_trials",
                "成功数不能大于样本量",
                "The count cannot exceed the number of trials",
                {"x": x, "n": n},
            )
        if n > 0 and w > 0:
            live.append((x, n, w, min(max(f, 0.0), 1.0)))
    if not live:
        raise ValidationFailed("stats.no_strata", "没有可汇总的层", "There are no strata to roll up", {})
    total = sum(w for _x, _n, w, _f in live)
    p = sum(w / total * x / n for x, n, w, _f in live)
    var = sum((w / total) ** 2 * (x / n) * (1 - x / n) / n * (1 - f) for x, n, w, f in live)
    sampled = sum(n for _x, n, _w, _f in live)
    n_eff = p * (1 - p) / var if var > 0 else float(sampled)
    n_eff = max(1.0, n_eff)
    z2 = z * z
    centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
    half = z / (1 + z2 / n_eff) * math.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff * n_eff))
    return Interval(estimate=p, centre=centre, low=max(0.0, centre - half), high=min(1.0, centre + half))


def _wilson_at(p: float, n_eff: float, z: float) -> Interval:
    """Wilson's interval for a proportion p̂ at an effective sample size (Kish)."""
    n_eff = max(1.0, n_eff)
    z2 = z * z
    centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
    half = z / (1 + z2 / n_eff) * math.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff * n_eff))
    return Interval(estimate=p, centre=centre, low=max(0.0, centre - half), high=min(1.0, centre + half))


@dataclass(frozen=True)
class ClusterStratum:
    """One stratum of a sample of households (clusters) for a rate over persons: each sampled household's
    (persons counted right x_i, persons counted m_i) and the stratum's number of households N (lot)."""

    households: Sequence[tuple[int, int]]
    lot: int

    @property
    def persons(self) -> int:
        """The persons (or items) counted over the sampled households: the rate's denominator."""
        return sum(h[1] for h in self.households)


def rate_stratum(results: Sequence[Mapping[str, int | None]], num: str, den: str, lot: int) -> ClusterStratum:
    """One community's results as a stratum of a rate: each household's (numerator, denominator) counts. A result
    whose counts for this rate are not known (NULL: stored before the rate's items were counted) is left out;
    a household with a nil denominator counts as a household of nothing to count."""
    pairs = [
        (int(r[num] or 0), int(r[den] or 0)) for r in results if r[num] is not None and r[den] is not None
    ]
    return ClusterStratum(pairs, max(lot, len(pairs)))


def _ratio(stratum: ClusterStratum) -> tuple[float, float, float] | None:
    """(p̂_h, Var p̂_h, estimated persons in the stratum) of the ratio estimator, or None with no person counted.

    p̂_h = Σx_i / Σm_i over the n_h sampled households; Var = (1 − f_h)·Σ(x_i − p̂_h m_i)² / ((n_h − 1)·n_h·m̄_h²)
    with f_h = n_h/N_h and m̄_h = Σm_i/n_h (Cochran, Sampling Techniques, §6.8 / §11.3: the persons of a household
    are not independent draws, so the variance is that of the households' residuals). With one household the
    between-household variance cannot be estimated: the binomial variance of its persons stands in.
    """
    n = len(stratum.households)
    check_sample(n, stratum.lot)
    x = sum(h[0] for h in stratum.households)
    m = sum(h[1] for h in stratum.households)
    for xi, mi in stratum.households:
        _count(mi, "m")
        if xi > mi or xi < 0:
            raise ValidationFailed(
                "stats.more_than_trials",
                "成功数不能大于样本量",
                "The count cannot exceed the number of trials",
                {"x": xi, "n": mi},
            )
    if m == 0:
        return None
    p = x / m
    f = n / stratum.lot if stratum.lot else 1.0
    if n < 2:
        var = p * (1 - p) / m * (1 - f)
    else:
        mbar = m / n
        residuals = sum((xi - p * mi) ** 2 for xi, mi in stratum.households)
        var = (1 - f) * residuals / ((n - 1) * n * mbar * mbar)
    return p, var, stratum.lot * m / n


def cluster_rate(strata: Sequence[ClusterStratum], z: float = Z95) -> Interval:
    """A rate over persons from a stratified sample of households: per stratum the ratio estimator and its
    cluster variance (`_ratio`), rolled up with the strata's estimated persons as weights, W_h = N_h·m̄_h:
    p̂ = Σ W_h p̂_h / Σ W_h, Var = Σ W_h² Var p̂_h / (Σ W_h)².

    The interval is Wilson's at the effective sample size p̂(1−p̂)/Var (Kish), with Korn and Graubard's
    degrees-of-freedom adjustment (Survey Methodology 24(2), 1998): the variance is estimated from the households,
    so the effective size is scaled by (z / t_df)², df = Σ(n_h − 1) over the strata sampled in part (a stratum
    inspected whole adds no variance and no degrees of freedom). Without it the 95 % interval covered the true
    rate in 94 % of 2,000 simulated towns with few households per community. Where the variance is nil (every
    household alike) the size is the number of persons counted. Strata with nobody counted carry no weight."""
    z = _z(z)
    live = []
    counted = 0
    df = 0
    for stratum in strata:
        found = _ratio(stratum)
        if found is not None:
            live.append(found)
            n = len(stratum.households)
            counted += stratum.persons
            if n < stratum.lot:
                df += max(n - 1, 0)
    if not live:
        raise ValidationFailed("stats.no_strata", "没有可汇总的层", "There are no strata to roll up", {})
    total = sum(w for _p, _v, w in live)
    p = sum(w / total * ph for ph, _v, w in live)
    var = sum((w / total) ** 2 * v for _p, v, w in live)
    if var <= 0:
        return _wilson_at(p, float(counted), z)
    n_eff = p * (1 - p) / var
    if df > 0:
        t = float(st.t.ppf(st.norm.cdf(z), df))
        n_eff *= (z / t) ** 2
    return _wilson_at(p, n_eff, z)


def draw(units: Sequence[int], n: int, seed: int, method: DrawMethod = "pcg64") -> list[int]:
    """A simple random sample of n units from the stratum, reproducible from the seed (any order in, sorted out)."""
    check_sample(n, len(units))
    if method == "sample":
        return sorted(random.Random(seed).sample(sorted(units), n))
    if method != "pcg64":
        raise ValidationFailed(
            "stats.bad_draw_method",
            "抽样方法须为 pcg64 或 sample",
            "The draw method must be pcg64 or sample",
            {"method": method},
        )
    return [int(u) for u in draw_array(np.sort(np.asarray(units, dtype=np.int64)), n, seed)]


def draw_array(units: npt.NDArray[np.int64], n: int, seed: int) -> npt.NDArray[np.int64]:
    """A simple random sample of n of the stratum's units given in ascending order, returned ascending.

    The i-th unit (in ascending id) gets the i-th 64-bit word of numpy's PCG64 bit generator seeded with `seed`
    (`numpy.random.PCG64(seed).random_raw(N)`, a stream numpy keeps stable across releases); the sample is the n
    units with the smallest words, ties (probability about N²/2⁶⁵) to the smaller id. Every n-subset is equally
    likely, and anyone holding the seed and the frame redraws it in one line."""
    check_sample(n, len(units))
    keys = np.random.PCG64(seed).random_raw(len(units))
    return np.sort(units[np.argsort(keys, kind="stable")[:n]])


def stratum_seed(seed: int, stratum: str) -> int:
    """One stratum's seed from the plan's seed and the stratum's code: redrawing one community draws the same."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{stratum}".encode()).digest()[:8], "big")


# ---- inspection results: the five sample-based rates, defects, lot decisions, deadlines ----

# The seed's rates that only a sampled check can give: key -> (numerator, denominator) fields of a result, their
# labels, and the seed's target (DOMAIN "The targets in the seed": 100 % for each, ≥ 98 % for 一般项目齐全准确率).
# A 100 % target can be shown missed (one defect found puts the interval's upper bound below it) but never shown met
# by a sample: `target_reading` says so in words rather than lowering the target.
RATES: dict[str, tuple[str, str, str, str, float]] = {
    "headcount": (
        "persons_present",
        "persons_registered",
        "常住人口人头准确率",
        "Resident headcount accuracy",
        1.0,
    ),
    "main_items": ("main_right", "persons_present", "主项准确率", "Main items accuracy", 1.0),
    # Items, not persons: the general items present and right ÷ the general items expected (DOMAIN).
    "general_items": (
        "general_items_right",
        "general_items_expected",
        "一般项目齐全准确率",
        "General items complete and right",
        0.98,
    ),
    "floating_registration": (
        "floating_registered",
        "floating_found",
        "流动人口人来登记率",
        "Floating arrivals registered",
        1.0,
    ),
    "floating_collected": (
        "floating_entered",
        "floating_registered",
        "流动人口采集录入率",
        "Floating registrations entered",
        1.0,
    ),
    "floating_items": (
        "floating_right",
        "floating_entered",
        "流动人口项目准确率",
        "Floating population items",
        1.0,
    ),
}
# What an inspector counts at a household (and the API takes); the stored result adds the general items' counts
# (STORED_FIELDS), derived from these and the general items per person.
RESULT_FIELDS = (
    "persons_registered",
    "persons_present",
    "main_right",
    "general_right",
    "general_items_wrong",
    "floating_found",
    "floating_registered",
    "floating_entered",
    "floating_right",
    "persons_missed",
    "persons_unconfirmed",
)
STORED_FIELDS = (*RESULT_FIELDS, "general_items_expected", "general_items_right")
# Each count may not exceed the one it is a part of.
PART_OF = {
    "persons_present": "persons_registered",
    "main_right": "persons_present",
    "general_right": "persons_present",
    "floating_registered": "floating_found",
    "floating_entered": "floating_registered",
    "floating_right": "floating_entered",
}


def general_items(counts: Mapping[str, int | None], per_person: int) -> tuple[int, int, int]:
    """(wrong, expected, right) general items of a result: `per_person` items expected of each person found.

    The inspector gives the general items missing or wrong; with every person found right (general_right equal
    to persons_present) none is, and the count may be left out. Otherwise it is needed, and it lies between one
    item for each person not right and all their items."""
    present, right = int(counts["persons_present"] or 0), int(counts["general_right"] or 0)
    expected = present * per_person
    given = counts.get("general_items_wrong")
    not_right = present - right
    if given is None:
        if not_right > 0:
            raise ValidationFailed(
                "inspection.general_items_wrong_required",
                "有人一般项目不齐全或不准确时，须填写缺漏或错误的项目数",
                "Give the number of general items missing or wrong when someone's are not all right",
                {"field": "general_items_wrong"},
            )
        return 0, expected, expected
    wrong = int(given)
    _count(wrong, "general_items_wrong")
    if not not_right <= wrong <= not_right * per_person:
        raise ValidationFailed(
            "inspection.general_items_wrong_range",
            f"缺漏或错误的一般项目数须在 {not_right} 到 {not_right * per_person} 之间"
            f"（每名不全对的人至少一项、至多 {per_person} 项）",
            f"The general items missing or wrong must lie between {not_right} and {not_right * per_person} "
            f"(at least one and at most {per_person} for each person not all right)",
            {"field": "general_items_wrong", "low": not_right, "high": not_right * per_person},
        )
    return wrong, expected, expected - wrong


def stored_counts(given: Mapping[str, int | None], per_person: int) -> dict[str, int]:
    """A result's counts as stored, checked: whole numbers, each part at most its whole, the general items'
    counts (`general_items`), and the floating persons entered in the system, which may be left out only when
    none was registered."""
    counts = {name: given.get(name) for name in RESULT_FIELDS}
    out = {name: int(value or 0) for name, value in counts.items()}
    if counts["floating_entered"] is None:  # checked below, once the counts before it are
        out["floating_entered"] = out["floating_registered"]
    check_result(out)
    wrong, expected, right = general_items(counts, per_person)
    if counts["floating_entered"] is None:
        if out["floating_registered"]:
            raise ValidationFailed(
                "inspection.floating_entered_required",
                "有已登记的流动人口时，须填写其中已录入系统的人数",
                "Give how many of the registered floating persons are entered in the system",
                {"field": "floating_entered"},
            )
        out["floating_entered"] = 0
    return {
        **out,
        "general_items_wrong": wrong,
        "general_items_expected": expected,
        "general_items_right": right,
    }


def check_result(counts: dict[str, int]) -> None:
    """A result's counts are whole numbers and each part is at most its whole."""
    for name in RESULT_FIELDS:
        _count(counts[name], name)
    for part, whole in PART_OF.items():
        if counts[part] > counts[whole]:
            raise ValidationFailed(
                "inspection.count_exceeds",
                f"{part} 不能大于 {whole}",
                f"{part} cannot exceed {whole}",
                {"field": part, "whole": whole},
            )
    unconfirmed_within(counts, {})


def is_defective(counts: dict[str, int], count_matches: bool) -> bool:
    """A household is a defective unit of its lot when a registered person is not there, a main item is wrong,
    or the household's member count does not match (GB/T 2828.1's 'nonconforming unit')."""
    return (
        counts["persons_present"] < counts["persons_registered"]
        or counts["main_right"] < counts["persons_present"]
        or counts["floating_registered"] < counts["floating_found"]
        or counts["floating_entered"] < counts["floating_registered"]
        or not count_matches
    )


BAND_FIELDS = ("persons_registered", "persons_present", "persons_missed", "persons_unconfirmed")


def unconfirmed_within(counts: Mapping[str, int], where: dict[str, object]) -> None:
    """The registered persons not confirmed gone are some of those not found."""
    if counts["persons_unconfirmed"] > counts["persons_registered"] - counts["persons_present"]:
        raise ValidationFailed(
            "inspection.unconfirmed_exceeds",
            "未能确认离开的人数不能大于登记而未见到的人数",
            "The persons not confirmed gone cannot exceed the registered persons not found",
            {"field": "persons_unconfirmed", **where},
        )


def check_bands(counts: dict[str, int], bands: Sequence[tuple[str, dict[str, int]]]) -> None:
    """A result's age bands: each band once, found at most registered in each, and the bands adding up to the
    result's persons registered, found and missed (so the coverage by age band and the totals tell one story)."""
    seen: set[str] = set()
    for band, figures in bands:
        if band in seen:
            raise ValidationFailed(
                "inspection.band_repeated",
                f"年龄段 {band} 重复",
                f"Age band {band} is given twice",
                {"field": "bands", "age_band": band},
            )
        seen.add(band)
        for name in BAND_FIELDS:
            _count(figures[name], "bands")
        if figures["persons_present"] > figures["persons_registered"]:
            raise ValidationFailed(
                "inspection.band_exceeds",
                f"年龄段 {band} 的 persons_present 不能大于 persons_registered",
                f"persons_present cannot exceed persons_registered in age band {band}",
                {"field": "bands", "age_band": band, "whole": "persons_registered"},
            )
        unconfirmed_within(figures, {"age_band": band})
    for name in BAND_FIELDS:
        total = sum(figures[name] for _band, figures in bands)
        if total != counts[name]:
            raise ValidationFailed(
                "inspection.bands_disagree",
                f"各年龄段的 {name} 合计为 {total}，与本户的 {counts[name]} 不符",
                f"The age bands' {name} add up to {total}, not to the household's {counts[name]}",
                {"field": "bands", "count": name, "bands_total": total, "total": counts[name]},
            )


def lot_decision(inspected: int, sample_size: int, defects: int, ac: int) -> str:
    """accepted / rejected, or pending while the sample is incomplete (a lot already over Ac is rejected)."""
    if defects > ac:
        return "rejected"
    return "accepted" if inspected >= sample_size else "pending"


def add_working_days(start: dt.date, days: int, is_working_day: Callable[[dt.date], bool]) -> dt.date:
    """The day `days` working days after `start` (整改期限 counted in working days)."""
    _count(days, "days", minimum=1)
    day, left = start, days
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def meets_target(interval: Interval, target: float) -> bool:
    """'Target met' read statistically: the interval's lower bound reaches the target."""
    return interval.low >= target


TargetReading = Literal["met", "missed", "undecided"]


def target_reading(interval: Interval, target: float) -> TargetReading:
    """The target read statistically, in three: met (the lower bound reaches it), missed (the upper bound falls
    short of it), or undecided (the interval holds it). A 100 % target is never shown met by a sample: with no
    defect found it is undecided, and one defect found shows it missed."""
    if interval.low >= target:
        return "met"
    if interval.high < target:
        return "missed"
    return "undecided"


@dataclass(frozen=True)
class Coverage:
    """Missed people of one post-stratum: Chapman over its sampled households, extended to the whole stratum."""

    n1: int
    n2: int
    m: int
    households: int  # H, and h of them inspected
    inspected: int
    sample: Chapman
    scale: float
    missed: float
    missed_variance: float
    missed_low: float
    missed_high: float


def register_side(present: int, unconfirmed: int) -> int:
    """The register's count n₁ for the dual-system estimate in inspected households: its persons found living there
    and those not found whose departure could not be confirmed. A registered person confirmed not living there (moved
    away, died) is an erroneous inclusion: it counts against the headcount accuracy, but it is no person of the
    population; left in n₁ Chapman would count it a resident the re-canvass missed (g/m too many, g such, m found)."""
    return present + unconfirmed


def coverage(
    n1: int,
    n2: int,
    m: int,
    households: int,
    inspected: int,
    found_squares: int | None = None,
    z: float = Z95,
) -> Coverage:
    """People the register missed in a post-stratum of `households`, `inspected` of them re-canvassed.

    Chapman's N̂ over the inspected households (the register's n₁ there — its persons not confirmed gone,
    `register_side` —, the re-canvass's n₂, m in both) gives the missed N̂ − n₁ there; it is extended to the
    stratum by households/inspected. The variance adds to Chapman's (scaled) that of the household sample: with yᵢ
    the people household i's re-canvass found unregistered (Σyᵢ = n₂ − m, Σyᵢ² = `found_squares`) and
    k = (N̂ − n₁)/Σyᵢ, Var = k²·H²(1 − h/H)·s²_y/h (simple random sample of households; without `found_squares`
    the household term is left out). The interval is `missed.interval`'s."""
    check_sample(inspected, households)
    _count(inspected, "inspected", minimum=1)
    sample = chapman(n1, n2, m, z)
    scale = households / inspected
    missed = scale * (sample.estimate - n1)
    variance = scale * scale * sample.variance
    found = n2 - m
    if found_squares is not None and inspected > 1 and found > 0:
        k = (sample.estimate - n1) / found
        s2 = max(0.0, (found_squares - found * found / inspected) / (inspected - 1))
        variance += k * k * households * households * (1 - inspected / households) * s2 / inspected
    low, high = missed_interval.interval(missed, variance, found, inspected / households, _z(z))
    return Coverage(
        n1=n1,
        n2=n2,
        m=m,
        households=households,
        inspected=inspected,
        sample=sample,
        scale=scale,
        missed=missed,
        missed_variance=variance,
        missed_low=low,
        missed_high=high,
    )


def coverage_by_band(
    households: dict[tuple[str, ...], int],
    visits: Sequence[tuple[tuple[str, ...], Sequence[tuple[str, int, int, int]]]],
    z: float = Z95,
) -> dict[tuple[str, ...], Coverage]:
    """Post-strata that split a household sample's cells by a person attribute (area × housing type × age band).

    `households[cell]` is a cell's households, `visits` each re-canvassed household's cell and its persons per band
    (band, the register's persons there not confirmed gone — found or unconfirmed —, found of them, found
    unregistered). A post-stratum (cell, band) gets Chapman over its
    persons in the cell's inspected households, extended by the cell's households/inspected (see `coverage`);
    the household term of its variance uses each inspected household's unregistered persons of that band.
    """
    inspected: dict[tuple[str, ...], int] = {}
    sums: dict[tuple[str, ...], list[int]] = {}
    for cell, bands in visits:
        inspected[cell] = inspected.get(cell, 0) + 1
        for band, n1, m, extra in bands:
            slot = sums.setdefault((*cell, band), [0, 0, 0, 0])
            for i, value in enumerate((n1, m, extra, extra * extra)):
                slot[i] += value
    return coverage_by_band_sums(households, inspected, sums, z)


def coverage_by_band_sums(
    households: dict[tuple[str, ...], int],
    inspected: dict[tuple[str, ...], int],
    sums: Mapping[tuple[str, ...], Sequence[int]],
    z: float = Z95,
) -> dict[tuple[str, ...], Coverage]:
    """`coverage_by_band` from its sums, as a database grouping gives them: per cell its inspected households, per
    post-stratum (cell, band) Σ the register's persons not confirmed gone (`register_side`), Σ found of them,
    Σ found unregistered and Σ (found unregistered)²."""
    parts: dict[tuple[str, ...], Coverage] = {}
    for key, (n1, m, extra, squares) in sums.items():
        cell = key[:-1]
        # A household counted in a cell it has since left still counts as one of that cell's.
        parts[key] = coverage(
            n1, m + extra, m, max(households.get(cell, 0), inspected[cell]), inspected[cell], squares, z
        )
    return parts


def coverage_total(parts: Sequence[Coverage], z: float = Z95) -> tuple[float, float, float, float]:
    """(missed, variance, low, high) summed over post-strata, with `missed.interval`'s predictive interval."""
    missed, variance = sum(p.missed for p in parts), sum(p.missed_variance for p in parts)
    partial = [p for p in parts if p.inspected < p.households]
    fraction = sum(p.inspected for p in partial) / sum(p.households for p in partial) if partial else 1.0
    low, high = missed_interval.interval(missed, variance, sum(p.n2 - p.m for p in parts), fraction, _z(z))
    return missed, variance, low, high


# ---- scoring collectors (谁采集、谁录入、谁负责) ------------------------------------------------------------------
# Public-security practice scores each collector on volume, upkeep and quality; the weights are local policy, so
# they are a sheet (TOML or JSON, like the campaign file). Every figure a collector is scored on is named here.

SCORE_ITEMS: dict[str, dict[str, tuple[str, str, float]]] = {
    "volume": {
        "record": ("录入记录", "Records entered", 1.0),
        "visit": ("走访", "Visits", 0.5),
        "change_set": ("提交采集", "Change sets proposed", 0.5),
    },
    "upkeep": {
        "deregistration": ("注销", "Deregistrations", 2.0),
        "update": ("变更、延期", "Changes and extensions", 1.0),
        "finding_closed": ("处理提醒", "Reminders handled", 1.0),
    },
    "quality": {
        "inspection_defect": ("抽查有误户", "Defective households found by inspection", -5.0),
        "review_return": ("审核退回", "Returned at review", -2.0),
        "finding": ("逻辑错误", "Logic errors found by the checks", -3.0),
        "duplicate": ("重复录入", "Duplicate entries", -5.0),
        "overdue_assignment": ("任务逾期", "Overdue assignments", -5.0),
    },
}
# The 奖惩 rules: a reward needs the score and an inspection record statistically good enough (the defect rate's
# upper bound at most `max_defect_rate`); a penalty follows a low score or a rate statistically above tolerance
# (the interval's lower bound above it) — a collector with few households inspected is not penalised on chance.
LIST_RULES: dict[str, dict[str, tuple[str, str, float]]] = {
    "reward": {
        "min_score": ("奖励最低得分", "Lowest score rewarded", 50.0),
        "max_defect_rate": ("奖励允许的抽查差错率上限", "Highest defect-rate upper bound rewarded", 0.05),
    },
    "penalty": {
        "below_score": ("处罚得分线", "Score below which a collector is penalised", 0.0),
        "defect_rate": ("容许的抽查差错率", "Tolerated defect rate", 0.02),
        "return_rate": ("容许的审核退回率", "Tolerated return rate at review", 0.2),
    },
}


@dataclass(frozen=True)
class ScoringSheet:
    """Points per item (`weights[group][item]`) and the thresholds of the reward and penalty lists."""

    name: str
    weights: dict[str, dict[str, float]]
    lists: dict[str, dict[str, float]]


def _sheet_error(why: str, field: str) -> ValidationFailed:
    return ValidationFailed(
        "scoring.invalid",
        f"评分表不正确：{why}",
        f"Malformed scoring sheet: {why}",
        {"field": field, "why": why},
    )


# The name of the sheet of default weights (shown by its translated name in the web's English pages).
DEFAULT_SHEET_NAME = "默认评分表"


def scoring_sheet(data: dict[str, object] | None = None) -> ScoringSheet:
    """A scoring sheet from its parsed TOML/JSON: the default weights, overridden by what the sheet gives; an
    unknown group or item, or a value that is not a number (a rate outside [0, 1]) is refused."""
    data = dict(data or {})
    name = data.pop("name", DEFAULT_SHEET_NAME)
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise _sheet_error("name must be text of at most 100 characters", "name")
    tables = {**SCORE_ITEMS, **LIST_RULES}
    out: dict[str, dict[str, float]] = {g: {k: v[2] for k, v in items.items()} for g, items in tables.items()}
    for group, values in data.items():
        if group not in tables:
            raise _sheet_error(f"unknown section [{group}]", group)
        if not isinstance(values, dict):
            raise _sheet_error(f"[{group}] must be a table", group)
        for key, value in values.items():
            if key not in tables[group]:
                raise _sheet_error(f"unknown item {group}.{key}", f"{group}.{key}")
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise _sheet_error(f"{group}.{key} must be a number", f"{group}.{key}")
            if group in LIST_RULES and key.endswith("rate") and not 0 <= value <= 1:
                raise _sheet_error(f"{group}.{key} is a rate between 0 and 1", f"{group}.{key}")
            out[group][key] = float(value)
    return ScoringSheet(
        name=name.strip(),
        weights={g: out[g] for g in SCORE_ITEMS},
        lists={g: out[g] for g in LIST_RULES},
    )


def score(sheet: ScoringSheet, counts: dict[str, int]) -> dict[str, float]:
    """Points per group (volume, upkeep, quality) and the total, from the counts of each item."""
    parts = {
        group: round(sum(w * counts.get(item, 0) for item, w in sheet.weights[group].items()), 2)
        for group in SCORE_ITEMS
    }
    return {**parts, "total": round(sum(parts.values()), 2)}


def verdict(
    sheet: ScoringSheet, total: float, defects: Interval | None, returns: Interval | None
) -> tuple[str | None, list[str]]:
    """奖 (`reward`), 惩 (`penalty`) or neither, with the reasons (the keys of LIST_RULES that decided it)."""
    penalty = sheet.lists["penalty"]
    why = []
    if total < penalty["below_score"]:
        why.append("below_score")
    if defects is not None and defects.low > penalty["defect_rate"]:
        why.append("defect_rate")
    if returns is not None and returns.low > penalty["return_rate"]:
        why.append("return_rate")
    if why:
        return "penalty", why
    reward = sheet.lists["reward"]
    if total >= reward["min_score"] and (defects is None or defects.high <= reward["max_defect_rate"]):
        return "reward", ["min_score"] if defects is None else ["min_score", "max_defect_rate"]
    return None, []


def sheet_toml(sheet: ScoringSheet) -> str:
    """The sheet as the TOML text `parse_sheet` reads back: its name, then one section per group."""
    lines = [f"name = {json.dumps(sheet.name, ensure_ascii=False)}"]
    for group, items in {**sheet.weights, **sheet.lists}.items():
        lines += ["", f"[{group}]", *(f"{key} = {value!r}" for key, value in items.items())]
    return "\n".join(lines) + "\n"


def parse_sheet(text: str, fmt: str = "toml") -> ScoringSheet:
    """A scoring sheet from the text of its TOML or JSON file (as the campaign file is given)."""
    # Imported here: only reading a sheet file needs the parser.
    import tomllib

    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise _sheet_error(str(exc)[:200], "file") from None
    if not isinstance(data, dict):
        raise _sheet_error("the sheet must be a table of sections", "file")
    return scoring_sheet(data)
