"""lab.evidence: what a handful of seeds can and cannot show (issue 14)."""

import math

import pytest
from optional import need

from lab.evidence import Summary, compare, t_975


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
    assert Summary.of([0.5, 1.0]).text(".1f", 100, " %") == "75.0 % ± 35.4"


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
