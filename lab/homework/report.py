"""``check(path, exercise)``: a submission's checks as a report a student reads, in a
terminal (text), in Jupyter (HTML), or as JSON for tools.

Everything shown that came from the student's process (numbers, messages, tracebacks)
is data: its control characters escaped (``shown``), escaped in HTML, cut to a length in text.
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .catalogue import mistake as catalogued
from .checks import Check, CheckResult, run_checks
from .exercises import exercise as find_exercise
from .local_checks import LOCAL_CHECKS
from .network_checks import NETWORK_CHECKS
from .oracles import oracle_names
from .protocol import Limits
from .sandbox import Sandbox
from .shown import escape_controls
from .submission import Submission

__all__ = ["CHECKS", "CheckReport", "check", "check_submission"]

CHECKS: dict[str, Sequence[Check]] = {"local": LOCAL_CHECKS, "network": NETWORK_CHECKS}
SHOWN = 600  # characters of one number list in the text report


@dataclass
class CheckReport:
    """What ``check`` found: ``results`` (one :class:`CheckResult` per check), ``passed``,
    the sandbox's notes; ``str()`` is the text, ``to_json()`` the list of checks."""

    exercise: str
    file: str
    seed: int
    results: list[CheckResult]
    sandbox: dict[str, str] = field(default_factory=dict)
    printed: str = ""
    oracles: list[str] = field(default_factory=list)
    pages: list[Path] = field(default_factory=list)
    killed_cpu: float = 0.0  # CPU seconds of sandboxed processes that had to be killed (rusage misses them)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.results]

    def sandbox_line(self) -> str:
        notes = self.sandbox
        if not notes:
            return "Sandbox: the program did not start"
        parts = [f"network {notes.get('network', 'unknown')}", f"sockets {notes.get('sockets', 'unknown')}"]
        parts.append(f"new processes {notes.get('forks', 'unknown')}")
        parts.append(f"files {notes.get('files', 'unknown')}")
        parts.append(f"processes: {notes.get('processes', 'unknown')}, {notes.get('user', '')}")
        if notes.get("limits", "limited") != "limited":
            parts.append(notes["limits"])
        if notes.get("disk", "").startswith("not limited"):
            parts.append(f"disk {notes['disk']}")
        return "Sandbox: " + "; ".join(parts)

    def __str__(self) -> str:
        failed = sum(not r.passed for r in self.results)
        verdict = "all checks pass" if not failed else f"{failed} of {len(self.results)} checks failed"
        lines = [f"{self.file}, exercise {self.exercise} (seed {self.seed}): {verdict}", ""]
        width = max(len(r.name) for r in self.results)
        for r in self.results:
            if r.passed:
                lines.append(f"  ✓ {r.name:<{width}}  {r.tried} cases")
            else:
                lines.append(f"  ✗ {r.name:<{width}}  {_failed_line(r)}")
                lines += ["      " + line for line in _details(r)]
        lines += ["", self.sandbox_line(), f"Oracles: {', '.join(self.oracles)}"]
        if self.printed.strip():
            lines.append(f"It printed: {_cut(self.printed.strip().splitlines()[0], 120)}")
        lines += [f"Wrote {p}" for p in self.pages]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            mark = '<span style="color:#2a7d2a">✓</span>' if r.passed else '<span style="color:#c62828">✗</span>'
            body = f"{r.tried} cases" if r.passed else html.escape(_failed_line(r))
            detail = "" if r.passed else f"<pre style='margin:4px 0'>{html.escape(chr(10).join(_details(r)))}</pre>"
            rows.append(f"<tr><td>{mark}</td><td><code>{html.escape(r.name)}</code></td><td>{body}{detail}</td></tr>")
        head = html.escape(str(self).splitlines()[0])
        foot = html.escape(self.sandbox_line())
        return (
            f"<div><p><b>{head}</b></p><table>{''.join(rows)}</table>"
            f"<p style='color:#666;font-size:smaller'>{foot}</p></div>"
        )


def _failed_line(r: CheckResult) -> str:
    if r.case is None:
        return r.reason
    if r.stopped:
        return f"{r.reason} on the case below (not called again after it)"
    return f"failed on {r.failed} of {r.seeded} cases; minimal case of {r.tried} tried: {r.reason}"


def _details(r: CheckResult) -> list[str]:
    lines = []
    if r.case is not None:
        lines += _case_lines(r.case)
    if r.expected is not None:
        lines.append(f"expected {_cut(_numbers(r.expected), SHOWN)}")
    if r.got is not None:
        error = f"   (relative error {r.relative_error:.3g})" if r.relative_error is not None else ""
        lines.append(f"got      {_cut(_numbers(r.got), SHOWN)}{error}")
    if r.where:
        lines.append(f"where: {r.where}")
    if r.mistake:
        m = catalogued(r.mistake)
        lines += [f"mistake: {m.id}: {m.title}", f"  right: {m.fix}"]
    if r.trace:
        lines.append("traceback (your files only):")
        lines += ["  " + line for line in r.trace.splitlines()[-14:]]
    return lines


def _case_lines(case: dict[str, Any]) -> list[str]:
    if "sizes" not in case:
        return ["case: " + ", ".join(f"{k} = {_numbers(v)}" for k, v in case.items())]
    lines = [f"case: network {'-'.join(map(str, case['sizes']))}, x = {_numbers(case['x'])}, y = {_numbers(case['y'])}"]
    lines += [f"  weights[{l}] = {_cut(_numbers(W), SHOWN)}" for l, W in enumerate(case["weights"])]
    return lines


def _numbers(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_numbers(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else repr(value)
    return str(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_submission(
    submission: Submission, exercise: str, seeds: dict[str, int] | int = 0, limits: Limits | None = None
) -> CheckReport:
    """Run every check of ``exercise`` on ``submission`` in a sandbox of its own."""
    find_exercise(exercise)
    checks = CHECKS[exercise]
    by_check = seeds if isinstance(seeds, dict) else {c.name: seeds for c in checks}
    with Sandbox(submission, limits) as box:
        results = run_checks(checks, box, by_check)
    seed = seeds if isinstance(seeds, int) else min(by_check.values())
    report = CheckReport(exercise, submission.entry, seed, results, dict(box.notes), box.printed, oracle_names())
    report.killed_cpu = box.killed_cpu
    return report


def check(
    path: str | os.PathLike[str],
    exercise: str,
    *,
    seed: int = 0,
    page: str | os.PathLike[str] | None = None,
    limits: Limits | None = None,
) -> CheckReport:
    """Check the file (or folder) at ``path`` against ``exercise``'s contract: its
    functions run in a confined child process; hypothesis draws the cases with ``seed``.
    With ``page``, write the step-through page of each failed check's minimal case there."""
    submission = Submission.read(path, exercise)
    report = check_submission(submission, exercise, seed, limits)
    report.file = escape_controls(os.fspath(path), lines=False)
    if page is not None:
        from .page import write_pages

        report.pages = write_pages(report.results, page)
    return report


def dumps(report: CheckReport) -> str:
    return json.dumps(report.to_json(), indent=2, allow_nan=False, default=str)
