"""The interval of the people the register missed (不漏人), over re-canvassed households extended to their strata.

The truth is an integer: the people the re-canvass found unregistered in the inspected households (seen, known)
plus those living unregistered in the households not inspected (unknown). What is estimated is that unknown part;
its spread is the extension's (households ÷ inspected) variance of the household sample — both the estimate's
error and the unsampled households' own chance — plus Chapman's. On a town's few and skewed counts its normal
interval is short on the right, and when nobody was found it shrinks to the people seen though the households not
inspected may hide someone (docs/kpis.md: it covered 93.75 % of simulated towns).

The interval here is a predictive one. With yᵢ the unregistered found in household i of a simple random sample of
h from H, a Poisson–gamma model gives the unsampled households' count as negative binomial: shape the count found
(Σyᵢ, divided by the dispersion s²/ȳ), success probability h/H — whose mean is the extension's and whose variance
is exactly the household term H²(1 − h/H)s²/h of `rules.coverage`. Over many strata the sum is matched to one
negative binomial by its mean and variance (p = mean ÷ variance, shape = mean²/(variance − mean)), Jeffreys' half
count is added to the shape once (not per stratum: many post-strata with nobody found would otherwise add up to a
bias), and the interval is seen + its α/2 and 1 − α/2 quantiles (scipy). On large counts the negative binomial is
the normal of the same variance, so the interval is the normal one; on small ones it is skewed, includes an
unsampled count of 0 when that is likely, and its ends are whole persons.
"""

from __future__ import annotations

import math

from scipy import special

JEFFREYS = 0.5


def interval(
    missed: float, variance: float, seen: int, inspected_fraction: float, z: float
) -> tuple[float, float]:
    """(low, high) for the people missed, given the estimate, its variance, the people the re-canvass found
    unregistered (seen) and the fraction of households inspected in the strata sampled in part (1 when every
    stratum was inspected whole). The interval holds the estimate and never falls below the people seen."""
    q = float(special.ndtr(-z))  # α/2
    unseen = max(0.0, missed - seen)
    if unseen > 0 and variance > unseen:
        p = unseen / variance
        shape = unseen * unseen / (variance - unseen)
    elif unseen > 0:
        # Spread at most the Poisson's (households inspected almost whole): the Poisson of that mean is wider.
        return _held(missed, seen + _quantile(q, unseen), seen + _quantile(1 - q, unseen))
    elif inspected_fraction < 1:
        # Nobody unseen estimated where households were left out: what a half person found would say.
        p, shape = inspected_fraction, 0.0
    else:
        return _held(missed, float(seen), seen + z * math.sqrt(max(0.0, variance)))
    n = shape + JEFFREYS
    return _held(missed, seen + _quantile(q, n, p), seen + _quantile(1 - q, n, p))


def _quantile(q: float, n: float, p: float | None = None) -> float:
    """The smallest k with P(K ≤ k) ≥ q, K negative binomial (n, p), or Poisson of mean n without p: scipy's
    `nbinom.ppf` / `poisson.ppf` by the same special functions, without the frozen distribution's cost (a city's
    thousands of post-strata)."""
    if p is None:
        k = math.ceil(float(special.pdtrik(q, n)))
        below = max(k - 1, 0)
        return float(below if special.pdtr(below, n) >= q else k)
    k = math.ceil(float(special.nbdtrik(q, n, p)))
    below = max(k - 1, 0)
    return float(below if special.betainc(n, below + 1, p) >= q else k)  # P(K ≤ below)


def _held(missed: float, low: float, high: float) -> tuple[float, float]:
    """Whole-person ends may step over an estimate that is not whole: the interval always holds the estimate."""
    return min(low, missed), max(high, missed)
