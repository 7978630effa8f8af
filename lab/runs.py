"""The report's experiments: which settings, how many seeds, and running them.

A *setting* is one configuration of the report's network; an *outcome* is its runs,
one per seed, with what each run did (History), printed, predicted and learned.
Settings that recur across experiments (the report's 2-8-8-1 sigmoid network on XOR
is the results' run, the no-activation experiment's baseline, and the optimiser and
activation experiments' reference) are trained once per seed and shared.
"""

from __future__ import annotations

import dataclasses
import io
import math
import multiprocessing
import os
import re
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from tqdm import tqdm

from tinygrad_hw.history import History
from tinygrad_hw.nn import MLP
from tinygrad_hw.train import predict

from .experiment import DEFAULT_EPOCHS, train_report_network
from .lifeline import die_with_parent, let_signals_go, signals_held

__all__ = ["CONVERGED", "EPOCHS", "SEEDS", "Outcome", "Plan", "Setting", "plans", "run_all"]

CONVERGED = 0.01  # a run has converged once its epoch loss is below this
# Seeds per setting. Eight give 95 % intervals of ±0.84 sd around a mean, so the
# report's claims -- differences of several sd -- can be told from seed noise; three
# (--quick) tell only the largest. See lab/evidence.py.
SEEDS = {"full": tuple(range(1, 9)), "quick": (1, 2, 3)}
# Epochs of the discussion's runs and of the linear set's (XOR's results always train the report's 3,000)
EPOCHS = {"full": {"sweep": 3000, "linear": 1000}, "quick": {"sweep": 1000, "linear": 300}}


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

    @property
    def key(self) -> tuple[object, ...]:
        """What makes two settings the same training run (the label does not)."""
        return dataclasses.astuple(dataclasses.replace(self, label=""))


@dataclass
class Outcome:
    """A setting's runs, one per seed."""

    setting: Setting
    seeds: list[int] = field(default_factory=list)
    histories: list[History] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)  # the console lines of each run
    predictions: list[np.ndarray] = field(default_factory=list)  # on the training set
    models: list[MLP] = field(default_factory=list)

    @property
    def finished(self) -> list[History]:
        """The runs that did not diverge: only their accuracy and loss mean anything."""
        return [h for h in self.histories if not h.diverged]

    @property
    def diverged(self) -> list[History]:
        return [h for h in self.histories if h.diverged]

    @property
    def accuracies(self) -> list[float]:
        return [h.accuracy if h.accuracy is not None else math.nan for h in self.finished]

    @property
    def final_losses(self) -> list[float]:
        return [h.final_loss for h in self.finished]

    @property
    def mean_losses(self) -> list[float]:
        """Each finished run's loss averaged over its epochs: the area under its learning
        curve, lower for a loss that falls sooner."""
        return [float(np.mean(h.loss)) for h in self.finished if h.loss]

    @property
    def seconds(self) -> list[float]:
        """Each finished run's training time."""
        return [h.seconds for h in self.finished]

    @property
    def converged_at(self) -> list[int | None]:
        """For every run: the first epoch with loss below CONVERGED (None: never, or diverged)."""
        return [None if h.diverged else h.epochs_to(CONVERGED) for h in self.histories]


@dataclass
class Plan:
    """One experiment: its settings, trained from the same seeds."""

    key: str
    title: str
    settings: list[Setting]
    seeds: Sequence[int]


def plans(quick: bool) -> list[Plan]:
    """The report's results and discussion, and the lab's extras. The discussion uses the
    XOR set, as the report does."""
    seeds = SEEDS["quick" if quick else "full"]
    epochs = EPOCHS["quick" if quick else "full"]
    sweep, linear = epochs["sweep"], epochs["linear"]
    xor = Setting("XOR", "xor", epochs=DEFAULT_EPOCHS["xor"])
    return [
        Plan("results", "Results", [Setting("Linear", "linear", epochs=linear), xor], seeds),
        Plan(
            "learning_rate",
            "Learning rates (XOR, 4 hidden units per layer)",
            [Setting(f"lr {lr:g}", hidden=(4, 4), lr=lr, epochs=sweep) for lr in (1.0, 0.1, 0.01)],
            seeds,
        ),
        Plan(
            "hidden_units",
            "Hidden units (XOR, lr 0.1)",
            [Setting(f"{n} units", hidden=(n, n), epochs=sweep) for n in (2, 3, 4, 8)],
            seeds,
        ),
        Plan(
            "no_activation",
            "Without activation functions (XOR)",
            [Setting("sigmoid", epochs=sweep), Setting("no activation", activation="none", epochs=sweep)],
            seeds,
        ),
        Plan(
            "optimizer",
            "Optimisers (XOR; the lab's extra)",
            [
                Setting("SGD, lr 0.1", epochs=sweep),
                Setting("momentum 0.9, lr 0.1", optimizer="momentum", epochs=sweep),
                Setting("Adam, lr 0.01", optimizer="adam", lr=0.01, epochs=sweep),
            ],
            seeds,
        ),
        Plan(
            "activation",
            "Activation functions (XOR, hidden layers; the output stays a sigmoid; the lab's extra)",
            [Setting(a, activation=a, epochs=sweep) for a in ("sigmoid", "tanh", "relu")],
            seeds,
        ),
    ]


Run = tuple[History, str, np.ndarray, MLP]
Done = dict[tuple[object, ...], Run]  # each (setting.key, seed)'s run


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def run_one(setting: Setting, seed: int, engine: str) -> Run:
    """Train ``setting`` from ``seed``: its History, console, predictions and model."""
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
    return history, console.getvalue(), predict(model, X), model


def run_all(
    experiments: Sequence[Plan],
    engine: str,
    runs_folder: Path,
    progress: bool,
    run: Callable[[Setting, int, str], Run] | None = None,
    jobs: int | None = None,
) -> dict[str, list[Outcome]]:
    """Every setting of every plan, once per seed (a setting met again is not trained
    again), in ``jobs`` processes (default: one per core, at most 2); each run's History
    saved in ``runs_folder``; a progress bar over the runs. ``run`` trains one (setting,
    seed); by default :func:`run_one`."""
    run = run or run_one
    unique = {(s.key, seed): (s, seed) for p in experiments for s in p.settings for seed in p.seeds}
    workers = min(jobs or min(2, os.cpu_count() or 1), len(unique))  # never a process with nothing to do
    tasks = list(unique.values())
    if workers <= 1:
        done = _here(tasks, engine, run, progress)
    else:
        done = _in_workers(tasks, engine, run, workers, progress)
    outcomes: dict[str, list[Outcome]] = {}
    for plan in experiments:
        outcomes[plan.key] = []
        for setting in plan.settings:
            outcome = Outcome(setting)
            for seed in plan.seeds:
                history, log, pred, model = done[(setting.key, seed)]
                history.save(runs_folder / f"{plan.key}_{slug(setting.label)}_seed{seed}.json")
                outcome.seeds.append(seed)
                outcome.histories.append(history)
                outcome.logs.append(log)
                outcome.predictions.append(pred)
                outcome.models.append(model)
            outcomes[plan.key].append(outcome)
    return outcomes


def _progress(total: int, progress: bool) -> Any:
    return tqdm(total=total, disable=None if progress else True, unit="run", desc="report", file=sys.stderr)


Trainer = Callable[[Setting, int, str], Run]


def _here(tasks: list[tuple[Setting, int]], engine: str, run: Trainer, progress: bool) -> Done:
    """Each (setting, seed) trained in this process, one after the other."""
    done: Done = {}
    with _progress(len(tasks), progress) as bar:
        for setting, seed in tasks:
            bar.set_postfix_str(f"{setting.label}, seed {seed}")
            done[(setting.key, seed)] = run(setting, seed, engine)
            bar.update()
    return done


def _in_workers(tasks: list[tuple[Setting, int]], engine: str, run: Trainer, jobs: int, progress: bool) -> Done:
    """Each (setting, seed) trained in ``jobs`` worker processes; an interrupt or an error
    ends the workers at once and is raised here. A worker killed from outside is a
    ChildProcessError of one line; the workers die with this process, however it dies."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_started, initargs=(os.getpid(),))
    done: Done = {}
    try:
        # The first submit forks the workers: before the progress bar exists, whose monitor
        # thread could hold a lock at the moment of the fork and leave it held in a worker;
        # and with Ctrl-C and SIGTERM held (see lab.lifeline.signals_held), so that neither
        # is lost in an at-fork callback, and no worker runs this process's SIGTERM handler.
        with signals_held():
            futures = {pool.submit(run, setting, seed, engine): (setting.key, seed) for setting, seed in tasks}
        with _progress(len(tasks), progress) as bar:
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                bar.update()
    except BrokenProcessPool:
        _end(pool, set(multiprocessing.active_children()) - before)
        raise ChildProcessError(
            "a worker process of the report was killed before it finished (from outside, or out of memory?); "
            "no report was written"
        ) from None
    except BaseException:
        # Stop now, not after the runs already handed to the workers: end the workers.
        _end(pool, set(multiprocessing.active_children()) - before)
        raise
    pool.shutdown()
    return done


def _worker_started(parent: int) -> None:
    """First thing in each worker: die with the parent, and let SIGTERM end this process
    (the handler forked from the parent would only raise an exception in a run)."""
    die_with_parent(parent)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    let_signals_go()


def _end(pool: ProcessPoolExecutor, workers: set[Any]) -> None:
    """Cancel what has not started and end the workers: SIGTERM, then SIGKILL if need be."""
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(5)
        if worker.is_alive():
            worker.kill()
            worker.join()
