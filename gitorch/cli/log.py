"""``gitorch log``: a run's iterations, attempts, gates, commits and cost, from its ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("log", epilog="Example: gitorch log  ·  gitorch log 20250101-120000")(log)


def log(
    session: Annotated[
        str | None, typer.Argument(help="Session id or unique prefix (default: the latest).")
    ] = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
) -> None:
    """Show what a run did: iterations with scores before and after, commits, gates, confirmations, cost."""
    from gitorch.loop.session import load_session
    from gitorch.report.log import log_lines
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    state, ledger = load_session(root, session)
    for line in log_lines(state, ledger.events()):
        typer.echo(line)
