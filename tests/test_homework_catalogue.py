"""Each catalogued mistake, planted into a right solution, is caught, named by its id
and (network) localised to the layer it is in; right solutions pass under 20 seeds; a
mistake made only sometimes is not named."""

from __future__ import annotations

import re

import numpy as np
import pytest
from homework_helpers import CLASS, plant

from lab.homework.catalogue import MISTAKES, backward_variant
from lab.homework.checks import run_checks, seeded_cases
from lab.homework.network_checks import NETWORK_CHECKS, right_answer
from lab.homework.report import check
from lab.homework.sandbox import Sandbox
from lab.homework.submission import Submission

OUT, HIDDEN = "a[L] * (1 - a[L]) * 2 * (a[L] - y)", "delta = a[l] * (1 - a[l]) * (weights[l][:, :-1].T @ delta)"
OUTPUT_PRIME, HIDDEN_PRIME = "a[L] * (1 - a[L])", "delta = a[l] * (1 - a[l])"
STACK = "np.column_stack([np.outer(delta, a[l]), delta])"

# (id, changes to examples/class/network/ada.py, {check: (named id, wrong layer, words of the localisation)})
NETWORK = [
    (
        "sigmoid-misprint",
        [(OUTPUT_PRIME, "a[L] / (1 - a[L])"), (HIDDEN_PRIME, "delta = a[l] / (1 - a[l])")],
        {"backward-output": (1, "output layer)'s ∂C/∂z is wrong"), "backward-hidden": (2, "every layer below")},
    ),
    (
        "sigmoid-misprint",
        [(HIDDEN_PRIME, "delta = a[l] / (1 - a[l])")],
        {"backward-hidden": (1, "the output layer is right; layer 1's ∂C/∂z is wrong, so the recurrence is")},
    ),
    (
        "z-for-a",
        [(HIDDEN_PRIME, "delta = sigmoid(a[l]) * (1 - sigmoid(a[l]))")],
        {"backward-hidden": (1, "layer 1's ∂C/∂z is wrong, so the recurrence is")},
    ),
    (
        "mse-missing-2",
        [("* 2 * (a[L] - y)", "* (a[L] - y)")],
        {"backward-output": (1, "output layer)'s ∂C/∂z is wrong"), "backward-hidden": (2, "every layer below")},
    ),
    (
        "upstream-missing",
        [(HIDDEN, "delta = a[l] * (1 - a[l])")],
        {"backward-hidden": (1, "the output layer is right; layer 1's ∂C/∂z is wrong, so the recurrence is")},
    ),
    (
        "bias-gradient-missing",
        [(STACK, "np.column_stack([np.outer(delta, a[l]), np.zeros_like(delta)])")],
        {"backward-output": (1, "bias column is not ∂C/∂z"), "backward-hidden": (1, "bias column is not ∂C/∂z")},
    ),
    (
        "bias-gradient-missing",
        [(STACK, "np.outer(delta, a[l])")],
        {"backward-output": (1, "has shape (1, 1)"), "backward-hidden": (1, "has shape (1, 1)")},
    ),
    (
        "wrong-layer-input",
        [("np.outer(delta, a[l])", "np.outer(delta, a[l + 1])")],
        {
            "backward-output": (1, "not ∂C/∂z times the layer's input a_0"),
            "backward-hidden": (1, "not ∂C/∂z times the layer's input a_0"),
        },
    ),
]


# the report's own misprint and the recurrence's mistake run by default, every one in CI (slow)
FAST = {"sigmoid-misprint-0", "upstream-missing-4", "sub-sign-d_sub", "pow-exponent-d_pow"}


def _params(table: list[tuple], ids: list[str]) -> list:
    return [pytest.param(*row, id=i, marks=() if i in FAST else pytest.mark.slow) for row, i in zip(table, ids)]


@pytest.mark.parametrize(
    "mistake, changes, expected", _params(NETWORK, [f"{m}-{k}" for k, (m, _, _) in enumerate(NETWORK)])
)
def test_each_network_mistake_is_caught_named_and_localised(tmp_path, mistake, changes, expected):
    report = check(plant(tmp_path, "network", "planted", *changes), "network")
    results = {r.name: r for r in report.results}
    assert results["forward"].passed
    for name, r in results.items():
        if name not in expected:
            assert r.passed, f"{name} should pass: {r.reason}"
            continue
        layer, words = expected[name]
        assert not r.passed and r.mistake == mistake, (name, r.mistake, r.reason)
        assert r.marks.get("layer") == layer and words in r.where, (name, r.where)
        assert r.case is not None and r.case["sizes"] == ([1, 1] if name == "backward-output" else [1, 1, 1])


@pytest.mark.slow
def test_transposed_weights_is_named_where_a_square_matrix_shows_it(tmp_path):
    """Through W instead of Wᵀ: numpy's shape error where W is not square (the minimal
    case), wrong numbers where it is: named, and localised on the smallest network tried
    that returns numbers."""
    report = check(CLASS / "network" / "john.py", "network")
    hidden = next(r for r in report.results if r.name == "backward-hidden")
    assert hidden.mistake == "transposed-weights"
    assert hidden.reason.startswith("ValueError: matmul") and "john.py, line" in hidden.trace
    assert hidden.marks["layer"] == 1 and "layer 1's ∂C/∂z is wrong, so the recurrence is" in hidden.where
    assert "where it returns numbers" in hidden.where


LOCAL = [
    ("sigmoid-misprint", "d_sigmoid", ("return s * (1.0 - s)", "return s / (1.0 - s)")),
    ("z-for-a", "d_sigmoid", ("return s * (1.0 - s)", "return x * (1.0 - x)")),
    ("z-for-a", "d_tanh", ("return 1.0 - math.tanh(x) ** 2", "return 1.0 - x**2")),
    ("z-for-a", "d_exp", ("return math.exp(x)", "return math.exp(math.exp(x))")),
    ("sub-sign", "d_sub", ("return 1.0, -1.0", "return 1.0, 1.0")),
    ("div-sign", "d_div", ("return 1.0 / b, -a / b**2", "return 1.0 / b, a / b**2")),
    ("pow-exponent", "d_pow", ("return c * a ** (c - 1)", "return c * a**c")),
    ("mul-swapped", "d_mul", ("return b, a", "return a, b")),
]


@pytest.mark.parametrize("mistake, function, change", _params(LOCAL, [f"{m}-{f}" for m, f, _ in LOCAL]))
def test_each_local_mistake_is_caught_and_named(tmp_path, mistake, function, change):
    report = check(plant(tmp_path, "local", "planted", change), "local")
    failed = [r for r in report.results if not r.passed]
    assert [r.name for r in failed] == [function]
    assert failed[0].mistake == mistake and failed[0].case is not None


def test_the_reports_own_misprint_comes_first():
    assert MISTAKES[0].id == "sigmoid-misprint"
    ids = {m.id for m in MISTAKES}
    required = {"z-for-a", "mse-missing-2", "upstream-missing", "transposed-weights", "bias-gradient-missing"}
    assert required | {"wrong-layer-input", "sub-sign", "div-sign", "pow-exponent"} <= ids


def test_a_mistake_made_only_sometimes_is_not_named(tmp_path):
    """sub-sign for a > 0 only: wrong, but not equal to the variant on every case."""
    report = check(
        plant(tmp_path, "local", "sometimes", ("return 1.0, -1.0", "return 1.0, (1.0 if a > 0 else -1.0)")), "local"
    )
    sub = next(r for r in report.results if r.name == "d_sub")
    assert not sub.passed and sub.mistake is None


def test_a_right_answer_is_never_named_a_mistake():
    """Naming needs a case where the variant differs from the right answer: a right
    answer on every case matches no variant of any mistake."""
    from lab.homework.checks import Verdict, _matches
    from lab.homework.local_checks import LOCAL_CHECKS
    from lab.homework.protocol import Returned

    for check_ in [*NETWORK_CHECKS[1:], *LOCAL_CHECKS]:
        tried = []
        for case in seeded_cases(check_, 0):
            right = check_.right(case)
            value = [a.tolist() for a in right_answer(case)[1]] if check_.function == "backward" else list(right)
            value = value[0] if check_.function != "backward" and len(value) == 1 else value
            tried.append((case, Returned(value), Verdict(True)))
        for mistake in MISTAKES:
            for wrong in mistake.variants.get(check_.function, ()):
                assert not _matches(check_, wrong, tried), (mistake.id, check_.name)


def test_every_mistake_differs_from_the_right_answer_somewhere():
    from lab.homework.local_checks import LOCAL_CHECKS

    checks = {c.function: c for c in [*LOCAL_CHECKS, NETWORK_CHECKS[2]]}
    for mistake in MISTAKES:
        for function, variants in mistake.variants.items():
            check_ = checks[function]
            for wrong in variants:
                assert any(not _same_or_undefined(check_, wrong, c) for c in seeded_cases(check_, 0)), mistake.id


def test_the_variant_without_changes_is_the_engines_answer():
    for case in seeded_cases(NETWORK_CHECKS[2], 3):
        activations, grads = right_answer(case)
        ours = backward_variant(case.arrays(), activations, case.y)
        assert all(np.allclose(a, b, rtol=1e-12, atol=1e-15) for a, b in zip(ours, grads))


def _full_marks(exercise: str, seeds: range) -> None:
    from lab.homework.report import CHECKS

    solutions = [CLASS / exercise / "ada.py"] + ([CLASS / "network" / "alan.py"] if exercise == "network" else [])
    for path in solutions:
        with Sandbox(Submission.read(path, exercise)) as box:
            for seed in seeds:
                results = run_checks(CHECKS[exercise], box, {c.name: seed for c in CHECKS[exercise]})
                failed = [(r.name, r.reason, r.case) for r in results if not r.passed]
                assert not failed, (path.name, seed, failed)


@pytest.mark.parametrize("exercise", ["network", "local"])
def test_right_solutions_score_full_marks_under_3_seeds(exercise):
    _full_marks(exercise, range(100, 103))


@pytest.mark.slow
@pytest.mark.parametrize("exercise", ["network", "local"])
def test_right_solutions_score_full_marks_under_20_seeds(exercise):
    """No flaky check: 20 seeds, each a different draw of every check's cases."""
    _full_marks(exercise, range(20))


def _same_or_undefined(check_, wrong, case) -> bool:
    try:
        return check_.same(check_.variant(wrong, case), check_.right(case))
    except (ArithmeticError, ValueError):
        return False


RECURRENCE = "delta = a[l] * (1 - a[l]) * (weights[l][:, :-1].T @ delta)"


@pytest.mark.parametrize(
    "bug, sizes, layer",
    [
        # wrong only below the second hidden layer of 4 layers: hypothesis draws at most 3,
        # so only the report's 3-4-4-4-1 (seeded weights) failed, and it was the "minimal" case
        ("if l == 2 and L >= 4:\n                delta = 2 * delta", [1, 1, 1, 1, 1], 2),
        # wrong only in a hidden layer of 3 units or more: hypothesis stopped at 3-6-1
        ("if len(delta) >= 3:\n                delta[0] = 0.0", [1, 3, 1], 1),
        # wrong only where a layer is square (2 units, 2 inputs): a unit taken from one
        # layer alone makes it pass, so the equal widths must shrink together (1-5-5-1)
        ("if l == 2 and len(delta) == len(a[l - 1]) > 1:\n                delta = delta[::-1].copy()", [1, 2, 2, 1], 2),
    ],
    ids=["deep", "wide", "square"],
)
def test_a_failure_shrinks_to_the_smallest_network_that_shows_it(tmp_path, bug, sizes, layer):
    path = plant(tmp_path, "network", "planted", (RECURRENCE, f"{RECURRENCE}\n            {bug}"))
    hidden = next(r for r in check(path, "network").results if r.name == "backward-hidden")
    assert not hidden.passed and hidden.mistake is None
    assert hidden.case["sizes"] == sizes and hidden.marks["layer"] == layer, (hidden.case, hidden.where)
    numbers = [w for W in hidden.case["weights"] for row in W for w in row] + hidden.case["x"]
    assert all(4 * w == int(4 * w) and abs(w) <= 2 for w in numbers), hidden.case  # quarters, as drawn


def test_a_minimal_case_that_raised_points_at_one_that_returned_wrong_numbers(tmp_path):
    """1/ln(x) for d_log raises at x = 1 (the minimal case) and is wrong elsewhere: the
    check says where it returns wrong numbers, with the case and the numbers (for one
    number there is no part to name: it said '...where it returns numbers: ' and stopped)."""
    report = check(plant(tmp_path, "local", "logs", ("return 1.0 / x", "return 1.0 / math.log(x)")), "local")
    log = next(r for r in report.results if r.name == "d_log")
    assert log.reason.startswith("ZeroDivisionError") and log.case == {"x": 1.0} and log.mistake == "z-for-a"
    assert re.fullmatch(
        r"on the smallest case tried where it returns numbers, x = \S+: yours \S+, right \S+", log.where
    )


def test_right_numbers_in_the_wrong_places_are_called_so(tmp_path):
    """The bias column first: every number right, its δ unreadable where the contract
    puts it; the localisation said 'the output layer's ∂C/∂z is wrong', which it is not."""
    path = plant(tmp_path, "network", "first", (STACK, "np.column_stack([delta, np.outer(delta, a[l])])"))
    output = next(r for r in check(path, "network").results if r.name == "backward-output")
    assert not output.passed and output.mistake is None and output.marks["layer"] == 1
    assert "layer 1 (the output layer)'s ∂C/∂W holds the right numbers, in the wrong places" in output.where


def test_a_layer_of_the_wrong_shape_is_not_called_right():
    """backward-hidden looks at the output layer only for the δ it passes down; when that
    layer's ∂C/∂W had the wrong shape (bias column dropped), it said 'the output layer's
    ∂C/∂z is right' without reading it."""
    from lab.homework.network_checks import localise

    case = seeded_cases(NETWORK_CHECKS[2], 0)[2]  # the 1-1-1
    activations, grads = right_answer(case)
    dropped = [g[:, :-1] for g in grads]
    where, marks = localise(dropped, grads, activations, [1])
    assert where == "layer 1's ∂C/∂W has shape (1, 1), not (1, 2)" and marks == {"layer": 1}
