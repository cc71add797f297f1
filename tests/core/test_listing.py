"""``gitorch plugins`` / ``agents`` show what plugins declare: essential plugins, default agents."""

import json

from gitorch import Agent, hookimpl
from gitorch.plugin import get_plugins


def test_plugins_marks_the_essential_plugin(cli):
    data = {p["name"]: p for p in json.loads(cli("plugins", "--json").stdout)["plugins"]}
    assert data["markdown"]["essential"] is True
    assert data["local"]["essential"] is False and data["agents"]["essential"] is False
    text = cli("plugins").stdout
    assert "markdown       gitorch" in text and "(built-in, essential): gitorch_parsers" in text


def test_agents_marks_the_default_agents(cli, monkeypatch):
    from gitorch import cli as cli_module

    class Backup(Agent):
        name = "backup"
        default = True
        description = "a second default agent"

    class Plugin:
        @hookimpl
        def gitorch_agents(self):
            return [Backup]

    plugins = get_plugins()
    plugins.pm.register(Plugin(), name="backup-plugin")
    monkeypatch.setattr(cli_module, "get_app_plugins", lambda: plugins)
    rows = {a["name"]: a for a in json.loads(cli("agents", "--json").stdout)["agents"]}
    assert {name for name, row in rows.items() if row["default"]} == {"local", "backup"}
    assert rows["claude"]["default"] is False
    lines = {line.split()[0]: line for line in cli("agents").stdout.splitlines()}
    assert "(default)" in lines["local"] and "(default)" in lines["backup"]
    assert "(default)" not in lines["claude"]
