"""Lazy commands: ``gitorch --help`` lists every command without importing one, and a command's module is
imported only when that command runs (issue 14).

- :data:`COMMANDS` names each built-in command's module and its one-line help (a test checks that the line
  is the command's own, so the two cannot drift apart).
- The commands plugins add (``gitorch_add_commands``) are listed from :func:`plugin_commands`: the names
  and one-line helps the last full load of the plugins saw, kept in the user's cache directory and keyed by
  the installed distributions (the names and modification times of every ``*.dist-info``/``*.egg-info``
  on ``sys.path``) and the plugin environment variables. A stale or missing listing means loading the
  plugins, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path

#: name → (module under gitorch.cli, one-line help shown by ``gitorch --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "agents": ("listing", "List agents, whether each can run here, and what each audits and fixes."),
    "audit": ("audit", "Audit the repository along one or more dimensions."),
    "clean": ("clean", "Remove the worktrees of runs that are not running; delete run branches already "
                       "merged."),
    "demo": ("demo", "Run the fix loop end to end on a bundled sample project, in a throwaway git "
                     "repository."),
    "dimensions": ("listing", "List dimensions and the agents that can audit each one."),
    "fix": ("fix", "Audit, then fix findings one tested commit at a time on branch gitorch/<session>, to "
                   "the target."),
    "init": ("init", "Write a commented starter .gitorch.toml at the repository root (with the plugins' "
                     "gate defaults)."),
    "log": ("log", "Show what a run did: iterations with scores before and after, commits, gates, "
                   "confirmations, cost."),
    "merge": ("merge", "Merge unit results into one report: the score recomputed from all findings; the "
                       "branches to review."),
    "parse": ("parse", "Parse an agent's Markdown audit report into an AuditResult."),
    "plan": ("plan", "List the work units (module × dimension) and what auditing each would cost; change "
                     "nothing."),
    "plugin": ("plugin", "Write gitorch plugins (see docs/plugins.md)."),
    "plugins": ("listing", "List loaded plugins (version, hooks, what each adds), and those that failed to "
                           "load, with the error."),
    "report": ("report", "Show a run's report: scores, iterations, cost, phases, findings fixed, changes, "
                         "tests."),
    "resume": ("resume", "Reset the run's worktree to its last green commit and continue the loop from "
                         "the ledger."),
    "rollback": ("rollback", "Move the run branch and its worktree to iteration N; the old tip is kept so "
                             "this can be undone."),
    "status": ("status", "List gitorch runs: state, scores, iterations, cost, branch."),
    "version": ("version", "Show the version of gitorch."),
    "templates": ("templates", "List the prompt templates and where each comes from (repository, plugin "
                               "or built-in), or print one."),
}  # fmt: skip

_PLUGIN_ENV = ("GITORCH_LOAD_PLUGINS", "GITORCH_DISABLE_PLUGINS", "GITORCH_STRICT_PLUGINS")
_FORMAT = 1


def load_command(name: str):  # noqa: ANN201 - a typer (click) command
    """The click command of built-in command ``name``, its module imported now."""
    import importlib

    import typer

    module = importlib.import_module(f"gitorch.cli.{COMMANDS[name][0]}")
    holder = typer.Typer()
    module.register(holder)
    return typer.main.get_group(holder).commands[name]


def installed_fingerprint() -> str:
    """A hash of the installed distributions (names and modification times of their metadata directories
    on ``sys.path`` after its first entry), gitorch's version and the plugin environment variables."""
    from gitorch import __version__

    h = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{sys.executable}\0".encode())
    for name in _PLUGIN_ENV:
        h.update(f"{name}={os.environ.get(name)}\0".encode())
    for entry in sys.path[1:]:  # NOTE: not [0], the script's directory or the working directory
        try:
            with os.scandir(entry or ".") as found:
                metas = sorted(
                    (e.name, e.stat().st_mtime_ns)
                    for e in found
                    if e.name.endswith((".dist-info", ".egg-info", ".egg-link", ".pth"))
                )
        except OSError:
            continue
        h.update(f"{entry}\0{metas}\0".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _listing_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gitorch" / "plugin-commands.json"


def plugin_commands() -> dict[str, str] | None:
    """The commands plugins added at the last full load (name → one-line help), or None when the
    installed distributions or the plugin variables changed since (or nothing was kept)."""
    try:
        data = json.loads(_listing_file().read_text(encoding="utf-8"))
        if data.get("fingerprint") != installed_fingerprint():
            return None
        commands = data["commands"]
        return {str(k): str(v) for k, v in commands.items()} if isinstance(commands, dict) else None
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def remember_plugin_commands(commands: dict[str, str]) -> None:
    """Keep what the plugins added, for the next ``gitorch --help``. Never raises."""
    from gitorch.services.atomic import atomic_write

    data = {"fingerprint": installed_fingerprint(), "commands": dict(sorted(commands.items()))}
    with contextlib.suppress(OSError):
        atomic_write(_listing_file(), json.dumps(data, indent=1))
