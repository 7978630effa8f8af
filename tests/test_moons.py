"""micrograd's demo reproduced: its data (against scikit-learn), its run, its figure."""

import io

import numpy as np
import pytest
from optional import need

from lab.cli import main
from lab.moons import train_moons
from tinygrad_hw.data import make_moons


@pytest.mark.parametrize(("n", "noise", "seed"), [(100, 0.1, 1337), (7, 0.3, 0), (1, 0.0, 5), (250, 0.05, 42)])
def test_make_moons_is_scikit_learns(n, noise, seed):
    try:
        from sklearn.datasets import make_moons as sklearn_moons
    except ImportError:
        sklearn_moons = None
    need(None if sklearn_moons else "scikit-learn is missing: pip install -e '.[dev]' (make test does it)")
    X, y = make_moons(n, noise, seed)
    X_sk, y_sk = sklearn_moons(n_samples=n, noise=noise, random_state=seed)
    assert np.array_equal(X, X_sk) and np.array_equal(y[:, 0], y_sk) and y.shape == (n, 1)


def test_without_a_seed_the_global_state_as_after_the_demos_np_random_seed():
    np.random.seed(1337)
    first = make_moons()
    np.random.seed(1337)
    assert np.array_equal(make_moons()[0], first[0]) and np.array_equal(first[0], make_moons(seed=1337)[0])


@pytest.mark.parametrize(("args", "message"), [((0,), "positive integer"), ((10, -0.1), "standard deviation")])
def test_make_moons_refuses_bad_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        make_moons(*args)


@pytest.mark.slow
def test_the_demo_reaches_100_percent_with_micrograds_numbers():
    printed = io.StringIO()
    run = train_moons(file=printed)
    lines = printed.getvalue().splitlines()
    assert lines[0] == "step 0 loss 0.8958441028683222, accuracy 50.0%"  # the demo notebook's first line
    assert run.accuracies[-1] == 1.0 and run.final_accuracy == 1.0
    assert run.losses[-1] == pytest.approx(0.010978, abs=1e-6)


def test_the_first_steps_of_both_engines_agree():
    eager, replay = train_moons(steps=3), train_moons(steps=3, engine="replay")
    assert eager.losses[0] == replay.losses[0]  # a replay's first call is an eager step
    assert replay.losses == pytest.approx(eager.losses, rel=1e-12)  # then numpy's matrix products round their own way
    ours, theirs = [p.data for p in eager.model.parameters()], [p.data for p in replay.model.parameters()]
    assert theirs == pytest.approx(ours, rel=1e-12, abs=1e-15)


def test_the_moons_command_draws_the_boundary(tmp_path, capsys):
    assert main(["moons", "--steps", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("step 0 loss 0.8958441028683222, accuracy 50.0%") and "Accuracy:" in out
    assert (tmp_path / "moons_boundary.png").stat().st_size > 10_000


def test_the_learning_rate_is_the_demos_then_stays_positive():
    """`moons --steps 150` went on with 1.0 - 0.9·k/100: negative from step 112, so the
    last steps climbed the loss."""
    from lab.moons import demo_learning_rate

    assert [demo_learning_rate(k) for k in range(101)] == [1.0 - 0.9 * k / 100 for k in range(101)]
    assert [demo_learning_rate(k) for k in (101, 112, 150, 10**6)] == [demo_learning_rate(100)] * 4
