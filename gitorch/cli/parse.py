"""``gitorch parse``: turn a Markdown audit report written by any AI agent into findings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import ExitCode, InputTooLargeError, UsageError

# NOTE: real audit reports are kilobytes (the largest in the shared corpora is 30 KB); the parser is
# linear but runs at a few seconds per megabyte, so larger inputs are refused unless asked for.
DEFAULT_MAX_SIZE = 2 * 1024 * 1024
# NOTE: exit codes are per command (ExitCode.commands): for parse, 4 is a doubtful parse under --strict.
EXIT_DOUBTFUL = ExitCode.ERROR
EXIT_TOO_LARGE = InputTooLargeError.exit_code


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
    strict: Annotated[
        bool, typer.Option("--strict", help=f"Exit {EXIT_DOUBTFUL:d} when the parse is doubtful (warnings).")
    ] = False,
    max_size: Annotated[
        int,
        typer.Option(
            "--max-size", min=1, help=f"Refuse reports larger than this many bytes (exit {EXIT_TOO_LARGE:d})."
        ),
    ] = DEFAULT_MAX_SIZE,
) -> None:
    """Parse an agent's Markdown audit report into an AuditResult.

    Exit codes: 0 parsed, 2 bad input, 3 plugin error, 4 doubtful parse with --strict, 5 report over
    --max-size (nothing printed). Warnings (why a parse is doubtful) go to stderr and to the JSON.
    """
    import sys

    from gitorch.audit.render import FORMATS, render
    from gitorch.cli import get_app_plugins

    fmt = fmt or ("json" if as_json else "table")
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    text = _read(report, max_size, sys.stdin.buffer if str(report) == "-" else None)
    plugins = get_app_plugins()
    plugin = plugins.parser(parser) if parser is not None else plugins.default_parser()
    if hasattr(plugin, "max_bytes"):
        plugin.max_bytes = max(plugin.max_bytes or 0, max_size)
    result = plugin.parse(text, dimension=dim)
    typer.echo(render([result], fmt), nl=False)
    for warning in result.warnings:
        typer.echo(f"gitorch: warning: {warning}", err=True)
    if strict and result.doubtful:
        raise typer.Exit(EXIT_DOUBTFUL)


def _read(report: Path, max_size: int, stdin) -> str:
    """The report's text; over ``max_size`` bytes it is refused before it is read whole."""
    if stdin is not None:
        data = stdin.read(max_size + 1)
        if len(data) > max_size:
            raise InputTooLargeError(f"standard input: over the {_size(max_size)} limit (--max-size)")
        name = "standard input"
    else:
        if report.is_dir():
            raise UsageError(f"{report} is a directory; give a Markdown report file (or - for stdin)")
        if not report.is_file():
            raise UsageError(f"{report}: no such file")
        size = report.stat().st_size
        if size > max_size:
            limit = _size(max_size)
            raise InputTooLargeError(f"{report}: {_size(size)} is over the {limit} limit (--max-size)")
        data = report.read_bytes()
        name = str(report)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not a UTF-8 text file") from None


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"
