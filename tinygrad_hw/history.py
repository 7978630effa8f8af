"""What a training run did, epoch by epoch: kept, plotted and saved.

Its own small module so that drawings and reports can read a run without
importing the training machinery.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from .atomic import PathLike, write_atomic

__all__ = ["Divergence", "History", "jsonable"]


@dataclass
class Divergence:
    """Where and why a run stopped being finite (``tinygrad_hw.diagnose`` finds it by
    re-running the epoch eagerly): the first node whose value or gradient was not
    finite, the sample, and the chain of values that led there."""

    epoch: int  # the epoch of the first non-finite number (counted from 1)
    step: int  # the step within that epoch (counted from 0)
    samples: list[int]  # the training samples of that step (row indices of X)
    sample: int | None  # the one sample whose graph holds the node, if only one does
    node: str  # the node's label (or how the graph names it): "z3[1]"
    kind: str  # "value" (forward), "gradient" (backward) or "update" (the optimizer's step)
    value: float  # what it became: nan, inf or -inf
    chain: list[tuple[str, float]] = field(default_factory=list)  # the node, then the largest inputs back
    reason: str = ""  # why, in a sentence: "without an activation each layer multiplies the last, unbounded"
    growth: list[float] = field(default_factory=list)  # the largest |parameter| before each step of that epoch
    message: str = ""  # all of it, as fit prints it


@dataclass
class History:
    """What a training run did, epoch by epoch."""

    loss: list[float] = field(default_factory=list)  # mean training loss of each epoch run
    accuracy: float | None = None  # fraction of training samples right after training
    diverged_at: int | None = None  # the epoch whose loss was not finite
    epochs: int = 0  # epochs asked for
    steps: int = 0  # optimisation steps completed
    seconds: float = 0.0
    engine: str = "eager"
    message: str = ""
    divergence: Divergence | None = None  # where and why it diverged (fit fills it in)

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.loss else math.nan

    def epochs_to(self, threshold: float) -> int | None:
        """The first epoch whose loss is below ``threshold`` (None if never)."""
        return next((i + 1 for i, x in enumerate(self.loss) if x < threshold), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: PathLike) -> None:
        """JSON (``.json``) or CSV of epoch and loss (any other suffix), written atomically.

        JSON has no NaN or infinity: a diverged run's last loss is written as ``null``
        (strict parsers reject a bare ``NaN``); the CSV keeps ``nan`` and ``inf``."""
        if str(path).endswith(".json"):
            text = json.dumps(jsonable(self.to_dict()), indent=1, allow_nan=False)
        else:
            text = "epoch,loss\n" + "".join(f"{i + 1},{x!r}\n" for i, x in enumerate(self.loss))
        write_atomic(path, text)


def jsonable(data: Any) -> Any:
    """``data`` with every non-finite float (and numpy number) made JSON: NaN and ±inf
    become ``None``, which JSON writes as ``null``."""
    if isinstance(data, dict):
        return {key: jsonable(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [jsonable(value) for value in data]
    if type(data).__module__ == "numpy" and hasattr(data, "item"):
        data = data.item()  # a numpy scalar as the Python number it holds
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    return data
