"""``gitorch audit``: audit dimensions of a repository and print or write the result."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import ExitCode, UsageError


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    dim: Annotated[
        list[str] | None, typer.Option("--dim", "-d", help="Dimension to audit (repeatable).")
    ] = None,
    all_dims: Annotated[
        bool, typer.Option("--all", help="Audit every dimension an available agent can audit.")
    ] = False,
    path: Annotated[
        str, typer.Option("--path", "-p", help="Sub-directory of the repository to audit.")
    ] = ".",
    agent: Annotated[
        str | None, typer.Option("--agent", "-a", help="Agent to audit with (default: routing).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, markdown or sarif.")] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the result to this file.")
    ] = None,
    fail_under: Annotated[
        float | None, typer.Option("--fail-under", help="Exit 1 when a score is below this.")
    ] = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="Configuration file to use.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the commands agents would run; change nothing.")
    ] = False,
) -> None:
    """Audit the repository along one or more dimensions."""
    from gitorch.audit.render import FORMATS, render
    from gitorch.audit.run import agents_for, audit_context, run_audit
    from gitorch.cli import get_app_plugins
    from gitorch.cli._common import load_repo_config, write_output

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise UsageError("--fail-under must be between 0 and 100")
    if dim and all_dims:
        raise UsageError("use --dim or --all, not both")
    root, config = load_repo_config(repo, config_file=config_file)
    plugins = get_app_plugins()
    if all_dims:
        dims = sorted(plugins.dimensions())
        if agent is None:
            dims = [d for d in dims if agents_for(plugins, d) and _routable(plugins, d, config)]
        else:
            dims = [d for d in dims if plugins.agent_class(agent).can_audit(d)]
    else:
        dims = list(dict.fromkeys(dim or config.default_dimensions))
    for name in dims:
        plugins.dimension(name)  # unknown dimension → one clear line before anything runs

    results = []
    interactive = fmt == "table" and output is None and _stderr_is_terminal()
    context = audit_context(root, config, plugins)  # one redactor, templates and parser for all dimensions
    from rich.console import Console

    console = Console(stderr=True)
    for name in dims:
        with console.status(f"auditing {name}…") if interactive else contextlib.nullcontext() as status:
            progress = None
            if interactive:
                progress = lambda message, s=status, n=name: s.update(f"{n}: {message}")  # noqa: E731
            result = run_audit(
                root, name, config, plugins,
                agent=agent, path=path, dry_run=dry_run, progress=progress, context=context,
            )  # fmt: skip
        results.append(result)
    write_output(render(results, fmt, color=interactive and output is None), output)
    if fail_under is not None and any(r.score is not None and r.score < fail_under for r in results):
        raise typer.Exit(ExitCode.UNDER_THRESHOLD)


def _routable(plugins, dimension: str, config) -> bool:
    from gitorch.audit.run import choose_agent

    try:
        choose_agent(plugins, dimension, config)
    except UsageError:
        return False
    return True


def _stderr_is_terminal() -> bool:
    import sys

    return sys.stderr.isatty()
