"""``gitorch parse``: turn a Markdown audit report written by any AI agent into findings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("parse", epilog="Example: gitorch parse AUDIT.md --dim security --json")(parse)


def parse(
    report: Annotated[Path, typer.Argument(help="The Markdown report ('-' reads standard input).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the AuditResult as JSON.")] = False,
    dim: Annotated[str, typer.Option("--dim", "-d", help="Dimension the findings belong to.")] = "general",
    parser: Annotated[
        str | None, typer.Option("--parser", help="Parser plugin to use (default: the default parser).")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="table, json, markdown or sarif.")] = None,
) -> None:
    """Parse an agent's Markdown audit report into an AuditResult."""
    import sys

    from gitorch.audit.render import FORMATS, render
    from gitorch.cli import get_app_plugins

    if str(report) == "-":
        text = sys.stdin.read()
    else:
        if report.is_dir():
            raise UsageError(f"{report} is a directory; give a Markdown report file (or - for stdin)")
        if not report.is_file():
            raise UsageError(f"{report}: no such file")
        try:
            text = report.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{report}: not a UTF-8 text file") from None
    fmt = fmt or ("json" if as_json else "table")
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    plugins = get_app_plugins()
    chosen = plugins.parser(parser) if parser is not None else plugins.default_parser()
    result = chosen.parse(text, dimension=dim)
    typer.echo(render([result], fmt), nl=False)
