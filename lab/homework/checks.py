"""Run an exercise's checks against a sandboxed submission: seeded cases in one batch,
then, for each check that fails, hypothesis shrinks the failure to a minimal case with
one round trip per example tried, and the catalogue names the mistake if one fits.

Determinism: the cases of a check come from hypothesis with a fixed seed (the same
seed, the same cases, the same minimal case), shrinking is bounded by a number of
calls (never by time), and answers are compared with fixed tolerances.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from random import Random
from typing import Any, Callable, Protocol, Sequence

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from .catalogue import MISTAKES
from .protocol import Call, Failure, Outcome
from .sandbox import Sandbox

__all__ = ["NEAR", "UNDEFINED", "Check", "CheckResult", "Verdict", "nearly", "run_checks"]

GENERATED = 30  # cases hypothesis draws per check, besides the explicit ones
SHRINK_CALLS = 300  # round trips one check may spend shrinking a failure with hypothesis
REDUCE_CALLS = 150  # and then finishing by hand (``simpler``)
UNDEFINED = object()  # a wrong variant that cannot be computed for a case (numpy's shape error)
NEAR = 1e-4  # a relative error below this, but over a check's tolerance: rounding, not a wrong formula


def nearly(error: float, rtol: float) -> str:
    """The reason for an answer off by ``error`` (relative, under ``NEAR``): the right
    formula computed with fewer digits, which no localisation or catalogue may explain."""
    return (
        f"off by only {error:.2g} relative, more than the {rtol:g} allowed: float32 arithmetic, or a "
        "rounded constant? (numpy computes in float64 unless told otherwise)"
    )


@dataclass(frozen=True)
class Verdict:
    """One case judged: passed, or why not, with the numbers side by side."""

    passed: bool
    reason: str = ""
    expected: Any = None  # JSON data, as shown
    got: Any = None  # JSON data, or None when nothing usable came back
    relative_error: float | None = None
    where: str = ""  # which layer or part is wrong (localisation)
    marks: dict[str, Any] = field(default_factory=dict)  # for the step-through page


class Check(Protocol):
    """What an exercise's check provides (see ``local_checks.py``, ``network_checks.py``)."""

    @property
    def name(self) -> str: ...
    @property
    def function(self) -> str: ...
    @property
    def description(self) -> str: ...

    def strategy(self) -> st.SearchStrategy[Any]: ...
    def explicit(self, seed: int) -> list[Any]: ...
    def call(self, case: Any) -> Call: ...
    def judge(self, case: Any, outcome: Outcome) -> Verdict: ...
    def confirm(self, case: Any) -> None: ...  # the last oracle, before a failure on ``case`` counts
    def answer(self, case: Any, outcome: Outcome) -> Any: ...  # the parsed answer, or UNDEFINED
    def variant(self, wrong: Callable[..., Any], case: Any) -> Any: ...  # a wrong variant's answer
    def right(self, case: Any) -> Any: ...  # the right answer, parsed the same way
    def same(self, a: Any, b: Any) -> bool: ...
    def show(self, case: Any) -> dict[str, Any]: ...
    def size(self, case: Any) -> tuple[float, ...]: ...


@dataclass
class CheckResult:
    """One check of one submission."""

    name: str
    function: str
    description: str
    passed: bool
    tried: int  # cases tried, shrinking included
    failed: int = 0  # of the seeded cases
    seeded: int = 0
    case: dict[str, Any] | None = None  # the minimal failing case, shown
    expected: Any = None
    got: Any = None
    relative_error: float | None = None
    reason: str = ""
    where: str = ""
    trace: str = ""
    mistake: str | None = None
    stopped: bool = False  # it hung or crashed the child on the minimal case: not called again
    minimal: Any = None  # the case itself (for the page), not serialised
    marks: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The check as JSON data (a number that is not finite is written as a string)."""
        return _finite(
            {
                "name": self.name,
                "passed": self.passed,
                "case": self.case,
                "expected": self.expected,
                "got": self.got,
                "mistake": self.mistake,
                "relative_error": self.relative_error,
                "reason": self.reason or None,
                "where": self.where or None,
                "trace": self.trace or None,
                "cases_tried": self.tried,
            }
        )


def _finite(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return repr(data)
    return data


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
    )


def key(case: Any) -> str:
    return json.dumps(case, sort_keys=True, default=repr)


_plans: dict[tuple[str, int], list[Any]] = {}


def seeded_cases(check: Check, seed: int) -> list[Any]:
    """The explicit cases, then what hypothesis draws with ``seed`` (cached: the same for
    every student graded with that seed)."""
    plan = _plans.get((check.name, seed))
    if plan is None:
        drawn: list[Any] = []

        def record(case: Any) -> bool:
            drawn.append(case)
            return False

        try:
            find(check.strategy(), record, settings=_settings(GENERATED), random=Random(seed))
        except NoSuchExample:
            pass
        unique: dict[str, Any] = {}
        for case in [*check.explicit(seed), *drawn]:
            unique.setdefault(key(case), case)
        plan = list(unique.values())
        if len(_plans) > 256:
            _plans.clear()
        _plans[(check.name, seed)] = plan
    return plan


def run_checks(checks: Sequence[Check], sandbox: Sandbox, seeds: dict[str, int]) -> list[CheckResult]:
    """Every check on its seeded cases (one batch for all), then each failure shrunk."""
    plans = [(check, seeded_cases(check, seeds[check.name])) for check in checks]
    calls = [check.call(case) for check, cases in plans for case in cases]
    outcomes = iter(sandbox.call_many(calls))
    results = []
    for check, cases in plans:
        tried = {key(c): (c, o, _judge(check, c, o)) for c, o in zip(cases, [next(outcomes) for _ in cases])}
        results.append(_conclude(check, cases, tried, sandbox, seeds[check.name]))
    return results


def _judge(check: Check, case: Any, outcome: Outcome) -> Verdict:
    """The verdict on one case; a failure only once every oracle agrees on the right answer."""
    verdict = check.judge(case, outcome)
    if not verdict.passed:
        check.confirm(case)
    return verdict


def _conclude(check: Check, cases: list[Any], tried: dict[str, Any], sandbox: Sandbox, seed: int) -> CheckResult:
    failing = [case for case in cases if not tried[key(case)][2].passed]
    result = CheckResult(
        check.name, check.function, check.description, not failing, len(cases), len(failing), len(cases)
    )
    if not failing:
        return result
    first = tried[key(failing[0])][1]
    if isinstance(first, Failure) and _case_free(first) and all(tried[key(c)][1] == first for c in failing):
        result.reason = tried[key(failing[0])][2].reason
        result.trace = "" if first.reason.startswith("NotImplementedError") else first.trace
        return result  # the same on every case: no case to show
    minimal = None
    same = len(failing) == len(cases) and all(tried[key(c)][1] == first for c in failing)
    shrinkable = not same and not (isinstance(first, Failure) and _not_shrinkable(first))
    if shrinkable:
        minimal = _shrink(check, sandbox, seed, tried)  # (the same failure everywhere: nothing to shrink)
    if minimal is None or key(minimal) not in tried or tried[key(minimal)][2].passed:
        minimal = failing[0] if isinstance(first, Failure) and _not_shrinkable(first) else min(failing, key=check.size)
    if shrinkable:
        minimal = _reduce(check, sandbox, minimal, tried)
    _, outcome, verdict = tried[key(minimal)]
    if isinstance(outcome, Failure) and any(v.marks for _, _, v in tried.values()):
        _numeric(check, tried, result)
    result.tried = len(tried)
    result.minimal, result.case = minimal, check.show(minimal)
    result.expected, result.got, result.relative_error = verdict.expected, verdict.got, verdict.relative_error
    result.reason = verdict.reason
    result.where = result.where or verdict.where
    result.marks = result.marks or verdict.marks
    if isinstance(outcome, Failure):
        result.trace = outcome.trace
        result.stopped = outcome.fatal
    result.mistake = _name_mistake(check, list(tried.values()))
    return result


def _case_free(failure: Failure) -> bool:
    """Failures that do not depend on the case."""
    return failure.kind in ("load", "missing") or failure.reason.startswith("NotImplementedError")


def _not_shrinkable(failure: Failure) -> bool:
    """Failures that do not depend on the case, or that cost a restart per example."""
    return failure.fatal or _case_free(failure)


def _numeric(check: Check, tried: dict[str, Any], result: CheckResult) -> None:
    """The minimal case raised, but others came back with wrong numbers: localise on the
    smallest of those tried (shown beside the minimal case, and on the page)."""
    found = min((c for c, _, v in tried.values() if v.marks), key=check.size)
    verdict = tried[key(found)][2]
    shown = check.show(found)
    if "sizes" in shown:  # (its numbers are too many to quote: the page shows them)
        on = f"network tried, {'-'.join(map(str, shown['sizes']))}, where it returns numbers: {verdict.where}"
    else:
        numbers = f"yours {_short(verdict.got)}, right {_short(verdict.expected)}"
        case = ", ".join(f"{k} = {_short(v)}" for k, v in shown.items())
        on = f"case tried where it returns numbers, {case}: " + (
            f"{verdict.where} ({numbers})" if verdict.where else numbers
        )
    result.where = f"on the smallest {on}"
    result.marks = {**verdict.marks, "case": found}


def _short(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(_short, value)) + "]"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _fails(check: Check, sandbox: Sandbox, tried: dict[str, Any], calls: int) -> Callable[[Any], bool]:
    """Whether a case fails, calling the child for each case not tried yet, at most
    ``calls`` times (then, or once the function crashed the child, an untried case counts
    as passing: shrinking stops with the best case so far)."""
    budget = [calls]

    def fails(case: Any) -> bool:
        k = key(case)
        if k not in tried:
            if budget[0] <= 0 or check.function in sandbox.dead or sandbox.load_failure is not None:
                return False
            budget[0] -= 1
            outcome = sandbox.call_many([check.call(case)])[0]
            tried[k] = (case, outcome, _judge(check, case, outcome))
        return not tried[k][2].passed

    return fails


def _shrink(check: Check, sandbox: Sandbox, seed: int, tried: dict[str, Any]) -> Any:
    """The minimal failing case hypothesis finds with the same seed (it meets the same
    cases first, answered from ``tried``), calling the child for each new one."""
    fails = _fails(check, sandbox, tried, SHRINK_CALLS)
    try:
        return find(check.strategy(), fails, settings=_settings(GENERATED), random=Random(seed))
    except NoSuchExample:
        return None


def _reduce(check: Check, sandbox: Sandbox, case: Any, tried: dict[str, Any]) -> Any:
    """Shrinking finished by hand where hypothesis stops: the first of the check's
    ``simpler(case)`` candidates that still fails replaces the case, until none does
    (or ``REDUCE_CALLS`` are spent). Hypothesis cannot shrink a case it did not draw (the
    report's 3-4-4-4-1, the only one of 4 layers), and a unit removed from a layer shifts
    every draw after it, which it rarely gets past (3-6-1 where 1-3-1 fails)."""
    simpler = getattr(check, "simpler", None)
    if simpler is None:
        return case
    fails = _fails(check, sandbox, tried, REDUCE_CALLS)
    smaller = True
    while smaller:  # each candidate is strictly simpler than the case: this ends
        smaller = False
        for candidate in simpler(case):
            if fails(candidate):
                case, smaller = candidate, True
                break
    return case


def _name_mistake(check: Check, tried: list[tuple[Any, Outcome, Verdict]]) -> str | None:
    """The first mistake in the catalogue one of whose variants equals the student's
    answer on every case tried, and differs from the right answer on at least one."""
    for mistake in MISTAKES:
        for wrong in mistake.variants.get(check.function, ()):
            if _matches(check, wrong, tried):
                return mistake.id
    return None


def _matches(check: Check, wrong: Callable[..., Any], tried: list[tuple[Any, Outcome, Verdict]]) -> bool:
    evidence = False
    for case, outcome, _ in tried:
        got = check.answer(case, outcome)
        try:
            theirs = check.variant(wrong, case)
        except (ArithmeticError, ValueError):
            theirs = UNDEFINED
        if theirs is UNDEFINED:
            if not (isinstance(outcome, Failure) and outcome.kind == "exception"):
                return False
            continue
        if got is UNDEFINED or not check.same(got, theirs):
            return False
        evidence = evidence or not check.same(theirs, check.right(case))
    return evidence
