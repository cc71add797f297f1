"""``gitorch demo``: run gitorch's main job on a bundled sample project in a throwaway repository."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from gitorch.cli.fix import NoProgressOption
from gitorch.errors import ExitCode, UsageError

SAMPLE_CODEMODS = [
    "pixee:python/secure-random",
    "pixee:python/secure-tempfile",
    "pixee:python/subprocess-shell-false",
    "pixee:python/harden-pyyaml",
]


def register(app: typer.Typer) -> None:
    app.command("demo", epilog="Example: gitorch demo --dir /tmp/gitorch-demo --yes")(demo)


def make_sample_repo(target: Path) -> Path:
    """Copy the sample project to ``target`` and commit it in a new git repository."""
    from gitorch.sample import SAMPLE_DIR
    from gitorch.vcs.git import Git

    shutil.copytree(
        SAMPLE_DIR,
        target,
        ignore=shutil.ignore_patterns("__init__.py", "__pycache__", ".pytest_cache"),
        dirs_exist_ok=False,
    )
    (target / "inventory" / "__init__.py").write_text('"""A tiny inventory service."""\n', encoding="utf-8")
    git = Git(target)
    git.run("init", "-q", "-b", "main")
    git.run("config", "user.name", "gitorch demo")
    git.run("config", "user.email", "demo@gitorch.invalid")
    git.run("add", "-A")
    git.run("commit", "-q", "-m", "Sample project")
    return target


def demo(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to create the throwaway repository.")
    ] = None,
    dims: Annotated[
        list[str] | None, typer.Option("--dim", "-d", help="Dimensions (default: backend, security).")
    ] = None,
    max_iterations: Annotated[int, typer.Option("--max-iterations", help="Iteration cap.")] = 5,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve every confirmation.")] = False,
    audit_only: Annotated[
        bool, typer.Option("--audit-only", help="Only audit the sample; do not run the loop.")
    ] = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Run the fix loop end to end on a bundled sample project, in a throwaway git repository."""
    import shlex
    import sys

    from gitorch.cli import get_app_plugins
    from gitorch.cli._common import gitorch_command
    from gitorch.cli.fix import run_console
    from gitorch.config import load_config
    from gitorch.vcs.git import Git

    if directory is not None and directory.exists():
        raise UsageError(f"{directory} already exists; give a new directory")
    target = directory or Path(tempfile.mkdtemp(prefix="gitorch-demo-")) / "inventory"
    make_sample_repo(target)
    typer.echo(f"sample repository: {target}")
    # the sample's tests run with the Python gitorch runs on (pytest is one of gitorch's dependencies)
    # NOTE: only the codemods that apply to the sample: codemodder starts semgrep once per codemod, and
    # the demo should take a minute, not ten.
    config = load_config(
        target,
        {
            "tests.command": f"{sys.executable} -m pytest -q",
            "max_iterations": max_iterations,
            "agents.local.codemods": SAMPLE_CODEMODS,
        },
    )
    plugins = get_app_plugins()
    dims = dims or ["backend", "security"]
    if audit_only:
        from gitorch.audit.render import render
        from gitorch.audit.run import run_audit

        results = [run_audit(target, d, config, plugins) for d in dims]
        typer.echo(render(results, "table"), nl=False)
        return
    from gitorch.loop.api import start_run
    from gitorch.loop.session import FixOptions, ledger_for
    from gitorch.report.build import build_report, render_markdown

    options = FixOptions(
        dimensions=dims,
        target_score=config.target_score,
        max_iterations=config.max_iterations,
        budget_usd=config.max_budget_usd,
        yes=yes,
        test_command=config.tests.command,
    )
    with run_console(yes, False, no_progress) as console:
        state = start_run(target, config, plugins, options, console.ui())
    typer.echo(f"\nrun branch {state.branch} (your checkout of {target} was not touched):")
    typer.echo(
        Git(target).run("log", "--oneline", "--no-decorate", f"{state.base_commit}..{state.branch}")
        or "(no commit)"
    )
    typer.echo(render_markdown(build_report(target, state, ledger_for(target, state.id))))
    g = gitorch_command()
    typer.echo(f"try: cd {shlex.quote(str(target))} && {g} log && {g} rollback 1 && {g} rollback --undo")
    if state.stop_reason in ("error", "interrupted"):
        raise typer.Exit(state.exit_code or ExitCode.ERROR)
