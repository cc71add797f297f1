"""The fix loop with what plugins declare: any agent's deterministic fixes, merged audits, default
agents per dimension (issue 13: the loop names no agent)."""

from __future__ import annotations

import types

import loopfakes
from loophelpers import branch_commits, git, loop_config, options

from gitorch import Agent, AuditResult, Finding, FixResult, hookimpl
from gitorch.loop import start_run
from gitorch.plugin.manager import get_plugins


class Tidy(Agent):
    """A third-party agent: offers one safe fix the audit never reported, and adds a finding of its own
    to every backend audit."""

    name = "tidy"
    audits = frozenset({"backend"})
    fixes = frozenset({"backend"})
    contributes = frozenset({"backend"})
    offered = 0

    def audit(self, request):
        text = (request.root / "app" / "old.py").read_text()
        findings = [
            Finding(dimension="backend", severity="P3", rule_id="tidy:old", description="OLD is 1",
                    file="app/old.py", line=1, snippet=text.strip(), source="tidy")
        ] if "OLD = 1" in text else []  # fmt: skip
        return AuditResult(dimension="backend", agent=self.name, findings=findings)

    def deterministic_fixes(self, request):
        Tidy.offered += 1
        path = request.root / "app" / "big.py"
        if "VALUE_0 = 0\n" not in path.read_text():
            return []
        return [
            Finding(dimension="backend", severity="P4", rule_id="tidy:zero", file="app/big.py", line=1,
                    description="VALUE_0 is spelled out", snippet="VALUE_0 = 0", source="tidy")
        ]  # fmt: skip

    def fix(self, request):
        target = request.root / request.finding.file
        before = target.read_text()
        after = before.replace("VALUE_0 = 0\n", "VALUE_0 = int()\n").replace("OLD = 1\n", "OLD = 2\n")
        if after == before:
            return FixResult(status="cannot_fix", summary="nothing to tidy")
        target.write_text(after)
        return FixResult(status="changed", summary=f"tidied {request.finding.file}")


@hookimpl
def gitorch_agents():
    return [Tidy]


def test_a_plugin_agents_deterministic_fixes_and_contributions_reach_the_loop(project):
    root = project([("P3", "good")])
    tidy = types.ModuleType("tidy_plugin")
    tidy.gitorch_agents = gitorch_agents
    plugins = get_plugins([], modules={"dimensions": "gitorch_dimensions", "fakes": loopfakes, "tidy": tidy})
    config = loop_config(root, **{"routing.fix": ["fixer", "tidy"]})
    Tidy.offered = 0
    state = start_run(root, config, plugins, options(config, max_iterations=2))
    assert state.stop_reason == "target", state.stop_detail
    assert Tidy.offered >= 1  # the planner asked the plugin's agent, not only gitorch's own
    subjects = [git(root, "log", "-1", "--format=%s", sha).strip() for sha in branch_commits(root, state)]
    assert any("tidy:zero" in s for s in subjects)  # a fix no audit reported, offered by the plugin
    assert any("tidy:old" in s for s in subjects)  # a finding the plugin added to the marker's audit
    assert any(" good " in s for s in subjects)  # and the marker auditor's own finding, fixed by "fixer"
