"""Grad mode belongs to a thread and an asyncio task, as PyTorch's does (issue 10, finding 1)."""

import asyncio
import threading

import numpy as np
import pytest

from tinygrad_hw import Value, is_grad_enabled, no_grad
from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.nn import MLP
from tinygrad_hw.replay import jit
from tinygrad_hw.train import fit, predict


def test_no_grad_in_one_thread_does_not_stop_another_from_recording():
    inside, done = threading.Event(), threading.Event()

    def evaluate():
        with no_grad():
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=evaluate)
    thread.start()
    try:
        assert inside.wait(10)
        x, y = Value(2.0), Value(3.0)
        z = x * y  # this thread never entered no_grad
        assert is_grad_enabled() and z._prev == (x, y)
    finally:
        done.set()
        thread.join()
    assert is_grad_enabled()


def test_threads_that_predict_at_once_leave_training_intact():
    X, y = generate_xor_easy()
    alone = MLP(2, [4, 4, 1], seed=3)
    fit(alone, X, y, epochs=20, verbose=False, progress=False)

    spectator = MLP(2, [4, 4, 1], seed=5)
    start = threading.Barrier(4)

    def keep_predicting():
        start.wait()
        for _ in range(30):
            predict(spectator, X)

    threads = [threading.Thread(target=keep_predicting) for _ in range(3)]
    for t in threads:
        t.start()
    beside = MLP(2, [4, 4, 1], seed=3)
    start.wait()
    fit(beside, X, y, epochs=20, verbose=False, progress=False)  # a training thread beside predicting ones
    for t in threads:
        t.join()
    assert [p.data for p in beside.parameters()] == [p.data for p in alone.parameters()]
    assert is_grad_enabled()
    trained = MLP(2, [4, 4, 1], seed=3)
    before = [p.data for p in trained.parameters()]
    fit(trained, X, y, epochs=2, engine="replay", verbose=False, progress=False)
    assert [p.data for p in trained.parameters()] != before


def test_each_asyncio_task_has_its_own_grad_mode():
    async def evaluating(entered: asyncio.Event, leave: asyncio.Event) -> bool:
        with no_grad():
            entered.set()
            await leave.wait()
            return is_grad_enabled()

    async def recording(entered: asyncio.Event, leave: asyncio.Event) -> tuple:
        await entered.wait()
        x = Value(1.5)
        y = x.exp()
        leave.set()
        return is_grad_enabled(), y._prev == (x,)

    async def main():
        entered, leave = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(evaluating(entered, leave), recording(entered, leave))

    inside_no_grad, (enabled, recorded) = asyncio.run(main())
    assert inside_no_grad is False and enabled and recorded


def test_enable_grad_and_set_grad_enabled_follow_pytorch():
    from tinygrad_hw import enable_grad, set_grad_enabled

    with no_grad():
        with enable_grad():
            assert is_grad_enabled() and (Value(1.0) + 1)._prev
        assert not is_grad_enabled()
    with set_grad_enabled(False):
        assert not is_grad_enabled()
    assert is_grad_enabled()
    set_grad_enabled(False)  # called on its own: sets the mode of this thread
    try:
        assert not is_grad_enabled() and not (Value(1.0) * 2)._prev
    finally:
        set_grad_enabled(True)
    with pytest.raises(TypeError, match="True or False"):
        set_grad_enabled("no")


def test_one_no_grad_object_can_be_entered_again_while_active():
    guard = no_grad()
    with guard:
        with guard:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()

    @no_grad()
    def depth(n):
        assert not is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3 and is_grad_enabled()


def test_a_replay_compiled_inside_no_grad_still_records_its_graph():
    w = Value(2.0)
    step = jit(lambda x: (w * x).sigmoid())
    with no_grad():
        first = step(0.5)
    second = step(0.5)
    assert first == second
    assert w.grad == pytest.approx(2 * 0.5 * second * (1 - second))
    assert np.isfinite(w.grad)


# -- one no_grad() object shared (issue 22, #6) -------------------------------------------------


def test_one_no_grad_object_shared_by_threads():
    shared = no_grad()
    start = threading.Barrier(4)
    problems = []

    def evaluate():
        try:
            start.wait()
            for _ in range(50):
                with shared:
                    x = Value(2.0)
                    if not (x * x).is_leaf or is_grad_enabled():
                        problems.append("recorded inside no_grad")
                    threading.Event().wait(0.0001)  # let the others enter and leave meanwhile
            if not is_grad_enabled():
                problems.append("grad mode left off")
        except Exception as error:  # a ValueError from a token of another context, before the fix
            problems.append(repr(error))

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    assert is_grad_enabled()


def test_one_no_grad_object_shared_by_asyncio_tasks_and_nested():
    shared = no_grad()

    async def task(delay: float) -> tuple[bool, bool]:
        with shared:
            await asyncio.sleep(delay)
            inside = is_grad_enabled()
        return inside, is_grad_enabled()

    async def main():
        return await asyncio.gather(task(0.02), task(0.0), task(0.01))

    assert asyncio.run(main()) == [(False, True)] * 3
    with shared:
        with shared:  # entered again while active: each exit restores what its entry found
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()
