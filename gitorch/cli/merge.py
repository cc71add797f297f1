"""``gitorch merge``: combine the results of many work units into one report and one score."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import ExitCode, UsageError


def register(app: typer.Typer) -> None:
    app.command("merge", epilog="Example: gitorch merge results/ --plan plan.json --format sarif")(merge)


def merge(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="Audit results (JSON or SARIF), fix run reports (JSON), or directories holding them.",
            show_default=False,
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, markdown or sarif.")] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="The plan (gitorch plan --json): every unit must have its result."),
    ] = None,
    fail_under: Annotated[
        float | None, typer.Option("--fail-under", help="Exit 1 when the merged score is below this.")
    ] = None,
) -> None:
    """Merge unit results into one report: the score recomputed from all findings; the branches to review."""
    from gitorch.audit.combine import merge_files
    from gitorch.audit.render import FORMATS
    from gitorch.cli._common import write_output

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise UsageError("--fail-under must be between 0 and 100")
    report = merge_files(results, plan)
    write_output(render_merged(report, fmt), output)
    if fail_under is not None and report.score is not None and report.score < fail_under:
        raise typer.Exit(ExitCode.UNDER_THRESHOLD)


def render_merged(report, fmt: str) -> str:
    import json

    from gitorch.audit.render import render, score_text, to_sarif

    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(report.results), indent=2) + "\n"
    score = "n/a" if report.score is None else f"{report.score:g}/100"
    head = [f"Merged score: {score} (lowest dimension; {len(report.units)} unit(s))"]
    head += [f"  {r.dimension}: {score_text(r)} over {r.loc} lines" for r in report.results]
    if report.branches:
        head.append("Branches to review:")
        for b in report.branches:
            scores = f"{_score(b.initial_score)} → {_score(b.final_score)}"
            head.append(f"  {b.branch}  {b.path}  {b.commits} commit(s)  {scores}  {b.status}")
    if fmt == "markdown":
        lines = ["# Merged audit", "", *[f"- {line.strip()}" for line in head[1:]], ""]
        lines[2:2] = [f"**{head[0]}**", ""]
        return "\n".join(lines) + "\n" + render(report.results, "markdown")
    return "\n".join(head) + "\n\n" + render(report.results, "table")


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
