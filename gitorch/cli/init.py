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
    """Write a commented starter .gitorch.toml at the repository root (with the plugins' gate defaults)."""
    from gitorch.cli import get_app_plugins
    from gitorch.config import CONFIG_FILE, starter_config
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    target = root / CONFIG_FILE
    if target.exists() and not force:
        raise UsageError(f"{target} already exists (use --force to overwrite)")
    additions = get_app_plugins().gate_defaults()
    target.write_text(starter_config(additions), encoding="utf-8")
    typer.echo(f"wrote {target}")
    for key, pairs in additions.items():
        for plugin in dict.fromkeys(name for _, name in pairs):
            globs = ", ".join(g for g, name in pairs if name == plugin)
            typer.echo(f"plugin {plugin} adds to the default {key}: {globs}")
