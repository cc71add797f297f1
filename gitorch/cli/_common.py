"""Helpers shared by command modules: repository and configuration from flags, output files, colour."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TextIO

from gitorch.errors import UsageError


def load_repo_config(
    repo: Path | None, overrides: dict[str, Any] | None = None, config_file: Path | None = None
):
    """(repository root, Config) for the repository containing ``repo`` (default: the current directory),
    with the gate globs plugins add to the defaults (``gitorch_gate_defaults``)."""
    from gitorch.cli import get_app_plugins
    from gitorch.config import load_config, with_gate_defaults
    from gitorch.vcs.git import repo_root

    root = repo_root(repo or Path.cwd())
    config = load_config(root, overrides, file=config_file)
    additions = get_app_plugins().gate_defaults()
    return root, with_gate_defaults(config, {key: [g for g, _ in pairs] for key, pairs in additions.items()})


def module_path(root: Path, config, plugins, module: str, path: str) -> str:
    """The path of ``module`` (its name or path as ``gitorch plan`` lists it); not with ``--path``."""
    from gitorch.audit.modules import find_module

    if path != ".":
        raise UsageError("use --module or --path, not both")
    return find_module(root, config, plugins, module).path


def write_output(text: str, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output`` (the directory must exist)."""
    import typer

    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    directory = output.resolve().parent
    if not directory.is_dir():
        raise UsageError(f"cannot write {output}: directory {directory} does not exist")
    from gitorch.services.atomic import atomic_write

    atomic_write(output, text, mode=_mode_for(output))


def _mode_for(path: Path) -> int:
    """The mode a plain ``open(path, "w")`` would give: the existing file's, else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def no_color() -> bool:
    """``NO_COLOR`` set to anything but the empty string (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def color_enabled(stream: TextIO) -> bool:
    """Colour on ``stream``: a terminal, and no ``NO_COLOR``."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and not no_color()


def gitorch_command() -> str:
    """How to run this gitorch again from any directory, shell-quoted: ``gitorch`` when that is the one on
    PATH, else the absolute path of the script that runs now, else ``python -m gitorch``."""
    import shlex
    import shutil
    import sys

    script = Path(sys.argv[0])
    if script.name == "gitorch" and script.is_file():
        running = script.resolve()
        on_path = shutil.which("gitorch")
        if on_path is not None and Path(on_path).resolve() == running:
            return "gitorch"
        return shlex.quote(str(script.absolute()))
    return f"{shlex.quote(sys.executable)} -m gitorch"
