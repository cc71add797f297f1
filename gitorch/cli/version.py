"""``gitorch version``: the version of gitorch (the same as ``gitorch --version`` and ``-V``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("version", epilog="Example: gitorch version")(version)


def version() -> None:
    """Show the version of gitorch."""
    from gitorch import __version__

    typer.echo(f"gitorch {__version__}")
