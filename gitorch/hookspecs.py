"""Hook specifications: the whole contract between gitorch and its plugins.

A plugin is a module (or object) with functions marked ``@gitorch.hookimpl`` whose names match the
hooks below, exposed through an entry point in the ``gitorch`` group::

    [project.entry-points.gitorch]
    semgrep = "gitorch_semgrep"

gitorch's own features are plugins registered the same way (``plugins/`` in the source tree,
declared in gitorch's ``pyproject.toml``). First-party plugins are registered first and, because
pluggy calls implementations last-registered-first, run last: an installed third-party plugin can
pre-empt them on hooks that stop at the first result.

Loading rules (see :mod:`gitorch.plugin.manager`): a plugin that fails to import, or implements a hook
that does not exist here, is skipped and reported by name and version (``gitorch plugins``);
``GITORCH_STRICT_PLUGINS=1`` turns that into an error. ``GITORCH_DISABLE_PLUGINS`` blocks plugins
by entry-point name; ``GITORCH_LOAD_PLUGINS`` allow-lists third-party ones.

Compatibility promise: hooks may gain arguments (implementations take only the ones they name);
they never lose or rename one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # keep plugin import cheap and cycle-free
    import typer

    from gitorch.config import Config
    from gitorch.models import Agent, AuditResult, Dimension, Finding, Parser

hookspec = pluggy.HookspecMarker("gitorch")
hookimpl = pluggy.HookimplMarker("gitorch")


@hookspec
def gitorch_dimensions() -> list[type[Dimension]]:
    """Return the audit :class:`~gitorch.models.Dimension` classes this plugin provides.

    Called once per process, when a command first needs the list of dimensions. Each class needs a
    unique kebab-case ``name``: it is what ``--dim <name>`` selects. Two plugins providing the same
    name is an error that names both plugins.

    This is a registration hook: gitorch calls every implementation itself, in pluggy's order, so
    ``wrapper=True``/``hookwrapper=True`` implementations are not supported here.

    Example::

        @hookimpl
        def gitorch_dimensions():
            return [Licensing]
    """


@hookspec
def gitorch_agents() -> list[type[Agent]]:
    """Return the :class:`~gitorch.models.Agent` classes this plugin provides.

    Each class needs a unique kebab-case ``name`` (``--agent <name>`` on the command line and the key
    of its ``[agents.<name>]`` settings table). Importing the plugin must stay cheap: look for
    external binaries in ``Agent.availability()``, never at import time, so ``gitorch --help`` stays
    fast and a missing tool only affects the agent that needs it.

    Agents declare which dimensions they audit (``audits``) and fix (``fixes``); ``None`` means any.
    A registration hook like :func:`gitorch_dimensions`: no wrappers, duplicate names are an error.

    Example::

        @hookimpl
        def gitorch_agents():
            return [GrepTodos]
    """


@hookspec
def gitorch_parsers() -> list[type[Parser]]:
    """Return the :class:`~gitorch.models.Parser` classes this plugin provides.

    A parser turns the free text an agent wrote (usually a Markdown audit report) into an
    :class:`~gitorch.models.AuditResult`. ``gitorch parse --parser <name>`` selects one; AI agents
    use the ``markdown`` parser unless their settings name another. A registration hook like
    :func:`gitorch_dimensions`: no wrappers, duplicate names are an error.

    Example::

        @hookimpl
        def gitorch_parsers():
            return [JsonLines]
    """


@hookspec
def gitorch_add_commands(app: typer.Typer) -> None:
    """Add commands to the ``gitorch`` command line.

    Called once, after the built-in commands exist and before arguments are parsed, with the root
    :class:`typer.Typer` application. Register commands with ``@app.command()`` or add a sub-group
    with ``app.add_typer(...)``. Keep the work inside the command functions: this hook runs on every
    invocation, ``gitorch --help`` included. Raising ``gitorch.errors.GitorchError`` inside a command
    gives the user one clear line and its exit code.

    Example::

        @hookimpl
        def gitorch_add_commands(app):
            @app.command()
            def hello(name: str = "world"):
                "Say hello."
                typer.echo(f"hello {name}")

    :param app: the root Typer application.
    """


@hookspec
def gitorch_process_findings(
    findings: list[Finding], result: AuditResult, config: Config
) -> list[Finding] | None:
    """Post-process the findings of one audit before it is scored.

    Called after an agent returns an :class:`~gitorch.models.AuditResult` and before gitorch
    computes its score: suppression, deduplication or severity-remapping plugins live here. Return
    a new list to replace the findings, or ``None`` to leave them as they are. Implementations are
    chained: each one receives the list the previous one returned (last-registered first).

    :param findings: the findings so far (do not mutate; return a new list).
    :param result: the audit result they belong to (dimension, agent, path).
    :param config: the effective configuration.
    """
