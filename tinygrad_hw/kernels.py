"""The eager engine's kernels: each op's rule written out as two plain functions.

For every row of the op table this generates, once at import, a forward
function that builds a node and a backward function that pushes a gradient to
its children, named after the op::

    def sigmoid_forward(va):
        a = va.data
        try:
            out = 1.0 / (1.0 + exp(-a))
        except ARITH_ERRORS:
            out = safe_div(1.0, 1.0 + safe_exp(-a))
        ...                                   # a new node: data out, children (va,)

    def sigmoid_backward(node):
        va, = node._prev
        out = node.data
        g = node.grad
        d0 = out * (1.0 - out)                # ∂out/∂a, the rule's local derivative
        va.grad += d0 * g                     # the chain rule

``docs/kernels.md`` lists every op's rule and kernels, made from this code. Why
generate them at all, instead of calling the rule functions? Not for ``exec``'s
sake -- generated code is no faster than the same code typed in -- but because
the generated function is one straight run of arithmetic per op, with no call to
a rule, no tuple of partials, no loop over operands and no closure per node.
``backprop.py`` does the same work by calling the rules: slower, and the place
to start reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .codegen import ARITH_ERRORS, NAMESPACE, accumulate, can_raise, expression, load, names_in
from .ops import OPERANDS, Op

__all__ = ["Kernel", "compile_kernel", "kernel_source"]


@dataclass(frozen=True)
class Kernel:
    """One op compiled for the eager engine: build a node, push a gradient back."""

    op: Op
    forward: Callable[..., Any]  # <op>_forward(operand nodes..., [c]) -> a new node
    backward: Callable[[Any], None]  # <op>_backward(node): add its grad into its children's
    source: str
    filename: str

    @property
    def make(self) -> Callable[..., Any]:
        """The forward function (its name before it was named after its op)."""
        return self.forward


def _assign(target: str, texts: list[str], indent: str) -> list[str]:
    """Lines computing ``target.format(i) = text`` for each text, with the IEEE fallback
    if any can raise. Every value is computed before anything else is stored, so a
    fallback never runs half of the work twice."""
    fast = [f"{indent}{target.format(i)} = {expression(t, {})}" for i, t in enumerate(texts)]
    if not any(can_raise(t) for t in texts):
        return fast
    safe = [f"{indent}    {target.format(i)} = {expression(t, {}, safe=True)}" for i, t in enumerate(texts)]
    return [f"{indent}try:", *("    " + line for line in fast), f"{indent}except ARITH_ERRORS:", *safe]


def _is_trivial(text: str) -> bool:
    """A partial that needs no temporary: ±1 or a bare name."""
    return text in ("1.0", "-1.0") or text.isidentifier()


def _partials(op: Op, lines: list[str], indent: str) -> list[str]:
    """Emit temporaries d0, d1, ... for the partials that need computing; return, per
    operand, what its upstream gradient is multiplied by."""
    heavy = [i for i, p in enumerate(op.partials) if not _is_trivial(p)]
    lines += _assign("d{}", [op.partials[i] for i in heavy], indent)
    temporary = {i: f"d{j}" for j, i in enumerate(heavy)}
    return [temporary.get(i, p) for i, p in enumerate(op.partials)]


def _new_node(data: str, children: str, const: str, indent: str) -> list[str]:
    """Lines returning a new node; under ``no_grad`` (``recording()`` false) a bare leaf."""
    return [
        f"{indent}v = new(Value)",
        f"{indent}v.data = {data}",
        f"{indent}v.grad = 0.0",
        f"{indent}v.label = ''",
        f"{indent}if recording():",
        f"{indent}    v._prev = {children}",
        f"{indent}    v._kernel = KERNEL",
        f"{indent}    v._const = {const}",
        f"{indent}else:",
        f"{indent}    v._prev = ()",
        f"{indent}    v._kernel = None",
        f"{indent}    v._const = None",
        f"{indent}return v",
    ]


def _fixed_source(op: Op) -> str:
    nodes = [f"v{n}" for n in OPERANDS[: op.arity]]
    params = ", ".join(nodes + (["c"] if op.const else []))
    lines = [f"def {op.name}_forward({params}):"]
    lines += [f"    {n} = v{n}.data" for n in OPERANDS[: op.arity]]
    lines += _assign("out", [op.forward], "    ")
    lines += [*_new_node("out", f"({', '.join(nodes)},)", "c" if op.const else "None", "    "), "", ""]

    used = set().union(*(names_in(p) for p in op.partials))
    lines += [f"def {op.name}_backward(node):", f"    {', '.join(nodes)}, = node._prev"]
    lines += [f"    {n} = v{n}.data" for n in OPERANDS[: op.arity] if n in used]
    lines += ["    out = node.data"] * ("out" in used) + ["    c = node._const"] * ("c" in used)
    lines += ["    g = node.grad"]
    factors = _partials(op, lines, "    ")
    lines += [f"    {accumulate(node + '.grad', f, 'g')}" for node, f in zip(nodes, factors)]
    return "\n".join(lines) + "\n"


def _nary_source(op: Op) -> str:
    """out = start + Σ term over operand tuples (``start`` optional, ∂out/∂start = 1).

    ``_prev`` holds the operands group by group (all a's, then all b's), then the
    start if there is one: for two-operand terms an odd length means a start.
    """
    nodes = [f"v{n}" for n in OPERANDS[: op.arity]]
    groups = [f"{n}s" for n in nodes]
    unpack = [f"{n} = v{n}.data" for n in OPERANDS[: op.arity]]
    operands = ", ".join(f"*{g}" for g in groups)
    lines = [f"def {op.name}_forward({', '.join(groups)}, start=None):", f"    terms = zip({', '.join(groups)})"]
    lines += ["    if start is None:", f"        {', '.join(nodes)}, = next(terms)"]
    lines += ["        " + u for u in unpack]
    lines += _assign("total", [op.forward], "        ")
    lines += [f"        prev = ({operands},)", "    else:", "        total = start.data"]
    lines += [f"        prev = ({operands}, start)"]
    lines += [f"    for {', '.join(nodes)}, in terms:", *("        " + u for u in unpack)]
    lines += [*_assign("term", [op.forward], "        "), "        total += term"]
    lines += [*_new_node("total", "prev", "None", "    "), "", ""]

    used = set().union(*(names_in(p) for p in op.partials))
    lines += [f"def {op.name}_backward(node):", "    prev = node._prev", "    g = node.grad"]
    if op.arity == 1:
        lines += [f"    for {nodes[0]} in prev:"]
    else:
        k = op.arity
        lines += [f"    n = len(prev) // {k}", f"    if len(prev) % {k}:", "        prev[-1].grad += g"]
        slices = ", ".join(f"prev[{i}*n:{i + 1}*n]" if i else "prev[:n]" for i in range(k))
        lines += [f"    for {', '.join(nodes)} in zip({slices}):"]
    lines += [f"        {n} = v{n}.data" for n in OPERANDS[: op.arity] if n in used]
    factors = _partials(op, lines, "        ")
    lines += [f"        {accumulate(node + '.grad', f, 'g')}" for node, f in zip(nodes, factors)]
    return "\n".join(lines) + "\n"


def kernel_source(op: Op) -> str:
    """The Python source of an op's two kernel functions."""
    rule = f"{op.rule.__module__}.{op.rule.__qualname__}"
    head = f"# {op.name}: the kernels of the rule {rule}, generated by tinygrad_hw/kernels.py\n\n"
    return head + (_nary_source(op) if op.nary else _fixed_source(op))


def compile_kernel(op: Op, value_class: type, recording: Callable[[], bool]) -> Kernel:
    """Compile one row of the table into functions that build ``value_class`` nodes.

    ``recording()`` is called at every op: false inside ``no_grad``.
    """
    source = kernel_source(op)
    filename = f"<tinygrad_hw kernel: {op.name}>"
    scope: dict[str, Any] = dict(
        NAMESPACE, Value=value_class, new=object.__new__, recording=recording, ARITH_ERRORS=ARITH_ERRORS
    )
    scope["__name__"] = __name__
    load(source, filename, scope)
    kernel = Kernel(op, scope[f"{op.name}_forward"], scope[f"{op.name}_backward"], source, filename)
    scope["KERNEL"] = kernel
    return kernel


def kernels_markdown() -> str:
    """``docs/kernels.md``: every op's rule and the kernels generated from it, from the code."""
    import inspect
    import textwrap

    from .engine import KERNELS

    intro = (
        "Made by `make docs` from the code itself; a test keeps this file current. Each op's rule is the "
        "plain function in `tinygrad_hw/ops.py`; its kernels are what `kernels.py` generates from the "
        "rule's text and the eager engine runs: `<op>_forward` builds a node, `<op>_backward` adds "
        "`∂out/∂operand × node.grad` into each child's grad (the chain rule). Where Python's maths can "
        "raise, a kernel retries with the IEEE-754 forms (`safe_div`, `safe_exp`, ...: `inf` and `nan` "
        "instead of exceptions). In a traceback, pdb or `inspect.getsource`, a kernel's file is "
        "`<tinygrad_hw kernel: NAME>`."
    )
    parts = ["# The kernels, generated from the rules", "", *textwrap.wrap(intro, 100), ""]
    for name, kernel in KERNELS.items():
        parts += [f"## `{name}`", "", "The rule:", "", "```python", inspect.getsource(kernel.op.rule).rstrip(), "```"]
        parts += ["", "Its kernels:", "", "```python", kernel.source.rstrip(), "```", ""]
    return "\n".join(parts)
