"""``gitorch demo``: run gitorch's main job on a bundled sample project in a throwaway repository."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def make_sample_repo(target: Path) -> Path:
    """Copy the sample project to ``target`` and commit it in a new git repository."""
    import git

    from gitorch.sample import SAMPLE_DIR

    shutil.copytree(
        SAMPLE_DIR, target, ignore=shutil.ignore_patterns("__init__.py", "__pycache__", ".pytest_cache"), dirs_exist_ok=False
    )
    (target / "inventory" / "__init__.py").write_text('"""A tiny inventory service."""\n', encoding="utf-8")
    repo = git.Repo.init(target, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "gitorch demo").set_value("user", "email", "demo@gitorch.invalid")
    repo.git.add(A=True)
    repo.index.commit("Sample project")
    return target


def demo(
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to create the throwaway repository.")] = None,
    dims: Annotated[list[str] | None, typer.Option("--dim", "-d", help="Dimensions (default: security, backend).")] = None,
) -> None:
    """Audit a bundled sample project, in a throwaway git repository, with the embedded agent."""
    from gitorch.audit import run_audit
    from gitorch.cli import get_app_plugins
    from gitorch.config import load_config
    from gitorch.render import render

    if directory is not None and directory.exists():
        raise UsageError(f"{directory} already exists; give a new directory")
    target = directory or Path(tempfile.mkdtemp(prefix="gitorch-demo-")) / "inventory"
    make_sample_repo(target)
    typer.echo(f"sample repository: {target}")
    config = load_config(target)
    plugins = get_app_plugins()
    results = [run_audit(target, d, config, plugins) for d in (dims or ["security", "backend"])]
    typer.echo(render(results, "table"), nl=False)
