"""Start-up (issue 14): lazy commands, ``--help`` without plugins, the kept listing of plugin commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import typer

from gitorch.cli import lazy


@pytest.mark.parametrize("name", sorted(lazy.COMMANDS))
def test_each_listed_help_line_is_the_commands_own(name):
    command = lazy.load_command(name)
    own = " ".join((command.help or "").strip().split("\n\n")[0].split())
    assert lazy.COMMANDS[name][1] == own


def test_every_command_module_is_listed():
    from pathlib import Path

    import gitorch.cli

    modules = {p.stem for p in Path(gitorch.cli.__file__).parent.glob("*.py") if not p.stem.startswith("_")}
    assert modules - {"lazy"} == {module for module, _ in lazy.COMMANDS.values()}


def _fresh(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


RUN_HELP = """
import sys
sys.argv = ["gitorch", "--help"]
from gitorch.cli import main
try:
    main()
except SystemExit:
    pass
heavy = {"gitorch.models", "pydantic", "gitorch_local", "gitorch_agents", "gitorch.cli.audit",
         "gitorch.plugin.manager"}
heavy = sorted(m for m in sys.modules if m in heavy)
print("HEAVY", heavy, file=sys.stderr)
"""


def test_help_imports_no_command_module_nor_plugin_once_the_plugin_commands_are_known(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "GITORCH_LOAD_PLUGINS": "example"}
    first = _fresh(RUN_HELP, env)  # nothing kept yet: the plugins are loaded, their commands kept
    assert "audit" in first.stdout and "gitorch.plugin.manager" in first.stderr
    kept = json.loads((tmp_path / "cache" / "gitorch" / "plugin-commands.json").read_text())
    second = _fresh(RUN_HELP, env)
    assert "HEAVY []" in second.stderr, second.stderr
    assert second.stdout == first.stdout
    assert set(kept["commands"]) <= set(second.stdout.split())


def test_a_change_of_plugin_variables_or_installed_distributions_forgets_the_listing(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lazy.remember_plugin_commands({"odoo": "Odoo modules."})
    assert lazy.plugin_commands() == {"odoo": "Odoo modules."}
    monkeypatch.setenv("GITORCH_DISABLE_PLUGINS", "odoo")
    assert lazy.plugin_commands() is None
    monkeypatch.delenv("GITORCH_DISABLE_PLUGINS")
    assert lazy.plugin_commands() is not None
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [sys.path[0], str(site), *sys.path[1:]])  # [0] is the script's
    lazy.remember_plugin_commands({"odoo": "Odoo modules."})
    (site / "gitorch_new-1.0.dist-info").mkdir()  # a distribution installed since
    assert lazy.plugin_commands() is None
    (tmp_path / "cache" / "gitorch" / "plugin-commands.json").write_text("{damaged")
    assert lazy.plugin_commands() is None


def test_a_plugin_command_still_runs_and_a_built_in_one_loads_alone(cli):
    result = cli("templates")
    assert result.exit_code == 0
    group = typer.main.get_group(__import__("gitorch.cli", fromlist=["app"]).app)
    assert "audit" in group.list_commands(None)
