"""``gitorch templates [--show NAME]``: the prompt templates, and which file (repository, plugin, built-in)
each comes from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("templates", epilog="Example: gitorch templates --show fix_finding")(templates)


def templates(
    show: Annotated[
        str | None, typer.Option("--show", metavar="NAME", help="Print one template's source.")
    ] = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="Repository (default: the current directory).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the prompt templates and where each comes from (repository, plugin or built-in), or print one."""
    from gitorch.cli import get_app_plugins
    from gitorch.config import load_config
    from gitorch.errors import UsageError
    from gitorch.services.templates import Templates
    from gitorch.vcs.git import repo_root

    root: Path | None
    try:
        root = repo_root(repo or Path.cwd())
    except UsageError:
        if repo is not None:
            raise
        root = None  # outside a repository: the built-in templates only
    templates_dir = load_config(root).templates_dir if root is not None else ""
    store = Templates(root, templates_dir, plugin_dirs=get_app_plugins().template_dirs(root))
    if show is not None:
        _path, text = store.source(show)
        typer.echo(text, nl=not text.endswith("\n"))
        return
    infos = store.infos()
    if as_json:
        rows = [
            {"name": i.name, "origin": i.origin, "partial": i.partial, "path": str(i.path)} for i in infos
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    kinds = [f"{i.origin}, partial" if i.partial else i.origin for i in infos]
    width, kind_width = max(len(i.name) for i in infos), max(21, *map(len, kinds))
    for info, kind in zip(infos, kinds, strict=True):
        location = _display_path(info.path, root)
        typer.echo(f"{info.name:<{width}}  {kind:<{kind_width}}  {location}")


def _display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)
