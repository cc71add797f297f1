from __future__ import annotations

import pytest
from gitorch_local.agent import LocalAgent

from gitorch.config import Config
from gitorch.errors import AgentError, ConfigError
from gitorch.plugin.manager import get_plugins

from .conftest import dimension


def test_the_local_agent_is_registered_through_the_entry_point():
    agents = get_plugins().registry("gitorch_agents")
    assert agents["local"] is LocalAgent
    assert LocalAgent.audits == {"security", "backend", "architecture", "tests"}
    assert LocalAgent.fixes == {"security", "backend"}
    assert LocalAgent.availability().ok


def test_options_are_validated_and_unknown_keys_rejected():
    config = Config(agents={"local": {"cc_min_rank": "D", "ruff_select": ["F"]}})
    options = config.agent_options(LocalAgent)
    assert options.cc_min_rank == "D" and options.ruff_select == ["F"]
    with pytest.raises(ConfigError, match="agents.local.ruff_selekt: unknown key"):
        Config(agents={"local": {"ruff_selekt": ["F"]}}).agent_options(LocalAgent)
    with pytest.raises(ConfigError, match="agents.local.cc_min_rank"):
        Config(agents={"local": {"cc_min_rank": "Z"}}).agent_options(LocalAgent)


def test_a_dimension_it_does_not_audit_is_refused_with_one_line(tmp_path):
    from gitorch.models import AuditRequest

    with pytest.raises(AgentError, match="does not audit 'compliance'"):
        LocalAgent().audit(AuditRequest(root=tmp_path, dimension=dimension("compliance"), config=Config()))
