"""The report's claims, held to this run's numbers: a verdict for each, and sentences
for the experiments the report did not make.

A verdict is one of: "agrees", "agrees in part", "disagrees", or "no clear difference
at k seeds" -- decided by :mod:`lab.evidence` (losses by ranks, accuracy and time by
95 % intervals), never by which mean happens to be larger. Every function here is
pure: outcomes in, words out, so the tests can feed it a tie, a clear difference or a
divergence and read what it says. Only the report's own words are put in quotation
marks; a setting's name is in italics.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .evidence import Comparison, Spread, Summary, compare, compare_ranks
from .original import CLAIMS, Claim
from .runs import Outcome

__all__ = [
    "AGREES",
    "DISAGREES",
    "IN_PART",
    "NOT_JUDGED",
    "Finding",
    "accuracy_finding",
    "hidden_unit_findings",
    "learning_rate_findings",
    "no_activation_finding",
    "sweep_sentences",
]

AGREES, IN_PART, DISAGREES = "agrees", "agrees in part", "disagrees"
NOT_JUDGED = "quick run: not judged; run without --quick"


@dataclass(frozen=True)
class Finding:
    """One claim of the report beside this run's evidence."""

    claim: Claim
    verdict: str
    evidence: str  # the numbers behind the verdict, as a sentence

    def row(self) -> str:
        return f"| “{self.claim.quote}” ({self.claim.section}) | {self.evidence} | **{self.verdict}** |"


def percent(summary: Summary) -> str:
    return summary.text(".1f", 100, " %")


def loss(spread: Spread) -> str:
    """A loss as the report shows every loss: median (lowest–highest), in one notation."""
    return spread.text()


def name(o: Outcome) -> str:
    """A setting's name in a sentence: in italics (quotation marks are for the report's words)."""
    return f"*{o.setting.label}*"


def _no_clear(seeds: int) -> str:
    return f"no clear difference at {seeds} seeds"


def _seeds(*outcomes: Outcome) -> int:
    return min(len(o.histories) for o in outcomes)


# -- results --------------------------------------------------------------------------------


def accuracy_finding(results: Sequence[Outcome]) -> Finding:
    """ "both linear and xor data set gets 100% of accuracy": in how many seeds here?"""
    parts, perfect, total = [], 0, 0
    for o in results:
        full = sum(1 for a in o.accuracies if a == 1.0)
        perfect, total = perfect + full, total + len(o.histories)
        parts.append(
            f"{o.setting.label}: 100 % in {full} of {len(o.histories)} seeds ({percent(Summary.of(o.accuracies))})"
        )
    verdict = AGREES if perfect == total else IN_PART if perfect else DISAGREES
    return Finding(CLAIMS["accuracy"], verdict, "; ".join(parts))


# -- learning rates -------------------------------------------------------------------------


def _judge(expected: Sequence[Comparison], want: Sequence[int], seeds: int) -> str:
    """All comparisons clear the expected way: agrees; some, none against: in part; any
    clear against: disagrees; none clear: no clear difference."""
    hits = [c.direction == w for c, w in zip(expected, want)]
    against = [c.clear and c.direction != w for c, w in zip(expected, want)]
    if any(against):
        return DISAGREES
    if all(hits):
        return AGREES
    return IN_PART if any(hits) else _no_clear(seeds)


def _versus(c: Comparison, a: str, b: str, measure: str, show: Callable[[Any], str] = loss) -> str:
    return f"{measure} {show(c.a)} ({a}) against {show(c.b)} ({b}): {c.why}"


def learning_rate_findings(by_lr: dict[float, Outcome]) -> list[Finding]:
    """IV.1: 0.01 too slow and inaccurate, 1 too large, 0.1 adequate."""
    small, mid, large = by_lr[0.01], by_lr[0.1], by_lr[1.0]
    seeds = _seeds(small, mid, large)
    slow = compare_ranks(small.mean_losses, mid.mean_losses)  # the area under the curve: a slow fall is a large one
    low = compare(small.accuracies, mid.accuracies)
    findings = [
        Finding(
            CLAIMS["lr_small"],
            _judge([slow, low], [1, -1], seeds),
            f"{_versus(slow, 'lr 0.01', 'lr 0.1', 'mean loss over training')}; "
            f"{_versus(low, 'lr 0.01', 'lr 0.1', 'accuracy', percent)}",
        )
    ]
    final = compare_ranks(large.final_losses, mid.final_losses)
    worse = compare(large.accuracies, mid.accuracies)
    verdict = _judge([final], [1], seeds)
    if worse.direction == -1 and verdict != DISAGREES:
        verdict = AGREES
    findings.append(
        Finding(
            CLAIMS["lr_large"],
            verdict,
            f"{_versus(final, 'lr 1', 'lr 0.1', 'final loss')}; "
            f"{_versus(worse, 'lr 1', 'lr 0.1', 'accuracy', percent)}",
        )
    )
    findings.append(_adequate(mid, {"lr 1": large, "lr 0.01": small}, seeds))
    return findings


def _adequate(mid: Outcome, others: dict[str, Outcome], seeds: int) -> Finding:
    """0.1 is adequate: no other rate clearly better, and at least one clearly worse."""
    better, worse = [], []
    for name, o in others.items():
        by_loss, by_accuracy = compare_ranks(o.final_losses, mid.final_losses), compare(o.accuracies, mid.accuracies)
        if by_loss.direction == -1 or by_accuracy.direction == 1:
            better.append(name)
        if by_loss.direction == 1 or by_accuracy.direction == -1:
            worse.append(name)
    verdict = DISAGREES if better else AGREES if worse else _no_clear(seeds)
    evidence = (
        f"lr 0.1: accuracy {percent(Summary.of(mid.accuracies))}, final loss {loss(Spread.of(mid.final_losses))}; "
        + (f"clearly better: {', '.join(better)}; " if better else "no rate clearly better; ")
        + (f"clearly worse: {', '.join(worse)}" if worse else "none clearly worse")
    )
    return Finding(CLAIMS["lr_adequate"], verdict, evidence)


# -- hidden units ---------------------------------------------------------------------------


def _steps(
    outcomes: Sequence[Outcome],
    measure: str,
    want: int,
    show: Callable[[Any], str] = loss,  # loss for a Spread, percent for a Summary
    by: Callable[[Sequence[float], Sequence[float]], Comparison] = compare_ranks,
) -> tuple[str, str]:
    """Each step up in width compared on ``measure``: the verdict and what each step showed."""
    comparisons, said = [], []
    for a, b in itertools.pairwise(outcomes):
        c = by(getattr(b, measure), getattr(a, measure))  # the wider against the narrower
        comparisons.append(c)
        arrow = {want: "clearly as claimed", -want: "clearly against the claim", 0: c.why}[c.direction]
        said.append(f"{a.setting.label} → {b.setting.label}: {show(c.b)} → {show(c.a)} ({arrow})")
    return _judge(comparisons, [want] * len(comparisons), _seeds(*outcomes)), "; ".join(said)


def hidden_unit_findings(outcomes: Sequence[Outcome]) -> list[Finding]:
    """IV.2: more hidden units, a faster falling loss, higher accuracy, longer training."""
    speed = _steps(outcomes, "mean_losses", -1)
    accuracy = _steps(outcomes, "accuracies", 1, percent, compare)
    time = _steps(outcomes, "seconds", 1, lambda s: s.text(".2f", unit=" s"), compare)
    return [
        Finding(CLAIMS["units_speed"], speed[0], f"mean loss over training, {speed[1]}"),
        Finding(CLAIMS["units_accuracy"], accuracy[0], f"accuracy, {accuracy[1]}"),
        Finding(CLAIMS["units_time"], time[0], f"seconds per run, {time[1]}"),
    ]


# -- without activation ---------------------------------------------------------------------


def no_activation_finding(linear: Outcome) -> Finding:
    """IV.3: without activations the values overflow and training fails."""
    k, n = len(linear.diverged), len(linear.histories)
    epochs = sorted({h.diverged_at for h in linear.diverged if h.diverged_at is not None})
    evidence = f"{k} of {n} seeds overflowed" + (
        f" (first non-finite loss at epoch {', '.join(map(str, epochs))})" if k else ""
    )
    if k < n:
        rest = Summary.of(linear.accuracies)
        evidence += f"; the {n - k} that did not end at {percent(rest)} accuracy"
    verdict = AGREES if k == n else IN_PART if k else DISAGREES
    return Finding(CLAIMS["no_activation"], verdict, evidence)


# -- the lab's extras: no claim of the report, only what the seeds can tell -----------------


def sweep_sentences(outcomes: Sequence[Outcome], what: str) -> list[str]:
    """What a comparison of settings shows: the best by mean accuracy (then final loss),
    which settings it is clearly better than and by which measure, and where the seeds
    cannot tell settings apart."""
    scored = [o for o in outcomes if o.finished]
    if not scored:
        return [f"Every run of every {what} diverged."]
    best = max(scored, key=lambda o: (Summary.of(o.accuracies).mean, -Spread.of(o.final_losses).median))
    top = Summary.of(best.accuracies).mean
    tied = [o for o in scored if o is not best and Summary.of(o.accuracies).mean == top]
    seeds = _seeds(*outcomes)
    head = f"{name(best)} has the highest mean accuracy ({percent(Summary.of(best.accuracies))})"
    said = [f"{head}, and the lowest final loss of the {what}s tied with it." if tied else f"{head}."]
    better, unclear = [], []
    for o in scored:
        if o is best:
            continue
        wins, losses = _clear_measures(best, o)
        if losses:
            against = f"{name(o)} is clearly better than it by {' and '.join(losses)}"
            said.append(f"{against}, though clearly worse by {' and '.join(wins)}." if wins else f"{against}.")
        elif wins:
            better.append(f"{name(o)} (by {' and '.join(wins)})")
        else:
            unclear.append(name(o))
    if better:
        said.append(f"It is clearly better than {_and(better)}.")
    if unclear:
        said.append(f"Between it and {_and(unclear)} there is {_no_clear(seeds)}.")
    for o in outcomes:
        if o.diverged:
            epochs = sorted({h.diverged_at for h in o.diverged if h.diverged_at is not None})
            rest = f"its numbers are over the other {len(o.finished)}" if o.finished else "none finished"
            said.append(
                f"{len(o.diverged)} of {len(o.histories)} runs of {name(o)} diverged (first non-finite "
                f"loss at epoch {', '.join(map(str, epochs))}); {rest}."
            )
    return said


def _clear_measures(best: Outcome, other: Outcome) -> tuple[list[str], list[str]]:
    """The measures on which ``best`` is clearly better than ``other``, and clearly worse."""
    wins: list[str] = []
    losses: list[str] = []
    for measure, c in (
        ("accuracy", compare(best.accuracies, other.accuracies)),
        ("final loss", compare_ranks(other.final_losses, best.final_losses)),
    ):
        (wins if c.direction == 1 else losses if c.direction == -1 else []).append(measure)
    return wins, losses


def _and(items: Sequence[str]) -> str:
    """a, b and c."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def epochs_text(o: Outcome) -> str:
    """When the loss first fell below CONVERGED: mean ± sd over the runs that got there."""
    hits = [e for e in o.converged_at if e is not None]
    if not hits:
        return "never"
    shown = Summary.of(hits).text(".0f")
    return shown if len(hits) == len(o.histories) else f"{shown} ({len(hits)} of {len(o.histories)} seeds)"
