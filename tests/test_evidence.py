"""lab.evidence: what a handful of seeds can and cannot show (issue 14)."""

import itertools
import math
import random

import pytest
from optional import need

from lab.evidence import Spread, Summary, compare, rank_test_p, t_975


def test_t_quantiles_are_students():
    try:
        from scipy.stats import t
    except ImportError:
        t = None
    need(None if t else "scipy is missing: pip install -e '.[dev]' (scikit-learn brings it; make test does it)")
    for df in [*range(1, 41), 60, 120, 1000]:
        assert t_975(df) == pytest.approx(t.ppf(0.975, df), abs=0.0005), df


def test_t_needs_a_degree_of_freedom():
    with pytest.raises(ValueError, match="at least one degree of freedom, got 0"):
        t_975(0)


def test_the_spread_is_the_sample_sd_and_the_interval_students():
    s = Summary.of([1.0, 2.0, 3.0])
    assert (s.n, s.mean, s.sd) == (3, 2.0, 1.0)  # ddof = 0 would give 0.816
    half = 4.303 / math.sqrt(3)
    assert s.low == pytest.approx(2 - half) and s.high == pytest.approx(2 + half)
    assert s.text(".3g") == "2 ± 1"
    assert Summary.of([0.5, 1.0]).text(".1f", 100, " %") == "75.0 ± 35.4 %"  # value ± sd unit


def test_a_summary_counts_only_finite_values():
    s = Summary.of([1.0, math.nan, None, math.inf, 3.0])
    assert (s.n, s.mean) == (2, 2.0)
    one = Summary.of([0.25])
    assert (one.n, one.sd, one.low, one.high, one.text(".2f")) == (1, None, 0.25, 0.25, "0.25")
    none = Summary.of([math.nan])
    assert none.n == 0 and math.isnan(none.mean) and none.text() == "–"


def test_a_difference_is_clear_only_when_the_intervals_are_apart():
    low, high = [0.10, 0.11, 0.12], [0.20, 0.21, 0.22]
    assert compare(high, low).direction == 1 and compare(low, high).direction == -1
    assert compare(high, low).why == "the 95 % intervals do not overlap"
    # means 0.01 apart with sd 0.01 over 3 seeds: the intervals (±0.025) overlap
    tie = compare([0.10, 0.11, 0.12], [0.11, 0.12, 0.13])
    assert tie.direction == 0 and not tie.clear and tie.why == "no clear difference at 3 seeds"
    # the same gap is clear when every run agrees to the last digit
    assert compare([0.11] * 3, [0.12] * 3).direction == -1


def test_too_few_runs_or_identical_runs_never_differ():
    assert compare([1.0], [0.0, 0.0]).why == "too few runs to tell (1 and 2)"
    assert compare([1.0], [0.0, 0.0]).direction == 0
    assert compare([0.5, 0.5], [0.5, 0.5, 0.5]).why == "every run the same"
    diverged_out = compare([math.nan, math.nan, 1.0], [0.0, 0.1])
    assert diverged_out.direction == 0 and diverged_out.a.n == 1


def test_the_rank_test_is_mann_whitneys_exact_test():
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        mannwhitneyu = None
    need(None if mannwhitneyu else "scipy is missing: pip install -e '.[dev]' (scikit-learn brings it)")
    rng = random.Random(21)
    for _ in range(100):
        a = [rng.lognormvariate(-5, 3) for _ in range(rng.randint(2, 8))]
        b = [rng.lognormvariate(-4, 3) for _ in range(rng.randint(2, 8))]
        p, higher = rank_test_p(a, b)
        assert p == pytest.approx(mannwhitneyu(a, b, method="exact").pvalue, abs=1e-12)
        assert higher == (mannwhitneyu(a, b).statistic > len(a) * len(b) / 2)


def test_ties_share_their_rank_and_every_split_is_counted():
    # a, b = [1, 2, 2], [2, 3, 3]: ranks 1, 3, 3 | 3, 5.5, 5.5 (the three 2s share rank 3); of the 20
    # splits into three and three, count those whose rank sum is as far from its mean, 10.5, as a's 7
    a, b = [1.0, 2.0, 2.0], [2.0, 3.0, 3.0]
    ranks = [1, 3, 3, 3, 5.5, 5.5]
    sums = [sum(s) for s in itertools.combinations(ranks, 3)]
    expected = sum(abs(t - 10.5) >= abs(7 - 10.5) for t in sums) / len(sums)
    assert rank_test_p(a, b) == (pytest.approx(expected), False)


def test_losses_are_shown_as_median_and_range_in_one_notation():
    assert Spread.of([0.25, 2.7e-05, math.nan, 0.0036]).text() == "3.60e-03 (2.70e-05–2.50e-01)"
    assert Spread.of([0.5]).text() == "5.00e-01" and Spread.of([math.inf]).text() == "–"
