"""Who audits a dimension: default agents per dimension, agents that decline a tree, merged audits."""

import json
from pathlib import Path

import pytest

from gitorch import Agent, AuditResult, Availability, Dimension, Finding, hookimpl
from gitorch.audit import agent_chain, choose_agent, run_audit
from gitorch.audit.merge import merge_results
from gitorch.config import Config
from gitorch.errors import AgentError, UsageError
from gitorch.plugin.manager import get_plugins
from gitorch.score import compute_score


class Colour(Dimension):
    name = "colour"
    description = "Colours."


def _finding(description, severity="P2", rule="grey", line=1):
    return Finding(dimension="colour", severity=severity, rule_id=rule, description=description,
                   file="README.md", line=line, snippet=f"line {line}")  # fmt: skip


class Painter(Agent):
    """The default auditor of colour, and of colour only."""

    name = "painter"
    audits = frozenset({"colour"})
    default = frozenset({"colour"})

    def audit(self, request):
        findings = [_finding("too grey"), _finding("too grey", line=2)]
        return AuditResult(dimension="colour", agent=self.name, findings=findings, notes=["painted"])


class Inspector(Agent):
    """Adds its findings to colour audits, in trees with a palette; declines the others."""

    name = "inspector"
    audits = frozenset({"colour"})
    contributes = frozenset({"colour"})
    calls: list[str] = []
    broken = False
    unavailable = False

    @classmethod
    def applies_to(cls, request):
        return (request.root / request.path / "palette.txt").exists()

    @classmethod
    def availability(cls):
        return Availability(not cls.unavailable, "no brushes")

    def audit(self, request):
        Inspector.calls.append(request.path)
        if Inspector.broken:
            raise RuntimeError("ladder fell")
        findings = [_finding("too grey"), _finding("clashing", severity="P1", rule="clash", line=3)]
        return AuditResult(dimension="colour", agent=self.name, findings=findings, notes=["inspected"])


class Plugin:
    @hookimpl
    def gitorch_dimensions(self):
        return [Colour]

    @hookimpl
    def gitorch_agents(self):
        return [Painter, Inspector]


@pytest.fixture
def plugins():
    Inspector.calls, Inspector.broken, Inspector.unavailable = [], False, False
    plugins = get_plugins()
    plugins.pm.register(Plugin(), name="colours")
    return plugins


@pytest.fixture
def root(git_repo):
    return Path(git_repo.working_tree_dir)


def test_a_default_for_some_dimensions_joins_only_their_chains(plugins):
    config = Config()
    assert plugins.default_agents("colour") == ["painter", "local"]
    assert plugins.default_agents("security") == ["local"] and plugins.default_agents() == ["local"]
    assert agent_chain(plugins, config, "audit", "colour") == ["painter", "local"]
    assert agent_chain(plugins, config, "fix", "security") == ["local"]
    assert choose_agent(plugins, "colour", config) == "painter"
    configured = Config.model_validate({"routing": {"colour": {"audit": ["inspector"]}}})
    assert choose_agent(plugins, "colour", configured) == "inspector"  # the configuration wins


def test_an_agent_that_declines_the_tree_is_passed_over_and_named(plugins, root):
    config = Config.model_validate({"routing": {"colour": {"audit": ["inspector", "painter"]}}})
    assert choose_agent(plugins, "colour", config) == "inspector"  # no tree: nothing to decline
    assert choose_agent(plugins, "colour", config, root=root) == "painter"
    alone = Config.model_validate({"routing": {"colour": {"audit": ["inspector"]}}})
    declined = r"can audit 'colour' here \('inspector': nothing to audit under '\.'\)"
    with pytest.raises(UsageError, match=declined):
        choose_agent(plugins, "colour", alone, root=root)
    assert choose_agent(plugins, "colour", alone, "inspector", root=root) == "inspector"  # asked for by name
    (root / "palette.txt").write_text("red\n")
    assert choose_agent(plugins, "colour", alone, root=root) == "inspector"


def test_a_contributor_adds_its_findings_merged_by_fingerprint_into_one_score(plugins, root):
    alone = run_audit(root, "colour", Config(), plugins)
    assert (alone.agent, alone.contributors, Inspector.calls) == ("painter", [], [])  # no palette: declined
    (root / "palette.txt").write_text("red\n")
    merged = run_audit(root, "colour", Config(), plugins)
    assert (merged.agent, merged.contributors) == ("painter", ["inspector"])
    assert merged.auditors == "painter + inspector"
    assert [f.description for f in merged.findings] == ["too grey", "too grey", "clashing"]
    assert "inspector: 1 finding(s) merged, 1 already reported by another agent" in merged.notes
    assert {"painted", "inspector: inspected"} <= set(merged.notes)
    only = run_audit(root, "colour", Config(), plugins, agent="painter")  # --agent: that agent alone
    assert only.contributors == [] and len(only.findings) == 2
    assert merged.score == compute_score(merged.findings, merged.loc) < only.score


def test_audit_with_in_the_configuration_replaces_what_plugins_declare(plugins, root):
    (root / "palette.txt").write_text("red\n")
    off = Config.model_validate({"routing": {"colour": {"audit_with": []}}})
    assert run_audit(root, "colour", off, plugins).contributors == []
    top = Config.model_validate({"routing": {"audit_with": []}})
    assert run_audit(root, "colour", top, plugins).contributors == []
    unknown = Config.model_validate({"routing": {"colour": {"audit_with": ["nobody"]}}})
    with pytest.raises(UsageError, match=r"\[routing.colour\] audit_with: unknown agent 'nobody'"):
        run_audit(root, "colour", unknown, plugins)
    unable = Config.model_validate({"routing": {"colour": {"audit_with": ["local"]}}})
    with pytest.raises(UsageError, match=r"audit_with: agent 'local' cannot audit 'colour'"):
        run_audit(root, "colour", unable, plugins)


def test_an_unavailable_or_failing_contributor(plugins, root):
    (root / "palette.txt").write_text("red\n")
    Inspector.unavailable = True
    declared = run_audit(root, "colour", Config(), plugins)
    assert declared.contributors == []
    assert "inspector not available (no brushes): its findings are not in this audit" in declared.notes
    configured = Config.model_validate({"routing": {"colour": {"audit_with": ["inspector"]}}})
    with pytest.raises(AgentError, match=r"'inspector' \(\[routing.colour\] audit_with\) is not available"):
        run_audit(root, "colour", configured, plugins)
    Inspector.unavailable, Inspector.broken = False, True
    with pytest.raises(AgentError, match="'inspector' failed auditing 'colour': RuntimeError: ladder fell"):
        run_audit(root, "colour", Config(), plugins)


def test_merging_keeps_an_agents_own_repeated_findings_one_for_one():
    twice = [_finding("same", line=1), _finding("same", line=1)]
    auditor = AuditResult(dimension="colour", agent="a", findings=[twice[0]])
    other = AuditResult(dimension="colour", agent="b", findings=twice, warnings=["read in doubt"])
    merged = merge_results(auditor, [("b", other)])
    assert len(merged.findings) == 2 and merged.findings[1].fingerprint.endswith("-2")
    assert merged.warnings == ["b: read in doubt"] and merged.doubtful
    assert merge_results(auditor, []) is auditor


def test_listings_and_renderings_show_defaults_and_contributors(plugins, root, cli, monkeypatch):
    from gitorch import cli as cli_module

    monkeypatch.setattr(cli_module, "get_app_plugins", lambda: plugins)
    rows = {a["name"]: a for a in json.loads(cli("agents", "--json").stdout)["agents"]}
    assert (rows["painter"]["default"], rows["painter"]["default_for"]) == (True, ["colour"])
    assert (rows["local"]["default"], rows["local"]["default_for"]) == (True, None)
    assert (rows["claude"]["default"], rows["inspector"]["contributes"]) == (False, ["colour"])
    lines = {line.split()[0]: line for line in cli("agents").stdout.splitlines()}
    assert "(default for colour)" in lines["painter"] and "adds to the audit of colour" in lines["inspector"]
    (root / "palette.txt").write_text("red\n")
    markdown = cli("audit", "--dim", "colour", "--format", "markdown", "--repo", str(root)).stdout
    assert "**Auditor:** painter + inspector" in markdown
    table = cli("audit", "--dim", "colour", "--repo", str(root)).stdout
    assert "colour (painter + inspector, .)" in table
