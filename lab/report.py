"""Reproduce the lab report with one command: ``tinygrad-hw report --out DIR``.

Runs the report's results (the 2-8-8-1 sigmoid network, lr 0.1, per-sample SGD,
on the linear and XOR sets) and its discussion (learning rates, hidden units, no
activation function) plus the lab's extras (optimisers, activation functions),
and writes ``DIR/report.md`` with its figures in ``DIR/figures`` and every run's
history in ``DIR/runs``. Every sentence about a result is computed from this
run's numbers; nothing is canned.
"""

from __future__ import annotations

import errno
import io
import itertools
import math
import os
import platform
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Sequence

import numpy as np
from tqdm import tqdm

from tinygrad_hw.atomic import write_atomic
from tinygrad_hw.history import History
from tinygrad_hw.train import predict

from .experiment import DATASETS, DEFAULT_EPOCHS, train_report_network

__all__ = ["CONVERGED", "Outcome", "Setting", "write_report"]

CONVERGED = 0.01  # a run has converged once its epoch loss is below this


@dataclass(frozen=True)
class Setting:
    """One configuration of the report's network."""

    label: str
    dataset: str = "xor"
    hidden: tuple[int, ...] = (8, 8)
    activation: str = "sigmoid"  # of the hidden layers (see experiment.activations_for)
    lr: float = 0.1
    optimizer: str = "sgd"
    epochs: int = 3000

    def describe(self) -> str:
        shape = "-".join(str(n) for n in (2, *self.hidden, 1))
        return f"{shape}, {self.activation}, {self.optimizer} lr {self.lr:g}, {self.epochs} epochs"


@dataclass
class Outcome:
    """A setting's runs, one per seed."""

    setting: Setting
    seeds: list[int]
    histories: list[History]
    logs: list[str] = field(default_factory=list)  # the console lines of each run
    predictions: list[np.ndarray] = field(default_factory=list)

    @property
    def accuracies(self) -> list[float]:
        """Of the runs that did not diverge (a diverged network's predictions mean nothing)."""
        return [h.accuracy if h.accuracy is not None else math.nan for h in self.histories if not h.diverged]

    @property
    def final_losses(self) -> list[float]:
        """Of the runs that did not diverge."""
        return [h.final_loss for h in self.histories if not h.diverged]

    @property
    def converged_at(self) -> list[int | None]:
        return [None if h.diverged else h.epochs_to(CONVERGED) for h in self.histories]

    @property
    def diverged(self) -> list[History]:
        return [h for h in self.histories if h.diverged]


# -- numbers into words -----------------------------------------------------------------


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    return statistics.fmean(finite), statistics.pstdev(finite) if len(finite) > 1 else 0.0


def _percent(values: Sequence[float]) -> str:
    mean, sd = _mean_sd(values)
    if math.isnan(mean):
        return "–"
    return f"{100 * mean:.1f} %" + (f" ± {100 * sd:.1f}" if len(values) > 1 else "")


def _loss(values: Sequence[float]) -> str:
    mean, sd = _mean_sd(values)
    if math.isnan(mean):
        return "–"
    return f"{mean:.4g}" + (f" ± {sd:.2g}" if len(values) > 1 else "")


def _epochs(o: Outcome) -> str:
    hits = [e for e in o.converged_at if e is not None]
    if not hits:
        return "never"
    text = f"{statistics.fmean(hits):.0f}"
    return text + (f" ({len(hits)} of {len(o.histories)} runs)" if len(hits) < len(o.histories) else "")


def _convergence_rank(o: Outcome) -> tuple[float, float]:
    """More runs converged first, then sooner on average."""
    hits = [e for e in o.converged_at if e is not None]
    return (-len(hits) / len(o.histories), statistics.fmean(hits) if hits else math.inf)


def _table(outcomes: Sequence[Outcome], seeds: bool = True) -> list[str]:
    lines = [
        "| setting | runs | final accuracy | final loss | epochs to loss < 0.01 | diverged |",
        "|---|---|---|---|---|---|",
    ]  # accuracy and loss: mean ± standard deviation over the runs that did not diverge
    for o in outcomes:
        runs = f"seeds {', '.join(map(str, o.seeds))}" if seeds else f"seed {o.seeds[0]}"
        lines.append(
            f"| {o.setting.label} | {runs} | {_percent(o.accuracies)} | {_loss(o.final_losses)} | {_epochs(o)} "
            f"| {len(o.diverged)} of {len(o.histories)} |"
        )
    return lines


def _sweep_sentences(outcomes: Sequence[Outcome], what: str) -> list[str]:
    """What the numbers of a sweep say, whatever they turn out to be."""
    said = []
    scored = [o for o in outcomes if o.accuracies]  # settings where some run did not diverge
    ranked = sorted(scored, key=lambda o: (-_mean_sd(o.accuracies)[0], _mean_sd(o.final_losses)[0]))
    if len(ranked) == 1:
        only = ranked[0]
        said.append(
            f"Only {only.setting.label} trained to the end: {_percent(only.accuracies)} accuracy, final loss "
            f"{_loss(only.final_losses)}."
        )
    elif ranked:
        best, worst = ranked[0], ranked[-1]
        if _mean_sd(best.accuracies)[0] == _mean_sd(worst.accuracies)[0]:
            said.append(
                f"Every {what} reached the same mean accuracy, {_percent(best.accuracies)}; the lowest final "
                f"loss was {best.setting.label}'s ({_loss(best.final_losses)}), the highest "
                f"{worst.setting.label}'s ({_loss(worst.final_losses)})."
            )
        else:
            said.append(
                f"The best {what} here was {best.setting.label} ({_percent(best.accuracies)} accuracy, final loss "
                f"{_loss(best.final_losses)}); the worst was {worst.setting.label} ({_percent(worst.accuracies)})."
            )
    reached = sorted((o for o in outcomes if any(e is not None for e in o.converged_at)), key=_convergence_rank)
    never = [o.setting.label for o in outcomes if all(e is None for e in o.converged_at)]
    if reached:
        parts = []
        for o in reached:
            hits = [e for e in o.converged_at if e is not None]
            runs = "every run" if len(hits) == len(o.histories) else f"{len(hits)} of {len(o.histories)} runs"
            parts.append(f"{o.setting.label} in {runs} (after {statistics.fmean(hits):.0f} epochs on average)")
        said.append(f"The loss fell below {CONVERGED} with " + "; ".join(parts) + ".")
    if never and reached:
        said.append(f"It never did with {', '.join(never)} within {outcomes[0].setting.epochs} epochs.")
    elif never:
        said.append(
            f"With none of them did the loss fall below {CONVERGED} within {outcomes[0].setting.epochs} epochs."
        )
    for o in outcomes:
        spread = [a for a in o.accuracies if math.isfinite(a)]
        if len(spread) > 1 and max(spread) - min(spread) >= 0.1:
            said.append(
                f"With {o.setting.label} the outcome depends on the seed: accuracy from {100 * min(spread):.1f} % "
                f"to {100 * max(spread):.1f} %."
            )
        if o.diverged:
            epochs = sorted({h.diverged_at for h in o.diverged})
            said.append(
                f"{len(o.diverged)} of {len(o.histories)} runs with {o.setting.label} diverged (first non-finite "
                f"loss at epoch {', '.join(map(str, epochs))})."
            )
    return said


def _mean_of(o: Outcome, metric: str) -> float:
    if metric == "accuracy":
        return _mean_sd(o.accuracies)[0]
    return _mean_sd(o.final_losses)[0]


def _learning_rate_verdict(by: dict[float, Outcome]) -> list[str]:
    """The report: 0.01 learns too slowly, 1 is too large, 0.1 is adequate. And here?"""
    said = []
    small, mid, large = by[0.01], by[0.1], by[1.0]
    if _mean_of(small, "loss") > max(_mean_of(mid, "loss"), _mean_of(large, "loss")):
        said.append(
            f"As the report found, lr 0.01 is too small: its loss is still {_loss(small.final_losses)} after "
            f"{small.setting.epochs} epochs and its accuracy {_percent(small.accuracies)}."
        )
    else:
        said.append("Unlike the report, lr 0.01 did not end with the highest loss here.")
    if _mean_of(large, "accuracy") < _mean_of(mid, "accuracy") or _mean_of(large, "loss") > _mean_of(mid, "loss"):
        said.append(
            f"As the report found, lr 1 does worse than lr 0.1 in the end ({_percent(large.accuracies)} against "
            f"{_percent(mid.accuracies)}; loss {_loss(large.final_losses)} against {_loss(mid.final_losses)})."
        )
    else:
        said.append(
            f"Unlike the report, lr 1 was no worse than lr 0.1 here ({_percent(large.accuracies)} against "
            f"{_percent(mid.accuracies)}; loss {_loss(large.final_losses)} against {_loss(mid.final_losses)}); "
            "the report's lr 1 problem did not show on this network and these seeds."
        )
    return said


def _hidden_units_verdict(outcomes: Sequence[Outcome]) -> list[str]:
    """The report: more hidden units, faster loss decrease and higher accuracy. And here?"""
    speed = [_convergence_rank(o) for o in outcomes]
    accuracy = [_mean_of(o, "accuracy") for o in outcomes]
    faster = all(a >= b for a, b in itertools.pairwise(speed))  # the same order as the sentence above
    better = all(a <= b for a, b in itertools.pairwise(accuracy))
    labels = " → ".join(o.setting.label for o in outcomes)
    if faster and better:
        return [f"As the report found, each step up ({labels}) learned at least as fast and as accurately."]
    parts = []
    if not faster:
        parts.append("the loss did not fall below 0.01 more often, or sooner, at every step up")
    if not better:
        parts.append("accuracy did not rise at every step up")
    return [f"The report's trend holds only in part here ({labels}): {' and '.join(parts)}."]


# -- running ------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _run(setting: Setting, seed: int, engine: str, folder: Path, experiment: str) -> tuple[History, str, np.ndarray]:
    console = io.StringIO()
    model, X, _, history = train_report_network(
        setting.dataset,
        hidden=setting.hidden,
        activation=setting.activation,
        lr=setting.lr,
        optimizer=setting.optimizer,
        epochs=setting.epochs,
        seed=seed,
        engine=engine,
        progress=False,
        log_every=max(1, setting.epochs // 10),
        file=console,
    )
    history.save(folder / "runs" / f"{experiment}_{_slug(setting.label)}_seed{seed}.json")
    return history, console.getvalue(), predict(model, X)


@dataclass
class _Plan:
    key: str
    title: str
    settings: list[Setting]
    seeds: list[int]


def _plan(quick: bool) -> list[_Plan]:
    seeds = [1, 2] if quick else [1, 2, 3, 4, 5]
    sweep = 1000 if quick else 3000
    xor = Setting("XOR", "xor", epochs=DEFAULT_EPOCHS["xor"])
    return [
        _Plan(
            "results",
            "Results",
            [Setting("Linear", "linear", epochs=300 if quick else DEFAULT_EPOCHS["linear"]), xor],
            [1],
        ),
        _Plan(
            "learning_rate",
            "Learning rates (4 hidden units per layer)",
            [Setting(f"lr {lr:g}", hidden=(4, 4), lr=lr, epochs=sweep) for lr in (1.0, 0.1, 0.01)],
            seeds,
        ),
        _Plan(
            "hidden_units",
            "Hidden units (lr 0.1)",
            [Setting(f"{n} units", hidden=(n, n), epochs=sweep) for n in (2, 3, 4, 8)],
            seeds,
        ),
        _Plan(
            "no_activation",
            "Without activation functions",
            [Setting("sigmoid", epochs=sweep), Setting("no activation", activation="none", epochs=sweep)],
            seeds,
        ),
        _Plan(
            "optimizer",
            "Optimisers",
            [
                Setting("SGD, lr 0.1", epochs=sweep),
                Setting("momentum 0.9, lr 0.1", optimizer="momentum", epochs=sweep),
                Setting("Adam, lr 0.01", optimizer="adam", lr=0.01, epochs=sweep),
            ],
            seeds,
        ),
        _Plan(
            "activation",
            "Activation functions (hidden layers; the output stays a sigmoid)",
            [Setting(a, activation=a, epochs=sweep) for a in ("sigmoid", "tanh", "relu")],
            seeds,
        ),
    ]


REPORT_MARK = ".tinygrad-hw-report"  # in a folder a report wrote: it may be replaced by the next one
TITLE = "# Backpropagation from scratch, reproduced"


def write_report(
    out: str | Path,
    *,
    quick: bool = False,
    engine: str = "replay",
    progress: bool = True,
    file: IO[str] | None = None,
    force: bool = False,
) -> Path:
    """Run every experiment and write ``out/report.md`` with ``figures/`` and ``runs/``;
    return the path of ``report.md``.

    The report owns its folder: it is built in a hidden sibling folder and swapped in
    whole when complete, so an interrupted run leaves the previous report as it was
    and a new one never mixes with an old one's files. A folder holding anything but
    an earlier report is refused unless ``force``."""
    folder = Path(out)
    _check_ownership(folder, force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(folder)
    staging = folder.parent / f".{folder.name}.tghw-{os.getpid()}-building"
    try:
        _build_report(staging, quick=quick, engine=engine, progress=progress)
        _swap_in(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder / "report.md"


def _is_report(folder: Path) -> bool:
    """A folder an earlier ``tinygrad-hw report`` wrote (marked, or, before the mark
    existed, a report.md under our title)."""
    if (folder / REPORT_MARK).is_file():
        return True
    try:
        with open(folder / "report.md", encoding="utf-8") as f:
            return f.readline().strip() == TITLE
    except (OSError, UnicodeDecodeError):
        return False


def _check_ownership(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder for the report", str(folder))
    if folder.is_dir() and any(folder.iterdir()) and not _is_report(folder) and not force:
        raise FileExistsError(
            errno.EEXIST,
            "holds files that are not a tinygrad-hw report, and the report replaces its folder whole; "
            "choose another --out, or pass --force to replace it",
            str(folder),
        )


def _swap_in(staging: Path, folder: Path) -> None:
    """Put the finished report where the old one was, in two renames."""
    if folder.exists():
        old = folder.parent / f".{folder.name}.tghw-{os.getpid()}-old"
        os.rename(folder, old)
        os.rename(staging, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, folder)


def _remove_leftovers(folder: Path) -> None:
    """Half-built reports of runs that were killed, beside ``folder``."""
    pattern = re.compile(rf"^\.{re.escape(folder.name)}\.tghw-(\d+)-(building|old)$")
    for entry in folder.parent.iterdir():
        match = pattern.match(entry.name)
        if match and (int(match.group(1)) == os.getpid() or not _running(int(match.group(1)))):
            shutil.rmtree(entry, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _build_report(folder: Path, *, quick: bool, engine: str, progress: bool) -> None:
    """Every experiment run, and report.md with its figures, written into ``folder``."""
    (folder / "figures").mkdir(parents=True)
    (folder / "runs").mkdir()
    (folder / REPORT_MARK).write_text("written by tinygrad-hw report; the next report replaces this folder\n")
    plans = _plan(quick)
    started = time.perf_counter()
    outcomes = _run_all(plans, engine, folder, progress)
    seconds = time.perf_counter() - started
    figures = _Figures(folder / "figures")
    lines = _front_matter(quick, engine, seconds, plans)
    lines += _results_section(outcomes["results"], figures)
    lines += _discussion_section(plans[1:], outcomes, figures)
    lines += _how_made(quick, engine, seconds)
    write_atomic(folder / "report.md", "\n".join(lines) + "\n")


def _run_all(plans: Sequence[_Plan], engine: str, folder: Path, progress: bool) -> dict[str, list[Outcome]]:
    """Every setting of every plan, once per seed, with a progress bar over the runs."""
    outcomes: dict[str, list[Outcome]] = {}
    total = sum(len(p.settings) * len(p.seeds) for p in plans)
    bar = tqdm(total=total, disable=None if progress else True, unit="run", desc="report", file=sys.stderr)
    for plan in plans:
        outcomes[plan.key] = []
        for setting in plan.settings:
            outcome = Outcome(setting, [], [])
            for seed in plan.seeds:
                bar.set_postfix_str(f"{plan.key}: {setting.label}, seed {seed}")
                history, log, pred = _run(setting, seed, engine, folder, plan.key)
                outcome.seeds.append(seed)
                outcome.histories.append(history)
                outcome.logs.append(log)
                outcome.predictions.append(pred)
                bar.update()
            outcomes[plan.key].append(outcome)
    bar.close()
    return outcomes


class _Figures:
    """Where the report's figures go (``figures/``), and how report.md links them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, name: str) -> tuple[Path, str]:
        """(the path to save figure ``name`` at, its link in report.md)."""
        return self.folder / f"{name}.png", f"figures/{name}.png"


def _results_section(outcomes: Sequence[Outcome], figure: _Figures) -> list[str]:
    """II. Results: each data set's comparison figure, learning curve and predictions."""
    from viz.plots import comparison, learning_curves

    lines = ["## II. Results", ""]
    for o in outcomes:
        X, y = DATASETS[o.setting.dataset](o.seeds[0])
        name, label = o.setting.dataset, o.setting.label
        path, shown = figure(f"{name}_comparison")
        comparison(X, y, o.predictions[0], title=f"{label}: {o.setting.describe()}", path=path)
        path, curve = figure(f"{name}_learning_curve")
        learning_curves({label: o.histories}, title=f"Learning curve, {label}", logy=True, path=path)
        h = o.histories[0]
        lines += [
            f"### {label}",
            "",
            f"![Ground truth and prediction, {label}]({shown})",
            "",
            f"![Learning curve, {label}]({curve})",
            "",
            f"After {o.setting.epochs} epochs the loss is {h.final_loss:.4g} and {100 * h.accuracy:.1f} % of the "
            f"{len(X)} points are on the right side of 0.5 (it fell below {CONVERGED} at epoch "
            f"{h.epochs_to(CONVERGED) or 'never'}).",
            "",
            "<details><summary>The predictions, as the report lists them</summary>",
            "",
            "```",
            *[line for line in o.logs[0].splitlines() if not line.startswith("Epoch")],
            "```",
            "",
            "</details>",
            "",
        ]
    lines += [
        "| data set | run | final accuracy | final loss | epochs to loss < 0.01 | diverged |",
        "|---|---|---|---|---|---|",
    ]
    return lines + [row for o in outcomes for row in _table([o], seeds=False)[2:]]


def _discussion_section(plans: Sequence[_Plan], outcomes: dict[str, list[Outcome]], figure: _Figures) -> list[str]:
    """III. Discussion: per experiment, its curves, accuracy bars, table and sentences."""
    from viz.plots import accuracy_bars, learning_curves

    lines = [
        "",
        "## III. Discussion",
        "",
        "Each setting was trained from several seeds (the initial weights), because one seed can mislead: "
        "the tables give the mean ± standard deviation over them, and the figures draw every run, one "
        "colour per setting.",
        "",
    ]
    for number, plan in enumerate(plans, start=1):
        group = outcomes[plan.key]
        path, curves = figure(f"{plan.key}_curves")
        learning_curves({o.setting.label: o.histories for o in group}, title=plan.title, logy=True, path=path)
        path, bars = figure(f"{plan.key}_accuracy")
        labels, stats = [o.setting.label for o in group], [_mean_sd(o.accuracies) for o in group]
        title = f"Final accuracy: {plan.title}"
        accuracy_bars(labels, [m for m, _ in stats], spread=[sd for _, sd in stats], title=title, path=path)
        lines += [f"### {number}. {plan.title}", "", f"![Learning curves]({curves})", "", f"![Accuracy]({bars})", ""]
        lines += [*_table(group), "", " ".join(_verdicts(plan.key, group)), ""]
        if plan.key == "no_activation":
            lines += _divergence_log(group)
    return lines


def _verdicts(key: str, group: Sequence[Outcome]) -> list[str]:
    said = _sweep_sentences(group, {"learning_rate": "learning rate", "hidden_units": "width"}.get(key, "setting"))
    if key == "learning_rate":
        said += _learning_rate_verdict({o.setting.lr: o for o in group})
    elif key == "hidden_units":
        said += _hidden_units_verdict(group)
    elif key == "no_activation":
        said += _no_activation_text(group)
    return said


def _no_activation_text(group: Sequence[Outcome]) -> list[str]:
    linear = next(o for o in group if o.setting.activation == "none")
    if not linear.diverged:
        return ["Unlike the report, training without activation functions did not overflow here."]
    return [
        "As in the report, without activation functions nothing keeps the values bounded: a stack of linear "
        "layers is one linear map, the per-sample updates overshoot and grow, and the loss overflows to "
        f"inf or nan. The training loop stops at the first non-finite loss ({len(linear.diverged)} of "
        f"{len(linear.histories)} runs) instead of carrying nan forward, and keeps the history up to there."
    ]


def _divergence_log(group: Sequence[Outcome]) -> list[str]:
    linear = next(o for o in group if o.setting.activation == "none")
    run = next((i for i, h in enumerate(linear.histories) if h.diverged), None)
    if run is None:
        return []
    log = [line for line in linear.logs[run].splitlines() if line.startswith(("Epoch", "Stopped"))]
    return [
        f"The console of the first diverging run (seed {linear.seeds[run]}), as the report's Figure 20:",
        "",
        "```",
        *log,
        "```",
        "",
    ]


def _front_matter(quick: bool, engine: str, seconds: float, plans: Sequence[_Plan]) -> list[str]:
    runs = sum(len(p.settings) * len(p.seeds) for p in plans)
    return [
        TITLE,
        "",
        f"Generated by `tinygrad-hw report{' --quick' if quick else ''}` on "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {runs} training runs in {seconds:.0f} s "
        f"({engine} engine, Python {platform.python_version()}). Every number, figure and sentence about a "
        "result below comes from these runs; rerun the command to check them.",
        "",
        "## I. Setup",
        "",
        "The network is the report's: two inputs, two hidden layers and one output, fully connected, every "
        "neuron a sigmoid `σ(z) = 1/(1 + e^(-z))` of `z = Σ w·x + b`; the loss is the squared error "
        "`C = (ŷ − y)²`; training is per-sample gradient descent, `w −= lr · ∂C/∂w`, with the gradients from "
        "backpropagation (the report's recurrence, here computed by tinygrad_hw's autodiff engine, which the "
        "tests hold to the report's own hand-derived equations). A prediction above 0.5 is class 1. The data "
        "are the lab's: 100 points uniform in [0, 1)², class 0 where x₁ > x₂ (linear), and the 21-point XOR "
        "set. Weights start uniform in [−1, 1), biases at 0, from the seed given.",
        "",
        "One correction to the report: its printed derivative `σ'(x) = σ(x)/(1 − σ(x))` is a misprint for "
        "`σ(x)(1 − σ(x))` (see docs/derivation.md in the repository).",
        "",
        f"A run has *converged* once its epoch loss falls below {CONVERGED}.",
        "",
    ]


def _how_made(quick: bool, engine: str, seconds: float) -> list[str]:
    return [
        "## How this report was made",
        "",
        f"`tinygrad-hw report --out DIR{' --quick' if quick else ''}` ran every experiment with the {engine} "
        f"engine in {seconds:.1f} s. Each run's loss per epoch, accuracy and divergence are in `runs/` "
        "(`<experiment>_<setting>_seed<k>.json`), the figures in `figures/`.",
    ]
