"""Why a run went wrong, found by the engine itself.

* **Divergence.** ``fit`` keeps the start of the latest epoch whose parameters were
  all finite (an :class:`EpochStart`: the weights, the optimizer's state, the
  shuffle's state -- cheap), and when the loss stops being finite it calls
  :func:`find_divergence`: that epoch is run again eagerly, step by step, from a copy
  of the model, checking every node's value (children first), then every gradient
  an update depends on (output first), then the updated parameters, until the first
  number that is not finite. The eager engine and the replay give the same bits per
  sample, so the re-run meets what the run met. The answer names the node, the
  epoch, the sample, the chain of largest inputs that led there, and a reason.
* **Health.** :func:`health` looks at a model on a data set at its current weights:
  ReLUs that are 0 on every sample (dead: no gradient passes them), and layers
  whose every ``|∂C/∂z|`` is below :data:`VANISHING` on every sample (vanishing
  gradients: the layer has stopped learning).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from .checks import counted
from .engine import Value, walk
from .history import Divergence
from .losses import LOSSES
from .nn import MLP
from .optim import Optimizer

__all__ = ["VANISHING", "EpochStart", "Health", "LayerHealth", "find_divergence", "health", "short"]

VANISHING = 1e-8  # |∂C/∂z| below this for a whole layer on every sample: the layer no longer learns
LARGEST = 1.7976931348623157e308  # the largest double; one more step and a number is inf
UNBOUNDED = ("none", "linear")


def short(x: float) -> str:
    """A number as a sentence shows it: three significant digits, a real minus sign,
    a plain exponent (``0.812``, ``−1.23``, ``1.52e121``, ``1e−8``)."""
    text = f"{x:.3g}" if math.isfinite(x) else str(x)
    text = re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), text)
    return text.replace("-", "−")


# -- the start of an epoch, kept while training -----------------------------------------------


@dataclass
class EpochStart:
    """What a re-run of epoch ``epoch`` needs: the parameters as it began, the
    optimizer's state and the shuffle's state (None without shuffling)."""

    epoch: int
    weights: list[float]
    optimizer: dict[str, Any]
    schedule: Any = None

    @classmethod
    def take(cls, epoch: int, weights: list[float], optimizer: Optimizer, schedule: Any = None) -> EpochStart | None:
        """The epoch's start, or None if a parameter is already not finite (useless to start from)."""
        total = sum(weights)  # finite only if every weight is (inf and nan carry through a sum): fast
        if not total - total == 0.0 and not all(map(math.isfinite, weights)):
            return None
        return cls(epoch, weights, optimizer_state(optimizer), schedule)


def optimizer_state(optimizer: Optimizer) -> dict[str, Any]:
    """The optimizer's attributes but its parameters, lists copied (velocity, moments):
    enough to put it back as it was. Other mutable state is deep-copied."""
    state: dict[str, Any] = {}
    for name, value in vars(optimizer).items():
        if name == "params":
            continue
        if isinstance(value, list) and all(isinstance(x, float) for x in value[:1]):
            state[name] = list(value)
        elif isinstance(value, (int, float, str, tuple, type(None))):
            state[name] = value
        else:
            state[name] = copy.deepcopy(value)
    return state


# -- the re-run --------------------------------------------------------------------------------


def _outputs(out: Value | list[Value]) -> list[Value]:
    return [out] if isinstance(out, Value) else out


def batch_graph(
    model: Callable[..., Any], loss_fn: Callable[..., Value], xb: Sequence[Any], tb: Sequence[Any]
) -> tuple[Value, list[list[Value]]]:
    """The loss of a batch built as ``fit`` builds it (the same ops in the same order,
    so the same bits), and each sample's outputs."""
    per_sample = [_outputs(model(x)) for x in xb]
    preds = [p for outs in per_sample for p in outs]
    targets = [t for row in tb for t in row]
    root = loss_fn(preds[0] if len(preds) == 1 else preds, targets[0] if len(targets) == 1 else targets)
    return root, per_sample


@dataclass
class _Found:
    node: Value
    kind: str
    graph: list[Value]  # the step's nodes, children first (empty for an update)
    per_sample: list[list[Value]]


def _first_non_finite(root: Value, per_sample: list[list[Value]], opt: Optimizer, params: list[Value]) -> _Found | None:
    """One step as fit takes it, checked: every value (children first), then -- the
    loss being finite -- every gradient the update depends on (the output first: the
    computed nodes' and the parameters'), then the updated parameters."""
    graph = walk(root)
    bad = next((v for v in graph if not math.isfinite(v.data)), None)
    if bad is not None:
        return _Found(bad, "value", graph, per_sample)
    opt.zero_grad()
    root.backward()
    used = set(params)  # an input's gradient, which no update reads, does not count
    bad = next((v for v in reversed(graph) if not math.isfinite(v.grad) and (v.children or v in used)), None)
    if bad is not None:
        return _Found(bad, "gradient", graph, per_sample)
    opt.step()
    bad = next((p for p in params if not math.isfinite(p.data)), None)
    return None if bad is None else _Found(bad, "update", [], per_sample)


def find_divergence(
    model: MLP,
    optimizer: Optimizer,
    loss_fn: Callable[..., Value],
    xs: Sequence[Sequence[float]],
    ys: Sequence[Sequence[float]],
    start: EpochStart,
    epochs: Iterable[tuple[int, Iterable[Sequence[int]]]],
) -> Divergence | None:
    """Re-run ``epochs`` (each epoch's number and its batches of sample indices, from
    ``start.epoch`` on) eagerly from ``start`` on a copy of ``model`` and ``optimizer``;
    the first non-finite value, gradient or updated parameter, explained. None if
    every number stayed finite (the replay's batches round differently from the
    engine, by about 1e-15, and may not meet the same overflow)."""
    copied_model, opt = copy.deepcopy((model, optimizer))  # one memo: the optimizer holds the copy's Values
    params = copied_model.parameters()
    for p, w in zip(params, start.weights):
        p.data = w
    for name, value in start.optimizer.items():
        setattr(opt, name, list(value) if isinstance(value, list) else copy.deepcopy(value))
    for epoch, batches in epochs:
        growth: list[float] = []
        for step, batch in enumerate(batches):
            growth.append(max(abs(p.data) for p in params))
            root, per_sample = batch_graph(copied_model, loss_fn, [xs[i] for i in batch], [ys[i] for i in batch])
            found = _first_non_finite(root, per_sample, opt, params)
            if found is not None:
                return _explain(found, epoch, step, list(batch), growth, copied_model, opt, xs)
    return None


# -- the explanation ---------------------------------------------------------------------------


def _name(v: Value) -> str:
    return v.label or f"({v._op or 'value'})"


def _chain(v: Value, limit: int = 8) -> list[tuple[str, float]]:
    """``v``, then back through its inputs, each time to the largest in size: computed
    inputs first (they carry the growth through the layers), a leaf at the end."""
    chain = [(_name(v), v.data)]
    node = v
    while node.children and len(chain) < limit:
        inner = [c for c in node.children if not c.is_leaf]
        node = max(inner or node.children, key=lambda c: abs(c.data) if math.isfinite(c.data) else math.inf)
        chain.append((_name(node), node.data))
    return chain


def _sample_of(found: _Found) -> int | None:
    """Which sample of the step holds the node (its position in the batch), if one alone does."""
    if len(found.per_sample) == 1:
        return 0
    if found.kind == "update" or found.node.is_leaf:
        return None  # a parameter: every sample of the batch shares it
    holders = [k for k, outs in enumerate(found.per_sample) if found.node in set(walk(outs))]
    return holders[0] if len(holders) == 1 else None


def _reason(found: _Found, model: MLP, opt: Optimizer) -> str:
    """Why the number could grow that far, in one sentence."""
    v = found.node
    lr = getattr(opt, "lr", None)
    step = f"the step lr·∂C/∂w (lr {short(lr)})" if lr is not None else "the optimizer's step"
    if found.kind == "update":
        return f"{step} moved {_name(v)} past the largest double, {short(LARGEST)}"
    if found.kind == "gradient":
        return (
            "going back through the layers, each multiplies the gradient by its weights: "
            f"with weights this large it passed {short(LARGEST)}"
        )
    activations = getattr(model, "activations", [])
    if activations and all(a in UNBOUNDED for a in activations):
        why = "without an activation each layer multiplies the last, unbounded"
    elif any(a == "relu" for a in activations):
        why = "ReLU passes large values on unchanged, so each layer can multiply the last"
    else:
        why = "the weights grew until a weighted sum passed the largest double"
    finite_inputs = v.children and all(math.isfinite(c.data) for c in v.children)
    if finite_inputs and math.isnan(v.data) and v._op in ("dot", "sum", "+", "-"):
        why += f"; its terms passed the largest double, {short(LARGEST)}, and +inf met −inf"
    elif finite_inputs and math.isinf(v.data):
        why += f"; it passed the largest double, {short(LARGEST)}"
    return why


def _growth(growth: list[float], lr: float | None) -> str:
    """How the largest parameter grew over the epoch's steps up to the failure, in a few numbers."""
    if len(growth) < 2 or not growth[-1] > 2 * growth[0]:
        return ""
    picks = sorted({0, len(growth) - 1, *range(0, len(growth), max(1, len(growth) // 6))})
    shown: list[str] = []
    for k in picks:
        if not shown or short(growth[k]) != shown[-1]:
            shown.append(short(growth[k]))
    overshoot = f", each update overshooting (lr {short(lr)})" if lr is not None else ""
    return f"The largest parameter grew {' → '.join(shown)} over the epoch's {len(growth)} steps to here{overshoot}."


def _explain(
    found: _Found,
    epoch: int,
    step: int,
    batch: list[int],
    growth: list[float],
    model: MLP,
    opt: Optimizer,
    xs: Sequence[Sequence[float]],
) -> Divergence:
    """The Divergence record of what the re-run found, and its sentences: where and
    why on the first line, the chain and the growth on the next ones."""
    position = _sample_of(found)
    sample = batch[position] if position is not None else None
    name = _name(found.node)
    value = found.node.grad if found.kind == "gradient" else found.node.data
    chain = _chain(found.node) if found.kind == "value" else [(name, value)]
    reason = _reason(found, model, opt)
    if sample is not None:
        where = f"sample {sample} (x = ({', '.join(short(x) for x in xs[sample])}))"
    else:
        where = f"step {step} (samples {', '.join(map(str, batch))})"
    what = {"value": "", "gradient": f"its gradient ∂C/∂{name} ", "update": "its update "}[found.kind]
    lines = [f"{name}{' ' if what else ''}{what.strip()} became {short(value)} at epoch {epoch}, {where}: {reason}."]
    if len(chain) > 1:
        lines.append(
            "The chain, each the largest input of the one before: "
            + " ← ".join(f"{n} = {short(x)}" for n, x in chain)
            + "."
        )
    grew = _growth(growth, getattr(opt, "lr", None))
    if grew:
        lines.append(grew)
    return Divergence(
        epoch=epoch,
        step=step,
        samples=batch,
        sample=sample,
        node=name,
        kind=found.kind,
        value=value,
        chain=chain,
        reason=reason,
        growth=growth,
        message="\n".join(lines),
    )


# -- health at the current weights -------------------------------------------------------------


@dataclass
class LayerHealth:
    """One layer on a data set: its largest ``|∂C/∂z|`` over samples and neurons, and
    its ReLUs that were 0 on every sample (counted from 1)."""

    layer: int
    largest_gradient: float
    dead: list[int] = field(default_factory=list)

    @property
    def vanishing(self) -> bool:
        return self.largest_gradient < VANISHING  # False for nan: a gradient that is not finite has not vanished


@dataclass
class Health:
    """A model on a data set at its current weights: each layer's health, and what
    every sample gave (``values[sample][layer][neuron]``, each neuron's output ``a``)."""

    layers: list[LayerHealth]
    values: list[list[list[float]]] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        """One sentence per problem found; empty when there is none."""
        found = []
        for layer in self.layers:
            if layer.dead:
                names = ", ".join(f"a{layer.layer}[{i}]" for i in layer.dead)
                found.append(
                    f"dead ReLU: {names} {'is' if len(layer.dead) == 1 else 'are'} 0 on every sample, "
                    "so no gradient passes"
                )
            if layer.vanishing:
                size = (  # exactly 0 (every ReLU of the layer dead, say) reads as that, not as "at most 0"
                    "is 0"
                    if layer.largest_gradient == 0.0
                    else f"is at most {short(layer.largest_gradient)} (below {short(VANISHING)})"
                )
                found.append(
                    f"vanishing gradient: layer {layer.layer}'s |∂C/∂z| {size} on every sample: it has stopped learning"
                )
        return found


def neuron_nodes(model: MLP, x: Sequence[float]) -> list[list[tuple[Value | None, Value]]]:
    """``x`` through ``model`` layer by layer as ``model(x)`` builds it: each neuron's
    ``(z, a)`` (the same node twice without an activation; z None under ``no_grad``,
    where a node keeps no children)."""
    inputs: list[Value] = [Value(v, f"x{j + 1}") for j, v in enumerate(x)]
    layers = []
    for layer in model.layers:
        pairs = []
        for neuron in layer.neurons:
            a = neuron(inputs)
            z = a if neuron.activation in UNBOUNDED else a.children[0] if a.children else None
            pairs.append((z, a))
        layers.append(pairs)
        inputs = [a for _, a in pairs]
    return layers


def health(model: MLP, X: Any, y: Any, loss: str | Callable[..., Value]) -> Health:
    """Dead ReLUs and vanishing gradients of ``model`` at its current weights, one
    forward and backward pass per sample of ``X`` against ``y`` (the loss as ``fit``
    takes it for one sample); the parameters' grads are left as they were. A ReLU is
    dead when its ``z`` is at most 0 on every sample; a layer's gradient vanishes
    when every ``|∂C/∂z|`` in it is below :data:`VANISHING` on every sample."""
    _same_samples(model, X, y)
    loss_fn = LOSSES.get(loss) if isinstance(loss, str) else loss
    if loss_fn is None or not callable(loss_fn):
        raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(map(repr, LOSSES))} or pass a function")
    saved = [p.grad for p in model.parameters()]
    largest = [0.0] * len(model.layers)
    alive = [[False] * len(layer.neurons) for layer in model.layers]
    values = []
    for x, t in zip(_rows(X), _rows(y)):
        layers = neuron_nodes(model, x)
        outs = [a for _, a in layers[-1]]
        root = loss_fn(outs[0] if len(outs) == 1 else outs, t[0] if len(t) == 1 else t)
        root.backward()
        for k, pairs in enumerate(layers):
            for z, _ in pairs:
                assert z is not None  # gradients are on here
                size = abs(z.grad)
                largest[k] = size if size > largest[k] or size != size else largest[k]  # nan is kept: not vanishing
            for i, (z, _) in enumerate(pairs):
                alive[k][i] = alive[k][i] or z.data > 0.0  # type: ignore[union-attr]  # not None, as above
        values.append([[a.data for _, a in pairs] for pairs in layers])
    for p, g in zip(model.parameters(), saved):
        p.grad = g
    report = [
        LayerHealth(k + 1, largest[k], [i + 1 for i, up in enumerate(alive[k]) if not up] if act == "relu" else [])
        for k, act in enumerate(model.activations)
    ]
    return Health(report, values)


def _same_samples(model: MLP, X: Any, y: Any) -> None:
    """One row of nin inputs and one of nout targets per sample, or a ValueError: zip
    would otherwise drop the samples of the longer one without a word."""
    xs, ys = _rows(X), _rows(y)
    if not xs or len(ys) != len(xs) or any(len(r) != model.nin for r in xs) or any(len(t) != model.nout for t in ys):
        raise ValueError(
            f"health needs one row of {counted(model.nin, 'input')} and one of {counted(model.nout, 'target')} "
            f"per sample: got {counted(len(xs), 'input row')} and {counted(len(ys), 'target row')}"
        )


def _rows(data: Any) -> list[list[float]]:
    rows = data.tolist() if hasattr(data, "tolist") else list(data)
    return [list(r) if isinstance(r, (list, tuple)) else [float(r)] for r in rows]
