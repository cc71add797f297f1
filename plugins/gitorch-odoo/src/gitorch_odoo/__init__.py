"""gitorch-odoo: audit and fix Odoo modules offline with pylint-odoo and the OCA checks (docs/odoo.md).

Registers the ``odoo`` agent (dimensions compliance, security and backend; fixes compliance), the
``gitorch odoo`` commands, the Odoo prompt templates of AI agents (for trees holding an Odoo module) and
the confirmation defaults of Odoo's manifest and access rules, and its modules as the units of
``gitorch plan``. Imports stay cheap: the agent and the
analyzers load when used.
"""

from __future__ import annotations

from pathlib import Path

from gitorch import hookimpl

TEMPLATES_DIR = Path(__file__).with_name("templates")
#: Added to gitorch's default ``confirm.core_files`` (files no other kind of project has).
CONFIRM_GLOBS = ["**/__manifest__.py", "**/security/ir.model.access*.csv", "**/security/*.xml"]


@hookimpl
def gitorch_agents():
    from gitorch_odoo.agent import OdooAgent

    return [OdooAgent]


@hookimpl
def gitorch_add_commands(app):
    from gitorch_odoo.cli import odoo_app

    app.add_typer(odoo_app, name="odoo")


@hookimpl
def gitorch_template_dirs(root):
    """The Odoo-tuned compliance audit prompt, for a tree that holds an Odoo module (or any, outside one)."""
    from gitorch.config import Config

    from gitorch_odoo.modules import has_module

    return [TEMPLATES_DIR] if root is None or has_module(root, ".", Config().exclude) else []


@hookimpl
def gitorch_modules(root, config):
    """Every Odoo module of the repository (a directory holding a ``__manifest__.py``): the units of
    ``gitorch plan``."""
    from gitorch_odoo.modules import find_modules

    return [module.path for module in find_modules(root, ".", config.exclude)]


@hookimpl
def gitorch_gate_defaults():
    """A fix to a module's manifest or its access rights, record rules and groups needs a human's yes."""
    return {"confirm.core_files": CONFIRM_GLOBS}
