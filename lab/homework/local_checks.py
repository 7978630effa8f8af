"""The checks of exercise ``local``: one per function, each on its own inputs.

Inputs are drawn where the operation is smooth and every sound formula is accurate
(σ and e^x on [−10, 10], tanh on [−5, 5], ln on [0.01, 100], a divisor at least 0.1 from
zero, a power's base positive or its exponent whole), so a failure means a wrong
derivative, not a rounding difference. An answer passes within 1e-6 relative (plus
1e-9 absolute) of the engine's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from hypothesis import strategies as st

from .checks import NEAR, UNDEFINED, Verdict, nearly
from .oracles import confirm_local, local_answer
from .protocol import Call, Failure, Outcome, Returned

__all__ = ["LOCAL_CHECKS", "LocalCase"]

RTOL, ATOL = 1e-6, 1e-9


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


_NONZERO = _floats(0.1, 10.0) | _floats(-10.0, -0.1)
_DOMAINS: dict[str, st.SearchStrategy[tuple[float, ...]]] = {
    "d_sigmoid": st.tuples(_floats(-10.0, 10.0)),
    "d_tanh": st.tuples(_floats(-5.0, 5.0)),
    "d_exp": st.tuples(_floats(-10.0, 10.0)),
    "d_log": st.tuples(_floats(0.01, 100.0)),
    "d_relu": st.tuples(_floats(-10.0, 10.0)),
    "d_mul": st.tuples(_floats(-10.0, 10.0), _floats(-10.0, 10.0)),
    "d_div": st.tuples(_floats(-10.0, 10.0), _NONZERO),
    "d_sub": st.tuples(_floats(-10.0, 10.0), _floats(-10.0, 10.0)),
    "d_pow": st.tuples(_floats(0.1, 5.0), _floats(-3.0, 3.0))
    | st.tuples(_floats(0.1, 5.0) | _floats(-5.0, -0.1), st.integers(-3, 3).map(float)),
}
_EXPLICIT: dict[str, list[tuple[float, ...]]] = {
    "d_sigmoid": [(0.0,), (1.0,), (-2.5,)],
    "d_tanh": [(0.0,), (0.5,), (-1.5,)],
    "d_exp": [(0.0,), (1.0,), (-2.0,)],
    "d_log": [(1.0,), (0.5,), (4.0,)],
    "d_relu": [(0.0,), (1.5,), (-1.5,)],
    "d_mul": [(2.0, 3.0), (-1.5, 0.5)],
    "d_div": [(1.0, 2.0), (-3.0, 0.5)],
    "d_sub": [(2.0, 3.0), (-1.5, 0.5)],
    "d_pow": [(2.0, 3.0), (1.5, 0.5), (-2.0, 2.0)],
}
_NAMES = {"d_pow": ("a", "c")}
_DESCRIPTIONS = {
    "d_sigmoid": "∂σ(x)/∂x",
    "d_tanh": "∂tanh(x)/∂x",
    "d_exp": "∂eˣ/∂x",
    "d_log": "∂ln(x)/∂x",
    "d_relu": "∂relu(x)/∂x (any value at 0)",
    "d_mul": "(∂(a·b)/∂a, ∂(a·b)/∂b)",
    "d_div": "(∂(a/b)/∂a, ∂(a/b)/∂b)",
    "d_sub": "(∂(a−b)/∂a, ∂(a−b)/∂b)",
    "d_pow": "∂(aᶜ)/∂a",
}


@dataclass(frozen=True)
class LocalCase:
    function: str
    args: tuple[float, ...]


def _number(x: float) -> float | str:
    return x if math.isfinite(x) else repr(x)


_confirmed: set[LocalCase] = set()  # cases PyTorch agreed on


@dataclass(frozen=True)
class LocalCheck:
    function: str

    @property
    def name(self) -> str:
        return self.function

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self.function]

    @property
    def pair(self) -> bool:
        return self.function in ("d_mul", "d_div", "d_sub")

    @cached_property
    def _strategy(self) -> st.SearchStrategy[LocalCase]:
        return _DOMAINS[self.function].map(lambda args: LocalCase(self.function, tuple(args)))

    def strategy(self) -> st.SearchStrategy[LocalCase]:
        return self._strategy

    def explicit(self, seed: int) -> list[LocalCase]:
        return [LocalCase(self.function, args) for args in _EXPLICIT[self.function]]

    def call(self, case: LocalCase) -> Call:
        return Call(self.function, case.args, ("float",) * len(case.args), 2 if self.pair else 1)

    def show(self, case: LocalCase) -> dict[str, Any]:
        names = _NAMES.get(self.function, ("a", "b") if len(case.args) == 2 else ("x",))
        return dict(zip(names, case.args))

    def size(self, case: LocalCase) -> tuple[float, ...]:
        return tuple(abs(a) for a in case.args)

    def right(self, case: LocalCase) -> tuple[float, ...]:
        return local_answer(self.function, case.args)

    def confirm(self, case: LocalCase) -> None:
        if case not in _confirmed:
            if len(_confirmed) > 20_000:
                _confirmed.clear()
            confirm_local(self.function, case.args)
            _confirmed.add(case)

    def answer(self, case: LocalCase, outcome: Outcome) -> Any:
        parsed = self._parse(outcome)
        return UNDEFINED if isinstance(parsed, str) else parsed

    def variant(self, wrong: Callable[..., Any], case: LocalCase) -> Any:
        value = wrong(*case.args)
        return tuple(float(v) for v in value) if self.pair else (float(value),)

    def same(self, a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        return len(a) == len(b) and all(math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL) for x, y in zip(a, b))

    def _parse(self, outcome: Outcome) -> tuple[float, ...] | str:
        """The answer as floats, or why it is not one."""
        if isinstance(outcome, Failure):
            return outcome.reason
        assert isinstance(outcome, Returned)
        value = outcome.value
        if self.pair:
            if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)):
                return "returned " + _kind(value) + "; the contract is a pair of numbers (∂/∂a, ∂/∂b)"
            return (float(value[0]), float(value[1]))
        if not isinstance(value, (int, float)):
            return "returned " + _kind(value) + "; the contract is one number"
        return (float(value),)

    def judge(self, case: LocalCase, outcome: Outcome) -> Verdict:
        expected = self.right(case)
        shown_expected: Any = list(expected) if self.pair else expected[0]
        got = self._parse(outcome)
        if isinstance(got, str):
            return Verdict(False, _reason(got), shown_expected)
        shown_got: Any = [_number(g) for g in got] if self.pair else _number(got[0])
        if not all(math.isfinite(g) for g in got):
            return Verdict(False, f"returned {shown_got}, not a finite number", shown_expected, shown_got)
        if self.function == "d_relu" and case.args[0] == 0.0:
            return Verdict(True)
        if self.same(got, expected):
            return Verdict(True)
        wrong = [k for k, (g, e) in enumerate(zip(got, expected)) if not self.same((g,), (e,))]
        error = max(abs(got[k] - expected[k]) / abs(expected[k]) if expected[k] else math.inf for k in wrong)
        if error < NEAR:
            return Verdict(False, nearly(error, RTOL), shown_expected, shown_got, error)
        where = ""
        if self.pair:
            names = ("∂/∂a", "∂/∂b")
            where = " and ".join(names[k] for k in wrong) + (" is" if len(wrong) == 1 else " are") + " wrong"
            if len(wrong) == 1:
                where = f"{names[1 - wrong[0]]} is right; {where}"
        marks = {"wrong": wrong, "got": list(got), "expected": list(expected)}
        return Verdict(
            False,
            "wrong value",
            shown_expected,
            shown_got,
            None if math.isinf(error) else error,
            where,
            marks,
        )


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "a number" if isinstance(value, (int, float)) else type(value).__name__


def _reason(text: str) -> str:
    if text.startswith("NotImplementedError"):
        return "not written yet (it raises NotImplementedError)"
    return text


LOCAL_CHECKS = tuple(LocalCheck(name) for name in _DOMAINS)
