"""The checks of exercise ``network``: ``forward``, ``backward-output`` (∂C/∂W of the
output layer) and ``backward-hidden`` (every layer below it, networks of 2+ layers).

Networks are drawn from 1-1-1 up to 3-10-10-1 (often with equal hidden widths, so that
a square matrix shows a forgotten transpose), weights and inputs in quarters from −2
to 2 (exact in binary, quick to shrink, easy to read; inputs not 0), targets 0, ¼, ½, ¾
or 1; the report's 2-8-8-1 and a 3-4-4-4-1 are always tried. ``backward`` is given the
right activations, so a wrong forward pass does not fail it too.

Localising: ``∂C/∂W_l = [δ_l a_{l−1}ᵀ | δ_l]``, so the student's δ_l = ∂C/∂z_l can be read
back from their answer: it is the bias column, and also column j divided by a_{l−1}[j]
(for the input of largest size; a sigmoid's output is never 0). Going from the output
layer back, the first layer whose δ is wrong is where the mistake is, since every
layer below inherits it through the recurrence. If δ is right but ∂C/∂W is not, the
bias column or the layer's input is what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Iterator

import numpy as np
from hypothesis import strategies as st

from .checks import NEAR, UNDEFINED, Verdict, nearly
from .oracles import confirm_network, network_answer
from .protocol import Call, Failure, Outcome, Returned

__all__ = ["NETWORK_CHECKS", "NetworkCase"]

RTOL, ATOL = 1e-6, 1e-10
MAX_WIDTH = 10
EXPLICIT_SIZES = ([2, 8, 8, 1], [3, 4, 4, 4, 1], [1, 1, 1])


@dataclass(frozen=True)
class NetworkCase:
    weights: tuple[tuple[tuple[float, ...], ...], ...]
    x: tuple[float, ...]
    y: float

    @property
    def sizes(self) -> list[int]:
        return [len(self.x), *(len(W) for W in self.weights)]

    def arrays(self) -> list[np.ndarray]:
        return [np.array(W, dtype=float) for W in self.weights]


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


# weights and inputs in quarters from -2 to 2: exact in binary, quick to shrink, easy to read
# (sampled_from shrinks by position, to 0, then small positive numbers; it also lets the
# sizes shrink, where integers and floats leave hypothesis stuck on a larger network)
_QUARTERS = st.sampled_from([k / 4 for k in range(9)] + [-k / 4 for k in range(1, 9)])


@st.composite
def networks(draw: Callable[[st.SearchStrategy[Any]], Any], min_layers: int = 1) -> NetworkCase:
    """Random networks: sizes first (they shrink to 1-1-1), then weights, x and y."""
    inputs = draw(st.integers(1, 3))
    layers = draw(st.integers(min_layers, 3))
    hidden: list[int] = []
    if layers > 1:
        first = draw(st.integers(1, MAX_WIDTH))
        same = draw(st.booleans())
        hidden = [first] + [first if same else draw(st.integers(1, MAX_WIDTH)) for _ in range(layers - 2)]
    sizes = [inputs, *hidden, 1]
    w = _QUARTERS
    weights = tuple(
        tuple(tuple(draw(w) for _ in range(sizes[l] + 1)) for _ in range(sizes[l + 1])) for l in range(layers)
    )
    # inputs at least 0.25 from 0, so that δ of layer 1 shows in its weight columns too
    x = tuple(draw(_QUARTERS.filter(bool)) for _ in range(inputs))
    y = draw(st.sampled_from([0.0, 1.0, 0.5, 0.25, 0.75]))
    return NetworkCase(weights, x, y)


def _seeded(sizes: list[int], seed: int) -> NetworkCase:
    rng = np.random.default_rng([seed, *sizes])
    weights = tuple(
        tuple(tuple(float(v) for v in row) for row in rng.uniform(-2, 2, (sizes[l + 1], sizes[l] + 1)))
        for l in range(len(sizes) - 1)
    )
    return NetworkCase(
        weights,
        tuple(float(v) for v in rng.choice([-1, 1], sizes[0]) * rng.uniform(0.25, 2, sizes[0])),
        float(rng.integers(0, 2)),
    )


_answers: dict[NetworkCase, tuple[list[np.ndarray], list[np.ndarray]]] = {}


def right_answer(case: NetworkCase) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The right activations and gradients (cached: shrinking asks again and again)."""
    if case not in _answers:
        if len(_answers) > 20_000:
            _answers.clear()
        _answers[case] = network_answer(case.arrays(), np.array(case.x), case.y)
    return _answers[case]


_confirmed: set[NetworkCase] = set()  # cases PyTorch agreed on


def confirm(case: NetworkCase) -> None:
    """PyTorch's word on the right answer, once per case (before a failure on it counts)."""
    if case not in _confirmed:
        if len(_confirmed) > 20_000:
            _confirmed.clear()
        confirm_network(case.arrays(), np.array(case.x), case.y, right_answer(case))
        _confirmed.add(case)


def _lists(arrays: list[np.ndarray]) -> list[Any]:
    return [a.tolist() for a in arrays]


def _arrays(value: Any, count: int, what: str) -> list[np.ndarray] | str:
    """A list of ``count`` numeric arrays, or why the value is not one."""
    if not isinstance(value, list):
        return f"returned a number, not a list of {count} arrays ({what})"
    if len(value) != count:
        return f"returned {len(value)} arrays; this network needs {count} ({what})"
    out = []
    for k, item in enumerate(value):
        try:
            array = np.array(item, dtype=float)
        except ValueError:
            return f"item {k} of the list is ragged: rows of different lengths"
        out.append(array)
    return out


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and bool(np.all(np.isfinite(x))) and np.allclose(x, y, rtol=RTOL, atol=ATOL)
        for x, y in zip(a, b)
    )


def _error(got: np.ndarray, expected: np.ndarray) -> float | None:
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    return float(np.max(np.abs(got - expected))) / scale if scale > 0 else None


def _near(got: list[np.ndarray], expected: list[np.ndarray]) -> float | None:
    """The largest relative error of the arrays (each against its own scale) when every
    one is under ``NEAR``: numbers right but for rounding."""
    errors = [_error(g, e) if g.size else 0.0 for g, e in zip(got, expected)]
    worst = max((e for e in errors if e is not None), default=0.0)
    return worst if all(e is not None for e in errors) and 0 < worst < NEAR else None


def _layer(l: int, L: int) -> str:
    return f"layer {l} (the output layer)" if l == L else f"layer {l}"


def _nonfinite(arrays: list[np.ndarray], names: Callable[[int], str]) -> str | None:
    for k, a in enumerate(arrays):
        if not np.all(np.isfinite(a)):
            return f"{names(k)} holds {'nan' if np.any(np.isnan(a)) else 'inf'}"
    return None


@dataclass(frozen=True)
class _NetworkCheck:
    name: str
    function: str
    description: str
    min_layers: int

    @cached_property
    def _strategy(self) -> st.SearchStrategy[NetworkCase]:
        return networks(self.min_layers)

    def strategy(self) -> st.SearchStrategy[NetworkCase]:
        return self._strategy

    def explicit(self, seed: int) -> list[NetworkCase]:
        return [_seeded(s, seed) for s in EXPLICIT_SIZES if len(s) - 1 >= self.min_layers]

    def show(self, case: NetworkCase) -> dict[str, Any]:
        return {
            "sizes": case.sizes,
            "weights": [list(map(list, W)) for W in case.weights],
            "x": list(case.x),
            "y": case.y,
        }

    def size(self, case: NetworkCase) -> tuple[float, ...]:
        return (len(case.weights), sum(case.sizes), sum(abs(w) for W in case.weights for r in W for w in r))

    def simpler(self, case: NetworkCase) -> Iterator[NetworkCase]:
        """Cases strictly simpler than ``case`` (by :func:`_simplicity`), the largest
        steps first: a hidden layer dropped, a unit or an input dropped, then one number
        made simpler (0, a quarter, a quarter nearer 0; y 0)."""
        rank = _simplicity(case)
        for candidate in _smaller_networks(case, self.min_layers):
            yield candidate
        for candidate in _simpler_numbers(case):
            if _simplicity(candidate) < rank:
                yield candidate

    def same(self, a: list[np.ndarray], b: list[np.ndarray]) -> bool:
        return _same(a, b)

    def confirm(self, case: NetworkCase) -> None:
        confirm(case)


def _quarter(v: float) -> bool:
    return v * 4 == int(v * 4) and abs(v) <= 2


def _simplicity(case: NetworkCase) -> tuple[float, ...]:
    """Smaller is simpler: fewer layers and units, then fewer numbers off the quarter grid,
    fewer nonzero weights, smaller numbers, y nearer 0."""
    weights = [w for W in case.weights for row in W for w in row]
    numbers = [*weights, *case.x]
    return (
        len(case.weights),
        sum(case.sizes),
        sum(not _quarter(v) for v in numbers),
        sum(w != 0 for w in weights),
        sum(abs(v) for v in numbers),
        abs(case.y),
    )


def _case(weights: list[np.ndarray], x: Any, y: float) -> NetworkCase:
    return NetworkCase(
        tuple(tuple(tuple(float(w) for w in row) for row in W) for W in weights), tuple(map(float, x)), y
    )


def _smaller_networks(case: NetworkCase, min_layers: int) -> Iterator[NetworkCase]:
    """Smaller networks: a hidden layer dropped (the layer above takes its input as it
    was), one unit or input dropped, or one unit dropped from each of a run of equal
    widths at once (a mistake that shows only where a matrix is square shows only so)."""
    W, sizes, L = case.arrays(), case.sizes, len(case.weights)
    for h in range(1, L):
        if L - 1 >= min_layers and sizes[h - 1] == sizes[h]:
            yield _case(W[: h - 1] + W[h:], case.x, case.y)
    for levels in [[h] for h in range(L)] + [list(range(a, b + 1)) for a, b in _equal_runs(sizes[:-1])]:
        for i in range(sizes[levels[0]] if sizes[levels[0]] > 1 else 0):
            smaller, x = list(W), list(case.x)
            for h in levels:  # level 0: the inputs (a column of W_1, and x); h: hidden layer h's units
                if h:
                    smaller[h - 1] = np.delete(smaller[h - 1], i, axis=0)
                else:
                    del x[i]
                smaller[h] = np.delete(smaller[h], i, axis=1)
            yield _case(smaller, x, case.y)


def _equal_runs(widths: list[int]) -> list[tuple[int, int]]:
    """(first, last) index of each run of two or more equal widths above 1."""
    runs, start = [], 0
    for k in range(1, len(widths) + 1):
        if k == len(widths) or widths[k] != widths[start]:
            if k - start >= 2 and widths[start] > 1:
                runs.append((start, k - 1))
            start = k
    return runs


def _toward_zero(v: float, nonzero: bool) -> list[float]:
    """Simpler values for ``v``: 0 (unless ``nonzero``), the nearest quarter within ±2, and
    the quarter one step nearer 0."""
    nearest = max(-2.0, min(2.0, round(v * 4) / 4))
    if nonzero and nearest == 0:
        nearest = 0.25 if v > 0 else -0.25
    nearer = nearest - math.copysign(0.25, nearest) if nearest else 0.0
    values = [*([] if nonzero else [0.0]), nearest, *([nearer] if nearer or not nonzero else [])]
    return [u for u in dict.fromkeys(values) if u != v]


def _simpler_numbers(case: NetworkCase) -> Iterator[NetworkCase]:
    weights = [[list(row) for row in W] for W in case.weights]
    for l, W in enumerate(weights):
        for i, row in enumerate(W):
            for j, w in enumerate(row):
                for value in _toward_zero(w, nonzero=False):
                    changed = [[list(r) for r in M] for M in weights]
                    changed[l][i][j] = value
                    yield NetworkCase(tuple(tuple(map(tuple, M)) for M in changed), case.x, case.y)
    for j, v in enumerate(case.x):  # inputs stay nonzero (δ of layer 1 shows in its weight columns)
        for value in _toward_zero(v, nonzero=True):
            yield NetworkCase(case.weights, (*case.x[:j], value, *case.x[j + 1 :]), case.y)
    if case.y:
        yield NetworkCase(case.weights, case.x, 0.0)


class ForwardCheck(_NetworkCheck):
    def call(self, case: NetworkCase) -> Call:
        weights = [list(map(list, W)) for W in case.weights]
        return Call("forward", (weights, list(case.x)), ("arrays", "array"), sum(case.sizes))

    def right(self, case: NetworkCase) -> list[np.ndarray]:
        return right_answer(case)[0]

    def answer(self, case: NetworkCase, outcome: Outcome) -> Any:
        if isinstance(outcome, Failure):
            return UNDEFINED
        parsed = _arrays(outcome.value, len(case.sizes), "a_0 to a_L")
        return UNDEFINED if isinstance(parsed, str) else parsed

    def variant(self, wrong: Callable[..., Any], case: NetworkCase) -> Any:
        return wrong(case.arrays(), np.array(case.x))

    def judge(self, case: NetworkCase, outcome: Outcome) -> Verdict:
        expected = self.right(case)
        shown = _lists(expected)
        if isinstance(outcome, Failure):
            return Verdict(False, _reason(outcome), shown)
        assert isinstance(outcome, Returned)
        got = _arrays(outcome.value, len(expected), "a_0 to a_L")
        if isinstance(got, str):
            return Verdict(False, got, shown)
        for l, (g, e) in enumerate(zip(got, expected)):
            if g.shape != e.shape:
                return Verdict(False, f"a_{l} has shape {g.shape}; it should be {e.shape}", shown, _lists(got))
        problem = _nonfinite(got, lambda k: f"a_{k}")
        if problem:
            return Verdict(False, problem, shown, _lists(got))
        if _same(got, expected):
            return Verdict(True)
        near = _near(got, expected)
        if near is not None:
            return Verdict(False, nearly(near, RTOL), shown, _lists(got), near)
        l = next(k for k, (g, e) in enumerate(zip(got, expected)) if not _same([g], [e]))
        if l == 0:
            where = "a_0 is not x: the list must start with the input itself"
        else:
            right = "a_0 is right" if l == 1 else f"a_0 to a_{l - 1} are right"
            where = f"{right}; a_{l} is wrong"
        marks = {"layer": l, "got": got[l].tolist(), "expected": expected[l].tolist()}
        return Verdict(False, "wrong activations", shown, _lists(got), _error(got[l], expected[l]), where, marks)


class BackwardCheck(_NetworkCheck):
    """``output`` checks the last layer's ∂C/∂W; otherwise every layer below it."""

    output: bool = False

    def call(self, case: NetworkCase) -> Call:
        activations = right_answer(case)[0]
        weights = [list(map(list, W)) for W in case.weights]
        numbers = sum(len(W) * len(W[0]) for W in case.weights)
        return Call("backward", (weights, _lists(activations), case.y), ("arrays", "arrays", "float"), numbers)

    def _part(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        return grads[-1:] if self.output else grads[:-1]

    def _layers(self, case: NetworkCase) -> list[int]:
        L = len(case.weights)
        return [L] if self.output else list(range(1, L))

    def right(self, case: NetworkCase) -> list[np.ndarray]:
        return self._part(right_answer(case)[1])

    def answer(self, case: NetworkCase, outcome: Outcome) -> Any:
        if isinstance(outcome, Failure):
            return UNDEFINED
        parsed = _arrays(outcome.value, len(case.weights), "one ∂C/∂W per layer")
        return UNDEFINED if isinstance(parsed, str) else self._part(parsed)

    def variant(self, wrong: Callable[..., Any], case: NetworkCase) -> Any:
        activations = right_answer(case)[0]
        return self._part(wrong(case.arrays(), activations, case.y))

    def judge(self, case: NetworkCase, outcome: Outcome) -> Verdict:
        activations, grads = right_answer(case)
        expected = self._part(grads)
        shown = _lists(expected)
        if isinstance(outcome, Failure):
            return Verdict(False, _reason(outcome), shown)
        assert isinstance(outcome, Returned)
        full = _arrays(outcome.value, len(grads), "one ∂C/∂W per layer")
        if isinstance(full, str):
            return Verdict(False, full, shown)
        got = self._part(full)
        layers = self._layers(case)
        L = len(grads)
        for l, g, e in zip(layers, got, expected):
            if g.shape != e.shape:
                where = f"{_layer(l, L)}: ∂C/∂W has shape {g.shape}; weights[{l - 1}] has {e.shape}"
                return Verdict(False, "wrong shape", shown, _lists(got), None, where, {"layer": l})
        problem = _nonfinite(got, lambda k: f"∂C/∂W of {_layer(layers[k], L)}")
        if problem:
            return Verdict(False, problem, shown, _lists(got))
        if _same(got, expected):
            return Verdict(True)
        near = _near(got, expected)
        if near is not None:
            return Verdict(False, nearly(near, RTOL), shown, _lists(got), near)
        where, marks = localise(full, grads, activations, layers)
        bad = marks.get("layer", layers[-1])
        error = _error(full[bad - 1], grads[bad - 1]) if full[bad - 1].shape == grads[bad - 1].shape else None
        return Verdict(False, "wrong gradients", shown, _lists(got), error, where, marks)


def localise(
    got: list[np.ndarray], grads: list[np.ndarray], activations: list[np.ndarray], layers: list[int]
) -> tuple[str, dict[str, Any]]:
    """The first wrong layer from the output back, and what in it is wrong (see the
    module's docstring for how δ is read back). A layer outside ``layers`` (the output
    layer, for backward-hidden) is looked at only for the δ it passes down."""
    L = len(grads)
    right: list[tuple[int, bool]] = []  # (layer, all of it right) whose δ is right
    for l in range(L, 0, -1):
        G, E, a_in = got[l - 1], grads[l - 1], activations[l - 1]
        if _same([G], [E]):
            right.append((l, True))
            continue
        if G.shape != E.shape:
            if l not in layers:
                continue  # reported by the other check (and its δ not read: nothing said of it)
            return _said(right, L, f"{_layer(l, L)}'s ∂C/∂W has shape {G.shape}, not {E.shape}"), {"layer": l}
        if np.allclose(np.sort(G, axis=None), np.sort(E, axis=None), rtol=RTOL, atol=ATOL):
            if l not in layers:
                continue  # (as above)
            text = (
                f"{_layer(l, L)}'s ∂C/∂W holds the right numbers, in the wrong places (row i is the layer's unit i, "
                f"column j its input j, the last column its bias)"
            )
            return _said(right, L, text), {"layer": l, "kind": "places", "got": G.tolist(), "expected": E.tolist()}
        delta = E[:, -1]
        from_bias = G[:, -1]
        j = int(np.argmax(np.abs(a_in)))
        from_weights = G[:, j] / a_in[j] if abs(a_in[j]) > 1e-12 else None
        bias_ok = _same([from_bias], [delta])
        weights_ok = from_weights is not None and _same([from_weights], [delta])
        if l not in layers and (bias_ok or weights_ok):
            right.append((l, False))
            continue
        if not (bias_ok or weights_ok):
            if from_weights is None:
                text = f"{_layer(l, L)}'s bias column is not ∂C/∂z (its input is 0 here: only that column shows ∂C/∂z)"
                marks = {"layer": l, "kind": "bias", "got": from_bias.tolist(), "expected": delta.tolist()}
                return _said(right, L, text), marks
            text = f"{_layer(l, L)}'s ∂C/∂z is wrong"
            if l < L and right:
                text += ", so the recurrence is"
            if l == L and L not in layers:
                text += " (see backward-output); every layer below inherits it"
            marks = {"layer": l, "kind": "delta", "got": from_weights.tolist(), "expected": delta.tolist()}
            return _said(right, L, text), marks
        if not bias_ok:
            marks = {"layer": l, "kind": "bias", "got": from_bias.tolist(), "expected": delta.tolist()}
            text = f"{_layer(l, L)}'s ∂C/∂z is right, but its bias column is not ∂C/∂z"
            return _said(right, L, text), marks
        marks = {"layer": l, "kind": "input", "got": G[:, :-1].tolist(), "expected": E[:, :-1].tolist()}
        text = f"{_layer(l, L)}'s ∂C/∂z is right, but ∂C/∂W is not ∂C/∂z times the layer's input a_{l - 1}"
        return _said(right, L, text), marks
    return "", {}


def _said(right: list[tuple[int, bool]], L: int, text: str) -> str:
    """What is right so far, then ``text``: "the output layer is right; layer 2 is right; …"."""
    parts = []
    for l, whole in right:
        if l == L:
            parts.append("the output layer is right" if whole else "the output layer's ∂C/∂z is right")
        else:
            parts.append(f"layer {l} is right" if whole else f"layer {l}'s ∂C/∂z is right")
    return "; ".join([*parts, text])


def _reason(failure: Failure) -> str:
    if failure.reason.startswith("NotImplementedError"):
        return "not written yet (it raises NotImplementedError)"
    return failure.reason


NETWORK_CHECKS = (
    ForwardCheck("forward", "forward", "[a_0, …, a_L] for weights and x", 1),
    type("OutputCheck", (BackwardCheck,), {"output": True})(
        "backward-output", "backward", "∂C/∂W of the output layer", 1
    ),
    BackwardCheck("backward-hidden", "backward", "∂C/∂W of every layer below the output", 2),
)
