"""``gitorch fix``: run the fix loop on its own branch and worktree, then print the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import ExitCode, UsageError

RepoOption = Annotated[
    Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
]


def register(app: typer.Typer) -> None:
    app.command(
        "fix",
        epilog="Examples: gitorch fix --dim security --until 90  ·  "
        "gitorch fix --dim compliance --agent claude --budget 2 --dry-run",
    )(fix)


NoProgressOption = Annotated[
    bool,
    typer.Option("--no-progress", help="Plain progress lines, even on a terminal (no live display)."),
]


def loop_ui(yes: bool, quiet: bool = False):
    """Plain progress lines on stderr; a y/N prompt when stdin and stderr are a terminal, else no way to
    ask. (The commands use :class:`gitorch.cli.console.RunConsole`, live on a terminal.)"""
    from gitorch.cli.console import RunConsole

    console = RunConsole.for_terminal(yes=yes, quiet=quiet, no_progress=True)
    return console.ui()


def run_console(yes: bool, quiet: bool, no_progress: bool):
    """The console of a run: live on a terminal, plain lines elsewhere or with ``--no-progress``."""
    from gitorch.cli.console import RunConsole

    return RunConsole.for_terminal(yes=yes, quiet=quiet, no_progress=no_progress)


def finish(root: Path, state, *, quiet: bool = False) -> None:
    """Print the report of a finished loop and exit with the code that says how it ended."""
    from gitorch.loop.session import ledger_for
    from gitorch.report.build import build_report, render_markdown

    if not quiet:
        typer.echo(render_markdown(build_report(root, state, ledger_for(root, state.id))))
    raise typer.Exit(state.exit_code if state.exit_code is not None else ExitCode.ERROR)


def fix(
    dim: Annotated[
        list[str] | None, typer.Option("--dim", "-d", help="Dimension to fix (repeatable).")
    ] = None,
    all_dims: Annotated[
        bool, typer.Option("--all", help="Every dimension an available agent can audit and fix.")
    ] = False,
    until: Annotated[
        float | None, typer.Option("--until", help="Target score (default: target_score).")
    ] = None,
    max_iterations: Annotated[int | None, typer.Option("--max-iterations", help="Iteration cap.")] = None,
    budget: Annotated[float | None, typer.Option("--budget", help="Spending cap in USD.")] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", "-a", help="Agent that fixes (default: routing).")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Approve every confirmation (rejections still apply).")
    ] = False,
    base: Annotated[str, typer.Option("--base", help="Commit the run branch starts from.")] = "HEAD",
    include_dirty: Annotated[
        bool,
        typer.Option(
            "--include-dirty", help="Start from your uncommitted changes (snapshot, tree untouched)."
        ),
    ] = False,
    test_cmd: Annotated[
        str | None, typer.Option("--test-cmd", help="Test command (default: tests.command).")
    ] = None,
    feature: Annotated[
        str | None,
        typer.Option("--feature", help="Develop this feature once gaps are closed (always confirmed)."),
    ] = None,
    path: Annotated[str, typer.Option("--path", "-p", help="Sub-directory to audit and fix.")] = ".",
    module: Annotated[
        str | None, typer.Option("--module", "-m", help="Module (name or path, see gitorch plan) to fix.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, max=64, help="Agent calls at once, on different files (jobs)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would run; change nothing.")] = False,
    replay: Annotated[
        str | None, typer.Option("--replay", help="Serve agent calls from this session's recording.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines and no report.")] = False,
    no_progress: NoProgressOption = False,
    repo: RepoOption = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="Configuration file to use.")] = None,
) -> None:
    """Audit, then fix findings one tested commit at a time on branch gitorch/<session>, to the target."""
    from gitorch.audit.run import agents_for
    from gitorch.cli import get_app_plugins
    from gitorch.cli._common import load_repo_config
    from gitorch.loop.api import start_run
    from gitorch.loop.session import FixOptions

    if dim and all_dims:
        raise UsageError("use --dim or --all, not both")
    if until is not None and not 0 <= until <= 100:
        raise UsageError("--until must be between 0 and 100")
    if budget is not None and budget < 0:
        raise UsageError("--budget must not be negative")
    overrides = {
        "max_iterations": max_iterations,
        "max_budget_usd": budget,
        "tests.command": test_cmd,
        "jobs": jobs,
    }
    root, config = load_repo_config(repo, overrides, config_file)
    if until is not None:  # a lower target also lowers the threshold where enhancements start
        config.min_acceptable_score = min(config.min_acceptable_score, until)
        config.target_score = until
    plugins = get_app_plugins()
    if module is not None:
        from gitorch.cli._common import module_path

        path = module_path(root, config, plugins, module, path)
    if all_dims:
        dims = [
            d
            for d in sorted(plugins.dimensions())
            if agents_for(plugins, d) and agents_for(plugins, d, "fix")
        ]
    else:
        dims = list(dict.fromkeys(dim or config.default_dimensions))
    options = FixOptions(
        dimensions=dims,
        path=path,
        target_score=config.target_score,
        max_iterations=config.max_iterations,
        budget_usd=config.max_budget_usd,
        agent=agent,
        yes=yes,
        base=base,
        include_dirty=include_dirty,
        test_command=config.tests.command,
        feature=feature,
        dry_run=dry_run,
        replay=replay,
        jobs=config.jobs,
    )
    with run_console(yes, quiet, no_progress) as console:
        state = start_run(root, config, plugins, options, console.ui())
    if state is None:  # dry run
        raise typer.Exit(ExitCode.OK)
    finish(root, state, quiet=quiet)
