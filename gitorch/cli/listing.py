"""``gitorch plugins``, ``gitorch agents``, ``gitorch dimensions``: what is installed, as text or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.command("plugins", epilog="Example: gitorch plugins --json")(plugins)
    app.command("agents", epilog="Example: gitorch agents")(agents)
    app.command("dimensions", epilog="Example: gitorch dimensions --json")(dimensions)


def plugins(as_json: JsonFlag = False) -> None:
    """List loaded plugins (version, hooks, what each adds), and those that failed to load, with the error."""
    import sys

    from gitorch.cli import get_app_plugins
    from gitorch.cli._common import color_enabled

    loaded = get_app_plugins()
    adds = {p.name: loaded.provided_by(p.name) for p in loaded.loaded}
    data = {
        "plugins": [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "module": p.module,
                "first_party": p.first_party,
                "essential": p.essential,
                "requires_gitorch": p.requires_gitorch,
                "hooks": list(p.hooks),
                **adds[p.name],
            }
            for p in loaded.loaded
        ],
        "failed": [
            {
                "name": f.name,
                "distribution": f.distribution,
                "version": f.version,
                "requires_gitorch": f.requires_gitorch,
                "error": f.error,
            }
            for f in loaded.failures
        ],
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for p in data["plugins"]:
        origin = "built-in" if p["first_party"] else "third-party"
        origin += ", essential" if p["essential"] else ""
        origin += f", requires gitorch {p['requires_gitorch']}" if p["requires_gitorch"] else ""
        typer.echo(f"{p['name']:<14} {p['distribution']} {p['version']} ({origin}): {', '.join(p['hooks'])}")
        added = [f"{kind} {', '.join(p[kind])}" for kind in ("agents", "dimensions", "parsers") if p[kind]]
        if added:
            typer.echo(f"{'':<14} adds {'; '.join(added)}")
    for f in data["failed"]:
        typer.secho(
            f"{f['name']:<14} {f['distribution']} {f['version']} FAILED: {f['error']}",
            fg="red",
            color=color_enabled(sys.stdout),
        )


def agents(as_json: JsonFlag = False) -> None:
    """List agents, whether each can run here, and what each audits and fixes."""
    from gitorch.cli import get_app_plugins

    loaded = get_app_plugins()
    rows = []
    for name, cls in sorted(loaded.agents().items()):
        try:
            availability = cls.availability()
            ok, reason = availability.ok, availability.reason
        except Exception as exc:  # availability() must never raise; if it does, say so
            ok, reason = False, f"availability check failed: {type(exc).__name__}: {exc}"
        rows.append(
            {
                "name": name,
                "plugin": loaded.provider("gitorch_agents", name),
                "available": ok,
                "reason": reason,
                "description": cls.description,
                "default": cls.default is True or bool(cls.default),
                "default_for": None if cls.default is True else sorted(cls.default or ()),
                "contributes": sorted(cls.contributes),
                "audits": None if cls.audits is None else sorted(cls.audits),
                "fixes": None if cls.fixes is None else sorted(cls.fixes),
            }
        )
    if as_json:
        typer.echo(json.dumps({"agents": rows}, indent=2))
        return
    for row in rows:
        state = "available" if row["available"] else f"unavailable ({row['reason']})"
        audits = "any dimension" if row["audits"] is None else ", ".join(row["audits"]) or "-"
        default = " (default)" if row["default"] else ""
        if row["default_for"]:
            default = f" (default for {', '.join(row['default_for'])})"
        extra = f"; adds to the audit of {', '.join(row['contributes'])}" if row["contributes"] else ""
        typer.echo(f"{row['name']:<10} {state}{default}; audits: {audits}{extra}. {row['description']}")


def dimensions(as_json: JsonFlag = False) -> None:
    """List dimensions and the agents that can audit each one."""
    from gitorch.audit.run import agents_for
    from gitorch.cli import get_app_plugins

    loaded = get_app_plugins()
    agent_classes = loaded.agents()
    rows = []
    for name, cls in sorted(loaded.dimensions().items()):
        able = agents_for(loaded, name)
        local = [a for a in able if agent_classes[a].audits is not None]
        rows.append(
            {
                "name": name,
                "title": cls.title,
                "description": cls.description,
                "plugin": loaded.provider("gitorch_dimensions", name),
                "agents": able,
                "offline_agents": local,
            }
        )
    if as_json:
        typer.echo(json.dumps({"dimensions": rows}, indent=2))
        return
    for row in rows:
        offline = ", ".join(row["offline_agents"]) or "none (needs an AI agent)"
        typer.echo(
            f"{row['name']:<13} {row['description']}\n"
            f"{'':<13} offline: {offline}; all: {', '.join(row['agents']) or '-'}"
        )
