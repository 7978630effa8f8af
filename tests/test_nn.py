"""Neuron, Layer, MLP: micrograd's layout, seeded initialisation, exact gradients."""

import random

import numpy as np
import pytest

from tinygrad_hw import Value, gradcheck
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP, Layer, Module, Neuron


def test_micrographs_layout_and_the_reports_labels():
    model = MLP(2, [8, 8, 1], seed=0)
    assert len(model.layers) == 3 and [len(layer.neurons) for layer in model.layers] == [8, 8, 1]
    neuron = model.layers[1].neurons[2]
    assert len(neuron.w) == 8 and all(isinstance(w, Value) for w in neuron.w) and isinstance(neuron.b, Value)
    assert neuron.w[0].label == "W2[3,1]" and neuron.b.label == "b2[3]"
    assert len(model.parameters()) == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1 == 105
    assert all(-1 <= w.data < 1 for w in model.parameters() if w.label.startswith("W"))
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)


def test_seeded_initialisation_is_reproducible():
    def weights(m):
        return [p.data for p in m.parameters()]

    assert weights(MLP(2, [4, 1], seed=5)) == weights(MLP(2, [4, 1], seed=5))
    assert weights(MLP(2, [4, 1], seed=5)) != weights(MLP(2, [4, 1], seed=6))
    assert weights(MLP(2, [4, 1], seed=random.Random(5))) == weights(MLP(2, [4, 1], seed=5))
    with pytest.raises(TypeError, match="seed"):
        MLP(2, [1], seed="five")


def test_numpy_integers_are_seeds_and_sizes_as_ints_are():
    """`for seed in np.arange(8)` is how a numpy user loops over seeds."""

    def weights(model):
        return [p.data for p in model.parameters()]

    assert weights(MLP(2, [4, 1], seed=np.int64(5))) == weights(MLP(2, [4, 1], seed=5))
    assert weights(MLP(np.int64(2), np.int32(3), seed=np.uint8(5))) == weights(MLP(2, 3, seed=5))
    with pytest.raises(TypeError, match="seed"):
        MLP(2, [1], seed=np.True_)


@pytest.mark.parametrize("activation", [None, 1, b"relu"])
def test_an_activation_that_is_not_a_name_is_refused_naming_it(activation):
    """Not read as a list of names: None and 1 said "not iterable", b"relu" "4 activations given"."""
    with pytest.raises(ValueError, match=f"unknown activation {activation!r}: choose one of 'sigmoid'"):
        MLP(2, [3, 1], activation)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (0.5, "an MLP call takes one sample, a sequence of 2 numbers, not float"),
        (np.array([[0.0, 1.0]]), "not rows of them: for a batch, use tinygrad_hw.train.predict"),
        ([[0.0, 1.0], [1.0, 1.0]], "not rows of them: for a batch, use tinygrad_hw.train.predict"),
        (["a", 1.0], "Value\\(\\) takes a real number .* not str"),
    ],
)
def test_calling_an_mlp_on_a_number_or_a_batch_says_what_it_takes(x, message):
    """As a PyTorch module is called; it said "'float' object is not iterable", or that
    Value() takes a real number, not numpy.ndarray."""
    with pytest.raises(TypeError, match=message):
        MLP(2, [3, 1], seed=0)(x)


def test_without_a_seed_the_weights_come_from_the_global_random_as_in_micrograd():
    def weights(m):
        return [p.data for p in m.parameters()]

    random.seed(1337)
    first = weights(MLP(2, [4, 1]))
    random.seed(1337)
    assert weights(MLP(2, [4, 1])) == first  # random.seed reproduces it
    assert weights(MLP(2, [4, 1])) != first  # and the draws go on from there
    random.seed(1337)
    drawn = [random.uniform(-1, 1) for _ in range(2 * 4 + 4)]  # micrograd's order: neuron by neuron, then its bias
    assert [w for w in first if w != 0.0] == drawn


def test_micrograds_seeded_network_is_ours_with_its_activations():
    micrograd = pytest.importorskip("micrograd.nn", reason="micrograd is in the dev extra: pip install -e '.[dev]'")
    random.seed(1337)
    theirs = micrograd.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = MLP(2, [16, 16, 1], ["relu", "relu", "none"])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]


def test_outputs_are_a_value_or_a_list():
    x = [0.3, -0.2]
    assert isinstance(MLP(2, [3, 1], seed=0)(x), Value)
    out = MLP(2, [3, 2], seed=0)(x)
    assert isinstance(out, list) and len(out) == 2
    model = MLP(2, [3, 1], seed=0)
    assert model(np.array(x)).data == model([Value(0.3), -0.2]).data == model((0.3, -0.2)).data
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])


def test_activations_per_layer():
    model = MLP(2, [3, 3, 1], ["relu", "tanh", "none"], seed=0)
    assert model.activations == ["relu", "tanh", "none"]
    z = model([0.5, 0.5])
    assert z.op.name == "dot"  # no activation on the last layer: the weighted sum itself
    assert {n.op.name for n in z._prev[3:6]} == {"tanh"}
    assert MLP(2, [1], "linear").activations == ["linear"]
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        MLP(2, [1], "softmax")
    with pytest.raises(ValueError, match="2 activations given for 3 layers"):
        MLP(2, [3, 3, 1], ["relu", "tanh"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: MLP(0, [1]), "at least one input"),
        (lambda: MLP(2, []), "at least one layer"),
        (lambda: MLP(2, [0]), "at least one neuron"),
        (lambda: Neuron(2.5), "at least one input"),
    ],
)
def test_bad_shapes_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _loss_of_parameters(model, x, y):
    """The loss as a function of the parameters: gradcheck's shape."""
    slots = [(n, j) for layer in model.layers for n in layer.neurons for j in range(len(n.w) + 1)]

    def loss(*params):
        for (n, j), p in zip(slots, params):
            if j < len(n.w):
                n.w[j] = p
            else:
                n.b = p
        return mse(model(x), y)

    return loss, [p.data for p in model.parameters()]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "none"])
def test_mlp_gradients_match_finite_differences(activation):
    model = MLP(3, [4, 3, 1], activation, seed=2)
    f, params = _loss_of_parameters(model, [0.4, -0.7, 0.9], 1.0)
    assert gradcheck(f, params)
    assert gradcheck(lambda *x: mse(MLP(3, [4, 1], activation, seed=2)(list(x)), 0.0), [0.4, -0.7, 0.9])


def test_zero_grad_and_bias_free_networks():
    model = MLP(2, [2, 1], bias=False, seed=0)
    assert all(n.b is None for layer in model.layers for n in layer.neurons)
    assert len(model.parameters()) == 2 * 2 + 2
    mse(model([1.0, 1.0]), 0.0).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    assert Module().parameters() == []


def test_reprs_read_well():
    assert repr(MLP(2, [8, 8, 1], seed=0)) == "MLP(2 -> 8 sigmoid -> 8 sigmoid -> 1 sigmoid; 105 parameters)"
    assert repr(Layer(2, 3, "tanh")) == "Layer(2 -> 3, 'tanh')"
    assert repr(Neuron(4, "relu", bias=False)) == "Neuron(4, 'relu', bias=False)"


def test_messages_about_one_thing_say_it_in_the_singular():
    # Before: "this MLP takes 1 inputs", "1 activations given for 2 layers", "1 numbers".
    from tinygrad_hw.checks import counted
    from tinygrad_hw.micrograd.nn import Neuron as MicrogradNeuron

    assert (counted(1, "number"), counted(0, "number"), counted(2, "input")) == ("1 number", "0 numbers", "2 inputs")
    with pytest.raises(ValueError, match=r"^this MLP takes 1 input, got 2$"):
        MLP(1, [1], seed=0)([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^1 activation given for 2 layers$"):
        MLP(2, [2, 1], activation=["relu"], seed=0)
    with pytest.raises(ValueError, match=r"^1 prediction but 2 targets$"):
        mse([Value(1.0)], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"^this neuron takes 1 input, got 2$"):
        MicrogradNeuron(1)([1.0, 2.0])


class _Doubled(Neuron):
    def __call__(self, x):  # type: ignore[no-untyped-def, override]
        return super().__call__(x) * 2.0


class _Negated(Layer):
    def __call__(self, x):  # type: ignore[no-untyped-def, override]
        out = super().__call__(x)
        return [-o for o in out] if isinstance(out, list) else -out


def test_an_mlp_calls_subclassed_neurons_and_layers_it_does_not_inline():
    """MLP computes plain Layers of plain Neurons itself; a subclass's __call__ must still run."""
    model = MLP(2, [3, 1], seed=0)
    plain = model([0.5, -1.0]).data
    first = model.layers[0]
    doubled = _Doubled(2)
    doubled.w, doubled.b = first.neurons[1].w, first.neurons[1].b  # the same neuron, but doubled
    first.neurons[1] = doubled
    changed = model([0.5, -1.0]).data
    assert changed != plain
    model.layers[1].__class__ = _Negated
    assert model([0.5, -1.0]).data == -changed


def test_an_mlp_with_numbers_for_weights_still_computes():
    model = MLP(2, [2, 1], seed=0)
    reference = model([0.5, -1.0]).data
    model.layers[0].neurons[0].w = [w.data for w in model.layers[0].neurons[0].w]  # type: ignore[misc]
    assert model([0.5, -1.0]).data == reference
