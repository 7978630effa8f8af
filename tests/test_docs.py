"""The README's Python snippets run as written."""

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest
from optional import need

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_each_readme_snippet_runs(index, tmp_path, monkeypatch, request):
    code = SNIPPETS[index]
    if "draw_graph" in code or "step_through" in code:
        request.getfixturevalue("graphviz_dot")  # skipped without Graphviz, failed in CI
    if "import torch" in code:
        need(None if importlib.util.find_spec("torch") else "PyTorch is missing: pip install -e '.[torch]'")
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
    if ".render(" in code:  # it leaves what it says, and nothing else (Graphviz's DOT file beside it)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]
    for call in ("print(round(o.data, 4), x1.grad, w1.grad)", "print(n, y, sorted("):
        if call in code:  # the micrograd snippets: the comment is exactly what the last line prints
            promised = re.search(re.escape(call) + r".*  # (.*)", code).group(1)
            assert printed.getvalue().splitlines()[-1] == promised.removesuffix(" (micrograd's too)")


def test_there_are_snippets():
    assert len(SNIPPETS) >= 5


COLUMN_PX = 880  # the width a README is read at
SMALLEST_TEXT_PX = 9  # Graphviz writes 11 pt text: 14.7 px, scaled down to fit the column


def _width_px(picture: Path) -> float:
    """How wide a README picture is drawn at its own size, in CSS pixels."""
    if picture.suffix == ".svg":
        width = re.search(r'<svg width="([\d.]+)pt"', picture.read_text(encoding="utf-8")).group(1)
        return float(width) * 4 / 3
    return float(int.from_bytes(picture.read_bytes()[16:20], "big"))  # a PNG's width


def test_the_readme_pictures_are_readable_in_a_column():
    # Before: the one-neuron drawing was 2,384 pt wide, its text ~4 px at 880 px.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\((docs/images/[^)]+)\)", readme)
    assert len(pictures) >= 4 and "docs/images/stepthrough.png" in pictures
    for name in pictures:
        scale = min(1.0, COLUMN_PX / _width_px(ROOT / name))
        text_px = (11 * 4 / 3 if name.endswith(".svg") else 15) * scale  # the page's text is 15 px
        assert text_px >= SMALLEST_TEXT_PX, f"{name}: text {text_px:.1f} px at {COLUMN_PX} px"


@pytest.mark.usefixtures("graphviz_dot")
def test_the_readme_drawings_are_what_the_gallery_draws(tmp_path):
    from viz.gallery import draw_gallery

    drawn = {p.name: p for p in draw_gallery(tmp_path)}
    for name in ("neuron_graph.svg", "xor_sample_neurons.svg"):
        ours, committed = _width_px(drawn[name]), _width_px(ROOT / "docs" / "images" / name)
        assert abs(ours - committed) <= 0.05 * committed, f"{name}: make docs draws it again"
