"""Trace once, replay: the same numbers as the eager engine, and honest refusals."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_hw import Value
from tinygrad_hw.data import generate_linear, generate_xor_easy
from tinygrad_hw.losses import binary_cross_entropy, mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.ops import OPS
from tinygrad_hw.optim import SGD, Adam
from tinygrad_hw.replay import Replay, ReplayError, jit, record, record_numpy
from tinygrad_hw.testing import expressions, spellings
from tinygrad_hw.train import fit, predict


def _bits(x: float) -> tuple[bool, float]:
    return (math.isnan(x), 0.0 if math.isnan(x) else x)


@given(expressions(), st.floats(-0.5, 0.5))
def test_replay_gives_the_eager_engines_bits_on_random_graphs(expr, shift):
    _check_the_eager_bits(expr, shift)


def _check_the_eager_bits(expr, shift):
    step = jit(expr)
    step(*[Value(x) for x in expr.inputs])  # first call: recorded (and run eagerly)
    point = [x + shift for x in expr.inputs]  # new inputs: the replay, not the recording
    replayed = [Value(x) for x in point]
    loss = step(*replayed)
    eager = [Value(x) for x in point]
    out = expr(*eager)
    out.backward()
    assert _bits(loss) == _bits(out.data)
    assert [_bits(v.grad) for v in replayed] == [_bits(v.grad) for v in eager]


@given(expressions())
def test_number_arguments_are_inputs_too(expr):
    step = jit(expr)
    first = step(*expr.inputs)
    assert _bits(step(*expr.inputs)) == _bits(first) == _bits(expr(*[Value(x) for x in expr.inputs]).data)


@pytest.mark.parametrize(
    ("sizes", "activation"), [([1], "sigmoid"), ([3, 1], "tanh"), ([8, 8, 1], "sigmoid"), ([4, 4, 2], "relu")]
)
def test_mlp_gradients_are_the_eager_ones_bit_for_bit(sizes, activation):
    model = MLP(3, sizes, activation, seed=4)
    step = jit(lambda x, y: mse(model(x), y))
    target = [0.5] * sizes[-1] if sizes[-1] > 1 else 0.5
    step([0.1, 0.2, 0.3], target)
    model.zero_grad()
    loss = step([0.7, -0.4, 0.9], target)
    replayed = [p.grad for p in model.parameters()]
    model.zero_grad()
    eager = mse(model([0.7, -0.4, 0.9]), target)
    eager.backward()
    assert loss == eager.data and replayed == [p.grad for p in model.parameters()]


def test_gradients_accumulate_like_backward():
    w = Value(2.0)
    step = jit(lambda x: w * x)
    step(3.0)
    step(4.0)
    assert w.grad == 7.0


@pytest.mark.parametrize("batch_size", [1, 5, None])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_replayed_training_run_matches_eager(batch_size, optimizer):
    X, y = generate_linear(40, seed=2)
    runs = {}
    for engine in ("eager", "replay"):
        model = MLP(2, [4, 4, 1], seed=1)
        opt = {
            "sgd": SGD(model.parameters(), 0.5),
            "momentum": SGD(model.parameters(), 0.1, momentum=0.9),
            "adam": Adam(model.parameters(), 0.02),
        }[optimizer]
        history = fit(
            model,
            X,
            y,
            epochs=25,
            optimizer=opt,
            batch_size=batch_size,
            shuffle=True,
            seed=7,
            engine=engine,
            verbose=False,
            progress=False,
        )
        runs[engine] = (history.loss, [p.data for p in model.parameters()])
    if batch_size == 1:  # the straight-line replay: the same bits
        assert runs["replay"] == runs["eager"]
    else:  # numpy over the batch rounds differently
        np.testing.assert_allclose(runs["replay"][0], runs["eager"][0], rtol=1e-12)
        np.testing.assert_allclose(runs["replay"][1], runs["eager"][1], rtol=1e-10, atol=1e-12)


def test_the_reports_network_trains_identically():
    X, y = generate_xor_easy()
    histories = [
        fit(MLP(2, [8, 8, 1], seed=1), X, y, epochs=300, engine=e, verbose=False, progress=False).loss
        for e in ("eager", "replay")
    ]
    assert histories[0] == histories[1]


@given(
    st.integers(1, 3),
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.integers(0, 1000),
    st.sampled_from(["sigmoid", "tanh", "relu", "none"]),
    st.sampled_from([mse, binary_cross_entropy]),
)
def test_batched_replay_matches_eager_on_random_networks(nin, hidden, seed, activation, loss):
    if loss is binary_cross_entropy:
        activation = "sigmoid"
    model = MLP(nin, [*hidden, 1], [activation] * len(hidden) + ["sigmoid"], seed=seed)
    rng = np.random.default_rng(seed)
    X, t = rng.uniform(-2, 2, (9, nin)), rng.integers(0, 2, (9, 1)).astype(float)
    tape = record_numpy(lambda x, y: loss(model(x), y), (X[0].tolist(), t[0, 0]), model.parameters())
    value, grads = tape.run([p.data for p in model.parameters()], np.hstack([X, t]))
    eager = loss([model(x) for x in X.tolist()], t.ravel().tolist())
    eager.backward()
    assert value == pytest.approx(eager.data, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(grads, [p.grad for p in model.parameters()], rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("x", [1.0, 0.0, -1.0, 0.7, 1000.0])
def test_maths_at_the_edges_falls_back_to_ieee_like_eager(x):
    def f(v):  # exp overflows at v = 1; log is -inf at 1 and nan below; 1/(v - 1) is a pole
        return (v * 1000.0).exp() + (v - 1.0).log() + 1.0 / (v - 1.0) + (v - 0.7) ** -1 + (v * -1000.0).sigmoid()

    step = jit(f)
    step(Value(0.5))
    replayed = Value(x)
    loss = step(replayed)  # no OverflowError, ValueError or ZeroDivisionError
    eager = Value(x)
    out = f(eager)
    out.backward()
    assert _bits(loss) == _bits(out.data) and _bits(replayed.grad) == _bits(eager.grad)
    batch = record_numpy(f, (0.5,))
    value, _ = batch.run([], [[x]])
    assert _bits(value) == _bits(out.data) or value == pytest.approx(out.data, rel=1e-14)


def test_a_new_argument_structure_is_recorded_anew():
    calls = []

    def f(xs):
        calls.append(len(xs))
        return Value.sum([Value(0.0) + x for x in xs])

    step = jit(f)
    assert step([1.0, 2.0]) == 3.0 and step([1.0, 2.0, 3.0]) == 6.0 and step([4.0, 5.0]) == 9.0
    assert calls == [2, 3]  # the third call replayed the first recording
    assert len(step.tapes) == 2


def test_check_mode_catches_control_flow_on_the_data():
    def f(x):
        return x * 2.0 if x.data > 0 else x * 3.0

    quiet = jit(f)
    quiet(1.0)
    assert quiet(-1.0) == -2.0  # replayed the branch it was recorded with: why check mode exists
    strict = jit(f, check=True)
    strict(1.0)
    with pytest.raises(ReplayError, match="different graph"):
        strict(-1.0)
    every_second = jit(f, check=2)
    every_second(1.0)
    every_second(-1.0)  # first replay, not checked
    with pytest.raises(ReplayError):
        every_second(-1.0)


def test_what_cannot_be_replayed_is_refused_clearly():
    with pytest.raises(ReplayError, match="must return a Value"):
        jit(lambda x: 3.0)(1.0)
    with pytest.raises(TypeError, match="not str"):
        jit(lambda x: x)("a")
    w = Value(1.0)
    with pytest.raises(ReplayError, match="computed Value"):
        jit(lambda v: v * 2)(w * 3)
    with pytest.raises(TypeError, match="takes a function"):
        jit(3)
    with pytest.raises(ValueError, match="check must be"):
        Replay(lambda x: x, check="yes")


def test_decorator_forms_and_readable_source():
    @jit
    def f(x, y):
        return (x * y).sigmoid()

    @jit(check=True)
    def g(x):
        return x.tanh()

    assert f(1.0, 2.0) == f(1.0, 2.0)
    assert g(0.5) == g(0.5) == math.tanh(0.5)
    assert "def step(W, X, lr=None):" in f.source and "1.0 / (1.0 + exp(-" in f.source


def test_record_orders_parameters_as_asked():
    model = MLP(2, [2, 1], seed=0)
    tape, out, _ = record(lambda x: mse(model(x), 1.0), ([0.1, 0.2],), params=model.parameters())
    assert tape.params[: len(model.parameters())] == model.parameters()
    assert out.op.name == "square"


# -- every constant, every width, every depth eager handles (issue 10, findings 7 and 8) ------


def _force(monkeypatch, executor):
    """Make every recording in this test use one executor."""
    import tinygrad_hw.replay as replay

    monkeypatch.setattr(replay, "choose", lambda nodes, runs=1000: executor, raising=False)
    if executor == "looped":  # before the choice existed, the limit decided
        monkeypatch.setattr(replay, "STRAIGHT_LINE_LIMIT", 0, raising=False)


@pytest.fixture(params=["straight-line", "looped"])
def executor(request, monkeypatch):
    """Run a test on both exact replay executors: generated code, and the loop over the graph."""
    _force(monkeypatch, request.param)
    return request.param


CONSTANTS = [math.nan, math.inf, -math.inf, 10**400, -(10**400), 0.0, -0.0, 5e-324, 1e308, -1e-300, 2.0, -3.5]
CONSTANT_OPS = {  # every spelling of every op of the table that takes a plain number: lambda a, c: ...
    f"{name} #{k}": spelling for name, op in OPS.items() if op.const for k, spelling in enumerate(spellings(op))
}


@pytest.mark.parametrize("c", CONSTANTS, ids=repr)
@pytest.mark.parametrize("spelling", CONSTANT_OPS)
def test_every_constant_eager_accepts_replays_bit_for_bit(executor, spelling, c):
    op = CONSTANT_OPS[spelling]
    w = Value(0.75)

    def f(x):
        return op(x * w, c).sigmoid() + op(x, c)

    step = jit(f)
    step(Value(0.5))  # recorded
    for point in (-1.5, 0.0, 2.0):
        replayed = Value(point)
        w.grad = 0.0
        loss = step(replayed)  # replayed
        replayed_w = w.grad
        eager = Value(point)
        w.grad = 0.0
        out = f(eager)
        out.backward()
        assert _bits(loss) == _bits(out.data)
        assert (_bits(replayed.grad), _bits(replayed_w)) == (_bits(eager.grad), _bits(w.grad))


@given(expressions(), st.floats(-0.5, 0.5))
def test_the_loop_over_the_graph_gives_the_eager_bits_too(expr, shift):
    with pytest.MonkeyPatch.context() as patch:
        _force(patch, "looped")
        _check_the_eager_bits(expr, shift)


@given(expressions(), st.floats(-0.5, 0.5))
def test_the_numpy_program_gives_the_eager_numbers_on_random_graphs(expr, shift):
    """One sample through the numpy executor: every op, constants, shared values; equal to
    ~1e-12 (numpy rounds sums and exp its own way), and the same non-finite answers."""
    with pytest.MonkeyPatch.context() as patch:
        _force(patch, "numpy")
        step = jit(expr)
        step(*[Value(x) for x in expr.inputs])
        point = [x + shift for x in expr.inputs]
        replayed = [Value(x) for x in point]
        loss = step(*replayed)
    eager = [Value(x) for x in point]
    out = expr(*eager)
    out.backward()
    np.testing.assert_allclose(loss, out.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([v.grad for v in replayed], [v.grad for v in eager], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("hidden", [[8, 8], [64, 64], [3, 5, 2]])
def test_the_numpy_program_trains_a_network_per_sample_as_eager(hidden, monkeypatch):
    _force(monkeypatch, "numpy")
    X, y = generate_xor_easy()
    runs = []
    for engine in ("eager", "replay"):
        model = MLP(2, [*hidden, 1], seed=3)
        history = fit(model, X, y, epochs=5, engine=engine, verbose=False, progress=False)
        runs.append((history.loss, [p.data for p in model.parameters()]))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-10, atol=1e-13)


def test_the_cheapest_executor_is_chosen_by_the_graphs_shape():
    from tinygrad_hw.replay import record

    def chosen(model):
        tape = record(lambda x, y: mse(model(x), y), ([0.1, 0.2], 1.0), model.parameters())[0]
        return type(tape.step).__name__

    assert chosen(MLP(2, [8, 8, 1], seed=0)) == "StraightLine"  # the report's network: generated floats
    assert chosen(MLP(2, [64, 64, 1], seed=0)) == "NumpyProgram"  # wide layers: matrix products
    w = Value(1.0)
    step = jit(lambda x: Value.sum([x * w for _ in range(30_000)]))
    step(1.0)
    assert type(next(iter(step.tapes.values())).step).__name__ in ("Looped", "NumpyProgram")


@pytest.mark.parametrize("executor_name", ["straight-line", "looped", "numpy"])
def test_a_neuron_of_thousands_of_inputs_trains_as_eager(executor_name, monkeypatch):
    _force(monkeypatch, executor_name)
    rng = np.random.default_rng(0)
    X, y = rng.uniform(-1, 1, (4, 3000)), np.array([0.0, 1.0, 1.0, 0.0])
    runs = []
    for engine in ("eager", "replay"):
        model = MLP(3000, [1], seed=1)
        history = fit(model, X, y, epochs=2, engine=engine, verbose=False, progress=False)
        runs.append((history.loss, [p.data for p in model.parameters()]))
    if executor_name == "numpy":  # a matrix product sums in numpy's order
        np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
        np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-10, atol=1e-13)
    else:
        assert runs[0] == runs[1]


def test_a_sum_of_five_thousand_terms_replays(executor):
    def total(xs):
        return Value.sum([x * x for x in xs])

    step = jit(total)
    xs = [Value(i / 5000) for i in range(5000)]
    step(xs)
    again = [Value(i / 5000) for i in range(5000)]
    assert step(again) == total([Value(i / 5000) for i in range(5000)]).data
    assert [x.grad for x in again] == [2 * i / 5000 for i in range(5000)]


def _replays_a_chain_as_eager(length):
    """y = y * 1.0000001 + x, ``length`` ops, replayed: the eager engine's loss and gradient."""

    def chain(x):
        y = x
        for _ in range(length // 2):
            y = y * 1.0000001 + x
        return y

    step = jit(chain)
    step(Value(0.5))
    replayed = Value(0.25)
    loss = step(replayed)
    eager = Value(0.25)
    out = chain(eager)
    out.backward()
    assert loss == out.data and replayed.grad == eager.grad


def test_a_chain_of_a_hundred_thousand_ops_replays_as_eager():
    _replays_a_chain_as_eager(100_000)


@pytest.mark.slow
def test_a_chain_of_a_million_ops_replays_as_eager():
    _replays_a_chain_as_eager(1_000_000)


@given(
    st.sampled_from(sorted(CONSTANT_OPS)),
    st.one_of(st.floats(), st.integers(-(10**400), 10**400), st.sampled_from(CONSTANTS)),
    st.floats(-3.0, 3.0),
)
def test_fuzzed_constants_replay_bit_for_bit(spelling, c, point):
    op = CONSTANT_OPS[spelling]
    w = Value(-1.25)

    def f(x):
        return op(x * w, c).tanh() * op(x, c)

    step = jit(f)
    step(Value(0.5))
    replayed = Value(point)
    w.grad = 0.0
    loss = step(replayed)
    replayed_w = w.grad
    eager, w.grad = Value(point), 0.0
    out = f(eager)
    out.backward()
    assert _bits(loss) == _bits(out.data)
    assert (_bits(replayed.grad), _bits(replayed_w)) == (_bits(eager.grad), _bits(w.grad))


def test_a_replay_keeps_a_bounded_number_of_recordings():
    from tinygrad_hw.replay import TAPES_KEPT

    w = Value(2.0)
    step = jit(lambda xs: Value.sum([w * x for x in xs]))
    for n in range(1, 41):  # forty argument structures
        assert step([1.0] * n) == 2.0 * n
    assert len(step.tapes) == TAPES_KEPT
    assert step([1.0] * 40) == 80.0  # the most recent is still there; the first comes back recorded anew
    assert step([1.0]) == 2.0 and len(step.tapes) == TAPES_KEPT


def test_fits_recorded_steps_are_bounded_too(monkeypatch):
    import tinygrad_hw.train as train

    kept = []
    original = train._ReplaySteps._executor

    def watch(self, batch):
        executor = original(self, batch)
        kept.append(len(self.tapes))
        return executor

    monkeypatch.setattr(train._ReplaySteps, "_executor", watch)
    X, y = generate_linear(40, seed=0)

    def loss(pred, target):  # not a mean loss fit knows: one recording per batch size
        return mse(pred, target)

    fit(MLP(2, [3, 1], seed=0), X, y, epochs=1, batch_size=3, loss=loss, engine="replay", verbose=False, progress=False)
    assert max(kept) <= train._ReplaySteps.TAPES_KEPT


def test_batched_arrays_hold_activations_not_parameters():
    """Rows for the inputs and the computed values only: a wide layer's 4,000 weights live
    once, in the flat parameter vector, whatever the batch size."""
    model = MLP(2, [64, 64, 1], seed=0)
    tape = record_numpy(lambda x, t: mse(model(x), t), ([0.1, 0.2], [1.0]), model.parameters())
    assert tape.n_rows < 3 + 2 * (64 + 64 + 1) + 3  # inputs, z's and activations sharing rows, the loss
    assert tape.W.size == len(model.parameters())
    X = np.random.default_rng(0).uniform(size=(500, 3))
    tape.run([p.data for p in model.parameters()], X)
    values, grads = tape._buffers[500][0], tape.gW
    assert values.shape == (tape.n_rows, 500) and grads.shape == (len(model.parameters()),)
    tape.run([p.data for p in model.parameters()], X)
    assert tape._buffers[500][0] is values  # reused for the next call of that size


def test_replayed_predictions_equal_eager_ones():
    from tinygrad_hw.train import predict

    model = MLP(2, [32, 32, 2], ["tanh", "relu", "sigmoid"], seed=4)
    X = np.random.default_rng(1).uniform(-2, 2, (4000, 2))
    fast, plain = predict(model, X, engine="replay"), predict(model, X)
    assert fast.shape == plain.shape == (4000, 2)
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="unknown engine"):
        predict(model, X, engine="jit")


@pytest.mark.parametrize("batch_size", [7, None])
def test_wide_batched_training_matches_eager(batch_size):
    X, y = generate_linear(60, seed=3)
    runs = []
    for engine in ("eager", "replay"):
        model = MLP(2, [64, 64, 1], seed=2)
        history = fit(model, X, y, epochs=3, batch_size=batch_size, engine=engine, verbose=False, progress=False)
        runs.append((history.loss, [p.data for p in model.parameters()]))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-10, atol=1e-13)


# -- what is finite does not depend on numpy's order (issue 22, #16) ---------------------------


def _overflowing_rows(n: int) -> np.ndarray:
    """Rows whose products overflow with opposite signs (eager: inf + -inf = nan), among
    ordinary rows."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(n, 2))
    X[::7] = [-1e308, -1e308]
    X[3::11] = [1e308, -1e308]
    X[5::13] = [1e200, 1e200]
    return X


def test_replayed_predictions_are_non_finite_exactly_where_eager_ones_are():
    model = MLP(2, [1], "sigmoid", seed=0)
    model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].w[1].data = 2.0, -2.0
    X = _overflowing_rows(40_000)  # enough rows for predict to take the numpy program
    eager, replayed = predict(model, X), predict(model, X, engine="replay")
    assert np.array_equal(np.isnan(eager), np.isnan(replayed))
    assert np.array_equal(np.isinf(eager), np.isinf(replayed))
    finite = np.isfinite(eager)
    assert np.isnan(eager).any() and np.allclose(eager[finite], replayed[finite], rtol=1e-14, atol=0)


def test_a_wide_model_predicts_overflowing_rows_as_eager_does():
    model = MLP(2, [16, 16, 1], ["none", "tanh", "sigmoid"], seed=1)
    X = _overflowing_rows(4_000)
    eager, replayed = predict(model, X), predict(model, X, engine="replay")
    assert np.array_equal(np.isnan(eager), np.isnan(replayed)) and np.array_equal(np.isinf(eager), np.isinf(replayed))
    assert np.allclose(eager, replayed, rtol=1e-13, atol=0, equal_nan=True)


@pytest.mark.parametrize("batch_size", [None, 4])
def test_training_on_the_numpy_program_stops_where_eager_stops(batch_size):
    X = np.array([[0.5, -0.2], [-1e308, -1e308], [0.1, 0.3], [-0.4, 0.9]])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    runs = {}
    for engine in ("eager", "replay"):
        model = MLP(2, [3, 1], ["none", "sigmoid"], seed=2)
        neuron = model.layers[0].neurons[0]
        neuron.w[0].data, neuron.w[1].data = 2.0, -2.0  # -inf + inf: eager's z is nan
        runs[engine] = fit(model, X, y, epochs=2, batch_size=batch_size, engine=engine, verbose=False, progress=False)
    eager, replayed = runs["eager"], runs["replay"]
    assert eager.diverged_at == replayed.diverged_at == 1
    assert np.isnan(eager.loss[-1]) == np.isnan(replayed.loss[-1]) and not np.isfinite(replayed.loss[-1])
