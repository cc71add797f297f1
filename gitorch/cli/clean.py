"""``gitorch clean``: remove finished runs' worktrees and merged run branches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("clean")(clean)


def clean(
    force: Annotated[
        bool, typer.Option("--force", help="Also delete run branches with unmerged commits.")
    ] = False,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
) -> None:
    """Remove the worktrees of runs that are not running; delete run branches already merged."""
    from gitorch.loop import runs
    from gitorch.loop.session import scan_sessions
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    for error in scan_sessions(root)[1]:  # left alone: their folder is the only record of what they did
        typer.secho(f"gitorch: skipped a damaged session: {error}", fg="yellow", err=True)
    result = runs.clean(root, force=force)
    if result.stale_lock:
        typer.echo(f"removed a stale lock ({result.stale_lock})")
    for p in result.saved_patches:
        typer.echo(f"kept uncommitted changes as {p}")
    for p in result.removed_worktrees:
        typer.echo(f"removed worktree {p}")
    for b in result.deleted_branches:
        typer.echo(f"deleted branch {b}")
    for b in result.kept_branches:
        typer.echo(f"kept branch {b}")
    for s in result.skipped_running:
        typer.echo(f"skipped running session {s}")
    for p in result.kept_copies:
        typer.echo(f"kept the copies of your files a killed run took before its last call in {p}")
    if not any([result.removed_worktrees, result.deleted_branches, result.kept_branches, result.stale_lock]):
        typer.echo("nothing to clean")
