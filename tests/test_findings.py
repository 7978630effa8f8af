"""The report's words follow its numbers: each verdict and sentence of lab.findings fed
constructed outcomes -- a tie, a clear difference, a divergence -- and read back."""

import math

from lab.findings import (
    AGREES,
    DISAGREES,
    IN_PART,
    accuracy_finding,
    hidden_unit_findings,
    learning_rate_findings,
    no_activation_finding,
    sweep_sentences,
)
from lab.runs import Outcome, Setting
from lab.sections import accuracy_text, diverged_text, setting_row
from tinygrad_hw.history import History

NO_CLEAR = "no clear difference at 3 seeds"


def runs(accuracy, final, mean=None, seconds=0.1, diverged=(), **setting):
    """Three seeds' runs of one setting: each seed's accuracy, final loss and mean loss
    over training (a list, or one number for all three, spread ±1 %); the seeds (0, 1, 2)
    listed in ``diverged`` stop at a non-finite loss at epoch 5."""

    def per_seed(v):
        return list(v) if isinstance(v, (list, tuple)) else [v * 0.99, v, v * 1.01]

    accuracy, final, seconds = per_seed(accuracy), per_seed(final), per_seed(seconds)
    mean = per_seed(mean if mean is not None else final)
    histories = []
    for k in range(3):
        if k in diverged:
            histories.append(History(loss=[0.3] * 4 + [math.nan], accuracy=0.5, diverged_at=5, epochs=10))
        else:  # two epochs whose average is the mean loss and whose last is the final loss
            loss = [2 * mean[k] - final[k], final[k]]
            histories.append(History(loss=loss, accuracy=accuracy[k], epochs=2, seconds=seconds[k]))
    label = setting.pop("label", "A")
    return Outcome(Setting(label, **setting), [1, 2, 3], histories)


def by_lr(small, mid, large):
    return {0.01: small, 0.1: mid, 1.0: large}


# -- learning rates -------------------------------------------------------------------------


def test_a_tie_in_learning_rates_is_no_finding():
    # quick mode's 0.2500 against 0.2506: means apart by less than the seeds' spread
    small = runs(accuracy=[0.5, 0.52, 0.55], final=[0.249, 0.25, 0.252], mean=[0.25, 0.251, 0.253])
    mid = runs(accuracy=[0.52, 0.52, 0.57], final=[0.2495, 0.2506, 0.2512], mean=[0.2504, 0.2506, 0.2525])
    large = runs(accuracy=[0.48, 0.52, 0.57], final=[0.2505, 0.2506, 0.2522], mean=[0.2504, 0.2516, 0.2525])
    findings = learning_rate_findings(by_lr(small, mid, large))
    assert [f.verdict for f in findings] == [NO_CLEAR] * 3
    assert "no rate clearly better" in findings[2].evidence and "none clearly worse" in findings[2].evidence


def test_the_reports_learning_rate_story_clearly_told_agrees():
    small = runs(accuracy=0.52, final=0.25, mean=0.25)  # slow and inaccurate
    mid = runs(accuracy=1.0, final=0.002, mean=0.05)
    large = runs(accuracy=0.7, final=0.15, mean=0.16)  # stuck away from the minimum
    lr_small, lr_large, adequate = learning_rate_findings(by_lr(small, mid, large))
    assert (lr_small.verdict, lr_large.verdict, adequate.verdict) == (AGREES, AGREES, AGREES)
    assert "the 95 % intervals do not overlap" in lr_small.evidence
    assert "clearly worse: lr 1, lr 0.01" in adequate.evidence
    assert lr_small.row().endswith("| **agrees** |") and "(IV.1)" in lr_small.row()


def test_a_clear_difference_the_other_way_disagrees():
    small = runs(accuracy=1.0, final=0.001, mean=0.02)  # lr 0.01 fastest: against the report
    mid = runs(accuracy=0.6, final=0.2, mean=0.24)
    large = runs(accuracy=1.0, final=0.0005, mean=0.01)  # lr 1 best: against it too
    lr_small, lr_large, adequate = learning_rate_findings(by_lr(small, mid, large))
    assert (lr_small.verdict, lr_large.verdict, adequate.verdict) == (DISAGREES,) * 3
    assert "clearly better: lr 1, lr 0.01" in adequate.evidence


def test_half_the_claim_clear_and_half_tied_agrees_in_part():
    small = runs(accuracy=[0.5, 1.0, 0.75], final=0.25, mean=0.25)  # slow, but accuracy tied
    mid = runs(accuracy=[1.0, 0.6, 0.8], final=0.01, mean=0.05)
    large = runs(accuracy=0.7, final=0.15, mean=0.16)
    assert learning_rate_findings(by_lr(small, mid, large))[0].verdict == IN_PART


# -- hidden units ---------------------------------------------------------------------------


def widths(*columns):
    """Outcomes for 2, 3, 4 and 8 units from (accuracy, mean loss, seconds) per width."""
    return [
        runs(accuracy=a, final=m, mean=m, seconds=s, label=f"{n} units", hidden=(n, n))
        for n, (a, m, s) in zip((2, 3, 4, 8), columns)
    ]


def test_wider_clearly_faster_more_accurate_and_slower_agrees():
    findings = hidden_unit_findings(widths((0.5, 0.25, 0.1), (0.6, 0.2, 0.2), (0.7, 0.15, 0.3), (0.9, 0.05, 0.6)))
    assert [f.verdict for f in findings] == [AGREES] * 3
    assert "2 units → 3 units" in findings[0].evidence and "clearly as claimed" in findings[0].evidence


def test_a_step_that_goes_clearly_the_other_way_disagrees_and_a_tied_step_makes_it_in_part():
    # mean loss: 3 units clearly worse than 2 -- against "more units, faster"
    findings = hidden_unit_findings(widths((0.5, 0.2, 0.1), (0.6, 0.25, 0.2), (0.7, 0.15, 0.3), (0.9, 0.05, 0.6)))
    assert findings[0].verdict == DISAGREES and "clearly against the claim" in findings[0].evidence
    # accuracy: 2 → 3 tied (the same mean), the other steps clear
    tied = hidden_unit_findings(widths((0.6, 0.25, 0.1), (0.6, 0.2, 0.2), (0.7, 0.15, 0.3), (0.9, 0.05, 0.6)))
    assert tied[1].verdict == IN_PART


def test_widths_the_seeds_cannot_tell_apart_are_no_finding():
    noisy = [0.5, 0.7, 0.9]
    findings = hidden_unit_findings(widths(*[(noisy, [0.1, 0.2, 0.3], [0.1, 0.3, 0.5])] * 4))
    assert [f.verdict for f in findings] == [NO_CLEAR] * 3


# -- divergence -----------------------------------------------------------------------------


def test_every_seed_overflowing_agrees_with_the_report():
    finding = no_activation_finding(runs(accuracy=0.5, final=0.25, diverged=(0, 1, 2)))
    assert finding.verdict == AGREES
    assert finding.evidence == "3 of 3 seeds overflowed (first non-finite loss at epoch 5)"


def test_some_seeds_overflowing_agrees_in_part_and_the_rest_are_reported_apart():
    finding = no_activation_finding(runs(accuracy=[0.0, 0.5, 0.6], final=0.25, diverged=(0,)))
    assert finding.verdict == IN_PART
    assert (
        finding.evidence.startswith("1 of 3 seeds overflowed")
        and "the 2 that did not end at 55.0 %" in finding.evidence
    )
    assert no_activation_finding(runs(accuracy=0.5, final=0.25)).verdict == DISAGREES


def test_diverged_runs_are_counted_never_averaged():
    o = runs(accuracy=1.0, final=0.01, diverged=(2,))
    assert o.accuracies == [0.99, 1.0] and len(o.final_losses) == 2  # the diverged run's 0.5 is not in
    assert accuracy_text(o) == "99.5 % ± 0.7 (2 of 3 finished)"
    assert diverged_text(o) == "**1 of 3** (epoch 5)"
    assert "| 99.5 % ± 0.7 (2 of 3 finished) |" in setting_row(o, "–")
    gone = runs(accuracy=1.0, final=0.01, diverged=(0, 1, 2))
    assert accuracy_text(gone) == "– (every run diverged)"
    assert "| – (every run diverged) | – | – |" in setting_row(gone, "–")


# -- results --------------------------------------------------------------------------------


def test_the_100_percent_claim_counts_seeds():
    perfect, short = runs(accuracy=[1.0] * 3, final=0.001), runs(accuracy=[1.0, 0.95, 1.0], final=0.01)
    assert accuracy_finding([perfect, perfect]).verdict == AGREES
    mixed = accuracy_finding([perfect, short])
    assert mixed.verdict == IN_PART and "A: 100 % in 2 of 3 seeds" in mixed.evidence
    assert accuracy_finding([runs(accuracy=0.9, final=0.1)]).verdict == DISAGREES


# -- the lab's extras -----------------------------------------------------------------------


def said(*outcomes):
    return " ".join(sweep_sentences(outcomes, "setting"))


def test_a_sweep_names_the_measure_each_clear_difference_is_on():
    text = said(
        runs(accuracy=1.0, final=0.001, label="best"),
        runs(accuracy=0.6, final=0.2, label="worse by both"),
        runs(accuracy=[1.0, 1.0, 1.0], final=0.01, label="worse by loss"),
    )
    assert text.startswith("“best” has the highest mean accuracy (100.0 % ± 1.0)")
    assert "the lowest final loss of the settings tied with it" in text
    assert (
        "clearly better than “worse by both” (by accuracy and final loss) and “worse by loss” (by final loss)" in text
    )


def test_a_sweep_the_seeds_cannot_split_says_so():
    text = said(
        runs(accuracy=[0.9, 1.0, 0.8], final=[0.01, 0.02, 0.03], label="a"),
        runs(accuracy=[0.7, 1.0, 0.9], final=[0.015, 0.02, 0.025]),
    )
    assert "Between it and “A” there is no clear difference at 3 seeds." in text and "clearly" not in text


def test_a_sweep_with_a_setting_better_on_one_measure_and_worse_on_the_other_says_both():
    text = said(runs(accuracy=1.0, final=0.1, label="accurate"), runs(accuracy=0.8, final=0.001, label="low loss"))
    assert "“low loss” is clearly better than it by final loss, though clearly worse by accuracy." in text


def test_a_sweep_counts_diverged_runs_apart():
    text = said(runs(accuracy=1.0, final=0.001, label="fine"), runs(accuracy=1.0, final=0.001, diverged=(1,)))
    assert "1 of 3 runs of “A” diverged (first non-finite loss at epoch 5); its numbers are over the other 2." in text
    everything = said(runs(accuracy=1.0, final=0.1, diverged=(0, 1, 2)))
    assert everything == "Every run of every setting diverged."
