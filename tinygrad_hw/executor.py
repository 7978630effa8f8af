"""What every replay executor is: one recorded graph, run again on new numbers.

``replay.record`` compiles a graph into one of three executors (``replay.choose``
picks by cost): straight-line code (``straightline.py``), a loop over the graph
(``looped.py``) or a numpy program (``numpyprogram.py``). ``fit`` and ``jit`` use
them through this one interface, :class:`Executor`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["EXECUTORS", "Executor", "FloatSteps"]

EXECUTORS = ("straight-line", "looped", "numpy")  # their names, as ``record(executor=...)`` takes them


class Executor(Protocol):
    """One recorded graph, compiled: its loss and gradients for the parameters' data ``W``
    (in the recording's ``params`` order) and the inputs ``X``."""

    source: str  # what it runs, for reading

    def run(self, W: Sequence[float], X: Any) -> tuple[float, Sequence[float]]:
        """(loss, ∂loss/∂W), as ``loss.backward()`` would give them."""
        ...

    def sgd(self, W: Sequence[float], X: Any, lr: float) -> tuple[float, Any]:
        """(loss, W - lr · ∂loss/∂W)."""
        ...

    # fit's fused loop: the weights held in the executor's own form (``pack``) between steps

    def pack(self, W: Sequence[float]) -> Any:
        """The weights in the form ``fused_sgd`` takes and returns."""
        ...

    def fused_sgd(self, state: Any, X: Any, lr: float) -> tuple[float, Any]:
        """One SGD step: (loss, the next state); the same state if the loss is not finite."""
        ...

    def unpack(self, state: Any) -> list[float]:
        """The weights of a state, in ``params`` order."""
        ...


class FloatSteps:
    """An :class:`Executor` over Python floats, from one function ``step(W, X, lr=None)``
    giving ``(loss, gradients)``, or with ``lr`` ``(loss, W - lr · gradients)``; the
    weights are held as a tuple between fused steps."""

    source: str  # set by each subclass

    def __call__(self, W: Sequence[float], X: Any, lr: float | None = None) -> tuple[float, tuple[float, ...]]:
        raise NotImplementedError

    def run(self, W: Sequence[float], X: Any) -> tuple[float, tuple[float, ...]]:
        return self(W, X)

    def sgd(self, W: Sequence[float], X: Any, lr: float) -> tuple[float, tuple[float, ...]]:
        return self(W, X, lr)

    def pack(self, W: Sequence[float]) -> tuple[float, ...]:
        return tuple(W)

    def fused_sgd(self, state: tuple[float, ...], X: Any, lr: float) -> tuple[float, tuple[float, ...]]:
        loss, stepped = self(state, X, lr)
        return loss, (stepped if math.isfinite(loss) else state)

    def unpack(self, state: tuple[float, ...]) -> list[float]:
        return list(state)
