"""``gitorch report``: the report of a run, rebuilt from its ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command(
        "report", epilog="Examples: gitorch report  ·  gitorch report --format html --output report.html"
    )(report)


def report(
    session: Annotated[
        str | None, typer.Argument(help="Session id or unique prefix (default: the latest).")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="markdown, json (final_score for CI) or html (one self-contained page)."
        ),
    ] = "markdown",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
) -> None:
    """Show a run's report: scores, iterations, cost, phases, findings fixed, changes, tests."""
    from gitorch.cli._common import write_output
    from gitorch.loop.session import load_session
    from gitorch.report.build import FORMATS, build_report, render
    from gitorch.vcs.git import repo_root

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    root = repo_root(repo or Path.cwd())
    state, ledger = load_session(root, session)
    write_output(render(build_report(root, state, ledger), fmt), output)
