"""What a handful of seeds can and cannot show: summaries and comparisons a reviewer
accepts.

A setting is trained from k seeds. Accuracy and time are summarised by the mean, the
*sample* standard deviation (ddof = 1) and a 95 % confidence interval for the mean
from Student's t; two settings differ *clearly* on them only when their intervals do
not overlap -- a conservative rule (about 1.7 standard deviations between the means
at 8 seeds), easy to check by eye in the tables.

Losses are another matter: across seeds they spread over orders of magnitude (one run
ends at 1e-2, another at 1e-7), where a mean and a standard deviation say little and
an interval on them straddles everything. They are summarised by the median and the
range, and compared by ranks: a two-sided Mann-Whitney U test, exact (every split of
the runs into two groups counted), at the 5 % level. So a setting whose every run
ends below every run of another differs clearly from it as soon as the seeds can show
anything at all (4 against 4, or 2 against 8); with fewer runs no order of them could,
and the comparison says "too few runs to tell". Anything else is "no clear difference
at k seeds", never a finding.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from typing import Sequence, Union

__all__ = ["LEVEL", "Comparison", "Spread", "Summary", "compare", "compare_ranks", "rank_test_p", "t_975"]

LEVEL = 0.05  # a rank test's p below this is a clear difference

# Student's t, 97.5 % quantile, by degrees of freedom (two-sided 95 % intervals)
_T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
          2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
          2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def t_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (df ≥ 1)."""
    if df < 1:
        raise ValueError(f"t needs at least one degree of freedom, got {df}")
    if df <= len(_T_975):
        return _T_975[df - 1]
    # Beyond the table, the normal quantile's expansion in 1/df (within 1e-4 from df 31 on)
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Summary:
    """Mean, sample sd and 95 % interval of the finite values among a setting's runs."""

    n: int
    mean: float
    sd: float | None  # None below two values
    low: float  # the 95 % interval for the mean (the mean itself below two values)
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        finite = [float(v) for v in values if v is not None and math.isfinite(v)]
        if not finite:
            return cls(0, math.nan, None, math.nan, math.nan)
        mean = statistics.fmean(finite)
        if len(finite) == 1:
            return cls(1, mean, None, mean, mean)
        sd = statistics.stdev(finite)
        half = t_975(len(finite) - 1) * sd / math.sqrt(len(finite))
        return cls(len(finite), mean, sd, mean - half, mean + half)

    def text(self, digits: str = ".4g", scale: float = 1.0, unit: str = "") -> str:
        """``mean ± sd unit`` (each as ``format(digits)``), or the one value, or – for none."""
        if self.n == 0:
            return "–"
        if self.sd is None:
            return f"{format(self.mean * scale, digits)}{unit}"
        return f"{format(self.mean * scale, digits)} ± {format(self.sd * scale, digits)}{unit}"


@dataclass(frozen=True)
class Spread:
    """Median and range of the finite values among a setting's runs: for losses, which
    spread over orders of magnitude."""

    n: int
    median: float
    low: float  # the smallest value
    high: float  # the largest

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        finite = sorted(float(v) for v in values if v is not None and math.isfinite(v))
        if not finite:
            return cls(0, math.nan, math.nan, math.nan)
        return cls(len(finite), statistics.median(finite), finite[0], finite[-1])

    def text(self, digits: str = ".2e") -> str:
        """``median (low–high)`` in one notation, or the one value, or – for none."""
        if self.n == 0:
            return "–"
        if self.n == 1:
            return format(self.median, digits)
        return f"{format(self.median, digits)} ({format(self.low, digits)}–{format(self.high, digits)})"


@dataclass(frozen=True)
class Comparison:
    """How setting A stands to setting B on one measure."""

    direction: int  # +1: A clearly higher; -1: A clearly lower; 0: no clear difference
    a: Union[Summary, Spread]
    b: Union[Summary, Spread]
    why: str  # one phrase a sentence can quote

    @property
    def clear(self) -> bool:
        return self.direction != 0


def compare(a: Sequence[float], b: Sequence[float]) -> Comparison:
    """Whether the runs of A and of B differ clearly: the 95 % intervals of their means
    do not overlap. Identical values, or fewer than two runs on a side, never differ
    clearly."""
    sa, sb = Summary.of(a), Summary.of(b)
    if sa.n < 2 or sb.n < 2:
        return Comparison(0, sa, sb, f"too few runs to tell ({sa.n} and {sb.n})")
    if sa.low > sb.high:
        return Comparison(1, sa, sb, "the 95 % intervals do not overlap")
    if sa.high < sb.low:
        return Comparison(-1, sa, sb, "the 95 % intervals do not overlap")
    if sa.mean == sb.mean and sa.sd == sb.sd == 0:
        return Comparison(0, sa, sb, "every run the same")
    return Comparison(0, sa, sb, f"no clear difference at {min(sa.n, sb.n)} seeds")


def compare_ranks(a: Sequence[float], b: Sequence[float]) -> Comparison:
    """Whether the runs of A and of B differ clearly by ranks: a two-sided exact
    Mann-Whitney U test at the 5 % level (:data:`LEVEL`), the direction that of A's mean
    rank. The scale does not matter, so losses spread over decades compare fairly."""
    sa, sb = Spread.of(a), Spread.of(b)
    finite_a = [v for v in a if v is not None and math.isfinite(v)]
    finite_b = [v for v in b if v is not None and math.isfinite(v)]
    if sa.n < 2 or sb.n < 2 or 2 / math.comb(sa.n + sb.n, sa.n) >= LEVEL:
        return Comparison(0, sa, sb, f"too few runs to tell ({sa.n} and {sb.n})")
    if sa.low == sa.high == sb.low == sb.high:
        return Comparison(0, sa, sb, "every run the same")
    p, higher = rank_test_p(finite_a, finite_b)
    if p < LEVEL:
        apart = (
            "every run of one below every run of the other" if sa.high < sb.low or sb.high < sa.low else "ranks apart"
        )
        return Comparison(1 if higher else -1, sa, sb, f"{apart}: rank test p = {p:.2g}")
    return Comparison(0, sa, sb, f"no clear difference at {min(sa.n, sb.n)} seeds")


EXACT_SPLITS = 200_000  # up to this many splits the test counts them all (8 against 8: 12,870)


def rank_test_p(a: Sequence[float], b: Sequence[float]) -> tuple[float, bool]:
    """The two-sided p of the Mann-Whitney U test of A against B (ties share their mean
    rank), and whether A ranks higher. Exact while the splits are few enough to count,
    else the normal approximation with the tie correction."""
    values = sorted([*a, *b])
    ranks2 = {}  # doubled mean rank per value: integers, so that sums compare exactly
    for value, group in itertools.groupby(enumerate(values, start=1), key=lambda item: item[1]):
        positions = [k for k, _ in group]
        ranks2[value] = positions[0] + positions[-1]
    everyone = [ranks2[v] for v in [*a, *b]]
    n, size, total = len(a), len(everyone), sum(everyone)
    observed = sum(ranks2[v] for v in a)
    # |rank sum − its expectation n·total/size|, times size: integers, compared exactly
    distance = abs(observed * size - n * total)
    if math.comb(size, n) <= EXACT_SPLITS:
        splits = itertools.combinations(everyone, n)
        as_far = sum(1 for split in splits if abs(sum(split) * size - n * total) >= distance)
        p = as_far / math.comb(size, n)
    else:
        p = _normal_p(everyone, n, observed)
    return min(1.0, p), observed * size > n * total


def _normal_p(ranks2: Sequence[int], n: int, observed: int) -> float:
    """The normal approximation to the rank-sum test (doubled ranks), with the tie correction."""
    size = len(ranks2)
    mean = n * sum(ranks2) / size
    variance = n * (size - n) / size * statistics.pvariance(ranks2)
    variance *= size / (size - 1)
    if variance == 0:
        return 1.0
    z = abs(observed - mean) / math.sqrt(variance)
    return math.erfc(z / math.sqrt(2))
