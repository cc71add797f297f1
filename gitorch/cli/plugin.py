"""``gitorch plugin new NAME``: write a new third-party plugin package that works and passes its tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitorch.errors import UsageError

plugin_app = typer.Typer(
    no_args_is_help=True,
    help="Write gitorch plugins (see docs/plugins.md).",
    epilog="Example: gitorch plugin new semgrep --agent",
)


def register(app: typer.Typer) -> None:
    app.add_typer(plugin_app, name="plugin")


@plugin_app.command("new", epilog="Example: gitorch plugin new semgrep --agent --description 'Semgrep rules'")
def new(
    name: Annotated[str, typer.Argument(help="Kebab-case name: 'semgrep' makes gitorch-semgrep.")],
    dimension: Annotated[bool, typer.Option("--dimension", help="Add a dimension NAME.")] = False,
    agent: Annotated[bool, typer.Option("--agent", help="Add an agent NAME (finds markers).")] = False,
    parser: Annotated[bool, typer.Option("--parser", help="Add a parser NAME (JSON-lines reports).")] = False,
    description: Annotated[str, typer.Option("--description", help="One sentence: what it does.")] = "",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write it (default: ./gitorch-NAME).")
    ] = None,
) -> None:
    """Write a new plugin package: pyproject.toml, the module, tests on gitorch's test kit, a README.

    Without --dimension/--agent/--parser it gets a dimension and an agent that audits it. Installed
    with `pip install -e` (and its test extra), its tests pass and `gitorch plugins` lists it.
    """
    from gitorch.cli import get_app_plugins
    from gitorch.services.skeleton import plugin_skeleton, write_plugin

    asked = (("dimension", dimension), ("agent", agent), ("parser", parser))
    kinds = tuple(kind for kind, wanted in asked if wanted) or ("dimension", "agent")
    files = plugin_skeleton(name, description, kinds=kinds)  # a bad name: one line, before anything
    plugins = get_app_plugins()
    installed = {"dimension": plugins.dimensions(), "agent": plugins.agents(), "parser": plugins.parsers()}
    for kind in kinds:
        if name in installed[kind]:
            owner = plugins.provider(f"gitorch_{kind}s", name)
            article = "an" if kind == "agent" else "a"
            raise UsageError(
                f"{article} {kind} named {name!r} exists already (plugin {owner!r}): two would clash; "
                "choose another name"
            )
    target = output if output is not None else Path.cwd() / f"gitorch-{name}"
    written = write_plugin(target, files)
    typer.echo(f"wrote {target} ({', '.join(kinds)}):")
    for path in written:
        typer.echo(f"  {path.relative_to(target).as_posix()}")
    typer.echo(
        f"next: cd {target} && pip install -e '.[test]' && python -m pytest && gitorch plugins\n"
        "      (in gitorch's environment; docs/plugins.md walks through writing, testing and publishing)"
    )
