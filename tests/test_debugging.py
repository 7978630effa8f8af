"""The code that runs is code on disk: go to definition, tracebacks, inspect and pdb show
it (issues 15 and 19)."""

import bdb
import inspect
import sys
import traceback
import types
from pathlib import Path

import pytest

import tinygrad_hw
from tinygrad_hw import Value, engine
from tinygrad_hw.engine import register_op
from tinygrad_hw.generate import KERNELS_PY, main, module_source
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.ops import OPS
from tinygrad_hw.replay import jit

PACKAGE = Path(tinygrad_hw.__file__).resolve().parent


def _frames_under(call):
    """Every code object that runs during ``call()``: (function name, file name)."""
    seen = []

    def trace(frame, event, arg):
        if event == "call":
            seen.append((frame.f_code.co_name, frame.f_code.co_filename))
        return None

    sys.settrace(trace)
    try:
        call()
    finally:
        sys.settrace(None)
    return seen


def test_what_backward_runs_for_sigmoid_is_a_file_in_the_package():
    y = (Value(0.3) * 2.0).sigmoid()
    ran = dict(_frames_under(y.backward))
    filename = Path(ran["sigmoid_backward"])
    assert filename.is_file() and filename.resolve().parent == PACKAGE and filename.name == "kernels.py"
    assert filename.resolve() == KERNELS_PY.resolve()


def test_pdb_stops_on_the_chain_rule_line_of_sigmoid_in_kernels_py():
    lines = KERNELS_PY.read_text().splitlines()
    start = lines.index("def sigmoid_backward(node: Value) -> None:")
    target = 1 + next(i for i in range(start, len(lines)) if "va.grad += d0 * g" in lines[i])
    hits = []

    class Debugger(bdb.Bdb):  # pdb's engine, without the prompt
        def user_line(self, frame):
            if frame.f_code.co_filename == str(KERNELS_PY) and frame.f_lineno == target:
                hits.append((frame.f_code.co_name, frame.f_locals["d0"], frame.f_locals["g"]))
            self.set_continue()

    debugger = Debugger()
    assert debugger.set_break(str(KERNELS_PY), target) is None  # bdb finds the line in the file
    y = (Value(0.3) * 2.0).sigmoid()
    debugger.runcall(y.backward)
    assert hits == [("sigmoid_backward", y.data * (1.0 - y.data), 1.0)]


def test_backward_reaches_the_kernel_in_two_steps():
    # Value.backward calls node.op.backward(node), and that is the function in kernels.py
    source = inspect.getsource(Value.backward)
    assert "node.op.backward(node)" in source
    kernel = OPS["sigmoid"].backward
    assert inspect.getsourcefile(kernel) == str(KERNELS_PY)
    assert inspect.getsource(kernel).startswith("def sigmoid_backward(node: Value) -> None:")
    assert "d0 = out * (1.0 - out)" in inspect.getsource(kernel) and "va.grad += d0 * g" in inspect.getsource(kernel)


def test_kernels_py_is_what_the_rules_give():
    assert KERNELS_PY.read_text() == module_source(), "tinygrad_hw/kernels.py is stale: run `make kernels`"
    assert main(["--check"]) == 0


def test_a_stale_kernels_py_is_caught_and_repaired_in_memory(monkeypatch):
    broken = types.ModuleType("tinygrad_hw.kernels")  # as if the file lacked every rule
    broken.KERNELS = {}
    monkeypatch.setitem(sys.modules, "tinygrad_hw.kernels", broken)
    try:
        with pytest.warns(UserWarning, match="kernels.py is stale .*run `make kernels`"):
            engine._attach_kernels()
        assert OPS["sigmoid"].backward.__code__.co_filename == "<tinygrad_hw kernels: sigmoid>"
        y = Value(0.0).sigmoid()
        y.backward()
        assert y.data == 0.5
    finally:
        monkeypatch.undo()
        engine._attach_kernels()
    assert OPS["sigmoid"].backward.__code__.co_filename == str(KERNELS_PY)


def broken(a):
    out = a * 2.0
    return out, (a(2.0),)  # a float is no function: wrong on purpose


def test_a_wrong_rule_fails_with_its_generated_line_in_the_traceback():
    with register_op(broken, "broken", method="broken"):
        y = Value(1.5).broken()
        with pytest.raises(TypeError) as caught:
            y.backward()
        text = "".join(traceback.format_exception(caught.value))
    assert 'File "<tinygrad_hw kernels: broken>"' in text and "in broken_backward" in text
    assert "d0 = va.data(2.0)" in text and "^^^^" in text  # the generated line, with carets


def test_inspect_shows_replays():
    model = MLP(2, [2, 1], seed=0)
    step = jit(lambda x, y: mse(model(x), y))
    step([0.5, 0.5], 1.0)
    replayed = next(iter(step.tapes.values())).step.fast
    assert inspect.getsource(replayed).startswith("def step(W, X, lr=None):")
    assert "<replay" in inspect.getsourcefile(replayed)
