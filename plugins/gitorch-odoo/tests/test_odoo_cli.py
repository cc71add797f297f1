"""The plugin through the real gitorch command line (subprocesses, as a user runs it)."""

from __future__ import annotations

import json
import subprocess
import tomllib

import pytest

from odoohelpers import demo_module, git_commit_all, gitorch

pytestmark = pytest.mark.slow


@pytest.fixture
def odoo_repo(git_repo, odoo_env):
    from pathlib import Path

    root = Path(git_repo.working_tree_dir)
    demo_module(root)
    git_commit_all(root)
    return root


def test_the_plugin_is_discovered_through_its_entry_point(odoo_repo, odoo_env):
    agents = json.loads(gitorch(["agents", "--json"], odoo_repo, odoo_env).stdout)["agents"]
    odoo = next(a for a in agents if a["name"] == "odoo")
    assert odoo["available"] is True and odoo["plugin"] == "odoo"
    assert set(odoo["audits"]) == {"compliance", "security", "backend"} and odoo["fixes"] == ["compliance"]
    plugins = json.loads(gitorch(["plugins", "--json"], odoo_repo, odoo_env).stdout)["plugins"]
    mine = next(p for p in plugins if p["name"] == "odoo")
    assert mine["distribution"] == "gitorch-odoo" and not mine["first_party"]
    assert set(mine["hooks"]) == {
        "gitorch_agents",
        "gitorch_add_commands",
        "gitorch_template_dirs",
        "gitorch_gate_defaults",
        "gitorch_modules",
    }


def audit_json(root, env, *args: str) -> dict:
    done = gitorch(["audit", "--format", "json", *args], root, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compliance_routes_to_odoo_with_no_configuration_and_security_merges_bandit(odoo_repo, odoo_env):
    assert not (odoo_repo / ".gitorch.toml").exists()
    audit = gitorch(["audit", "--dim", "compliance", "--format", "json"], odoo_repo, odoo_env)
    assert audit.returncode == 0, audit.stderr
    data = json.loads(audit.stdout)
    assert data["agent"] == "odoo" and data["score_source"] == "computed" and 0 < data["score"] < 100
    assert all(f["file"] and f["line"] for f in data["findings"])
    (odoo_repo / "addons/demo/models/hashing.py").write_text("import hashlib\n\nDIGEST = hashlib.md5(b'x')\n")
    security = audit_json(odoo_repo, odoo_env, "--dim", "security")
    assert (security["agent"], security["contributors"]) == ("local", ["odoo"])
    sources = {f["rule_id"]: f["source"] for f in security["findings"]}
    assert sources["B324"] == "bandit" and sources["pylint-odoo:sql-injection"] == "pylint-odoo"
    assert "gitorch-odoo:missing-model-access" in sources
    alone = audit_json(odoo_repo, odoo_env, "--dim", "security", "--agent", "local")
    assert alone["contributors"] == [] and {f["source"] for f in alone["findings"]} == {"bandit"}
    assert len(security["findings"]) == len(alone["findings"]) + 3


def test_outside_an_odoo_repository_the_odoo_agent_declines(tmp_path, odoo_env):
    root = tmp_path / "plain"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "app.py").write_text("import hashlib\nDIGEST = hashlib.md5(b'x')\n")
    done = gitorch(["audit", "--dim", "compliance"], root, odoo_env)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "('odoo': nothing to audit under '.')" in done.stderr and "--agent NAME" in done.stderr
    security = audit_json(root, odoo_env, "--dim", "security")
    assert (security["agent"], security["contributors"]) == ("local", [])


def test_init_writes_the_odoo_settings_and_never_overwrites(odoo_repo, odoo_env):
    done = gitorch(["odoo", "init"], odoo_repo, odoo_env)
    assert done.returncode == 0, done.stderr
    config = tomllib.loads((odoo_repo / ".gitorch.toml").read_text())
    assert config["default_dimensions"] == ["compliance", "security", "backend"]
    assert config["tests"]["command"] == "gitorch odoo check"
    assert "routing" not in config and "confirm" not in config  # the plugin declares those defaults
    before = (odoo_repo / ".gitorch.toml").read_bytes()
    again = gitorch(["odoo", "init"], odoo_repo, odoo_env)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert (odoo_repo / ".gitorch.toml").read_bytes() == before
    assert gitorch(["odoo", "config"], odoo_repo, odoo_env).stdout.encode() == before


def test_gitorch_init_shows_the_confirmations_the_plugin_adds(odoo_repo, odoo_env):
    done = gitorch(["init"], odoo_repo, odoo_env)
    assert done.returncode == 0, done.stderr
    assert "plugin odoo adds to the default confirm.core_files: **/__manifest__.py" in done.stdout
    written = (odoo_repo / ".gitorch.toml").read_text()
    assert '#   (plugin odoo adds "**/__manifest__.py", "**/security/ir.model.access*.csv"' in written


def test_check_exits_1_on_a_file_that_does_not_parse_and_2_without_module(odoo_repo, odoo_env):
    ok = gitorch(["odoo", "check"], odoo_repo, odoo_env)
    assert ok.returncode == 0 and "6 files of 1 Odoo module(s) checked: 0 do not parse" in ok.stdout
    (odoo_repo / "addons/demo/models/demo.py").write_text("def f(:\n")
    bad = gitorch(["odoo", "check", "addons"], odoo_repo, odoo_env)
    assert bad.returncode == 1 and "addons/demo/models/demo.py:1: Python syntax error" in bad.stdout
    none = gitorch(["odoo", "check", "addons/demo/../../.git"], odoo_repo, odoo_env)
    assert none.returncode == 2 and none.stderr.startswith("gitorch: no Odoo module")


def test_modules_and_rules_listings(odoo_repo, odoo_env):
    modules = json.loads(gitorch(["odoo", "modules", "--json"], odoo_repo, odoo_env).stdout)
    assert modules == [
        {
            "name": "demo",
            "path": "addons/demo",
            "version": "19.0.1.0.0",
            "series": "19.0",
            "installable": True,
            "error": None,
        }
    ]
    rules = json.loads(gitorch(["odoo", "rules", "--dim", "security", "--json"], odoo_repo, odoo_env).stdout)
    assert {r["rule_id"] for r in rules} >= {"pylint-odoo:sql-injection", "gitorch-odoo:sudo-call"}
    assert gitorch(["odoo", "rules", "--dim", "nope"], odoo_repo, odoo_env).returncode == 2


def origin_of(name: str, root, env) -> str:
    rows = json.loads(gitorch(["templates", "--json"], root, env).stdout)
    return next(r["origin"] for r in rows if r["name"] == name)


def test_the_odoo_templates_apply_to_a_repository_with_a_module_and_no_other(odoo_repo, odoo_env, tmp_path):
    assert origin_of("audit_compliance", odoo_repo, odoo_env) == "plugin:odoo"
    assert origin_of("_odoo_series", odoo_repo, odoo_env) == "plugin:odoo"
    other = tmp_path / "plain"
    other.mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    (other / "app.py").write_text("x = 1\n")
    assert origin_of("audit_compliance", other, odoo_env) == "built-in"

    from gitorch.audit.run import audit_context
    from gitorch.config import Config
    from gitorch.plugin.manager import get_plugins
    from gitorch_dimensions import Compliance

    templates = audit_context(odoo_repo, Config(), get_plugins()).templates
    prompt = templates.render("audit_compliance", dimension=Compliance, module_path="addons/demo")
    assert "Odoo series" in prompt and "ir.model.access.csv" in prompt and "**Score:**" in prompt
    assert "| 19.0 | `res.groups` `category_id`" in prompt


def test_templates_install_copies_them_as_a_repository_override(odoo_repo, odoo_env):
    done = gitorch(["odoo", "templates", "--install"], odoo_repo, odoo_env)
    assert done.returncode == 0, done.stderr
    assert (odoo_repo / ".gitorch/templates/audit_compliance.md.j2").is_file()
    assert origin_of("audit_compliance", odoo_repo, odoo_env) == "repository"
    again = gitorch(["odoo", "templates", "--install"], odoo_repo, odoo_env)
    assert again.returncode == 2 and "--force" in again.stderr
