"""The class page, ``index.html``: the score distribution, how often each check passed,
the most common mistakes (with counts) and each student's line, linking their feedback.

One self-contained file (no script, no network): bars are inline SVG. Every text that
came from a submission is escaped.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from urllib.parse import quote

from .catalogue import MISTAKES
from .graded import Graded
from .report import CHECKS

__all__ = ["class_page", "distribution", "mistake_counts"]

BINS = 10


def distribution(graded: list[Graded]) -> list[int]:
    """Students per tenth of the maximum score (the last bin holds full marks)."""
    counts = [0] * BINS
    for g in graded:
        share = g.score / g.max_score if g.max_score else 0.0
        counts[min(int(share * BINS), BINS - 1)] += 1
    return counts


def mistake_counts(graded: list[Graded]) -> list[tuple[str, int]]:
    """Each catalogued mistake with the number of students who made it, most common first."""
    counts: Counter[str] = Counter()
    for g in graded:
        counts.update({c["result"]["mistake"] for c in g.checks if c["result"]["mistake"]})
    order = [m.id for m in MISTAKES]
    return sorted(counts.items(), key=lambda item: (-item[1], order.index(item[0])))


def _reasons(graded: list[Graded]) -> list[tuple[str, int]]:
    """Failures with no catalogued mistake, by what went wrong (an exception's type)."""
    counts: Counter[str] = Counter()
    for g in graded:
        kinds = set()
        for c in g.checks:
            r = c["result"]
            if not r["passed"] and not r["mistake"] and r["reason"]:
                kinds.add(r["reason"].split(":")[0][:80])
        counts.update(kinds)
    return counts.most_common(10)


def _bars(counts: list[int]) -> str:
    width, height, gap = 48, 160, 10
    top = max(counts) or 1
    parts = []
    for k, n in enumerate(counts):
        h = round(height * n / top)
        x = k * (width + gap)
        low, high = k * 100 // BINS, (k + 1) * 100 // BINS
        label = f"{low}–{high}" if k < BINS - 1 else f"{low}–100"
        parts.append(
            f'<g class="bar" data-bin="{k}" data-count="{n}"><rect x="{x}" y="{height - h + 20}" width="{width}" '
            f'height="{h}" fill="#4a78b5"/>'
            f'<text x="{x + width / 2}" y="{height - h + 14}" text-anchor="middle">{n}</text>'
            f'<text x="{x + width / 2}" y="{height + 36}" text-anchor="middle" font-size="11">{label}</text></g>'
        )
    total = BINS * (width + gap)
    caption = f'<text x="{total / 2}" y="{height + 56}" text-anchor="middle">score, % of the maximum</text>'
    return (
        f'<svg width="{total}" height="{height + 62}" role="img" aria-label="score distribution">'
        f"{''.join(parts)}{caption}</svg>"
    )


def class_page(graded: list[Graded], exercise: str) -> str:
    checks = [c.name for c in CHECKS[exercise]]
    titles = {m.id: m.title for m in MISTAKES}
    passing = {n: sum(any(c["name"] == n and c["result"]["passed"] for c in g.checks) for g in graded) for n in checks}
    n = len(graded)
    rows_checks = "".join(
        f'<tr data-check="{escape(c)}" data-passed="{passing[c]}"><td><code>{escape(c)}</code></td>'
        f"<td>{passing[c]} of {n}</td></tr>"
        for c in checks
    )
    mistakes = mistake_counts(graded)
    rows_mistakes = (
        "".join(
            f'<tr data-mistake="{escape(m)}" data-count="{k}"><td><code>{escape(m)}</code></td>'
            f"<td>{escape(titles[m])}</td><td>{k}</td></tr>"
            for m, k in mistakes
        )
        or '<tr><td colspan="3">none</td></tr>'
    )
    rows_reasons = "".join(f"<tr><td>{escape(r)}</td><td>{k}</td></tr>" for r, k in _reasons(graded))
    rows_students = "".join(_student_row(g) for g in graded)
    notes = sorted({f"{k}: {v}" for g in graded for k, v in g.sandbox.items() if k in ("network", "sockets", "files")})
    mean = sum(g.score for g in graded) / n if n else 0.0
    top = graded[0].max_score if graded else 0.0
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(exercise)}: the class</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1000px; }}
table {{ border-collapse: collapse; margin: 8px 0 20px; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }}
svg text {{ font: 12px system-ui, sans-serif; fill: #222; }}
.note {{ color: #666; }}
</style></head><body>
<h1>{escape(exercise)}: {n} submission{"s" if n != 1 else ""}</h1>
<p id="summary">Mean score {mean:.2f} of {top:g}.</p>
<h2>Scores</h2>
{_bars(distribution(graded))}
<h2>Checks</h2>
<table id="checks"><tr><th>check</th><th>passed</th></tr>{rows_checks}</table>
<h2>Most common mistakes</h2>
<table id="mistakes"><tr><th>mistake</th><th>what</th><th>students</th></tr>{rows_mistakes}</table>
<h2>Other failures</h2>
<table id="reasons"><tr><th>what went wrong</th><th>students</th></tr>{rows_reasons}</table>
<h2>Students</h2>
<table id="students"><tr><th>student</th><th>score</th><th>failed checks</th><th>mistakes</th></tr>
{rows_students}</table>
<p class="note">Sandbox: {escape("; ".join(notes)) or "no submission started"}.</p>
</body></html>
"""


def _student_row(g: Graded) -> str:
    failed = ", ".join(c["name"] for c in g.checks if not c["result"]["passed"]) or "–"
    mistakes = ", ".join(sorted({c["result"]["mistake"] for c in g.checks if c["result"]["mistake"]})) or "–"
    link = f'<a href="feedback/{escape(quote(g.student))}.md">{escape(g.student)}</a>'
    return (
        f'<tr data-student="{escape(g.student)}" data-score="{g.score:g}"><td>{link}</td><td>{g.score:g} / '
        f"{g.max_score:g}</td><td>{escape(failed)}</td><td>{escape(mistakes)}</td></tr>"
    )
