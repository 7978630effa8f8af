"""The exercises' contracts, and the skeletons ``tinygrad-hw exercise start`` writes.

A contract is fixed: teachers and tools rely on it. Each function is listed with its
call signature, what it must return, and the kinds of its arguments as the grader
sends them (``float``: a Python float; ``array``: a float64 numpy array; ``arrays``: a
list of them). The skeletons give the contract and nothing of the answer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tinygrad_hw.atomic import write_atomic

__all__ = ["EXERCISES", "Exercise", "Function", "exercise", "skeleton", "write_skeleton"]


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[str, ...]
    kinds: tuple[str, ...]  # what the grader passes: "float", "array", "arrays"
    doc: str  # the contract, as the skeleton's docstring


@dataclass(frozen=True)
class Exercise:
    name: str
    summary: str  # one line, for `exercise list`
    header: str  # the skeleton's module docstring
    imports: str
    functions: tuple[Function, ...]

    def function(self, name: str) -> Function:
        return next(f for f in self.functions if f.name == name)


def _unary(name: str, what: str) -> Function:
    return Function(name, ("x",), ("float",), f"Return ∂{what}/∂x at x (a float).")


def _binary(name: str, what: str) -> Function:
    return Function(
        name, ("a", "b"), ("float", "float"), f"Return the pair (∂({what})/∂a, ∂({what})/∂b) at (a, b), as floats."
    )


LOCAL = Exercise(
    "local",
    "the local derivatives of sigmoid, tanh, exp, log, ReLU, *, /, - and ** (plain floats)",
    header="""Exercise `local`: the local derivatives backpropagation multiplies together.

Each function takes plain floats and returns floats: the derivative of one operation
at the given point. Use only the standard library (math) or numpy. Check your work:

    tinygrad-hw check local.py --exercise local
""",
    imports="import math\n",
    functions=(
        Function("d_sigmoid", ("x",), ("float",), "Return ∂σ(x)/∂x at x, where σ(x) = 1 / (1 + e^(-x)) (a float)."),
        _unary("d_tanh", "tanh(x)"),
        _unary("d_exp", "e^x"),
        Function("d_log", ("x",), ("float",), "Return ∂ln(x)/∂x at x > 0 (a float)."),
        Function(
            "d_relu",
            ("x",),
            ("float",),
            "Return ∂relu(x)/∂x at x, where relu(x) = max(0, x). At 0 any value is accepted.",
        ),
        _binary("d_mul", "a * b"),
        Function(
            "d_div", ("a", "b"), ("float", "float"), "Return the pair (∂(a / b)/∂a, ∂(a / b)/∂b) at (a, b), b ≠ 0."
        ),
        _binary("d_sub", "a - b"),
        Function(
            "d_pow",
            ("a", "c"),
            ("float", "float"),
            "Return ∂(a ** c)/∂a at a, for the constant exponent c (a float).\n\n"
            "    The grader uses a > 0 with any c, and a ≠ 0 with whole-number c.",
        ),
    ),
)

NETWORK = Exercise(
    "network",
    "the lab's homework: forward and backward of a sigmoid network of any sizes, in numpy",
    header="""Exercise `network`: the lab's homework, numpy only.

A fully connected network of L layers, sigmoid on every layer, σ(z) = 1 / (1 + e^(-z)).
``weights[l]`` (for l = 0 .. L-1) is a float array of shape (n_{l+1}, n_l + 1): row i holds
the weights into unit i of layer l+1, and the last column is its bias. The loss is
C = (a_L - y)² for one sample, with a single output unit (n_L = 1) and a float y.

The grader varies the sizes, from 1-1-1 to 2-8-8-1 and wider. Check your work:

    tinygrad-hw check network.py --exercise network
""",
    imports="import numpy as np\n",
    functions=(
        Function(
            "forward",
            ("weights", "x"),
            ("arrays", "array"),
            "Return every layer's activation for the input x, of shape (n_0,).\n\n"
            "    A list of L + 1 arrays: [a_0, a_1, ..., a_L], where a_0 = x and\n"
            "    a_l = σ(W[:, :-1] @ a_{l-1} + W[:, -1]) with W = weights[l - 1];\n"
            "    a_l has shape (n_l,).",
        ),
        Function(
            "backward",
            ("weights", "activations", "y"),
            ("arrays", "arrays", "float"),
            "Return ∂C/∂weights[l] for every layer, for C = (a_L - y)².\n\n"
            "    ``activations`` is [a_0, ..., a_L] for these weights (what forward returns).\n"
            "    A list of L arrays, each the shape of weights[l] (its last column: ∂C/∂bias).",
        ),
    ),
)

EXERCISES: dict[str, Exercise] = {e.name: e for e in (LOCAL, NETWORK)}


def exercise(name: str) -> Exercise:
    """The exercise called ``name``, or a ValueError listing them."""
    if name not in EXERCISES:
        raise ValueError(f"no exercise {name!r}: the exercises are {', '.join(EXERCISES)}")
    return EXERCISES[name]


def skeleton(name: str) -> str:
    """The file a student starts from: the contract, a TODO in each function."""
    ex = exercise(name)
    parts = [f'"""{ex.header}"""\n\n{ex.imports}']
    for f in ex.functions:
        doc = f'"""{f.doc}\n    """' if "\n" in f.doc else f'"""{f.doc}"""'
        parts.append(
            f"\n\ndef {f.name}({', '.join(f.params)}):\n    {doc}\n"
            f'    # TODO: your code here\n    raise NotImplementedError("{f.name}")\n'
        )
    return "".join(parts)


def write_skeleton(name: str, folder: str | os.PathLike[str] = ".", *, force: bool = False) -> tuple[Path, bool]:
    """Write ``FOLDER/NAME.py``; refuse to replace a file unless ``force``. Returns the path
    and whether a file was replaced."""
    text = skeleton(name)
    path = Path(folder) / f"{name}.py"
    existed = path.exists()
    if existed and not force:
        raise FileExistsError(f"{path} exists: it may hold your work (pass --force to replace it)")
    Path(folder).mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    return path, existed
