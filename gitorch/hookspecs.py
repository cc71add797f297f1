"""Hook specifications: the whole contract between gitorch and its plugins.

A plugin is a module (or object) with functions marked ``@gitorch.hookimpl`` whose names match the
hooks below, exposed through an entry point in the ``gitorch`` group::

    [project.entry-points.gitorch]
    semgrep = "gitorch_semgrep"

gitorch's own features are plugins registered the same way (``plugins/`` in the source tree,
declared in gitorch's ``pyproject.toml``). First-party plugins are registered first and, because
pluggy calls implementations last-registered-first, run last: an installed third-party plugin comes
first in every registry and in the ``gitorch_process_findings`` chain, and its parser declared
``default`` pre-empts gitorch's own.

Calls: every hook is called through pluggy's hook caller, so an implementation takes only the
arguments it names (``def gitorch_process_findings(findings): ...`` is a valid implementation) and
``GITORCH_TRACE_PLUGINS=1`` prints every call. Registration hooks (:func:`gitorch_dimensions`,
:func:`gitorch_agents`, :func:`gitorch_parsers`) and :func:`gitorch_add_commands` are called once per
plugin: a plugin that raises is skipped and reported by name (``GITORCH_STRICT_PLUGINS=1``: an
error), the others carry on. Because of that per-plugin call, a ``wrapper=True`` implementation only
wraps its own plugin's implementation: wrappers are not useful on these hooks.

Loading rules (see :mod:`gitorch.plugin.manager`): a plugin that fails to import, or implements a
hook that does not exist here, is skipped and reported by name and version (``gitorch plugins``);
``GITORCH_STRICT_PLUGINS=1`` turns that into an error. ``GITORCH_DISABLE_PLUGINS`` blocks plugins
by entry-point name, except the first-party plugins that declare ``ESSENTIAL = True`` (the core
cannot work without them); ``GITORCH_LOAD_PLUGINS`` allow-lists third-party ones.

Compatibility promise: hooks may gain arguments (implementations take only the ones they name);
they never lose or rename one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # keep plugin import cheap and cycle-free
    from pathlib import Path

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

    This is a registration hook: gitorch calls it once per plugin, in pluggy's order, through
    pluggy's hook caller. A plugin whose implementation raises is skipped and reported, the others'
    classes are kept; ``wrapper=True``/``hookwrapper=True`` implementations only wrap their own plugin.

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
    An agent whose class says ``default = True`` joins the routing chains the configuration leaves
    unset (gitorch's embedded ``local`` agent does); ``default = frozenset({"compliance"})`` joins
    those of the dimensions named only. ``applies_to(request)`` lets an agent decline a tree it has
    nothing to audit in (routing goes on to the next agent), and ``contributes = frozenset({...})``
    merges its findings into the audit of those dimensions by another agent (see
    :class:`~gitorch.plugin.agent.Agent`). A registration hook like :func:`gitorch_dimensions`: called
    once per plugin, duplicate names are an error.

    Example::

        @hookimpl
        def gitorch_agents():
            return [GrepTodos]
    """


@hookspec
def gitorch_parsers() -> list[type[Parser]]:
    """Return the :class:`~gitorch.models.Parser` classes this plugin provides.

    A parser turns the free text an agent wrote (usually a Markdown audit report) into an
    :class:`~gitorch.models.AuditResult`. ``gitorch parse --parser <name>`` selects one. The parser
    whose class says ``default = True`` (the first in pluggy's order when several do) reads the
    reports of agents that answer in prose and ``gitorch parse`` without ``--parser``; gitorch's own
    ``markdown`` parser says so. A registration hook like :func:`gitorch_dimensions`: called once per
    plugin, duplicate names are an error.

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
    invocation, ``gitorch --help`` included. It is called once per plugin: a plugin that raises here
    is reported and skipped, the other plugins' commands are still added. Raising
    ``gitorch.errors.GitorchError`` inside a command gives the user one clear line and its exit code.

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
    computes its score, by ``gitorch audit`` and by every audit of ``gitorch fix``: suppression,
    deduplication or severity-remapping plugins live here. Return a new list to replace the
    findings, or ``None`` to leave them as they are.

    Chain semantics: gitorch calls the plugins one at a time, in pluggy's order (last registered
    first, so third-party plugins before gitorch's own), and each receives the list the previous one
    returned; the last list is what gets scored. An implementation that raises, or returns something
    that is not a list of :class:`~gitorch.models.Finding`, fails the audit with a
    :class:`~gitorch.errors.PluginError` naming its plugin (exit 3): a suppression that silently did
    not happen would report a score nobody earned.

    Implementations name only the arguments they need::

        @hookimpl
        def gitorch_process_findings(findings):
            return [f for f in findings if not (f.file or "").startswith("vendor/")]

    :param findings: the findings so far (a copy: return a new list rather than mutating it).
    :param result: the audit result they belong to (dimension, agent, path).
    :param config: the effective configuration.
    """


@hookspec
def gitorch_template_dirs(root: Path | None) -> list[Path]:
    """Return directories of prompt templates (``*.md.j2``) this plugin contributes.

    gitorch renders the prompts of AI agents from Jinja2 templates (``docs/templates.md``). A template
    is looked up, by file name, in the repository's own ``templates_dir`` (``.gitorch/templates``)
    first, then in the directories plugins return here (in pluggy's order: third-party plugins first),
    then in gitorch's built-in directory. So a plugin can tune an audit prompt to its domain
    (``audit_compliance.md.j2``), add a template for a dimension it brings (``audit_<name>.md.j2``),
    or add partials its templates include, and a repository can still override any of them.
    ``gitorch templates`` shows where each one comes from (``plugin:<name>``).

    Called whenever gitorch builds its templates for a tree (each audit and fix run, ``gitorch
    templates``), once per plugin: a plugin that raises, or returns something that is not an existing
    directory, is reported and its templates are left out. Return ``[]`` for a tree the templates do
    not fit, so that installing the plugin does not change the prompts of every repository.

    Example::

        TEMPLATES = Path(__file__).parent / "templates"

        @hookimpl
        def gitorch_template_dirs(root):
            return [TEMPLATES] if root is None or (root / "manage.py").exists() else []

    :param root: the root of the tree the templates are for (the repository, or a fix run's worktree
        of it); ``None`` when gitorch lists templates outside any repository (return every directory).
    """


@hookspec
def gitorch_gate_defaults() -> dict[str, list[str]]:
    """Return globs this plugin adds to the defaults of the fix loop's gates.

    The fix loop asks a human before committing an attempt that touches a *core file* or a
    *migration*, and rejects one that touches a test or the test configuration (``docs/fix-loop.md``).
    Those paths are glob lists in the configuration; a plugin that knows a kind of project adds the
    paths that matter there, e.g. an Odoo module's manifest and access rules. Keys (any subset):

    - ``"confirm.core_files"``: a change needs confirmation;
    - ``"confirm.migration_globs"``: a change is a migration (confirmation);
    - ``"protected.test_files"``: a test: deleting or weakening one rejects the attempt;
    - ``"protected.test_config"``: test and CI configuration: changing it rejects the attempt.

    The globs are added to gitorch's defaults of each key the repository's configuration leaves
    unset; a list set in the configuration replaces the defaults, the plugins' included. Patterns
    follow the gates' rules: a pattern without ``/`` matches a file's base name anywhere, ``**/``
    any depth. ``gitorch init`` shows which plugin added which glob.

    Called once per plugin each time a command reads the configuration: a plugin that raises, or
    returns an unknown key or something other than lists of strings, is reported and skipped.

    Example::

        @hookimpl
        def gitorch_gate_defaults():
            return {"confirm.core_files": ["**/settings.py"], "protected.test_config": ["tox.ini"]}
    """


@hookspec
def gitorch_modules(root: Path, config: Config) -> list[str]:
    """Return the directories of the modules this plugin recognises in the repository at ``root``.

    ``gitorch plan`` splits a repository into work units, module × dimension, that a CI matrix audits
    or fixes one per job (``gitorch audit --path``, ``gitorch fix --module``). gitorch finds Python
    packages itself; a plugin that knows a kind of project adds its modules here (gitorch-odoo: every
    directory holding a ``__manifest__.py``). Return POSIX paths relative to ``root`` (``"addons/sale"``),
    skipping the directories of ``config.exclude``; ``[]`` where there is none.

    Where a plugin's module and a Python package nest, the plugin's wins: a package holding plugin
    modules is replaced by them, a package inside one is part of it. ``[[modules]]`` in the
    configuration replaces discovery altogether. Called once per plugin by each command that plans: a
    plugin that raises, or returns anything but existing directories inside ``root``, is reported and
    its modules are left out.

    Example::

        @hookimpl
        def gitorch_modules(root):
            return sorted(p.parent.relative_to(root).as_posix() for p in root.glob("*/Cargo.toml"))

    :param root: the repository's root directory.
    :param config: the effective configuration (``config.exclude``: directories to skip).
    """
