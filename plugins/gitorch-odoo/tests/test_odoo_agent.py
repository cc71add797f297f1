"""The odoo agent on fixture modules, with the real analyzers and fixers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitorch.config import Config, load_config
from gitorch.errors import AgentError
from gitorch.models import AuditRequest, FixRequest

from gitorch_odoo.agent import OdooAgent
from gitorch_odoo.rules import RULES
from gitorch_odoo.syntax import parse_error
from odoohelpers import demo_module, write_files

pytestmark = pytest.mark.slow


def dimension(name: str):
    from gitorch.plugin.manager import get_plugins

    return get_plugins().dimension(name)


def audit(root: Path, dim: str, path: str = ".", agent: OdooAgent | None = None, **kwargs):
    agent = agent or OdooAgent()
    return agent.audit(
        AuditRequest(root=root, dimension=dimension(dim), config=Config(), path=path, **kwargs)
    )


def found(result) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.file, f.line) for f in result.findings}


def test_each_dimension_gets_its_own_rules_with_file_and_line(tmp_path, odoo_env):
    demo_module(tmp_path)
    compliance = audit(tmp_path, "compliance")
    assert {
        ("pylint-odoo:attribute-string-redundant", "addons/demo/models/demo.py", 8),
        ("pylint-odoo:manifest-superfluous-key", "addons/demo/__manifest__.py", 8),
        ("oca:xml-header-wrong", "addons/demo/views/demo_views.xml", 1),
        ("oca:xml-tag-position", "addons/demo/views/demo_views.xml", 3),
    } <= found(compliance)
    assert all(f.dimension == "compliance" for f in compliance.findings)
    security = audit(tmp_path, "security")
    assert found(security) == {
        ("pylint-odoo:sql-injection", "addons/demo/models/demo.py", 12),
        ("gitorch-odoo:sudo-call", "addons/demo/models/demo.py", 14),
        ("gitorch-odoo:missing-model-access", "addons/demo/models/demo.py", 18),
    }
    assert {f.rule_id: f.severity.value for f in security.findings}["pylint-odoo:sql-injection"] == "P1"
    assert ("pylint-odoo:invalid-commit", "addons/demo/models/demo.py", 13) in found(
        audit(tmp_path, "backend")
    )
    sql = next(f for f in security.findings if f.rule_id.endswith("sql-injection"))
    assert sql.snippet.startswith("self.env.cr.execute(") and sql.source == "pylint-odoo"
    assert any("Odoo module(s): addons/demo (19.0)" in n for n in compliance.notes)
    assert any("left out" in n and "security" in n for n in compliance.notes)


def test_access_rules_count_only_from_the_manifests_data(tmp_path, odoo_env):
    demo_module(tmp_path)
    write_files(
        tmp_path,
        {
            "addons/demo/security/more.xml": """<?xml version="1.0" encoding="UTF-8" ?>
<odoo><record id="access_orphan" model="ir.model.access">
  <field name="name">orphan</field><field name="model_id" ref="model_demo_orphan" />
</record></odoo>
""",
            "addons/demo/models/wizard.py": """from odoo import models


class DemoWizard(models.TransientModel):
    _name = "demo.wizard"
    _description = "Wizard"


class DemoMixin(models.AbstractModel):
    _name = "demo.mixin"
    _description = "Mixin"


class DemoThingAgain(models.Model):
    _name = "demo.thing"
    _inherit = "demo.thing"
""",
            "addons/demo/tests/models.py": "from odoo import models\n\n\nclass T(models.Model):\n"
            "    _name = 't.t'\n",
        },
    )
    missing = {
        f.file + ":" + str(f.line)
        for f in audit(tmp_path, "security").findings
        if f.rule_id == "gitorch-odoo:missing-model-access"
    }
    assert missing == {"addons/demo/models/demo.py:18", "addons/demo/models/wizard.py:5"}
    manifest = tmp_path / "addons/demo/__manifest__.py"
    manifest.write_text(
        manifest.read_text().replace('"views/demo_views.xml"', '"security/more.xml", "views/demo_views.xml"')
    )
    missing = {
        f.file for f in audit(tmp_path, "security").findings if f.rule_id.endswith("missing-model-access")
    }
    assert missing == {"addons/demo/models/wizard.py"}


def test_options_disable_and_change_severities(tmp_path, odoo_env):
    demo_module(tmp_path)
    config = load_config(
        tmp_path,
        {
            "agents": {
                "odoo": {
                    "disable": ["xml-tag-position", "pylint-odoo:manifest-superfluous-key"],
                    "severity": {"oca:xml-header-wrong": "P1", "attribute-string-redundant": "info"},
                }
            }
        },
    )
    agent = OdooAgent(config.agent_options(OdooAgent))
    result = audit(tmp_path, "compliance", agent=agent)
    severities = {f.rule_id: f.severity.value for f in result.findings}
    assert (
        "oca:xml-tag-position" not in severities and "pylint-odoo:manifest-superfluous-key" not in severities
    )
    assert (
        severities["oca:xml-header-wrong"] == "P1"
        and severities["pylint-odoo:attribute-string-redundant"] == "P4"
    )


def test_a_path_limits_the_findings_and_a_path_without_module_is_an_error(tmp_path, odoo_env):
    demo_module(tmp_path, "addons/demo")
    demo_module(tmp_path, "addons/other")
    result = audit(tmp_path, "compliance", path="addons/demo/views")
    assert result.findings and {f.file for f in result.findings} == {"addons/demo/views/demo_views.xml"}
    write_files(tmp_path, {"lib/x.py": "x = 1\n"})
    with pytest.raises(AgentError, match="no Odoo module under 'lib'"):
        audit(tmp_path, "compliance", path="lib")


def test_a_file_that_does_not_parse_is_critical(tmp_path, odoo_env):
    demo_module(tmp_path)
    (tmp_path / "addons/demo/views/demo_views.xml").write_text("<odoo><record id='x'></odoo>\n")
    (tmp_path / "addons/demo/models/demo.py").write_text("def broken(:\n")
    compliance = audit(tmp_path, "compliance")
    assert ("oca:xml-syntax-error", "P0") in {(f.rule_id, f.severity.value) for f in compliance.findings}
    backend = audit(tmp_path, "backend")
    assert ("pylint-odoo:syntax-error", "P0") in {(f.rule_id, f.severity.value) for f in backend.findings}


def test_dry_run_names_the_commands_and_runs_nothing(tmp_path, odoo_env):
    demo_module(tmp_path)
    result = audit(tmp_path, "compliance", dry_run=True)
    assert result.findings == []
    commands = [n for n in result.notes if n.startswith("would run: ")]
    assert any("pylint" in c and "--valid-odoo-versions=19.0" in c for c in commands)
    assert any("oca_bridge.py module" in c for c in commands)


def test_without_the_oca_checks_the_agent_is_unavailable_and_says_how(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    availability = OdooAgent(OdooAgent.Options(oca_python=str(tmp_path / "nope"))).availability()
    assert not availability and "pipx install oca-odoo-pre-commit-hooks" in availability.reason
    assert OdooAgent(OdooAgent.Options(oca_checks=False)).availability()


def test_oca_python_may_be_given_explicitly(tmp_path, oca_bin, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    demo_module(tmp_path)
    agent = OdooAgent(OdooAgent.Options(oca_python=str(oca_bin / "python")))
    assert agent.availability()
    assert any(
        f.rule_id == "oca:xml-header-wrong" for f in audit(tmp_path, "compliance", agent=agent).findings
    )


def fix(root: Path, finding, dry_run: bool = False):
    return OdooAgent().fix(FixRequest(root=root, finding=finding, config=Config(), dry_run=dry_run))


def test_a_fix_changes_one_file_for_one_check_and_keeps_it_parseable(tmp_path, odoo_env):
    demo_module(tmp_path)
    write_files(
        tmp_path, {"addons/demo/views/other.xml": '<?xml version="1.0" encoding="utf-8" ?>\n<odoo />\n'}
    )
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = audit(tmp_path, "compliance")
    header = next(
        f
        for f in result.findings
        if f.rule_id == "oca:xml-header-wrong" and f.file.endswith("demo_views.xml")
    )
    outcome = fix(tmp_path, header)
    assert outcome.status == "changed", outcome.summary
    changed = [p for p in before if p.read_bytes() != before[p]]
    assert changed == [tmp_path / "addons/demo/views/demo_views.xml"]
    text = changed[0].read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" ?>')
    assert '<record model="ir.ui.view" id="demo_thing_form">' in text  # xml-tag-position is another fix
    assert parse_error("demo_views.xml", changed[0].read_bytes()) is None
    string = next(f for f in result.findings if f.rule_id == "pylint-odoo:attribute-string-redundant")
    assert fix(tmp_path, string).status == "changed"
    assert "name = fields.Char()" in (tmp_path / "addons/demo/models/demo.py").read_text()
    assert fix(tmp_path, string).status == "cannot_fix"  # nothing left to change


def test_what_no_fixer_handles_is_left_for_an_ai_agent(tmp_path, odoo_env):
    demo_module(tmp_path)
    sql = next(f for f in audit(tmp_path, "security").findings if f.rule_id.endswith("sql-injection"))
    outcome = fix(tmp_path, sql)
    assert outcome.status == "cannot_fix" and "left for an AI agent" in outcome.summary
    header = next(f for f in audit(tmp_path, "compliance").findings if f.rule_id == "oca:xml-header-wrong")
    before = (tmp_path / header.file).read_bytes()
    dry = fix(tmp_path, header, dry_run=True)
    assert dry.status == "unchanged" and "--enable=xml-header-wrong" in dry.summary
    assert (tmp_path / header.file).read_bytes() == before
    outside = header.model_copy(update={"file": "../outside.xml"})
    assert fix(tmp_path, outside).status == "cannot_fix"


def test_the_fixers_rules_are_the_ones_the_tools_ship(oca_bin):
    import subprocess

    out = subprocess.run(
        [str(oca_bin / "oca-checks-odoo-module-fixit"), "--list-msgs"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fixit_rules = {
        r.fixer.split(":", 1)[1]
        for t in RULES.values()
        for r in t.values()
        if r.fixer and r.fixer.startswith("fixit:")
    }
    assert fixit_rules <= set(json.loads(json.dumps(out.split())))  # every name appears in the listing


def test_a_fix_never_writes_through_a_symbolic_link(tmp_path, odoo_env):
    outside = tmp_path / "outside.xml"
    outside.write_text('<?xml version="1.0" encoding="utf-8" ?>\n<odoo />\n')
    repo = tmp_path / "repo"
    demo_module(repo)
    (repo / "addons/demo/views/linked.xml").symlink_to(outside)
    result = audit(repo, "compliance")
    header = next(
        f
        for f in result.findings
        if f.rule_id == "oca:xml-header-wrong" and f.file.endswith("demo_views.xml")
    )
    assert fix(repo, header).status == "changed"
    assert outside.read_text().startswith('<?xml version="1.0" encoding="utf-8" ?>')
    linked = header.model_copy(update={"file": "addons/demo/views/linked.xml", "line": 1})
    assert fix(repo, linked).status == "cannot_fix"
    assert outside.read_text().startswith('<?xml version="1.0" encoding="utf-8" ?>')


def test_a_module_in_a_submodule_keeps_its_paths(tmp_path, odoo_env):
    demo_module(tmp_path, "addons/oca-l10n/demo")
    (tmp_path / "addons/oca-l10n/.git").write_text("gitdir: ../../.git/modules/oca-l10n\n")  # a submodule
    result = audit(tmp_path, "compliance")
    assert ("oca:xml-header-wrong", "addons/oca-l10n/demo/views/demo_views.xml", 1) in found(result)
