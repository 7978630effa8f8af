"""Write each rule of the op table out as the two kernels the engine runs: ``make kernels``.

    make kernels                                  # rewrites tinygrad_hw/kernels.py
    python -c "from tinygrad_hw.generate import main; main(['--check'])"   # 1 if it is stale

For each row of ``ops.OPS`` this writes, below the rule as a comment, a forward
kernel that computes the rule's ``out`` and builds a node, and a backward kernel
that adds ∂out/∂child × node.grad into each child's grad: the rule's text,
written out as one straight run of arithmetic -- no call to the rule, no tuple of
partials, no loop over operands, no closure per node. That, not ``exec``, is the
speed: the kernels are ordinary code in an ordinary file.

An op registered while a program runs (``engine.register_op``) gets its kernels
from :func:`kernel_source` too, compiled in memory by :func:`compile_kernels`
and registered with ``linecache`` so that tracebacks and pdb show them.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

from .codegen import ARITH_ERRORS, accumulate, can_raise, expression, load, names_in, namespace, safe_form
from .grad_mode import recording
from .ops import OPS, Op
from .value import Value, serial

__all__ = ["HEADER", "compile_kernels", "kernel_source", "module_source"]

KERNELS_PY = Path(__file__).with_name("kernels.py")

HEADER = '''"""The kernels: each rule of ops.py written out as the two functions the engine runs.

generated from ops.py by `make kernels`; do not edit (a test fails when this file is stale)

Read one op's pair from the top. The rule is quoted above them. ``<op>_forward``
computes the rule's ``out`` from its operands' data and returns a new ``Value``
that remembers its children (``_prev``), its row of the table (``op``) and its
constant (``_const``) -- or, inside ``no_grad()``, a bare leaf. Where Python's
maths raises (``exp(1000)``, ``1 / 0``), it computes the same text in its IEEE-754
form instead (``safe_exp``, ``safe_div``: ``inf`` and ``nan``, as numpy and PyTorch).

``<op>_backward`` is one step of backpropagation at one node. ``Value.backward``
(value.py) visits every computed node, the output first and each node before the
nodes it was computed from, and calls ``node.op.backward(node)`` -- one of these --
when ``node.grad``, ∂output/∂node, is complete. The step reads the rule's local
derivatives ∂out/∂a (``d0``), multiplies each by ``node.grad`` (``g``) and adds
the product into the child's ``grad``: the chain rule, ``va.grad += d0 * g``. A
child used twice (``a * a``) gets both contributions. A derivative of ±1 is added
without the multiply (``va.grad += g``): the same bits, one operation less.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
'''

_RULE_LINE = "# " + "-" * 98


def _assign(target: str, texts: list[str], indent: str, names: dict[str, str]) -> list[str]:
    """Lines computing ``target.format(i) = text`` for each text (its names read as
    ``names`` says), with the IEEE fallback if any can raise. Every value is computed
    before anything else is stored, so a fallback never runs half of the work twice."""
    fast = [f"{indent}{target.format(i)} = {expression(t, names)}" for i, t in enumerate(texts)]
    if not any(can_raise(t) for t in texts):
        return fast
    safe = [f"{indent}    {target.format(i)} = {expression(t, names, safe=True)}" for i, t in enumerate(texts)]
    return [f"{indent}try:", *("    " + line for line in fast), f"{indent}except ARITH_ERRORS:", *safe]


def _reading(texts: list[str], sources: dict[str, str], indent: str) -> tuple[list[str], dict[str, str]]:
    """How generated code reads each name the texts use (``a`` from ``va.data``...): a
    name read once is its source itself (``va.data * g``); one read more often is a
    local, assigned first (``out = node.data``). Returns those assignments, and the
    names to put into the texts."""
    counts = Counter(n.id for t in texts for n in ast.walk(ast.parse(t, mode="eval")) if isinstance(n, ast.Name))
    lines, names = [], {}
    for name, source in sources.items():
        if counts[name] > 1 or (name == "c" and counts[name]):
            lines.append(f"{indent}{name} = {source}" if name != "c" else f"{indent}{_CONSTANT}")
        elif counts[name]:
            names[name] = source
    return lines, names


# the constant of a node: a float for every op that takes one (the type says float | None)
_CONSTANT = "c: float = node._const  # type: ignore[assignment]  # a node of an op with a constant has one"


def _is_trivial(text: str) -> bool:
    """A partial that needs no temporary: ±1 or a bare name."""
    return text in ("1.0", "-1.0") or text.isidentifier()


def _partials(op: Op, lines: list[str], indent: str, names: dict[str, str]) -> list[str]:
    """Emit temporaries d0, d1, ... for the partials that need computing; return, per
    operand, what its upstream gradient is multiplied by."""
    heavy = [i for i, p in enumerate(op.partials) if not _is_trivial(p)]
    lines += _assign("d{}", [op.partials[i] for i in heavy], indent, names)
    temporary = {i: f"d{j}" for j, i in enumerate(heavy)}
    return [temporary.get(i, names.get(p, p)) for i, p in enumerate(op.partials)]


def _constant_name(op: Op) -> str:
    return op.name.upper()


def _new_node(data: str, children: str, op: str, const: str, indent: str) -> list[str]:
    """Lines returning a new node; under ``no_grad`` (``recording()`` false) a bare leaf."""
    return [
        f"{indent}v = new(Value)",
        f"{indent}v.data = {data}",
        f"{indent}v.grad = 0.0",
        f'{indent}v.label = ""',
        f"{indent}if recording():",
        f"{indent}    v._prev = {children}",
        f"{indent}    v.op = {op}",
        f"{indent}    v._const = {const}",
        f"{indent}else:",
        f"{indent}    v._prev = ()",
        f"{indent}    v.op = None",
        f"{indent}    v._const = None",
        f"{indent}v._n = serial()",
        f"{indent}return v",
    ]


def _fixed_source(op: Op) -> list[str]:
    nodes = [f"v{n}" for n in op.operands]
    params = ", ".join([f"{n}: Value" for n in nodes] + (["c: float"] if op.const else []))
    lines = [f"def {op.name}_forward({params}) -> Value:"]
    reads, names = _reading([op.formula], {n: f"v{n}.data" for n in op.operands}, "    ")
    lines += [*reads, *_assign("out", [op.formula], "    ", names)]
    children = f"({nodes[0]},)" if len(nodes) == 1 else f"({', '.join(nodes)})"
    lines += _new_node("out", children, _constant_name(op), "c" if op.const else "None", "    ")
    lines += ["", ""]

    targets = f"({nodes[0]},)" if len(nodes) == 1 else ", ".join(nodes)
    lines += [f"def {op.name}_backward(node: Value) -> None:", f"    {targets} = node._prev"]
    sources = {**{n: f"v{n}.data" for n in op.operands}, "out": "node.data", "c": "node._const"}
    reads, names = _reading(list(op.partials), sources, "    ")
    lines += [*reads, "    g = node.grad"]
    factors = _partials(op, lines, "    ", names)
    lines += [f"    {accumulate(node + '.grad', f, 'g')}" for node, f in zip(nodes, factors)]
    return lines


def _nary_source(op: Op) -> list[str]:
    """out = start + Σ term over operand tuples (the start optional, ∂out/∂start = 1).

    ``_prev`` holds the operands group by group (all a's, then all b's), then the
    start if there is one, which the node's op says: ``<OP>_START``.
    """
    k = op.arity
    nodes = [f"v{n}" for n in op.operands]
    groups = [f"{n}s" for n in nodes]
    unpack, names = _reading([op.formula], {n: f"v{n}.data" for n in op.operands}, "")
    name = _constant_name(op)
    params = ", ".join(f"{g}: Sequence[Value]" for g in groups)
    targets = nodes[0] if k == 1 else ", ".join(nodes)
    every = f"({', '.join(f'*{g}' for g in groups)})" if k > 1 else f"tuple({groups[0]})"
    lines = [f"def {op.name}_forward({params}, start: Value | None = None) -> Value:"]
    lines += [f"    terms = {f'zip({chr(44).join(groups)})' if k > 1 else f'iter({groups[0]})'}".replace(",", ", ")]
    lines += ["    if start is None:", f"        {targets} = next(terms)", *("        " + u for u in unpack)]
    lines += _assign("total", [op.formula], "        ", names)
    lines += [f"        prev = {every}", f"        op = {name}", "    else:", "        total = start.data"]
    lines += [f"        prev = ({', '.join(f'*{g}' for g in groups)}, start)", f"        op = {name}_START"]
    lines += [f"    for {targets} in terms:", *("        " + u for u in unpack)]
    if can_raise(op.formula):
        lines += [*_assign("term", [op.formula], "        ", names), "        total += term"]
    else:  # added as it is computed: the same bits, one store less
        lines += [f"        total += {expression(op.formula, names)}"]
    lines += [*_new_node("total", "prev", "op", "None", "    "), "", ""]

    lines += [f"def {op.name}_backward(node: Value) -> None:", "    prev = node._prev", "    g = node.grad"]
    count = "len(prev)" if k == 1 else f"len(prev) // {k}"
    lines += [f"    if node.op is {name}_START:", "        prev[-1].grad += g  # the start: ∂out/∂start = 1"]
    lines += [
        f"        n = {'len(prev) - 1' if k == 1 else f'(len(prev) - 1) // {k}'}",
        "    else:",
        f"        n = {count}",
    ]
    slices = ", ".join(
        "prev[:n]" if i == 0 else f"prev[{'n' if i == 1 else f'{i} * n'} : {i + 1} * n]" for i in range(k)
    )
    lines += [f"    for {nodes[0]} in prev[:n]:"] if k == 1 else [f"    for {', '.join(nodes)} in zip({slices}):"]
    reads, names = _reading(list(op.partials), {n: f"v{n}.data" for n in op.operands}, "        ")
    lines += reads
    factors = _partials(op, lines, "        ", names)
    lines += [f"        {accumulate(node + '.grad', f, 'g')}" for node, f in zip(nodes, factors)]
    return lines


def _quoted_rule(op: Op) -> list[str]:
    """The rule's source, as comment lines."""
    source = textwrap.dedent(inspect.getsource(op.rule)).rstrip().splitlines()
    return [f"# {line}".rstrip() for line in source]


def kernel_source(op: Op) -> str:
    """One op's block of ``kernels.py``: its rule quoted, its row, its two kernels."""
    name = _constant_name(op)
    lines = [_RULE_LINE, *_quoted_rule(op), _RULE_LINE, "", f'{name} = OPS["{op.name}"]']
    lines += [f"{name}_START = {name}.with_start"] * op.nary
    lines += ["", ""]
    lines += _nary_source(op) if op.nary else _fixed_source(op)
    return "\n".join(lines) + "\n"


def _used_names(ops: Sequence[Op]) -> set[str]:
    """The names of the maths namespace the kernels of ``ops`` call, in both forms."""
    texts = [t for op in ops for t in (op.formula, *op.partials)]
    used = set().union(*(names_in(t) | names_in(safe_form(t)) for t in texts))
    return used & set(namespace())


def _imports(ops: Sequence[Op]) -> tuple[list[str], list[str]]:
    """``from <module> import <name>`` for every maths function the kernels call."""
    by_module: dict[str, list[str]] = {}
    for name in sorted(_used_names(ops)):
        function = namespace()[name]
        module = function.__module__
        if function.__name__ != name or not hasattr(sys.modules.get(module), name):
            raise ValueError(f"{name}: not importable by that name from {module}; register it at run time instead")
        relative = "." + module.removeprefix("tinygrad_hw.") if module.startswith("tinygrad_hw.") else module
        by_module.setdefault(relative, []).append(name)
    absolute = [f"from {m} import {', '.join(names)}" for m, names in sorted(by_module.items()) if m[0] != "."]
    local = [f"from {m} import {', '.join(names)}" for m, names in sorted(by_module.items()) if m[0] == "."]
    return absolute, local


def module_source(ops: Sequence[Op] | None = None) -> str:
    """The whole of ``kernels.py`` for ``ops`` (default: every row of the table)."""
    ops = list(OPS.values()) if ops is None else list(ops)
    absolute, local = _imports(ops)
    parts = [
        HEADER.rstrip("\n"),
        *absolute,
        "",
        "from .codegen import ARITH_ERRORS",
        "from .grad_mode import recording",
    ]
    parts += [*local, "from .ops import OPS", "from .value import Value, serial", "", "new = object.__new__", "", ""]
    for op in ops:
        parts += [kernel_source(op), ""]
    parts += ["# each row of ops.OPS: its two kernels, attached to the row by engine.py"]
    parts += ["KERNELS: dict[str, tuple[Callable[..., Value], Callable[[Value], None]]] = {"]
    parts += [f'    "{op.name}": ({op.name}_forward, {op.name}_backward),' for op in ops]
    parts += ["}"]
    return "\n".join(parts) + "\n"


def compile_kernels(op: Op) -> tuple[Callable[..., Any], Callable[[Any], None]]:
    """``op``'s two kernels from :func:`kernel_source`, compiled in memory (for an op added
    while the program runs; the table's own are in ``kernels.py``). The op must be in
    ``ops.OPS``."""
    scope: dict[str, Any] = dict(namespace(), ARITH_ERRORS=ARITH_ERRORS, recording=recording, OPS=OPS)
    scope.update(Value=Value, serial=serial, new=object.__new__, Sequence=Sequence, __name__=__name__)
    load(kernel_source(op), kernel_filename(op), scope)
    return scope[f"{op.name}_forward"], scope[f"{op.name}_backward"]


def kernel_filename(op: Op) -> str:
    """Where tracebacks and pdb find the kernels of an op compiled in memory."""
    return f"<tinygrad_hw kernels: {op.name}>"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write tinygrad_hw/kernels.py from the rules in ops.py.")
    parser.add_argument("--check", action="store_true", help="exit 1 if kernels.py differs from what the rules give")
    args = parser.parse_args(argv)
    text = module_source()
    if args.check:
        stale = not KERNELS_PY.exists() or KERNELS_PY.read_text() != text
        if stale:
            print(f"{KERNELS_PY} is stale: run `make kernels`", file=sys.stderr)
        return int(stale)
    partial = KERNELS_PY.with_name(".kernels.py.tmp")  # whole or not at all: write beside, then rename
    partial.write_text(text)
    partial.replace(KERNELS_PY)
    print(f"wrote {KERNELS_PY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
