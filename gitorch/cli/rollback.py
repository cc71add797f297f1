"""``gitorch rollback``: move a run branch back to the end of an iteration, or undo that."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command(
        "rollback", epilog="Examples: gitorch rollback 1  ·  gitorch rollback --undo"
    )(rollback)


def rollback(
    iteration: Annotated[
        int | None, typer.Argument(help="Iteration to go back to (0 = the start of the run).")
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", "-s", help="Session id (default: the latest).")
    ] = None,
    undo: Annotated[bool, typer.Option("--undo", help="Undo the last rollback.")] = False,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
) -> None:
    """Move the run branch and its worktree to iteration N; the old tip is kept so this can be undone."""
    from gitorch.loop import runs
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    if undo == (iteration is not None):
        raise UsageError("give an ITERATION, or --undo")
    if undo:
        state, target = runs.undo_rollback(root, session)
        typer.echo(f"{state.branch} is back at {target[:10]}")
        return
    if iteration < 0:
        raise UsageError("ITERATION must be 0 or more")
    state, target, attic = runs.rollback(root, iteration, session)
    typer.echo(
        f"{state.branch} moved to iteration {iteration} ({target[:10]}); previous tip saved as {attic} "
        f"(`gitorch rollback --undo` restores it)"
    )
