"""The step-through page of a failed check's minimal case, with the wrong value or edge
marked and the student's number beside the right one (``check --page DIR``).

The graph is the engine's own for the case (every number on the page is the engine's);
the marks come from the check: for ``local``, the edge whose local derivative is wrong;
for ``network``, the units of the first wrong layer (∂C/∂z at z, a bias, or the weights),
or the activations of the first wrong layer for ``forward``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable

from tinygrad_hw.engine import Value
from viz import step_through

from .checks import CheckResult
from .local_checks import LocalCase
from .network_checks import NetworkCase

__all__ = ["write_pages"]

_BUILD: dict[str, Callable[..., Value]] = {
    "d_sigmoid": lambda x: x.sigmoid(),
    "d_tanh": lambda x: x.tanh(),
    "d_exp": lambda x: x.exp(),
    "d_log": lambda x: x.log(),
    "d_relu": lambda x: x.relu(),
    "d_mul": lambda a, b: a * b,
    "d_div": lambda a, b: a / b,
    "d_sub": lambda a, b: a - b,
}


def write_pages(results: list[CheckResult], folder: str | os.PathLike[str]) -> list[Path]:
    """One page per failed check that has a case to show: ``FOLDER/<check>.html``."""
    folder = Path(folder)
    written = []
    for result in results:
        if result.passed or result.minimal is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        root, marks = _graph(result)
        title = f"{result.name}: {result.reason}" + (f" — {result.where}" if result.where else "")
        path = folder / (re.sub(r"[^\w.-]", "_", result.name) + ".html")
        step_through(root, path, marks=marks, title=title)
        written.append(path)
    return written


def _number(x: float) -> str:
    return f"{x:.4g}"


def _graph(result: CheckResult) -> tuple[Value, dict[Any, str]]:
    case = result.marks.get("case", result.minimal)
    if isinstance(case, LocalCase):
        return _local(case, result.marks)
    assert isinstance(case, NetworkCase)
    return _network(case, result.marks, forward=result.function == "forward")


def _local(case: LocalCase, marks: dict[str, Any]) -> tuple[Value, dict[Any, str]]:
    names = ("a", "c") if case.function == "d_pow" else ("a", "b") if len(case.args) == 2 else ("x",)
    leaves = [Value(v, label=n) for n, v in zip(names, case.args)]
    out = leaves[0] ** case.args[1] if case.function == "d_pow" else _BUILD[case.function](*leaves)
    out.label = "out"
    shown: dict[Any, str] = {}
    for k in marks.get("wrong", []):
        shown[(leaves[k], out)] = (
            f"∂out/∂{names[k]}: yours {_number(marks['got'][k])}, right {_number(marks['expected'][k])}"
        )
    return out, shown


def _network(case: NetworkCase, marks: dict[str, Any], forward: bool) -> tuple[Value, dict[Any, str]]:
    """The case's network as Values, one label per weight (W1[i,j], bias b1[i]), z and a."""
    a: list[Any] = [Value(v, label=f"x[{i}]") for i, v in enumerate(case.x)]
    units: list[list[tuple[Value, Value, list[Value]]]] = []  # per layer: (z, a, weights with bias last)
    for l, W in enumerate(case.weights, start=1):
        layer = []
        for i, row in enumerate(W):
            ws = [Value(w, label=f"W{l}[{i},{j}]") for j, w in enumerate(row[:-1])]
            b = Value(row[-1], label=f"b{l}[{i}]")
            z = Value.dot(ws, a, b)
            z.label = f"z{l}[{i}]"
            out = z.sigmoid()
            out.label = f"a{l}[{i}]"
            layer.append((z, out, [*ws, b]))
        units.append(layer)
        a = [out for _, out, _ in layer]
    error = a[0] - case.y
    error.label = f"{a[0].label} − y"
    loss = error**2
    loss.label = "C"
    wrong = marks.get("layer")
    if not wrong:
        return loss, {}
    if forward:
        pairs = zip(units[wrong - 1], marks["got"], marks["expected"])
        return loss, {out: f"a: yours {_number(g)}, right {_number(e)}" for (_, out, _), g, e in pairs if _differ(g, e)}
    kind, shown = marks.get("kind"), {}
    for i, (z, _, params) in enumerate(units[wrong - 1]):
        got, expected = marks["got"][i], marks["expected"][i]
        if kind == "delta" and _differ(got, expected):
            shown[z] = f"∂C/∂z: yours {_number(got)}, right {_number(expected)}"
        elif kind == "bias" and _differ(got, expected):
            shown[params[-1]] = f"∂C/∂b: yours {_number(got)}, right {_number(expected)}"
        elif kind in ("input", "places"):  # the weights (and, for places, the bias last)
            for k, (w, g, e) in enumerate(zip(params, got, expected)):
                if _differ(g, e):
                    name = "b" if k == len(params) - 1 else "w"
                    shown[w] = f"∂C/∂{name}: yours {_number(g)}, right {_number(e)}"
    return loss, shown


def _differ(a: float, b: float) -> bool:
    return abs(a - b) > 1e-10 + 1e-6 * abs(b)
