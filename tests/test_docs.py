"""The README's Python snippets run as written."""

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_each_readme_snippet_runs(index, tmp_path, monkeypatch):
    code = SNIPPETS[index]
    if "draw_graph" in code and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    scope: dict = {"__name__": f"readme_{index}"}
    with contextlib.redirect_stdout(printed):
        exec(compile(code, f"README snippet {index}", "exec"), scope)
        for name, test in list(scope.items()):  # a snippet that defines a test: run it too
            if name.startswith("test_") and callable(test):
                test()
    if "print(y, x.grad, w.grad)" in code:  # the numbers its comment promises
        assert printed.getvalue().startswith("Value(data=0.5621") and " -0.369" in printed.getvalue()


def test_there_are_snippets():
    assert len(SNIPPETS) >= 5
