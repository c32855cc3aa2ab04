"""Acceptance bands for checks of random layers, each with a stated false-failure probability.

A check of a random layer (dropout, say) must never fail a correct implementation because of
an unlucky draw. So every statistical test here comes with a bound: the probability that a
correct implementation falls outside the band is at most `delta`, computed exactly from the
binomial distribution (not from a normal approximation), and a check that makes several tests
splits its budget among them (a union bound).
"""

import math

from scipy.stats import binom

# What every statistical check allows itself: a correct implementation fails it with
# probability at most this, whatever the seed.
FALSE_FAILURE = 1e-9

# How far from the nominal keep probability a correct implementation may really be: float32
# uniforms take 2**23 or 2**24 distinct values in [0, 1), so `uniform >= rate`,
# `uniform > rate` and `uniform < 1 - rate` keep with probability 1 - rate +- 2**-23.
GRANULARITY = 2.0**-22


def count_band(n: int, p: float, delta: float) -> tuple[int, int]:
    """[low, high] for the number of successes K of n independent trials that each succeed
    with probability q, for any q within GRANULARITY of p:

        P(K < low) <= delta / 2   and   P(K > high) <= delta / 2.

    Both tails are exact binomial quantiles (scipy.stats.binom), taken at the least and the
    most favourable q.
    """
    if n <= 0:
        return 0, 0
    p_low, p_high = max(p - GRANULARITY, 0.0), min(p + GRANULARITY, 1.0)
    low = 0 if p_low <= 0 else int(binom.ppf(delta / 2, n, p_low))
    high = n if p_high >= 1 else int(binom.isf(delta / 2, n, p_high))
    return low, high


def tail_mass(n: int, p: float, low: int, high: int) -> float:
    """P(K < low) + P(K > high) for K ~ Binomial(n, p): the exact false-failure probability of
    the band [low, high] at keep probability p."""
    return float(binom.cdf(low - 1, n, p) + binom.sf(high, n, p))


def coincidence(p: float, n: int) -> float:
    """The probability that two independent masks of n decisions, each kept with probability
    p, are identical: (p**2 + (1 - p)**2) ** n."""
    q = 1.0 - p
    return (p * p + q * q) ** n


def all_equal(p: float, copies: int, n: int) -> float:
    """The probability that `copies` independent masks of n decisions, each kept with
    probability p, are all identical: (p**copies + (1 - p)**copies) ** n."""
    q = 1.0 - p
    return (p**copies + q**copies) ** n


def some_pair_equal(p: float, copies: int, n: int) -> float:
    """A bound on the probability that some two of `copies` independent masks of n decisions
    are identical (a union bound over the pairs)."""
    return math.comb(copies, 2) * coincidence(p, n)


def power_words(base: float, n: int) -> str:
    """`base ** n` for feedback, readable even when it underflows: "0.58**2400 (about
    1e-568)"."""
    exponent = n * math.log10(base) if base > 0 else -math.inf
    about = "0" if exponent == -math.inf else f"1e{math.floor(exponent)}"
    return f"{base:.3g}**{n} (about {about})"


def none_kept(p: float, n: int) -> float:
    """The probability that a mask of n independent decisions keeps nothing: (1 - p) ** n."""
    return (1.0 - p) ** n
