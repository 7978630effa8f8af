"""Make the README's pictures again: ``make docs`` (needs Graphviz, and Chromium for the
screenshots of the step-through page and the training page).

Pictures are drawn top to bottom so that their text is readable in a ~880 px column."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.nn import MLP
from tinygrad_hw.recording import record_fit
from viz import step_through, watch
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
            browser.find_element("id", "edge-labels").click()  # each edge's local derivative on it
            browser.execute_script("window.stepThrough.go(arguments[0])", sigmoid)
            browser.save_screenshot(str(IMAGES / "stepthrough.png"))
        watch_screenshot(Path(folder))
    print(f"Wrote the pictures in {IMAGES}")
    return 0


def watch_screenshot(folder: Path) -> None:
    """The training page of the report's run, part way (the frame nearest epoch 1000), a neuron hovered."""
    from selenium.webdriver.common.action_chains import ActionChains

    X, y = generate_xor_easy()
    run = record_fit(
        MLP(2, [8, 8, 1], seed=1),
        X,
        y,
        epochs=3000,
        lr=0.1,
        engine="replay",
        verbose=False,
        name="2-8-8-1 sigmoid, lr 0.1",
    )
    page = watch(run, folder / "watch.html", title="Watching it learn: XOR, the report's network")
    epochs = [int(p.split()[1].rstrip(",")) for p in page.data["positions"]]
    position = min(range(len(epochs)), key=lambda k: abs(epochs[k] - 1000))
    with chromium(1100, 700) as browser:
        browser.get((folder / "watch.html").as_uri())
        browser.execute_script("window.watchPage.slider.value = arguments[0]; window.watchPage.show()", position)
        neuron = browser.find_elements("css selector", "g.neuron rect.tile")[2]  # a1[3]
        ActionChains(browser).move_to_element(neuron).perform()
        browser.save_screenshot(str(IMAGES / "watch.png"))


if __name__ == "__main__":
    sys.exit(main())
