"""``gitorch audit``: audit dimensions of a repository and print or write the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import ExitCode, UsageError


def register(app: typer.Typer) -> None:
    app.command(
        "audit",
        epilog="Examples: gitorch audit --dim security --fail-under 80  ·  "
        "gitorch audit --all --format sarif --output gitorch.sarif",
    )(audit)


def audit(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="Only these files' findings, scored on their own code (as pre-commit passes changed files)."
        ),
    ] = None,
    dim: Annotated[
        list[str] | None, typer.Option("--dim", "-d", help="Dimension to audit (repeatable).")
    ] = None,
    all_dims: Annotated[
        bool, typer.Option("--all", help="Audit every dimension an available agent can audit.")
    ] = False,
    path: Annotated[
        str, typer.Option("--path", "-p", help="Sub-directory of the repository to audit.")
    ] = ".",
    module: Annotated[
        str | None, typer.Option("--module", "-m", help="Module (name or path, see gitorch plan) to audit.")
    ] = None,
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
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Audit again even when the tree was audited before.")
    ] = False,
) -> None:
    """Audit the repository along one or more dimensions."""
    from gitorch.audit.render import render
    from gitorch.audit.run import audit_context, restrict_to_files, select_dimensions
    from gitorch.cli import error_line, get_app_plugins
    from gitorch.cli._common import load_repo_config, no_color, write_output
    from gitorch.process.launch import using_policy
    from gitorch.vcs.containment import AuditLaunch

    _check_flags(fmt, fail_under, dim, all_dims)
    root, config = load_repo_config(repo, config_file=config_file)
    plugins = get_app_plugins()
    if module is not None:
        from gitorch.cli._common import module_path

        path = module_path(root, config, plugins, module, path)
    dims = select_dimensions(plugins, config, dim, all_dims=all_dims, agent=agent, root=root, path=path)
    if all_dims:
        _note_skipped(plugins, config, dims, agent)
    interactive = fmt == "table" and output is None and _stderr_is_terminal()
    context = audit_context(root, config, plugins)  # one redactor, templates and parser for all dimensions
    with using_policy(AuditLaunch(config.sandbox)):  # agents and tests in the sandbox (docs/fix-loop.md)
        results = _audit_all(root, dims, config, plugins, context, agent=agent, path=path, dry_run=dry_run,
                             interactive=interactive, cache=not no_cache)  # fmt: skip
    if files:
        results = [restrict_to_files(r, root, _relative(root, files)) for r in results]
    write_output(render(results, fmt, color=interactive and not no_color()), output)
    under = [r for r in results if fail_under is not None and r.score is not None and r.score < fail_under]
    if under:
        scores = ", ".join(f"{r.dimension} {r.score:g}" for r in under)
        error_line(f"under --fail-under {fail_under:g}: {scores}")
        raise typer.Exit(ExitCode.UNDER_THRESHOLD)


def _relative(root: Path, files: list[str]) -> list[str]:
    """The files as paths relative to the repository root (given relative to the current directory)."""
    from gitorch.audit.run import resolve_path

    out = []
    for name in files:
        path = Path(name)
        absolute = path if path.is_absolute() else Path.cwd() / path
        try:
            out.append(resolve_path(root, str(absolute.resolve().relative_to(root.resolve()))))
        except ValueError:
            raise UsageError(f"{name} is outside the repository {root}") from None
    return out


def _note_skipped(plugins, config, dims: list[str], agent: str | None) -> None:
    """``--all`` audits what can be audited here; say which dimensions it leaves out, and why."""
    from gitorch.audit.run import agents_for

    skipped = [d for d in sorted(plugins.dimensions()) if d not in dims]
    if not skipped:
        return
    if agent is not None:
        why = f"agent {agent!r} does not audit them"
    else:
        able = sorted({a for d in skipped for a in agents_for(plugins, d)})
        why = "no agent of the routing audits them here" + (
            f" (agents that can: {', '.join(able)}; use --dim D --agent NAME)" if able else ""
        )
    typer.echo(f"note: --all skips {', '.join(skipped)}: {why}", err=True)


def _check_flags(fmt: str, fail_under: float | None, dim: list[str] | None, all_dims: bool) -> None:
    from gitorch.audit.render import FORMATS

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise UsageError("--fail-under must be between 0 and 100")
    if dim and all_dims:
        raise UsageError("use --dim or --all, not both")


def _audit_all(root, dims, config, plugins, context, *, agent, path, dry_run, interactive, cache):
    """The dimensions, audited concurrently (results in their order); progress shown on a terminal."""
    from gitorch.audit.run import run_audits

    options = dict(agent=agent, path=path, dry_run=dry_run, context=context, cache=cache)
    if not interactive:
        return run_audits(root, dims, config, plugins, **options)
    from rich.console import Console

    latest = dict.fromkeys(dims, "…")
    with Console(stderr=True).status(f"auditing {', '.join(dims)}…") as status:

        def progress(name: str, message: str) -> None:
            latest[name] = message
            status.update("  ".join(f"{d}: {m}" for d, m in latest.items()))

        return run_audits(root, dims, config, plugins, progress=progress, **options)


def _stderr_is_terminal() -> bool:
    import sys

    return sys.stderr.isatty()
