"""The predictive interval of the people missed (`inspections.missed`): scipy's quantiles, and its edges."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from liangshi.inspections import missed, rules


@pytest.mark.parametrize("n", [0.5, 0.73, 1.0, 2.96, 21.6, 481.6, 12000.0])
@pytest.mark.parametrize("p", [0.0005, 0.05, 0.38, 0.675, 0.999])
@pytest.mark.parametrize("q", [0.0001, 0.025, 0.5, 0.975])
def test_the_quantiles_are_scipy_s(n: float, p: float, q: float) -> None:
    assert missed._quantile(q, n, p) == stats.nbinom.ppf(q, n, p)
    assert missed._quantile(q, n * p) == stats.poisson.ppf(q, n * p)


def test_the_interval_is_the_people_seen_plus_the_negative_binomial_s_quantiles() -> None:
    # 27 of 40 households inspected, 4 of them with one person unregistered (the household term only).
    part = rules.coverage(50, 54, 50, 40, 27, 4)
    unseen, variance = part.missed - 4, part.missed_variance
    dist = stats.nbinom(unseen * unseen / (variance - unseen) + missed.JEFFREYS, unseen / variance)
    assert (part.missed_low, part.missed_high) == (4 + dist.ppf(0.025), 4 + dist.ppf(0.975))
    assert part.missed_low == 4  # the 13 households not inspected may well hide nobody


def test_nobody_found_where_households_were_left_out_still_leaves_room_above() -> None:
    part = rules.coverage(50, 50, 50, 40, 27, 0)
    assert part.missed == 0 and part.missed_variance == 0
    assert part.missed_low == 0 and part.missed_high == stats.nbinom.ppf(0.975, missed.JEFFREYS, 27 / 40) > 0
    # Inspected whole: nothing is unknown.
    whole = rules.coverage(50, 50, 50, 12, 12, 0)
    assert (whole.missed_low, whole.missed_high) == (0, 0)
    assert rules.coverage_total([part, whole])[2:] == (part.missed_low, part.missed_high)


def test_the_interval_always_holds_the_estimate_and_the_people_seen() -> None:
    # 39 of 40 inspected: the one household left hides nobody with a probability above 97.5 %.
    part = rules.coverage(50, 51, 50, 40, 39, 1)
    assert part.missed_low == 1 <= part.missed <= part.missed_high
    low, high = missed.interval(3.2, 0.1, 3, 0.9, rules.Z95)  # spread below the Poisson's
    assert low <= 3.2 <= high and low >= 3


def test_many_people_missed_give_the_normal_interval() -> None:
    part = rules.coverage(9000, 9700, 9000, 6000, 1500, 900)
    half = rules.Z95 * math.sqrt(part.missed_variance)
    assert part.missed_low == pytest.approx(part.missed - half, abs=0.05 * half)
    assert part.missed_high == pytest.approx(part.missed + half, abs=0.05 * half)
