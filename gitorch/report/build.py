"""The run report, rebuilt from the ledger (``session.json`` + ``events.jsonl``) and the run branch."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from gitorch.loop import events as ev
from gitorch.loop.ledger import Ledger
from gitorch.loop.session import SessionState

SEVERITIES = ("P0", "P1", "P2", "P3", "P4")
STOP_TEXT = {
    "target": "SUCCESS (target reached)",
    "iterations": "STOPPED (iteration cap)",
    "budget": "STOPPED (budget cap)",
    "stalled": "STALLED (no further improvement)",
    "needs_human": "NEEDS A HUMAN DECISION",
    "error": "ERROR",
    "interrupted": "INTERRUPTED (resumable)",
    None: "RUNNING",
}


class Report(BaseModel):
    """What the original design's report shows, for one session. ``final_score`` is for CI."""

    schema_version: int = 1
    session: str
    status: str
    stop_reason: str | None
    stop_detail: str
    exit_code: int | None
    module: str | None
    path: str
    dimensions: list[str]
    branch: str
    base_commit: str
    tip_commit: str | None
    target_score: float
    initial_score: float | None = Field(description="the lowest dimension score at the start")
    final_score: float | None = Field(description="the lowest dimension score at the end")
    initial_scores: dict[str, float | None]
    final_scores: dict[str, float | None]
    iterations_used: int
    iterations_cap: int
    cost_usd: float
    budget_usd: float
    duration_s: float
    phase_durations: dict[str, float]
    findings_initial: dict[str, int]
    findings_final: dict[str, int]
    fixed_by_severity: dict[str, int]
    files_modified: int
    lines_added: int
    lines_removed: int
    commits: int
    attempts: int
    rejected: int
    declined: int
    confirmations: list[dict[str, Any]]
    key_actions: list[str]
    tests: str | None
    tests_passing: bool | None
    test_gate: str | None = Field(default=None, description="tests, no-tests, failing, no-environment")
    test_gate_detail: str = ""
    cheap_gate: str = Field(default="", description="what checked every attempt besides the tests")
    verified_commits: int = Field(default=0, description="commits whose re-audit showed a finding gone")
    no_effect: int = Field(default=0, description="attempts rolled back because they fixed nothing")
    run_removed: bool = Field(default=False, description="the run ended before its first attempt and "
                              "its branch and worktree were removed")
    score_formula: int | None = Field(default=None, description="the formula of the recorded scores")
    current_formula_scores: dict[str, list[float | None]] = Field(
        default_factory=dict,
        description="for a ledger of an older formula: [initial, final] per dimension with the current one",
    )
    patches: list[str]
    iterations: list[ev.IterationSummary]


def _seconds(start: str, end: str | None) -> float:
    if not end:
        return 0.0
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 1)


def _lowest(scores: dict[str, float | None]) -> float | None:
    values = [v for v in scores.values() if v is not None]
    return min(values) if values else None


def _changed(root: Path, state: SessionState, commits: list[ev.Commit]) -> tuple[str | None, int, int, int]:
    """(branch tip, files modified, lines added, lines removed) from the branch, or from the commits'
    events when the branch was deleted (gitorch clean --force)."""
    from gitorch.vcs.git import Git, numstat

    tip = Git(root).rev(f"refs/heads/{state.branch}")
    if tip is not None:
        return tip, *numstat(root, state.base_commit, tip)
    paths = {p for e in commits for p in e.paths}
    return None, len(paths), sum(e.added for e in commits), sum(e.removed for e in commits)


def build_report(root: Path, state: SessionState, ledger: Ledger) -> Report:
    events = list(ledger.events())
    commits = [e for e in events if isinstance(e, ev.Commit)]
    tip, files, added, removed = _changed(root, state, commits)
    fixed = dict.fromkeys(SEVERITIES, 0)
    for e in commits:
        fixed[e.finding.severity.value] += 1
    test_events = [e for e in events if isinstance(e, ev.BaselineTests | ev.AttemptTests)]
    last_pass = next((e for e in reversed(test_events) if e.passed), None)
    last_tests = last_pass or (test_events[-1] if test_events else None)
    iterations = [
        ev.IterationSummary.model_validate(e, from_attributes=True)
        for e in events
        if isinstance(e, ev.IterationEnd)
    ]
    rollbacks = [e for e in events if isinstance(e, ev.RollbackAttempt)]
    formula, recomputed = _formula(state, events)
    return Report(
        session=state.id,
        status=state.status,
        stop_reason=state.stop_reason,
        stop_detail=state.stop_detail,
        exit_code=state.exit_code,
        module=state.discovery.get("module_name"),
        path=state.options.path,
        dimensions=state.options.dimensions,
        branch=state.branch,
        base_commit=state.base_commit,
        tip_commit=tip,
        target_score=state.options.target_score,
        initial_score=_lowest(state.initial_scores),
        final_score=_lowest(state.scores),
        initial_scores=state.initial_scores,
        final_scores=state.scores,
        iterations_used=state.iterations_done,
        iterations_cap=state.options.max_iterations,
        cost_usd=round(state.cost_usd, 4),
        budget_usd=state.options.budget_usd,
        duration_s=_seconds(state.started_at, state.ended_at or state.updated_at),
        phase_durations=state.phase_durations,
        findings_initial={k: state.initial_counts.get(k, 0) for k in SEVERITIES},
        findings_final={k: state.counts.get(k, 0) for k in SEVERITIES},
        fixed_by_severity=fixed,
        files_modified=files,
        lines_added=added,
        lines_removed=removed,
        commits=len(commits),
        attempts=state.attempts,
        rejected=sum(1 for e in rollbacks if e.reason == "rejected"),
        declined=sum(1 for e in rollbacks if e.reason == "declined"),
        confirmations=[
            e.model_dump(include={"iteration", "question", "answer", "how"})
            for e in events
            if isinstance(e, ev.Confirmation)
        ],
        key_actions=[f"{e.sha[:10]} {e.subject}" for e in commits],
        tests=last_tests.brief if last_tests else None,
        tests_passing=_tests_passing(test_events),
        test_gate=state.test_gate,
        test_gate_detail=state.test_gate_detail,
        cheap_gate=_cheap_gate(events),
        verified_commits=sum(1 for e in commits if e.closes),
        no_effect=sum(1 for e in rollbacks if e.reason == "no effect"),
        run_removed=any(isinstance(e, ev.EmptyRunRemoved) for e in events),
        score_formula=formula,
        current_formula_scores=recomputed,
        patches=[e.patch for e in rollbacks if e.patch],
        iterations=iterations,
    )


def _tests_passing(test_events: list[ev.BaselineTests | ev.AttemptTests]) -> bool | None:
    """Whether the branch tip passes the tests: the last baseline run passed (every later commit was
    only made after its own run passed)."""
    baselines = [e for e in test_events if isinstance(e, ev.BaselineTests)]
    return baselines[-1].passed if baselines else None


def _cheap_gate(events: list) -> str:
    """What the test-gate event says protected the commits besides the tests."""
    gate = next((e for e in reversed(events) if isinstance(e, ev.TestGate)), None)
    if gate is None:
        return ""
    where = gate.environment or "gitorch's Python"
    return f"every attempt compiled, and its touched modules imported ({where}), before it was committed"


def _formula(state: SessionState, events: list) -> tuple[int | None, dict[str, list[float | None]]]:
    """The formula of the recorded scores (inferred from the audits for a ledger that did not record it)
    and, when it is not the current one, each dimension's first and last score recomputed with it."""
    from gitorch.score import FORMULA_VERSION, compute_score

    audits = [e for e in events if isinstance(e, ev.Audit)]
    loc = state.discovery.get("loc")
    formula = state.score_formula
    if formula is None and audits:
        first = audits[0]
        findings = first.scored_findings()
        formula = next(
            (n for n in (FORMULA_VERSION, 1) if compute_score(findings, loc, formula=n) == first.score), None
        )
    if formula in (None, FORMULA_VERSION):
        return formula, {}
    recomputed: dict[str, list[float | None]] = {}
    for dim in state.options.dimensions:
        mine = [e for e in audits if e.dimension == dim]
        if mine:
            recomputed[dim] = [compute_score(e.scored_findings(), loc) for e in (mine[0], mine[-1])]
    return formula, recomputed


def _fmt_score(score: float | None) -> str:
    return "-" if score is None else f"{score:g}/100"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{seconds:.1f}s"


def render_markdown(report: Report) -> str:
    sections = (_head, _scores, _findings, _changes, _history, _tests)
    return "\n".join(line for section in sections for line in section(report))


def _pct(used: float, cap: float) -> str:
    return f" ({used / cap:.0%})" if cap else ""


def _head(r: Report) -> list[str]:
    return [
        f"# gitorch report — {r.module or r.session}",
        "",
        f"**Status:** {STOP_TEXT.get(r.stop_reason, r.status)}"
        + (f" — {r.stop_detail}" if r.stop_detail else ""),
        "",
        f"- Session: `{r.session}` · branch `{r.branch}` · base `{r.base_commit[:10]}`"
        + (f" · tip `{r.tip_commit[:10]}`" if r.tip_commit else ""),
        f"- Dimensions: {', '.join(r.dimensions)} (path `{r.path}`)",
        "",
    ]


def _scores(r: Report) -> list[str]:
    lines = [
        "## Scores",
        "",
        f"- Initial: {_fmt_score(r.initial_score)}",
        f"- Final: {_fmt_score(r.final_score)} (target {r.target_score:g})",
    ]
    if r.initial_score is not None and r.final_score is not None:
        lines.append(f"- Improvement: {r.final_score - r.initial_score:+.1f} points")
    for dim in r.dimensions:
        lines.append(
            f"- {dim}: {_fmt_score(r.initial_scores.get(dim))} → {_fmt_score(r.final_scores.get(dim))}"
        )
    if r.current_formula_scores:
        lines.append(f"- Recorded with score formula {r.score_formula}; with the current formula:")
        recomputed = r.current_formula_scores.items()
        lines += [f"  - {dim}: {_fmt_score(a)} → {_fmt_score(b)}" for dim, (a, b) in recomputed]
    return lines + [
        "",
        f"- Iterations: {r.iterations_used}/{r.iterations_cap}{_pct(r.iterations_used, r.iterations_cap)}",
        f"- Cost: ${r.cost_usd:.3f}/${r.budget_usd:.2f}{_pct(r.cost_usd, r.budget_usd)}",
        f"- Duration: {_duration(r.duration_s)}",
        "",
    ]


def _findings(r: Report) -> list[str]:
    lines = ["## Findings", "", "| severity | start | end | fix commits |", "| --- | --- | --- | --- |"]
    for sev in SEVERITIES:
        start, end = r.findings_initial.get(sev, 0), r.findings_final.get(sev, 0)
        if start or end or r.fixed_by_severity.get(sev):
            mark = " ✅" if end == 0 and start else ""
            lines.append(f"| {sev} | {start} | {end}{mark} | {r.fixed_by_severity.get(sev, 0)} |")
    return lines + [""]


def _changes(r: Report) -> list[str]:
    lines = [
        "## Changes",
        "",
        f"- Files modified: {r.files_modified}",
        f"- Lines added: +{r.lines_added}",
        f"- Lines removed: -{r.lines_removed}",
        f"- Net change: {r.lines_added - r.lines_removed:+d} lines",
        f"- Commits: {r.commits} of {r.attempts} attempts "
        f"({r.rejected} rejected by a gate, {r.declined} declined, {r.no_effect} fixed nothing); "
        f"{r.verified_commits} confirmed by the re-audit of their files",
        "",
        "## Key actions",
        "",
    ]
    return lines + ([f"{i}. {a}" for i, a in enumerate(r.key_actions, 1)] or ["(no commit)"])


def _history(r: Report) -> list[str]:
    """Confirmations, time per phase, iterations."""
    lines = []
    if r.confirmations:
        lines += ["", "## Confirmations", ""]
        lines += [
            f"- iteration {c['iteration']}: {c['question']} → {'yes' if c['answer'] else 'no'} ({c['how']})"
            for c in r.confirmations
        ]
    lines += ["", "## Duration per phase", "", "| phase | seconds |", "| --- | --- |"]
    lines += [f"| {name} | {secs:.1f} |" for name, secs in r.phase_durations.items()]
    if r.iterations:
        lines += [
            "",
            "## Iterations",
            "",
            "| # | phase | scores before → after | commits |",
            "| --- | --- | --- | --- |",
        ]
        for it in r.iterations:
            before = ", ".join(f"{d} {_fmt_score(s)}" for d, s in it.scores_before.items())
            after = ", ".join(f"{d} {_fmt_score(s)}" for d, s in it.scores_after.items())
            lines.append(f"| {it.iteration} | {it.phase} | {before} → {after} | {it.commits} |")
    return lines


def _tests(r: Report) -> list[str]:
    lines = ["", "## Tests", ""]
    if r.test_gate == "no-tests" or (r.test_gate is None and r.tests in ("0 collected", "collected 0")):
        lines.append("⚠️ the project has no tests (the test command collected none): behaviour not checked")
        if r.cheap_gate:
            lines.append(f"- the weaker gate that protected the commits: {r.cheap_gate}")
    elif r.test_gate in ("failing", "no-environment"):
        lines.append(f"❌ {r.test_gate_detail}")
    elif r.tests:
        lines.append(f"{'✅' if r.tests_passing else '❌'} {r.tests} (last green run)")
        if r.test_gate_detail:
            lines.append(f"- test gate: {r.test_gate_detail}")
    else:
        lines.append("(no test run)")
    if r.patches:
        lines += ["", f"Patches of {len(r.patches)} attempt(s) not committed are kept in the session folder."]
    if r.run_removed:
        return lines + ["", f"No commit: the run's branch {r.branch} and its worktree were removed.", ""]
    return lines + [
        "",
        f"Review: `git log --stat {r.base_commit[:10]}..{r.branch}` · merge when satisfied; "
        "gitorch never merges.",
        "",
    ]


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.model_dump(mode="json"), indent=2) + "\n"
    return render_markdown(report)
