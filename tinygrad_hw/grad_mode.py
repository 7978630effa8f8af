"""Grad mode: whether ops record the graph, per thread and per asyncio task.

A context variable, as PyTorch's grad mode is thread-local: each thread, and each
asyncio task, has its own, so one thread's ``no_grad()`` never switches recording
off for another. The kernels call :data:`recording` at every op.
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable, TypeVar, cast

from .checks import type_name

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "recording", "set_grad_enabled"]

_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("tinygrad_hw_grad_enabled", default=True)
# What each ``with`` block of a switch must restore, innermost last, for the context that entered it.
# Kept per context rather than on the switch: one no_grad() object may be entered by several threads
# or tasks at once, and each must get back what it found.
_entered: contextvars.ContextVar[tuple[contextvars.Token[bool], ...]] = contextvars.ContextVar(
    "tinygrad_hw_grad_mode_entered", default=()
)

recording: Callable[[], bool] = _grad_enabled.get  # the kernels' check: a C call, no Python frame

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """Whether ops record the graph in the current thread and asyncio task."""
    return _grad_enabled.get()


class _GradModeSwitch:
    """Set grad mode for a ``with`` block (or a decorated function), then restore it.

    The setting is per thread and per asyncio task, and one switch may be entered
    again while it is active -- nested, by a recursive decorated call, or by
    another thread or task -- since what each entry must restore is kept in the
    entering context, not on the switch.
    """

    enabled = True

    def __enter__(self) -> None:
        token = _grad_enabled.set(self.enabled)
        _entered.set((*_entered.get(), token))

    def __exit__(self, *exc: object) -> None:
        entered = _entered.get()
        _entered.set(entered[:-1])
        _grad_enabled.reset(entered[-1])

    def __call__(self, fn: F) -> F:
        switch = enable_grad if self.enabled else no_grad  # a new switch per call: recursion nests

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with switch():
                return fn(*args, **kwargs)

        return cast(F, wrapper)


class no_grad(_GradModeSwitch):
    """Context manager (or decorator): operations inside build no graph.

    Results are leaves, so nothing is kept alive for a backward pass that will not
    come -- for evaluation and for updating parameters. As in PyTorch, grad mode
    belongs to the current thread and asyncio task: a ``no_grad()`` in one thread
    does not stop another from recording. One ``no_grad()`` object may be shared:
    each thread or task entering it gets its own mode back on leaving.
    """

    enabled = False


class enable_grad(_GradModeSwitch):
    """Context manager (or decorator): record the graph, even inside ``no_grad()``."""

    enabled = True


class set_grad_enabled(_GradModeSwitch):
    """PyTorch's ``set_grad_enabled(mode)``: sets grad mode for the current thread or
    task at once; used in a ``with``, restores the previous mode on leaving it."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled() takes True or False, not {type_name(mode)}")
        self.enabled = mode
        self._previous = _grad_enabled.get()
        _grad_enabled.set(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.set(self._previous)
