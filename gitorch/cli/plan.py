"""``gitorch plan``: the work units of a repository (module × dimension) with their estimated cost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("plan", epilog="Example: gitorch plan --all  ·  gitorch plan --all --json > plan.json")(plan)


def plan(
    dim: Annotated[
        list[str] | None, typer.Option("--dim", "-d", help="Dimension to plan (repeatable).")
    ] = None,
    all_dims: Annotated[
        bool, typer.Option("--all", help="Every dimension an available agent can audit.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print a CI matrix: {"include": [unit, ...]} (fromJSON).')
    ] = False,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="Configuration file to use.")] = None,
) -> None:
    """List the work units (module × dimension) and what auditing each would cost; change nothing."""
    from gitorch.audit.plan import MATRIX_LIMIT, make_plan
    from gitorch.audit.run import select_dimensions
    from gitorch.cli import get_app_plugins
    from gitorch.cli._common import load_repo_config

    if dim and all_dims:
        raise UsageError("use --dim or --all, not both")
    root, config = load_repo_config(repo, config_file=config_file)
    plugins = get_app_plugins()
    dims = select_dimensions(plugins, config, dim, all_dims=all_dims, root=root)
    made = make_plan(root, config, plugins, dims)
    for note in made.skipped:
        typer.echo(f"gitorch: skipped: {note}", err=True)
    if len(made.units) > MATRIX_LIMIT:
        count = len(made.units)
        warning = f"{count} units; a GitHub Actions matrix takes {MATRIX_LIMIT} at most"
        typer.echo(f"gitorch: warning: {warning}", err=True)
    if as_json:
        typer.echo(json.dumps(made.matrix()))
        return
    typer.echo(_table(made))


def _table(made) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, expand=False)
    for column in (
        "module",
        "path",
        "kind",
        "dimension",
        "agent",
        "lines",
        "files",
        "est. tokens",
        "est. USD",
    ):
        table.add_column(
            column,
            no_wrap=True,
            justify="right" if column in ("lines", "files") or column.startswith("est") else "left",
        )
    for u in made.units:
        table.add_row(
            u.module, u.path, u.kind, u.dimension, u.agent, str(u.loc), str(u.files),
            f"{u.estimated_tokens:,}", f"{u.estimated_usd:.4f}",
        )  # fmt: skip
    buffer = StringIO()
    console = Console(file=buffer, no_color=True, width=400)
    console.print(table)
    console.print(
        f"{len(made.units)} unit(s) in {len(made.modules)} module(s); worst case "
        f"{made.estimated_tokens:,} tokens, ${made.estimated_usd:.4f}"
    )
    return buffer.getvalue().rstrip() + "\n"
