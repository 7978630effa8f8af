"""Straight-line code kept by graph structure (issue 23): a shape seen before is neither
generated nor compiled again, another shape is, and the cache stays bounded."""

import linecache

import pytest

from tinygrad_hw import Value, straightline
from tinygrad_hw.codecache import CodeCache
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.replay import record


@pytest.fixture(autouse=True)
def empty_cache():
    straightline.clear_cache()
    yield
    straightline.clear_cache()


def _step(model, x=(0.3, -0.2), y=1.0):
    return record(lambda x, y: mse(model(x), y), (list(x), y), model.parameters(), executor="straight-line")[0].step


def _eager(model, x, y):
    for p in model.parameters():
        p.grad = 0.0
    loss = mse(model(list(x)), y)
    loss.backward()
    return loss.data, tuple(p.grad for p in model.parameters())


def test_a_graph_of_the_same_structure_reuses_the_compiled_code():
    first, second = MLP(2, [4, 1], seed=0), MLP(2, [4, 1], seed=5)  # other weights, the same shape
    a, b = _step(first), _step(second)
    assert b.code is a.code and straightline.cache_info()["hits"] == 1
    W = [p.data for p in second.parameters()]
    assert b(W, [0.7, 0.1, 0.0]) == _eager(second, (0.7, 0.1), 0.0)  # and it computes the second model's numbers


@pytest.mark.parametrize(
    "other",
    [
        lambda x: x * 3.0,  # another constant
        lambda x: x * -0.0,  # -0.0 is not 0.0 to the code
        lambda x: x + 2.0,  # another op
        lambda x: (x * 2.0).tanh(),  # another graph
    ],
)
def test_another_structure_gets_its_own_code(other):
    base = record(lambda x: x * 0.0, (1.5,), executor="straight-line")[0].step
    step = record(other, (1.5,), executor="straight-line")[0].step
    assert step.code is not base.code
    x = Value(1.5)
    out = other(x)
    out.backward()
    assert step([], [1.5])[0] == out.data


def test_the_parameters_positions_are_part_of_the_structure():
    x, y = Value(1.0), Value(2.0)
    forward = record(lambda: x * y + x, (), params=[x, y], executor="straight-line")[0].step
    swapped = record(lambda: x * y + x, (), params=[y, x], executor="straight-line")[0].step
    assert swapped.code is not forward.code
    assert forward([1.0, 2.0], []) == (3.0, (3.0, 1.0)) and swapped([2.0, 1.0], []) == (3.0, (1.0, 3.0))


def test_the_cache_is_bounded_by_entries_and_by_source(monkeypatch):
    monkeypatch.setattr(straightline, "_cache", CodeCache(2, 10**9))
    steps = [_step(MLP(2, [h, 1], seed=0)) for h in (2, 3, 4)]
    assert straightline.cache_info()["entries"] == 2
    assert _step(MLP(2, [2, 1], seed=1)).code is not steps[0].code  # the oldest was dropped
    assert _step(MLP(2, [4, 1], seed=1)).code is steps[2].code
    small = CodeCache(10, 3 * len(steps[2].source) + 1)
    monkeypatch.setattr(straightline, "_cache", small)
    for h in (2, 3, 4):
        _step(MLP(2, [h, 1], seed=0))
    assert len(small) == 1 and small.held <= small.chars


def test_clear_cache_forgets_every_shape():
    model = MLP(2, [3, 1], seed=0)
    first = _step(model)
    straightline.clear_cache()
    assert straightline.cache_info() == {"entries": 0, "chars": 0, "hits": 0, "misses": 0}
    assert _step(model).code is not first.code


def test_code_is_compiled_when_first_run():
    model = MLP(2, [3, 1], seed=0)
    step = _step(model)
    assert step.filename not in linecache.cache  # generated, not yet compiled
    W = [p.data for p in model.parameters()]
    assert step(W, [0.3, -0.2, 1.0]) == _eager(model, (0.3, -0.2), 1.0)
    assert step.filename in linecache.cache
