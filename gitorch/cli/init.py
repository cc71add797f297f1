"""``gitorch init``: write a commented starter configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("init", epilog="Example: gitorch init && $EDITOR .gitorch.toml")(init)


def init(
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: current directory).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing .gitorch.toml.")] = False,
) -> None:
    """Write a commented starter .gitorch.toml at the repository root."""
    from gitorch.config import CONFIG_FILE, STARTER_CONFIG
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    target = root / CONFIG_FILE
    if target.exists() and not force:
        raise UsageError(f"{target} already exists (use --force to overwrite)")
    target.write_text(STARTER_CONFIG, encoding="utf-8")
    typer.echo(f"wrote {target}")
