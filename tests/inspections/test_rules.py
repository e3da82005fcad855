"""The statistics of checking and acceptance, checked against scipy and against simulated truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from liangshi.errors import ValidationFailed
from liangshi.inspections import rules


def _wilson_by_formula(x: int, n: int, z: float) -> tuple[float, float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre, centre - half, centre + half


@pytest.mark.parametrize(("x", "n", "z"), [(45, 50, 1.96), (0, 20, 1.96), (20, 20, 2.576), (7, 300, 1.645)])
def test_wilson_matches_the_domain_formula(x: int, n: int, z: float) -> None:
    ci = rules.wilson(x, n, z)
    centre, low, high = _wilson_by_formula(x, n, z)
    assert ci.centre == pytest.approx(centre)
    assert ci.low == pytest.approx(max(0.0, low), abs=1e-12)
    assert ci.high == pytest.approx(min(1.0, high), abs=1e-12)
    assert ci.estimate == x / n
    # scipy's Wilson interval at the confidence level that z stands for is the same interval.
    scipy_ci = st.binomtest(x, n).proportion_ci(confidence_level=2 * st.norm.cdf(z) - 1, method="wilson")
    assert ci.low == pytest.approx(max(0.0, scipy_ci.low), abs=1e-9)
    assert ci.high == pytest.approx(min(1.0, scipy_ci.high), abs=1e-9)


def test_wilson_interval_covers_the_true_rate_in_at_least_93_of_100_simulations() -> None:
    for true_rate, n in ((0.98, 200), (0.9, 80), (0.6, 50)):
        covered = 0
        for seed in range(100):
            x = int(np.random.default_rng(seed).binomial(n, true_rate))
            ci = rules.wilson(x, n)
            covered += ci.low <= true_rate <= ci.high
        assert covered >= 93, (true_rate, n, covered)


def test_sample_size_with_and_without_the_finite_population_correction() -> None:
    # n0 = 1.96^2 * 0.25 / 0.0025 = 384.16 -> 385 for a very large lot; 384.16 / (1 + 383.16/1000) = 277.7 -> 278
    assert rules.sample_size(0.05, 0.5, 10**9, 1.96) == 385
    assert rules.sample_size(0.05, 0.5, 1000, 1.96) == 278
    assert rules.sample_size(0.05, 0.5, 100, 1.96) == 80
    assert rules.sample_size(0.01, 0.5, 30, 1.96) <= 30


PLANS = [
    (1000, 0.01, 0.05, 0.05, 0.10, "binomial"),
    (5000, 0.02, 0.08, 0.05, 0.10, "binomial"),
    (200, 0.01, 0.10, 0.10, 0.05, "binomial"),
    (100, 0.02, 0.15, 0.05, 0.10, "hypergeometric"),
    (60, 0.05, 0.25, 0.05, 0.10, "hypergeometric"),
    (400, 0.01, 0.06, 0.05, 0.10, "hypergeometric"),
    # The default plan (AQL 2 %, LQ 10 %) at the lots of a 100,000- and a 300,000-person city's communities.
    (119, 0.02, 0.10, 0.05, 0.10, "hypergeometric"),
    (357, 0.02, 0.10, 0.05, 0.10, "hypergeometric"),
]


def _accept(model: str, n: int, c: int, p: float, lot: int, *, at_aql: bool) -> float:
    if model == "binomial":
        return float(st.binom.cdf(c, n, p))
    defects = math.ceil(round(p * lot, 9)) if at_aql else math.floor(round(p * lot, 9))
    return float(st.hypergeom.cdf(c, lot, defects, n))


def _meets(model: str, n: int, c: int, lot: int, aql: float, lq: float, alpha: float, beta: float) -> bool:
    return (
        _accept(model, n, c, aql, lot, at_aql=True) >= 1 - alpha
        and _accept(model, n, c, lq, lot, at_aql=False) <= beta
    )


@pytest.mark.parametrize(("lot", "aql", "lq", "alpha", "beta", "model"), PLANS)
def test_acceptance_plan_meets_both_risks_and_no_smaller_sample_does(
    lot: int, aql: float, lq: float, alpha: float, beta: float, model: str
) -> None:
    plan = rules.acceptance_plan(lot, aql, lq, alpha, beta, model)  # type: ignore[arg-type]
    assert 1 <= plan.n <= lot
    assert _meets(model, plan.n, plan.ac, lot, aql, lq, alpha, beta)
    for n in range(1, plan.n):
        assert not any(_meets(model, n, c, lot, aql, lq, alpha, beta) for c in range(n + 1)), n


def test_acceptance_plan_for_a_textbook_case() -> None:
    # AQL 1 %, LQ 5 %, alpha 5 %, beta 10 %: the classic binomial single plan is n = 132, Ac = 3.
    plan = rules.acceptance_plan(100_000, 0.01, 0.05, 0.05, 0.10)
    assert (plan.n, plan.ac) == (132, 3)
    assert plan.accept_at_aql == pytest.approx(st.binom.cdf(3, 132, 0.01))
    assert plan.accept_at_lq == pytest.approx(st.binom.cdf(3, 132, 0.05))


def test_oc_curve_falls_from_one() -> None:
    plan = rules.acceptance_plan(1000, 0.01, 0.05, 0.05, 0.10)
    curve = rules.oc_curve(plan, points=21, upto=0.2)
    assert curve[0] == (0.0, 1.0)
    probabilities = [p for _rate, p in curve]
    assert probabilities == sorted(probabilities, reverse=True)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((1000, 0.05, 0.01, 0.05, 0.10, "binomial"), "stats.aql_not_below_lq"),
        ((1000, 0.05, 0.05, 0.05, 0.10, "binomial"), "stats.aql_not_below_lq"),
        ((1000, 0.01, 0.05, 0.0, 0.10, "binomial"), "stats.out_of_range"),
        ((1000, 0.01, 0.05, 0.05, 1.0, "binomial"), "stats.out_of_range"),
        ((1000, 0.01, 1.5, 0.05, 0.10, "binomial"), "stats.out_of_range"),
        ((0, 0.01, 0.05, 0.05, 0.10, "binomial"), "stats.bad_count"),
        ((1000, 0.01, 0.05, 0.05, 0.10, "poisson"), "stats.bad_model"),
        ((10, 0.01, 0.05, 0.05, 0.10, "hypergeometric"), "stats.lot_too_small"),
        ((20, 0.01, 0.05, 0.05, 0.10, "binomial"), "stats.no_plan"),
    ],
)
def test_bad_acceptance_plan_input_is_refused(args: tuple, code: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationFailed) as caught:
        rules.acceptance_plan(*args)
    assert caught.value.code == code


def test_other_bad_input_is_refused() -> None:
    cases = [
        (lambda: rules.wilson(6, 5), "stats.more_than_trials"),
        (lambda: rules.wilson(0, 0), "stats.bad_count"),
        (lambda: rules.wilson(1, 5, -1), "stats.bad_z"),
        (lambda: rules.sample_size(0, 0.5, 100), "stats.out_of_range"),
        (lambda: rules.sample_size(0.05, 1.2, 100), "stats.out_of_range"),
        (lambda: rules.chapman(10, 5, 6), "stats.matched_exceeds_systems"),
        (lambda: rules.draw([1, 2, 3], 4, 7), "stats.sample_exceeds_lot"),
        (lambda: rules.stratified([(1, 5, 4)]), "stats.sample_exceeds_lot"),
    ]
    for call, code in cases:
        with pytest.raises(ValidationFailed) as caught:
            call()
        assert caught.value.code == code


def test_chapman_estimate_and_variance_follow_the_formula() -> None:
    est = rules.chapman(900, 100, 88)
    assert est.estimate == pytest.approx(901 * 101 / 89 - 1)
    assert est.variance == pytest.approx(901 * 101 * 812 * 12 / (89**2 * 90))
    assert 900 + 100 - 88 <= est.low < est.estimate < est.high


def test_chapman_interval_covers_the_true_population_in_at_least_93_of_100_simulations() -> None:
    # A town of 2,000 people; the register holds each with probability 0.9, a re-canvass of the sampled areas
    # finds each with probability 0.3, independently (the two-system assumption).
    truth = 2000
    covered = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        in_register = rng.random(truth) < 0.9
        in_canvass = rng.random(truth) < 0.3
        est = rules.chapman(
            int(in_register.sum()), int(in_canvass.sum()), int((in_register & in_canvass).sum())
        )
        covered += est.low <= truth <= est.high
    assert covered >= 93, covered


def test_chapman_summed_over_post_strata_covers_the_truth() -> None:
    sizes, p1, p2 = (300, 800, 150, 50), (0.95, 0.85, 0.7, 0.9), (0.4, 0.3, 0.5, 0.35)
    covered = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        strata = []
        for size, a, b in zip(sizes, p1, p2, strict=True):
            r, c = rng.random(size) < a, rng.random(size) < b
            strata.append((int(r.sum()), int(c.sum()), int((r & c).sum())))
        total = rules.chapman_sum(strata)
        assert total.estimate == pytest.approx(sum(rules.chapman(*s).estimate for s in strata))
        covered += total.low <= sum(sizes) <= total.high
    assert covered >= 93, covered


def test_stratified_rate_interval_covers_the_true_rate() -> None:
    # Three communities of households, each with its own true rate; a sample without replacement per community.
    lots, rates, ns = (400, 1200, 250), (0.97, 0.92, 0.85), (60, 90, 50)
    truth = sum(n * r for n, r in zip(lots, rates, strict=True)) / sum(lots)
    covered = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        strata = []
        for lot, rate, n in zip(lots, rates, ns, strict=True):
            right = np.zeros(lot, dtype=bool)
            right[: round(lot * rate)] = True
            sample = rng.choice(right, size=n, replace=False)
            strata.append((int(sample.sum()), n, lot))
        ci = rules.stratified(strata)
        covered += ci.low <= truth <= ci.high
    assert covered >= 93, covered


def test_draw_is_reproducible_from_the_seed() -> None:
    units = list(range(100, 400))
    first = rules.draw(units, 25, rules.stratum_seed(42, "420704001001"))
    assert first == rules.draw(list(reversed(units)), 25, rules.stratum_seed(42, "420704001001"))
    assert first != rules.draw(units, 25, rules.stratum_seed(43, "420704001001"))
    assert len(set(first)) == 25 and set(first) <= set(units)


def test_draw_is_numpys_pcg64_keys_as_documented() -> None:
    # Anyone holding the seed and the frame redraws it without liangshi: one 64-bit word of PCG64 per household
    # in ascending id, the n households with the smallest words.
    units = [917, 15, 400, 88, 23, 512, 7, 300, 61, 1000, 42, 5]
    seed = rules.stratum_seed(20261101, "420704001001")
    keys = np.random.PCG64(seed).random_raw(len(units))
    by_key = sorted(zip(keys.tolist(), sorted(units), strict=True))
    assert rules.draw(units, 5, seed) == sorted(u for _k, u in by_key[:5])
    assert rules.draw(units, 5, seed) == rules.draw_array(np.array(sorted(units)), 5, seed).tolist()
    assert rules.draw(units, len(units), seed) == sorted(units)


def test_plans_drawn_before_stop_25_redraw_with_pythons_sample() -> None:
    units = list(range(100, 400))
    seed = rules.stratum_seed(42, "420704001001")
    import random  # the method of the earlier plans, spelled out

    assert rules.draw(units, 25, seed, "sample") == sorted(random.Random(seed).sample(units, 25))
    assert rules.draw(units, 25, seed, "sample") != rules.draw(units, 25, seed, "pcg64")
    with pytest.raises(ValidationFailed) as caught:
        rules.draw(units, 25, seed, "shuffle")  # type: ignore[arg-type]
    assert caught.value.code == "stats.bad_draw_method"


def test_every_household_is_drawn_equally_often() -> None:
    # A simple random sample: over 4,000 seeds each of 40 units is drawn about n/N of the time (chi-square), and
    # every draw has n distinct units of the frame.
    units, n, draws = np.arange(1000, 1040, dtype=np.int64), 8, 4000
    counts = np.zeros(len(units))
    for seed in range(draws):
        drawn = rules.draw_array(units, n, rules.stratum_seed(seed, "420704001001"))
        assert len(np.unique(drawn)) == n and np.isin(drawn, units).all()
        counts[drawn - 1000] += 1
    expected = np.full(len(units), draws * n / len(units))
    assert st.chisquare(counts, expected).pvalue > 0.001


def test_missed_people_interval_covers_the_truth_in_at_least_93_of_100_simulated_towns() -> None:
    # Three communities of households of 1–5 people; the register holds each person with probability 0.92; the
    # inspection re-canvasses a simple random sample of households and finds each person there with 0.95.
    lots, drawn = (400, 900, 250), (80, 120, 60)
    covered = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        parts, truth = [], 0
        for lot, h in zip(lots, drawn, strict=True):
            sizes = rng.integers(1, 6, lot)
            registered = [rng.random(size) < 0.92 for size in sizes]
            truth += sum(int((~r).sum()) for r in registered)
            n1 = m = found_missing = squares = 0
            for i in rng.choice(lot, h, replace=False):
                found = rng.random(sizes[i]) < 0.95
                y = int((~registered[i] & found).sum())
                n1 += int(registered[i].sum())
                m += int((registered[i] & found).sum())
                found_missing += y
                squares += y * y
            part = rules.coverage(n1, m + found_missing, m, lot, h, squares)
            assert part.missed == pytest.approx(
                lot / h * (rules.chapman(n1, m + found_missing, m).estimate - n1)
            )
            parts.append(part)
        _missed, _variance, low, high = rules.coverage_total(parts)
        covered += low <= truth <= high
    assert covered >= 93, covered


def _households_sample(
    rng: np.random.Generator, lot: int, n: int, p_bad: float, clustered: bool
) -> tuple[rules.ClusterStratum, float, float]:
    """A lot of households of 1–5 persons with defects by household (all its persons wrong together) or by
    person, and a simple random sample of n households: (the stratum, right persons, persons) of the whole lot."""
    sizes = rng.integers(1, 6, size=lot)
    if clustered:
        bad = rng.random(lot) < p_bad
        right = [np.full(m, not b) for m, b in zip(sizes, bad, strict=True)]
    else:
        right = [rng.random(m) >= p_bad for m in sizes]
    pick = rng.choice(lot, size=n, replace=False)
    stratum = rules.ClusterStratum([(int(right[i].sum()), int(sizes[i])) for i in pick], lot)
    return stratum, float(sum(int(r.sum()) for r in right)), float(sizes.sum())


def _coverage(seeds: range, clustered: bool) -> int:
    """In how many of the simulated samples the rate's 95 % interval covers the lot's true rate over persons."""
    lots, drawn, p_bad = (600, 300, 150), (60, 40, 25), (0.08, 0.15, 0.03)
    covered = 0
    for seed in seeds:
        rng = np.random.default_rng(seed)
        strata, right, persons = [], 0.0, 0.0
        for lot, n, p in zip(lots, drawn, p_bad, strict=True):
            stratum, r, m = _households_sample(rng, lot, n, p, clustered)
            strata.append(stratum)
            right, persons = right + r, persons + m
        ci = rules.cluster_rate(strata)
        covered += ci.low <= right / persons <= ci.high
    return covered


def test_a_rate_over_persons_from_sampled_households_covers_the_truth_in_93_of_100_simulations() -> None:
    # Three communities; the sample draws households, the rate counts persons, and defects come by household (a
    # collector who got a household wrong got its persons wrong together): the persons are no independent draws.
    # The binomial interval over persons, as the rates had it before, covered about 70 % of such samples.
    assert _coverage(range(100), clustered=True) >= 93


def test_with_defects_by_person_the_cluster_rate_keeps_its_coverage_over_1000_simulations() -> None:
    # Where persons are wrong independently the households' variance is still right: at least 93 % of 1,000
    # samples (1,000 rather than 100, since at a true 95 % a run of 100 falls to 92 about one time in five).
    assert _coverage(range(1000), clustered=False) >= 930


def test_the_cluster_rate_follows_the_ratio_estimator() -> None:
    # One stratum of 5 sampled of 50 households: x = 8 of m = 10, p̂ = 0.8, residuals (x_i − p̂ m_i)² sum to 1.2,
    # Var = (1 − 0.1)·1.2 / (4·5·2²) = 0.0135, n_eff = 0.16 / 0.0135 = 11.85, and with Korn and Graubard's
    # adjustment for the variance estimated from 5 households (4 degrees of freedom) times (z / t₄)².
    households = [(1, 2), (1, 2), (2, 2), (2, 2), (2, 2)]
    ci = rules.cluster_rate([rules.ClusterStratum(households, 50)])
    expected = rules.weighted([(8, 10, 1.0, 0.0)])  # the same Wilson form at n = 10 ...
    assert ci.estimate == pytest.approx(0.8)
    z2 = rules.Z95**2
    n_eff = 0.16 / 0.0135 * z2 / st.t.ppf(0.975, 4) ** 2
    centre = (0.8 + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
    half = rules.Z95 / (1 + z2 / n_eff) * math.sqrt(0.16 / n_eff + z2 / (4 * n_eff**2))
    assert ci.centre == pytest.approx(centre)
    assert ci.low == pytest.approx(centre - half) and ci.high == pytest.approx(centre + half)
    assert ci.low < expected.low  # ... wider than 10 independent persons: 5.9 effective persons
    alike = rules.cluster_rate([rules.ClusterStratum([(2, 2), (3, 3)], 10)])  # every household right
    assert alike.estimate == 1.0 and alike.low < 1.0 == alike.high


def test_bad_cluster_samples_are_refused() -> None:
    cases = [
        (lambda: rules.cluster_rate([rules.ClusterStratum([(3, 2)], 10)]), "stats.more_than_trials"),
        (lambda: rules.cluster_rate([rules.ClusterStratum([(1, 2)] * 3, 2)]), "stats.sample_exceeds_lot"),
        (lambda: rules.cluster_rate([rules.ClusterStratum([(0, 0)], 10)]), "stats.no_strata"),
        (lambda: rules.cluster_rate([]), "stats.no_strata"),
    ]
    for call, code in cases:
        with pytest.raises(ValidationFailed) as caught:
            call()
        assert caught.value.code == code
