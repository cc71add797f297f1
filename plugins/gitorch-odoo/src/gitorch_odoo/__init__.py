"""gitorch-odoo: audit and fix Odoo modules offline with pylint-odoo and the OCA checks (docs/odoo.md).

Registers the ``odoo`` agent (dimensions compliance, security and backend; fixes compliance) and the
``gitorch odoo`` commands. Imports stay cheap: the agent and the analyzers load when used.
"""

from __future__ import annotations

from gitorch import hookimpl


@hookimpl
def gitorch_agents():
    from gitorch_odoo.agent import OdooAgent

    return [OdooAgent]


@hookimpl
def gitorch_add_commands(app):
    from gitorch_odoo.cli import odoo_app

    app.add_typer(odoo_app, name="odoo")
