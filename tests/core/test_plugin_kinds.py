"""The plugin kinds live in one interface module each (gitorch.plugin.{agent,dimension,parser})."""

import subprocess
import sys

import pytest

import gitorch
import gitorch.models
from gitorch.plugin import agent, dimension, parser


def test_the_kinds_are_the_same_classes_from_every_import_path():
    assert gitorch.Agent is gitorch.models.Agent is agent.Agent
    assert gitorch.Dimension is gitorch.models.Dimension is dimension.Dimension
    assert gitorch.Parser is gitorch.models.Parser is parser.Parser
    assert gitorch.Availability is gitorch.models.Availability is agent.Availability
    assert gitorch.models.AgentContext is agent.AgentContext


def test_defaults_are_off_unless_a_plugin_says_so():
    assert agent.Agent.default is False and parser.Parser.default is False


@pytest.mark.parametrize(
    "module",
    [
        "gitorch.plugin.agent",
        "gitorch.plugin.parser",
        "gitorch.plugin.dimension",
        "gitorch.plugin.manager",
        "gitorch.models",
        "gitorch.hookspecs",
        "gitorch.audit",
        "gitorch.config",
    ],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    """No import cycle: models re-exports the kinds, the kinds import the data from models."""
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}; from gitorch.models import Agent, Parser, Dimension"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
