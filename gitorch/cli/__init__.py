"""The ``gitorch`` command: parse arguments, call the core, render. No audit logic lives here.

Each command is a module of this package exposing ``register(app)``; ``COMMAND_MODULES`` lists them.
A command's module is imported only when it runs, and ``gitorch --help`` imports none of them nor any
plugin (:mod:`gitorch.cli.lazy`); heavy imports happen inside the command functions.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from gitorch.errors import ExitCode, GitorchError

if TYPE_CHECKING:
    from gitorch.plugin.manager import Plugins

COMMAND_MODULES = [
    "version",
    "audit",
    "parse",
    "listing",
    "plan",
    "merge",
    "plugin",
    "init",
    "demo",
    "templates",
    "fix",
    "resume",
    "status",
    "log",
    "report",
    "rollback",
    "clean",
]


def error_line(message: str) -> None:
    """One red line on stderr (plain under ``NO_COLOR`` or when stderr is not a terminal)."""
    from gitorch.cli._common import color_enabled

    typer.secho(f"gitorch: {message}", err=True, fg="red", color=color_enabled(sys.stderr))


def _plain_flags(command, ctx: typer.Context) -> None:
    """Flags take no value: show no ``<bool>`` type for them (``--help`` included) in ``--help``."""
    for param in command.get_params(ctx):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    for name, sub in getattr(command, "commands", {}).items():  # a group's commands (gitorch plugin new)
        _plain_flags(sub, typer.Context(sub, parent=ctx, info_name=name))


class _Group(TyperGroup):
    """Expected errors become one line on stderr and an exit code; bugs keep their traceback."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except GitorchError as exc:
            if os.environ.get("GITORCH_DEBUG"):
                raise
            error_line(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error_line("interrupted")
            raise typer.Exit(ExitCode.INTERRUPTED) from None

    #: while ``--help`` lists the commands: what to show for those not loaded (name → one-line help)
    listing: dict[str, str] | None = None

    def list_commands(self, ctx: typer.Context) -> list[str]:
        from gitorch.cli.lazy import COMMANDS

        return sorted({*super().list_commands(ctx), *COMMANDS, *(self.listing or {})})

    def get_command(self, ctx: typer.Context, cmd_name: str):  # noqa: ANN201 - a click command
        command = self._get_command(ctx, cmd_name)
        if command is not None and (self.listing is None or cmd_name not in self.listing):
            _plain_flags(command, typer.Context(command, parent=ctx, info_name=cmd_name))
        return command

    def _get_command(self, ctx: typer.Context, cmd_name: str):  # noqa: ANN202 - a click command
        from gitorch.cli.lazy import COMMANDS, load_command

        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        if self.listing is not None and cmd_name in self.listing:  # --help: named, not imported
            from typer.core import TyperCommand

            return TyperCommand(cmd_name, help=self.listing[cmd_name])
        if cmd_name in COMMANDS:
            command = load_command(cmd_name)
            self.add_command(command, cmd_name)
            return command
        return None

    def format_help(self, ctx: typer.Context, formatter) -> None:  # noqa: ANN001 - click's formatter
        from gitorch.cli.lazy import COMMANDS, plugin_commands

        _plain_flags(self, ctx)
        listing = {name: text for name, (_, text) in COMMANDS.items()}
        if not _plugin_commands_added:
            listing |= plugin_commands() or {}
        self.listing = listing
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Audit a repository along dimensions and fix it, one reviewed commit at a time, on its own branch.",
    epilog="Example: gitorch audit --dim security  ·  gitorch fix --until 90  ·  gitorch demo",
)

_plugins: Plugins | None = None


def get_app_plugins() -> Plugins:
    """The process's plugin manager (built on first use)."""
    global _plugins
    if _plugins is None:
        from gitorch.plugin.manager import get_plugins

        _plugins = get_plugins()
    return _plugins


def reset_app_plugins() -> None:
    """Forget the process's plugin manager (tests change the environment between invocations)."""
    global _plugins
    _plugins = None


def _version(value: bool) -> None:
    if value:
        from gitorch import __version__

        typer.echo(f"gitorch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Audit a repository along dimensions and fix it on its own branch."""
    _warnings_on_stderr()


def _warnings_on_stderr() -> None:
    """gitorch's own warnings (a ledger line skipped, a plugin that failed) as one line each on stderr."""
    import logging

    class StderrWarnings(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            from gitorch.cli._common import color_enabled

            line = f"gitorch: warning: {record.getMessage()}"
            typer.secho(line, fg="yellow", err=True, color=color_enabled(sys.stderr))

    logger = logging.getLogger("gitorch")
    if not any(type(h).__name__ == "StderrWarnings" for h in logger.handlers):
        logger.addHandler(StderrWarnings(logging.WARNING))


_plugin_commands_added = False


def add_plugin_commands() -> None:
    """Let plugins add their commands (``gitorch_add_commands``); a broken plugin is reported, not fatal."""
    global _plugin_commands_added
    if _plugin_commands_added:
        return
    _plugin_commands_added = True
    before = {info.name for info in app.registered_commands} | {info.name for info in app.registered_groups}
    try:
        get_app_plugins().add_commands(app)  # a plugin that raises is reported and skipped
    except GitorchError as exc:  # an essential plugin disabled, strict mode
        error_line(str(exc))
        sys.exit(exc.exit_code)
    from gitorch.cli.lazy import remember_plugin_commands

    group = typer.main.get_group(app)
    remember_plugin_commands({
        name: " ".join((command.help or "").strip().split("\n\n")[0].split())
        for name, command in group.commands.items()
        if name not in before
    })  # fmt: skip


def main() -> None:
    from gitorch.cli.lazy import COMMANDS, plugin_commands

    # NOTE: a built-in command needs no plugin command, nor does --help/--version when the plugins'
    # commands are known from the last load (issue 14: start-up)
    word = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    if word is None:
        if plugin_commands() is None:
            add_plugin_commands()
    elif word not in COMMANDS:
        add_plugin_commands()
    app()
