"""Failure explained: a diverging fit names the first node that was not finite, and the
test finds that node itself -- by running the same steps eagerly and walking each
graph with its own stack -- so that the explanation is held to the engine, not to
the diagnosis's own re-run. Dead ReLUs and vanishing gradients likewise."""

from __future__ import annotations

import io
import json
import math
import random

import numpy as np
import pytest

from tinygrad_hw import Value
from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.diagnose import VANISHING, health, short
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.optim import SGD
from tinygrad_hw.train import fit


def nodes_children_first(root: Value) -> list[Value]:
    """Every node under ``root``, each after its children: the test's own walk."""
    order, seen, stack = [], {root}, [(root, iter(root.children))]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            order.append(node)
        elif child not in seen:
            seen.add(child)
            stack.append((child, iter(child.children)))
    return order


def first_non_finite(model, X, y, lr, loss=mse, order=None, batch_size=1, momentum=0.0):
    """SGD as fit runs it, until a value (children first), a gradient (the output
    first) or an updated parameter is not finite: (epoch, sample, node, kind), the
    sample being the step's only one, or the one whose own forward graph holds the node."""
    opt = SGD(model.parameters(), lr, momentum=momentum)
    epoch = 0
    while True:
        epoch += 1
        indices = order(epoch) if order else list(range(len(X)))
        for b in range(0, len(indices), batch_size):
            batch = indices[b : b + batch_size]
            outputs = [model(X[i].tolist()) for i in batch]
            targets = [float(y[i, 0]) for i in batch]
            root = loss(outputs[0], targets[0]) if len(batch) == 1 else loss(outputs, targets)
            graph = nodes_children_first(root)
            bad, kind = next((v for v in graph if not math.isfinite(v.data)), None), "value"
            if bad is None:
                opt.zero_grad()
                root.backward()
                params = set(model.parameters())  # an input's gradient feeds no update
                grads = (v for v in reversed(graph) if not math.isfinite(v.grad) and (v.children or v in params))
                bad, kind = next(grads, None), "gradient"
            if bad is not None:
                holders = (
                    batch if len(batch) == 1 else [i for i, o in zip(batch, outputs) if bad in nodes_children_first(o)]
                )
                return epoch, holders[0] if len(holders) == 1 else None, bad, kind
            opt.step()


@pytest.mark.parametrize("engine", ["eager", "replay"])
def test_the_no_activation_run_names_the_first_non_finite_node(engine):
    X, y = generate_xor_easy()
    history = fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=50, lr=0.1, engine=engine, verbose=False)
    epoch, sample, node, kind = first_non_finite(MLP(2, [8, 8, 1], "none", seed=1), X, y, 0.1)
    d = history.divergence
    assert d is not None and (d.epoch, d.sample, d.node, d.kind) == (epoch, sample, node.label, kind)
    assert (epoch, sample, node.label, kind) == (1, 7, "z3[1]", "value") and math.isnan(d.value)
    assert d.chain[0][0] == "z3[1]" and all(math.isfinite(v) for _, v in d.chain[1:])
    assert "without an activation each layer multiplies the last, unbounded" in d.message
    assert d.message.startswith("z3[1] became nan at epoch 1, sample 7")


def test_the_chain_steps_to_each_nodes_largest_computed_input():
    X, y = generate_xor_easy()
    history = fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=5, lr=0.1, verbose=False)
    *_, node, _ = first_non_finite(MLP(2, [8, 8, 1], "none", seed=1), X, y, 0.1)
    expected = [(node.label, node.data)]
    while node.children:
        inner = [c for c in node.children if c.children]
        node = max(inner or node.children, key=lambda c: abs(c.data))
        expected.append((node.label, node.data))
    got = history.divergence.chain
    assert [n for n, _ in got] == [n for n, _ in expected]
    assert [v for _, v in got[1:]] == [v for _, v in expected[1:]]


def test_fit_prints_where_and_why_under_the_stop_line():
    X, y = generate_xor_easy()
    out = io.StringIO()
    history = fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=5, lr=0.1, progress=False, file=out)
    lines = out.getvalue().splitlines()
    stop = lines.index(history.message)
    assert lines[stop + 1] == "  " + history.divergence.message.splitlines()[0]
    assert "The chain" in lines[stop + 2] and "The largest parameter grew" in lines[stop + 3]


def test_a_later_shuffled_divergence_is_found_in_its_own_epoch_and_order():
    X, y = generate_xor_easy()
    history = fit(MLP(2, [1], "none", seed=0), X, y, epochs=300, lr=1.0, shuffle=True, seed=5, verbose=False)
    rng, indices = random.Random(5), list(range(len(X)))

    def order(epoch):
        rng.shuffle(indices)
        return list(indices)

    epoch, sample, node, kind = first_non_finite(MLP(2, [1], "none", seed=0), X, y, 1.0, order=order)
    d = history.divergence
    assert epoch > 5 and d.epoch == epoch == history.diverged_at
    assert (d.sample, d.node, d.kind) == (sample, node.label, kind)


@pytest.mark.parametrize("engine", ["eager", "replay"])
def test_a_late_divergence_restarts_from_its_epoch_with_the_optimizers_momentum(engine):
    X, y = generate_xor_easy()
    model = MLP(2, [1], "none", seed=0)
    opt = SGD(model.parameters(), 0.5, momentum=0.9)
    history = fit(model, X, y, epochs=600, optimizer=opt, engine=engine, verbose=False)
    epoch, sample, node, kind = first_non_finite(MLP(2, [1], "none", seed=0), X, y, 0.5, momentum=0.9)
    d = history.divergence
    assert epoch > 100 and (d.epoch, d.sample, d.node, d.kind) == (epoch, sample, node.label, kind)


def test_a_gradient_that_overflows_first_is_named_as_a_gradient():
    X, y = generate_xor_easy()

    def loss(pred, target):  # finite in value, but its gradient passes 1e308 at the scaled node
        return ((pred - target) * 1e-300 * 1e300) * 1e10

    history = fit(MLP(2, [2, 1], seed=0), X, y, epochs=3, lr=0.1, loss=loss, verbose=False)
    epoch, sample, node, kind = first_non_finite(MLP(2, [2, 1], seed=0), X, y, 0.1, loss=loss)
    d = history.divergence
    assert kind == "gradient" and (d.epoch, d.sample, d.kind) == (epoch, sample, kind) == (1, 0, "gradient")
    assert d.node == node.label or d.node.startswith("(")  # an unlabelled node is named by its op
    assert math.isinf(d.value) and "∂C/∂" in d.message


def test_a_batch_divergence_names_the_step_and_the_sample_holding_the_node():
    X, y = generate_xor_easy()
    history = fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=50, lr=0.5, batch_size=4, verbose=False)
    epoch, sample, node, kind = first_non_finite(MLP(2, [8, 8, 1], "none", seed=1), X, y, 0.5, batch_size=4)
    d = history.divergence
    assert (d.epoch, d.sample, d.node, d.kind) == (epoch, sample, node.label, kind)
    assert sample is not None and d.samples == list(range(4 * d.step, min(21, 4 * d.step + 4)))


def test_the_history_keeps_the_divergence_as_strict_json(tmp_path):
    X, y = generate_xor_easy()
    history = fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=5, lr=0.1, verbose=False)
    path = tmp_path / "run.json"
    history.save(path)
    data = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert data["divergence"]["node"] == "z3[1]" and data["divergence"]["value"] is None  # nan as null


def test_a_finite_run_has_no_divergence():
    X, y = generate_xor_easy()
    history = fit(MLP(2, [4, 1], seed=1), X, y, epochs=3, verbose=False)
    assert history.divergence is None and not history.diverged


def test_a_relu_that_is_negative_on_every_sample_is_dead():
    X, y = generate_xor_easy()
    model = MLP(2, [3, 1], ["relu", "sigmoid"], seed=2)
    dead = model.layers[0].neurons[1]
    for w in dead.w:
        w.data = -1.0
    dead.b.data = -0.5  # z = -x1 - x2 - 0.5 < 0 on [0, 1]²
    found = health(model, X, y, mse)
    assert found.layers[0].dead == [2] and found.layers[1].dead == []
    assert any("dead ReLU: a1[2]" in flag for flag in found.flags)
    zs = [model.layers[0].neurons[1].w[0].data * x1 + dead.w[1].data * x2 + dead.b.data for x1, x2 in X]
    assert max(zs) < 0  # the engine's own numbers agree it never fires


def test_a_saturated_layer_has_vanishing_gradients_and_keeps_the_grads():
    X, y = generate_xor_easy()
    model = MLP(2, [3, 1], seed=3)
    for neuron in model.layers[0].neurons:
        neuron.b.data = 60.0  # σ'(60) ≈ 9e-27: nothing passes layer 1
    for p in model.parameters():
        p.grad = 0.25
    found = health(model, X, y, mse)
    assert all(p.grad == 0.25 for p in model.parameters())  # health leaves the grads as they were
    largest = 0.0
    for x, t in zip(X.tolist(), y[:, 0]):  # ∂C/∂z of layer 1, straight from the engine
        root = mse(model(x), float(t))
        root.backward()
        zs = [v for v in nodes_children_first(root) if v.label.startswith("z1[")]
        largest = max(largest, *(abs(z.grad) for z in zs))
    assert found.layers[0].vanishing and found.layers[0].largest_gradient == largest < VANISHING
    assert not found.layers[1].vanishing
    assert any(f.startswith("vanishing gradient: layer 1") for f in found.flags)


def test_health_values_are_the_engines_outputs():
    X, y = generate_xor_easy()
    model = MLP(2, [3, 2, 1], ["tanh", "relu", "sigmoid"], seed=4)
    found = health(model, X, y, mse)
    for x, values in zip(X.tolist(), found.values):
        root = model(x)
        assert values[-1] == [root.data]
        labelled = {v.label: v.data for v in nodes_children_first(root)}
        assert values[0] == [labelled[f"a1[{i}]"] for i in (1, 2, 3)]


def test_short_numbers_have_one_minus_sign():
    assert [short(x) for x in (-1.234, 1e-8, 1.52e121, 0.0, -math.inf)] == ["−1.23", "1e−8", "1.52e121", "0", "−inf"]
    assert "-" not in "".join(short(x) for x in np.linspace(-1e5, 1e5, 50))


def test_a_layer_whose_every_relu_is_dead_has_a_gradient_of_0_said_plainly():
    X, y = generate_xor_easy()
    model = MLP(2, [2, 1], ["relu", "sigmoid"], seed=2)
    for neuron in model.layers[0].neurons:
        neuron.b.data = -5.0  # z < 0 on [0, 1]² for weights in [-1, 1)
    found = health(model, X, y, mse)
    assert found.layers[0].dead == [1, 2] and found.layers[0].largest_gradient == 0.0
    assert "vanishing gradient: layer 1's |∂C/∂z| is 0 on every sample: it has stopped learning" in found.flags
    assert not any("at most 0 " in flag for flag in found.flags)


def test_health_takes_its_data_and_loss_as_fit_does():
    """Targets for 2 of 4 samples were zipped short without a word, and loss="mse" (as
    fit takes it) was "'str' object is not callable"."""
    import numpy as np

    from tinygrad_hw.nn import MLP

    X, y = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0.0, 1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="one of 1 target per sample: got 4 input rows and 2 target rows"):
        health(MLP(2, [3, 1], seed=1), X, y[:2], mse)
    by_name, by_function = health(MLP(2, [3, 1], seed=1), X, y, "mse"), health(MLP(2, [3, 1], seed=1), X, y, mse)
    assert by_name == by_function
