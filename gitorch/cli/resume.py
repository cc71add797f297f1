"""``gitorch resume``: continue a run stopped by a crash, Ctrl-C, the budget or a decision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.cli.fix import NoProgressOption
from gitorch.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("resume", epilog="Example: gitorch resume --budget 10")(resume)


def resume(
    session: Annotated[
        str | None, typer.Argument(help="Session id or unique prefix (default: the latest).")
    ] = None,
    budget: Annotated[
        float | None, typer.Option("--budget", help="New spending cap in USD for the whole run.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve every confirmation from now on.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines and no report.")] = False,
    no_progress: NoProgressOption = False,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="Configuration file to use.")] = None,
) -> None:
    """Reset the run's worktree to its last green commit and continue the loop from the ledger."""
    from gitorch.cli import get_app_plugins
    from gitorch.cli._common import load_repo_config
    from gitorch.cli.fix import finish, run_console
    from gitorch.loop.api import resume_run
    from gitorch.loop.session import load_session, verify_resumable

    if budget is not None and budget < 0:
        raise UsageError("--budget must not be negative")
    root, config = load_repo_config(repo, None, config_file)
    state, ledger = load_session(root, session)  # a damaged session.json: one line naming it, exit 65
    verify_resumable(root, state, ledger)  # and one that points elsewhere than its own branch and worktree
    with run_console(yes, quiet, no_progress) as console:
        state = resume_run(
            root, config, get_app_plugins(), session, budget_usd=budget, yes=yes or None, ui=console.ui()
        )
    finish(root, state, quiet=quiet)
