"""Make the README's pictures again: ``make docs`` (needs Graphviz, and Chromium for the
screenshot of the step-through page).

Pictures are drawn top to bottom so that their text is readable in a ~880 px column."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from viz import step_through
from viz.browser import chromium
from viz.gallery import draw_gallery, one_neuron

IMAGES = Path(__file__).resolve().parent / "images"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        for path in draw_gallery(folder):
            if path.name in ("neuron_graph.svg", "xor_sample_neurons.svg"):
                shutil.copyfile(path, IMAGES / path.name)
        loss, _, _ = one_neuron()
        page = step_through(loss, Path(folder) / "one-neuron.html", title="One neuron, step by step")
        steps = page.steps
        sigmoid = next(i for i, s in enumerate(steps) if s["phase"] == "backward" and s["title"].startswith("a = ŷ"))
        with chromium(1100, 760) as browser:
            browser.get((Path(folder) / "one-neuron.html").as_uri())
            browser.execute_script("window.stepThrough.go(arguments[0])", sigmoid)
            browser.save_screenshot(str(IMAGES / "stepthrough.png"))
    print(f"Wrote the pictures in {IMAGES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
