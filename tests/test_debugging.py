"""Generated code debugs like written code: tracebacks, inspect and pdb show it (issue 15)."""

import bdb
import inspect
import traceback
from pathlib import Path

import pytest

from tinygrad_hw import Value
from tinygrad_hw.backprop import backward
from tinygrad_hw.engine import KERNELS, _recording
from tinygrad_hw.kernels import compile_kernel, kernels_markdown
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.ops import Op
from tinygrad_hw.replay import jit

ROOT = Path(__file__).resolve().parent.parent


def broken(a):
    out = a * 2.0
    return out, (a(2.0),)  # a float is no function: wrong on purpose


def test_a_wrong_rule_fails_with_its_source_line_in_the_traceback():
    kernel = compile_kernel(Op(broken, "broken", ("broken(a)",)), Value, _recording)
    y = kernel.forward(Value(1.5))
    with pytest.raises(TypeError) as caught:
        y.backward()
    text = "".join(traceback.format_exception(caught.value))
    assert 'File "<tinygrad_hw kernel: broken>"' in text and "in broken_backward" in text
    assert "d0 = a(2.0)" in text and "^^^^" in text  # the generated line, with carets
    with pytest.raises(TypeError) as caught:
        backward(kernel.forward(Value(1.5)))  # the reading path stops in the rule itself
    text = "".join(traceback.format_exception(caught.value))
    assert "test_debugging.py" in text and "in broken" in text and "return out, (a(2.0),)" in text


def test_inspect_shows_kernels_and_replays():
    source = inspect.getsource(KERNELS["sigmoid"].backward)
    assert source.startswith("def sigmoid_backward(node):") and "d0 = out * (1.0 - out)" in source
    assert KERNELS["sigmoid"].forward.__name__ == "sigmoid_forward"
    model = MLP(2, [2, 1], seed=0)
    step = jit(lambda x, y: mse(model(x), y))
    step([0.5, 0.5], 1.0)
    replayed = next(iter(step.tapes.values())).step.fast
    assert inspect.getsource(replayed).startswith("def step(W, X, lr=None):")
    assert "<replay" in inspect.getsourcefile(replayed)


def test_pdb_stops_on_a_line_of_a_generated_kernel():
    filename = KERNELS["sigmoid"].filename
    lines = KERNELS["sigmoid"].source.splitlines()
    target = 1 + next(i for i, line in enumerate(lines) if "d0 = out * (1.0 - out)" in line)
    hits = []

    class Debugger(bdb.Bdb):
        def user_line(self, frame):
            if frame.f_code.co_filename == filename:
                hits.append((frame.f_lineno, frame.f_code.co_name))
            self.set_continue()

    debugger = Debugger()
    assert debugger.set_break(filename, target) is None  # bdb finds the line: the text is known
    y = (Value(0.3) * 2.0).sigmoid()
    debugger.runcall(y.backward)
    assert hits == [(target, "sigmoid_backward")]


def test_docs_kernels_md_is_generated_from_the_code():
    assert (ROOT / "docs" / "kernels.md").read_text() == kernels_markdown() + "\n", "run: make docs"
