"""What a handful of seeds can and cannot show: summaries and comparisons a reviewer
accepts.

A setting is trained from k seeds. Its summary is the mean, the *sample* standard
deviation (ddof = 1) and a 95 % confidence interval for the mean from Student's t.
Two settings differ *clearly* only when their intervals do not overlap -- a
conservative rule (it needs about 1.7 standard deviations between the means at 8
seeds), easy to state and to check by eye in the tables. Anything else is "no clear
difference at k seeds", never a finding.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

__all__ = ["Comparison", "Summary", "compare", "t_975"]

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
        """``mean ± sd`` (as ``format(digits)``), or the one value, or – for none."""
        if self.n == 0:
            return "–"
        shown = f"{format(self.mean * scale, digits)}{unit}"
        if self.sd is None:
            return shown
        return f"{shown} ± {format(self.sd * scale, digits)}"


@dataclass(frozen=True)
class Comparison:
    """How setting A stands to setting B on one measure."""

    direction: int  # +1: A clearly higher; -1: A clearly lower; 0: no clear difference
    a: Summary
    b: Summary
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
