"""Value: construction, graph building, backward semantics, numerics, no_grad."""

import copy
import gc
import math
import os
import pickle
import threading

import numpy as np
import pytest

from tinygrad_hw import Value, no_grad, zero_grad
from tinygrad_hw.engine import grad, is_grad_enabled, paused_gc, topological_order, walk

# -- construction --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "name"), [("abc", "str"), (None, "NoneType"), ([1], "list"), (1 + 2j, "complex"), ({}, "dict")]
)
def test_bad_data_is_a_type_error_naming_the_type(bad, name):
    with pytest.raises(TypeError, match=rf"not {name}\b"):
        Value(bad)


def test_a_value_is_not_data_and_the_error_says_what_to_do():
    with pytest.raises(TypeError, match=r"\.data"):
        Value(Value(1.0))


def test_numpy_arrays_are_refused_by_their_type():
    with pytest.raises(TypeError, match=r"numpy\.ndarray"):
        Value(np.array([1.0]))


@pytest.mark.parametrize("good", [3, 2.5, np.float64(1.5), np.float32(0.25), np.int64(7), True])
def test_numbers_are_accepted_as_floats(good):
    v = Value(good)
    assert type(v.data) is float
    assert v.data == float(good)
    assert v.grad == 0.0


def test_label_must_be_a_string():
    assert Value(1.0, label="w1").label == "w1"
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_repr_is_micrographs():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"


# -- operations with numbers on either side -----------------------------------------


def test_numbers_on_either_side():
    x = Value(4.0)
    cases = {
        "2 * x": (2 * x, 8.0, 2.0),
        "x * 2": (x * 2, 8.0, 2.0),
        "1 - x": (1 - x, -3.0, -1.0),
        "x - 1": (x - 1, 3.0, 1.0),
        "10 / x": (10 / x, 2.5, -10 / 16),
        "x / 2": (x / 2, 2.0, 0.5),
        "x ** 3": (x**3, 64.0, 48.0),
        "3 + x": (3 + x, 7.0, 1.0),
        "-x": (-x, -4.0, -1.0),
    }
    for text, (y, data, slope) in cases.items():
        x.grad = 0.0
        y.backward()
        assert (y.data, x.grad) == (data, slope), text


def test_constants_are_not_graph_nodes():
    x = Value(1.0)
    y = 2 * x + 1
    assert y._prev[0]._prev == (x,)
    assert len(walk(y)) == 3  # x, x*2, (x*2)+1


def test_unsupported_operands_raise_type_errors_naming_them():
    x = Value(1.0)
    with pytest.raises(TypeError, match="str"):
        x + "a"
    with pytest.raises(TypeError, match="str"):
        "a" - x
    with pytest.raises(TypeError, match=r"constant exponent.*Value"):
        x ** Value(2.0)
    with pytest.raises(TypeError, match="list"):
        x ** [2]


def test_numpy_scalars_mix_with_values():
    x = Value(2.0)
    y = x * np.float64(3.0) + np.int64(1)
    assert isinstance(y, Value) and y.data == 7.0


# -- backward -------------------------------------------------------------------------


def test_a_value_used_twice_gets_both_contributions():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_backward_twice_doubles_leaf_gradients_exactly_through_interior_nodes():
    # micrograd re-propagates the interior nodes' stale gradients and gets 3x here
    x, w = Value(0.5), Value(-1.5)
    y = (x * w).sigmoid()
    z = y * y + y.exp()
    z.backward()
    once = (x.grad, w.grad)
    z.backward()
    assert (x.grad, w.grad) == (2 * once[0], 2 * once[1])
    assert y.grad == pytest.approx(2 * y.data + math.exp(y.data))  # interior: this call's only


def test_zero_grad_resets_and_accumulation_resumes():
    a, b = Value(2.0), Value(3.0)
    (a * b).backward()
    zero_grad([a, b])
    assert (a.grad, b.grad) == (0.0, 0.0)
    (a * b).backward()
    assert (a.grad, b.grad) == (3.0, 2.0)


def test_backward_with_a_gradient_seed_and_on_a_leaf():
    a = Value(2.0)
    (a * a).backward(0.5)
    assert a.grad == 2.0
    a.backward()
    assert a.grad == 3.0
    with pytest.raises(TypeError, match="str"):
        a.backward("1")


def test_children_keep_their_order():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    assert (a - b)._prev == (a, b)
    assert Value.dot([a, b], [c, a])._prev == (a, b, c, a)
    assert isinstance(a._prev, tuple)


def test_topological_order_is_deterministic_and_children_first():
    x = Value(0.3)
    nodes = [x]
    for i in range(50):
        nodes.append((nodes[-1] * nodes[i // 2]).tanh() + nodes[i // 3])
    root = nodes[-1]
    order = topological_order(root)
    assert order == topological_order(root)
    position = {v: i for i, v in enumerate(order)}
    for v in order:
        for child in v._prev:
            if not child.is_leaf:
                assert position[child] < position[v]
    assert order[-1] is root
    assert all(not v.is_leaf for v in order)


def test_a_chain_of_a_million_nodes():
    x = Value(1.0)
    y = x
    for _ in range(999_999):
        y = y + x
    y.backward()
    assert y.data == 1_000_000.0
    assert x.grad == 1_000_000.0


def test_dot_and_sum_are_single_nodes():
    w = [Value(1.0), Value(2.0), Value(3.0)]
    x = [Value(4.0), 5.0, Value(6.0)]
    z = Value.dot(w, x)
    assert z.data == 32.0 and z.op.name == "dot" and not z.op.start
    z.backward()
    assert [v.grad for v in w] == [4.0, 5.0, 6.0]
    assert (x[0].grad, x[2].grad) == (1.0, 3.0)
    b = Value(0.5)
    z = Value.dot(w, x, b)  # micrograd's sum((wi * xi ...), b), as one node
    assert z.data == 32.5 and z._prev[-1] is b and len(z._prev) == 7 and z.op.start  # the start, last
    z.backward()
    assert b.grad == 1.0 and w[2].grad == 12.0  # 6 from before, 6 now
    assert Value.dot((v for v in w), iter(x), 1.0).data == 33.0
    assert Value.dot([], [], b).data == 0.5
    assert Value.dot(np.array([1.0, 2.0]), [w[0], w[1]]).data == 5.0  # numbers in an array: leaves
    s = Value.sum([w[0], 2.0, w[0]])
    assert s.data == 4.0 and len(s._prev) == 3
    assert Value.sum([]).data == 0.0 and Value.dot([], []).data == 0.0
    with pytest.raises(ValueError, match="one length, got 2 and 1"):
        Value.dot([1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match="str"):
        Value.dot([w[0]], ["x"])


# -- numerics at the edges -----------------------------------------------------------


def test_ieee_numerics_never_raise():
    assert Value(1000.0).exp().data == math.inf
    assert Value(0.0).log().data == -math.inf
    assert math.isnan(Value(-1.0).log().data)
    assert (1 / Value(0.0)).data == math.inf
    assert (-1 / Value(0.0)).data == -math.inf
    assert (Value(1.0) / Value(-0.0)).data == -math.inf
    assert math.isnan((Value(0.0) / Value(0.0)).data)
    assert (Value(0.0) ** -1).data == math.inf
    assert math.isnan((Value(-8.0) ** 0.5).data)
    assert (Value(10.0) ** 400).data == math.inf
    assert (Value(-10.0) ** 401).data == -math.inf
    assert (Value(2.0) * 10**400).data == math.inf


@pytest.mark.parametrize(("x", "expected"), [(1000.0, 1.0), (-1000.0, 0.0)])
def test_sigmoid_saturates_exactly_with_a_finite_gradient(x, expected):
    v = Value(x)
    s = v.sigmoid()
    s.backward()
    assert s.data == expected
    assert v.grad == 0.0


def test_nan_and_inf_propagate_through_backward():
    x = Value(-1.0)
    y = x.log() * 2 + x
    y.backward()
    assert math.isnan(y.data)
    z = Value(0.0)
    w = z.log()
    w.backward()
    assert z.grad == math.inf
    inf = Value(math.inf)
    (inf * 0.0).backward()
    assert inf.grad == 0.0
    assert math.isnan(Value(math.nan).relu().data)


# -- no_grad --------------------------------------------------------------------------


def test_no_grad_records_nothing_and_restores():
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * x + 1
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert y.data == 5.0 and y._prev == () and y.is_leaf and y._op == ""
    y.backward()
    assert x.grad == 0.0


def test_no_grad_restores_after_an_exception_and_works_as_a_decorator():
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError
    assert is_grad_enabled()

    @no_grad()
    def evaluate(v):
        return v * 3

    assert evaluate(Value(1.0)).is_leaf and is_grad_enabled()
    assert evaluate.__name__ == "evaluate"


# -- grad(), copying and pickling -------------------------------------------------------


def test_grad_changes_no_grad_field():
    x, w = Value(3.0), Value(2.0)
    w.grad = 7.0
    assert grad(x * x * w, [x, w]) == [12.0, 9.0]
    assert (x.grad, w.grad) == (0.0, 7.0)
    assert grad(x * 2, [w]) == [0.0]


def test_deep_graphs_copy_and_pickle_without_recursion():
    x = Value(0.5, label="x")
    y = x
    for _ in range(50_000):  # recursive copying dies near 1,000
        y = y * 0.9999 + x
    for copied in (copy.deepcopy(y), pickle.loads(pickle.dumps(y))):
        assert copied.data == y.data and copied._op == y._op
        copied.backward()
    y.backward()
    leaf_x, root = pickle.loads(pickle.dumps([x, y]))
    assert root._prev[1] is leaf_x and leaf_x.label == "x"  # a leaf stays one object


def test_shallow_copy_shares_children():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = copy.copy(c)
    assert d is not c and d._prev == (a, b) and d.data == 2.0


# -- micrograd compatibility -----------------------------------------------------------


def test_micrographs_readme_example_runs_unchanged():
    # micrograd's README; the numbers in its comments are what micrograd prints
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    assert f"{g.data:.4f}" == "24.7041"
    g.backward()
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_micrographs_internals_are_there():
    x, y = Value(2.0), Value(-3.0)
    z = (x * y + 1).relu()
    assert z._op == "ReLU" and (x**2)._op == "**2" and (x * y)._op == "*" and x._op == ""
    assert set(z._prev) == {z._prev[0]} and set(z._prev[0]._prev[0]._prev) == {x, y}
    # the lecture's manual backprop: seed, then call each node's _backward in reverse
    t = (x * y).tanh()
    t.grad = 1.0
    t._backward()
    t._prev[0]._backward()
    assert x.grad == pytest.approx((1 - math.tanh(-6.0) ** 2) * -3.0)
    x._backward()  # a leaf's step does nothing


def test_the_engine_imports_only_the_standard_library():
    import subprocess
    import sys

    third_party = "{'numpy', 'hypothesis', 'matplotlib', 'graphviz', 'tqdm'}"
    code = f"import sys, tinygrad_hw; print(sorted({{m.split('.')[0] for m in sys.modules}} & {third_party}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_relu_passes_the_gradient_at_nan_as_pytorch_does():
    # PyTorch's threshold_backward zeroes the gradient where relu(x) <= 0, which NaN is not
    x = Value(math.nan)
    y = x.relu() * 3.0
    y.backward()
    assert math.isnan(y.data) and x.grad == 3.0
    for value, slope in ((-1.0, 0.0), (0.0, 0.0), (-0.0, 0.0), (2.0, 1.0), (math.inf, 1.0), (-math.inf, 0.0)):
        v = Value(value)
        v.relu().backward()
        assert v.grad == slope, value


# -- deep graphs and the cyclic collector (issue 11) --------------------------------------------


def _deep_dag(depth):
    """A ladder: each rung uses the two before it, so nodes have several parents."""
    x = Value(0.5)
    a, b = x * 1.0, x * 2.0
    for _ in range(depth):
        a, b = b, (a + b) * 0.5
    return x, b


def test_a_deep_graph_is_ordered_children_first_and_backpropagates_right():
    depth = 20_000  # far deeper than any recursion would go
    x, y = _deep_dag(depth)
    order = topological_order(y)
    position = {v: i for i, v in enumerate(order)}
    assert len(order) == len(set(order)) == 2 * depth + 2 and order[-1] is y
    assert all(position[c] < position[v] for v in order for c in v._prev if not c.is_leaf)
    y.backward()
    da, db = 1.0, 2.0  # the same derivative, forward: a, b = b, (a + b) / 2
    for _ in range(depth):
        da, db = db, (da + db) * 0.5
    assert x.grad == pytest.approx(db, rel=1e-12)


def test_nodes_are_numbered_as_they_are_made_children_first():
    a = Value(1.0)
    b = a * 2.0
    c = Value(3.0)  # a leaf made after b
    d = b + c
    assert a._n < b._n < c._n < d._n
    assert walk(d) == [a, b, c, d] and topological_order(d) == [b, d]


def test_backward_restores_the_cyclic_collector_however_it_ends():
    import gc

    x = Value(1.0)
    y = (x * 2.0).exp()
    assert gc.isenabled()
    y.backward()
    assert gc.isenabled()
    gc.disable()  # a program that switched it off keeps it off
    try:
        y.backward()
        assert not gc.isenabled()
    finally:
        gc.enable()

    from tinygrad_hw.engine import register_op

    def fails(a):
        out = a * 1.0
        return out, (a(1.0),)  # raises TypeError in backward

    with register_op(fails, "fails", method="fails"), pytest.raises(TypeError):
        Value(1.0).fails().backward()
    assert gc.isenabled()


# -- a fork while another thread pauses the collector (issue 22, #15) ----------------------------

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


def _child_collects(before_exit=lambda: None) -> bool:
    """Fork; in the child run ``before_exit`` and report whether its collector is on."""
    pid = os.fork()
    if pid == 0:  # the child: no pytest here, just an exit status
        try:
            before_exit()
            os._exit(0 if gc.isenabled() else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status) == 0


@needs_fork
def test_a_child_forked_while_another_thread_pauses_the_collector_collects():
    inside, leave = threading.Event(), threading.Event()

    def hold():
        with paused_gc:
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10) and not gc.isenabled()
        assert _child_collects()  # that thread is not in the child: nothing keeps the collector off
    finally:
        leave.set()
        thread.join()
    assert gc.isenabled()


@needs_fork
def test_a_child_forked_inside_its_own_pause_collects_once_it_leaves():
    in_child = False
    try:
        with paused_gc:  # the child is forked here, inside this thread's pause, and leaves it as we do
            pid = os.fork()
            in_child = pid == 0
        if in_child:
            os._exit(0 if gc.isenabled() else 1)
    finally:
        if in_child:  # anything raised in the child: never let it run on as a copy of the tests
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0 and gc.isenabled()


@needs_fork
def test_children_forked_beside_a_thread_backpropagating_collect():
    stop = threading.Event()

    def backpropagate():
        x = Value(0.5)
        y = x
        for _ in range(20_000):
            y = y * 1.0001 + x
        while not stop.is_set():
            y.backward()

    thread = threading.Thread(target=backpropagate)
    thread.start()
    try:
        results = [_child_collects() for _ in range(20)]
    finally:
        stop.set()
        thread.join()
    assert all(results)
