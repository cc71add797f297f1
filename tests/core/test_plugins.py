import types
from importlib.metadata import EntryPoint

import pytest

from gitorch import Dimension, hookimpl
from gitorch.errors import PluginError
from gitorch.plugin.manager import get_plugins


class _Dist:
    def __init__(self, name, version="1.0", requires=None):
        self.metadata = {"Name": name}
        self.version = version
        self.requires = requires


class FakeEntryPoint(EntryPoint):
    """An entry point whose load() returns (or raises) what the test says (sqlfluff's pattern)."""

    def __init__(self, name, target, dist="gitorch-thing", requires=None):
        super().__init__(name, f"fake_{name}", "gitorch")
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_dist", _Dist(dist, requires=requires))

    @property
    def dist(self):
        return self._dist

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def _dimension_plugin(mod_name, dim_name):
    cls = type(dim_name.title(), (Dimension,), {"name": dim_name})

    @hookimpl
    def gitorch_dimensions():
        return [cls]

    return _module(mod_name, gitorch_dimensions=gitorch_dimensions)


@pytest.fixture(autouse=True)
def _third_party_allowed(monkeypatch):
    """These tests hand-craft third-party entry points; the suite-wide allow-list would hide them."""
    monkeypatch.delenv("GITORCH_LOAD_PLUGINS", raising=False)


def test_broken_entry_point_is_reported_not_raised(capsys):
    plugins = get_plugins(
        [
            FakeEntryPoint("broken", ImportError("no module named zzz")),
            FakeEntryPoint("good", _dimension_plugin("good", "style")),
        ]
    )
    assert [f.name for f in plugins.failures] == ["broken"]
    assert plugins.failures[0].distribution == "gitorch-thing" and plugins.failures[0].version == "1.0"
    assert "ImportError: no module named zzz" in plugins.failures[0].error
    assert "style" in plugins.dimensions()
    assert "plugin 'broken' (gitorch-thing 1.0) skipped" in capsys.readouterr().err


def test_strict_mode_turns_a_broken_plugin_into_an_error(monkeypatch):
    monkeypatch.setenv("GITORCH_STRICT_PLUGINS", "1")
    with pytest.raises(
        PluginError, match=r"plugin 'broken' \(gitorch-thing 1.0\) failed to load: RuntimeError: boom"
    ):
        get_plugins([FakeEntryPoint("broken", RuntimeError("boom"))])


def test_plugin_implementing_an_unknown_hook_is_skipped():
    @hookimpl
    def gitorch_agentz():
        return []

    plugins = get_plugins([FakeEntryPoint("typo", _module("typo", gitorch_agentz=gitorch_agentz))])
    assert plugins.failures[0].name == "typo"
    assert "unknown hook(s) gitorch_agentz" in plugins.failures[0].error
    assert not plugins.pm.has_plugin("typo")


def test_duplicate_names_are_an_error_naming_both_plugins():
    plugins = get_plugins(
        [
            FakeEntryPoint("one", _dimension_plugin("one", "style")),
            FakeEntryPoint("two", _dimension_plugin("two", "style")),
        ]
    )
    with pytest.raises(
        PluginError, match=r"duplicate name 'style'.*'one'.*'two'|duplicate name 'style'.*'two'.*'one'"
    ):
        plugins.dimensions()


def test_a_registration_hook_that_raises_costs_only_its_plugin():
    @hookimpl
    def gitorch_dimensions():
        raise ValueError("bad plugin code")

    plugins = get_plugins(
        [
            FakeEntryPoint("bad", _module("bad", gitorch_dimensions=gitorch_dimensions)),
            FakeEntryPoint("good", _dimension_plugin("good", "style")),
        ]
    )
    assert list(plugins.dimensions()) == ["style"]
    assert plugins.failures[0].name == "bad" and "bad plugin code" in plugins.failures[0].error


def test_a_plugin_whose_gitorch_range_excludes_this_version_is_refused_before_import(monkeypatch, capsys):
    from gitorch import __version__

    never = FakeEntryPoint("future", AssertionError("imported anyway"), requires=["gitorch<0.0.1,>=0.0.0a0"])
    plugins = get_plugins([never, FakeEntryPoint("good", _dimension_plugin("good", "style"))])
    [failure] = plugins.failures
    assert (failure.name, failure.requires_gitorch) == ("future", "<0.0.1,>=0.0.0a0")
    assert failure.error == (
        "IncompatiblePlugin: its distribution requires gitorch <0.0.1,>=0.0.0a0, "
        f"but this is gitorch {__version__}"
    )
    assert "plugin 'future' (gitorch-thing 1.0) skipped: IncompatiblePlugin" in capsys.readouterr().err
    assert "style" in plugins.dimensions()
    monkeypatch.setenv("GITORCH_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"'future' .* failed to load: IncompatiblePlugin: .*requires"):
        get_plugins([never])


def test_the_declared_gitorch_range_is_read_from_the_distributions_requirements():
    from gitorch.plugin.manager import gitorch_requirement

    def ep(requires):
        return FakeEntryPoint("x", None, requires=requires)

    assert gitorch_requirement(ep(["requests>=2", "gitorch (>=0.1,<1)"])) == "<1,>=0.1"
    assert gitorch_requirement(ep(["Gitorch>=0.1"])) == ">=0.1"
    assert gitorch_requirement(ep(["gitorch"])) == ""
    assert gitorch_requirement(ep(['gitorch<0.0.1; extra == "old"', "requests"])) is None
    assert gitorch_requirement(ep(None)) is None and gitorch_requirement(ep(["not a requirement !!"])) is None
    fits = FakeEntryPoint("fits", _dimension_plugin("fits", "style"), requires=["gitorch>=0.1"])
    plugins = get_plugins([fits])
    assert [(p.name, p.requires_gitorch) for p in plugins.loaded] == [("fits", ">=0.1")]


def test_block_list_blocks_first_and_third_party_plugins(monkeypatch):
    monkeypatch.setenv("GITORCH_DISABLE_PLUGINS", "dimensions,good")
    plugins = get_plugins()
    assert "security" not in plugins.dimensions()
    plugins = get_plugins([FakeEntryPoint("good", _dimension_plugin("good", "style"))])
    assert "style" not in plugins.dimensions()


def test_allow_list_governs_third_party_plugins_only(monkeypatch):
    eps = [
        FakeEntryPoint("good", _dimension_plugin("good", "style")),
        FakeEntryPoint("core", _dimension_plugin("core", "core-dim"), dist="gitorch"),
    ]
    monkeypatch.setenv("GITORCH_LOAD_PLUGINS", "")
    assert set(get_plugins(eps).dimensions()) == {"core-dim"}
    monkeypatch.setenv("GITORCH_LOAD_PLUGINS", "good")
    assert set(get_plugins(eps).dimensions()) == {"core-dim", "style"}
    monkeypatch.setenv("GITORCH_LOAD_PLUGINS", "gitorch-thing")  # by distribution name
    assert set(get_plugins(eps).dimensions()) == {"core-dim", "style"}
    monkeypatch.delenv("GITORCH_LOAD_PLUGINS")
    monkeypatch.setenv("GITORCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert set(get_plugins(eps).dimensions()) == {"core-dim"}


def test_first_party_plugins_are_registered_first_so_third_party_run_first(monkeypatch):
    monkeypatch.setenv("GITORCH_LOAD_PLUGINS", "third")
    eps = [
        FakeEntryPoint("third", _dimension_plugin("third", "a")),
        FakeEntryPoint("first", _dimension_plugin("first", "b"), dist="gitorch"),
    ]
    plugins = get_plugins(eps)
    assert [p.name for p in plugins.loaded] == ["first", "third"]
    assert [impl.plugin_name for impl in reversed(plugins.pm.hook.gitorch_dimensions.get_hookimpls())] == [
        "third",
        "first",
    ]


def test_builtin_plugins_load_through_entry_points():
    plugins = get_plugins()
    assert {"security", "backend", "tests", "architecture", "compliance", "frontend"} <= set(
        plugins.dimensions()
    )
    names = {p.name for p in plugins.loaded}
    assert {"dimensions", "local", "markdown"} <= names
    assert all(p.first_party for p in plugins.loaded if p.name in {"dimensions", "local", "markdown"})


def test_installed_third_party_example_plugin_is_discovered_and_used(monkeypatch, git_repo, cli):
    pytest.importorskip("gitorch_example", reason="CI installs plugins/gitorch-example; pip install -e it")
    monkeypatch.setenv("GITORCH_LOAD_PLUGINS", "example")
    plugins = get_plugins()
    assert "todos" in plugins.dimensions() and "grep-todos" in plugins.agents()
    (__import__("pathlib").Path(git_repo.working_tree_dir) / "a.py").write_text("x = 1  # FIXME: wrong\n")
    result = cli(
        "audit",
        "--dim",
        "todos",
        "--agent",
        "grep-todos",
        "--format",
        "json",
        "--repo",
        git_repo.working_tree_dir,
    )
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["findings"][0]["file"] == "a.py" and data["findings"][0]["severity"] == "P2"


def test_agent_class_lookup_errors_name_the_known_agents():
    from gitorch.errors import UsageError

    plugins = get_plugins()
    with pytest.raises(UsageError, match=r"unknown agent 'nope' \(known: .*local"):
        plugins.agent_class("nope")


# Essential plugins and defaults: the core names no plugin ----------------------------------------


def test_disabling_an_essential_plugin_is_one_line_and_exit_code_2(git_repo):
    import os
    import subprocess
    import sys

    from gitorch.errors import ExitCode

    done = subprocess.run(
        [sys.executable, "-m", "gitorch", "audit", "--dim", "backend", "--repo", git_repo.working_tree_dir],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GITORCH_DISABLE_PLUGINS": "agents,markdown"},
    )
    assert done.returncode == ExitCode.USAGE
    assert done.stderr == (
        "gitorch: plugin 'markdown' is essential and cannot be disabled: "
        "remove it from GITORCH_DISABLE_PLUGINS\n"
    )
    assert done.stdout == ""


def test_essential_is_declared_by_the_plugin_module_and_shown_in_plugins(monkeypatch):
    from gitorch.errors import UsageError

    essential = _module("core_thing", ESSENTIAL=True)
    eps = [FakeEntryPoint("core-thing", essential, dist="gitorch")]
    assert get_plugins(eps).loaded[0].essential is True
    monkeypatch.setenv("GITORCH_DISABLE_PLUGINS", "core-thing")
    with pytest.raises(UsageError, match="plugin 'core-thing' is essential and cannot be disabled"):
        get_plugins(eps)
    # a third-party plugin cannot make itself impossible to disable
    monkeypatch.setenv("GITORCH_DISABLE_PLUGINS", "other")
    plugins = get_plugins([FakeEntryPoint("other", _module("other", ESSENTIAL=True))])
    assert not plugins.pm.has_plugin("other")
    # gitorch's own: the Markdown parser is essential, the others are not
    monkeypatch.delenv("GITORCH_DISABLE_PLUGINS")
    builtin = {p.name: p.essential for p in get_plugins().loaded}
    assert builtin["markdown"] is True and builtin["local"] is False and builtin["dimensions"] is False


def _with_builtins(*fakes):
    """gitorch's own entry points plus the fakes (a list replaces discovery)."""
    from importlib.metadata import entry_points

    return [ep for ep in entry_points(group="gitorch") if ep.dist.metadata["Name"] == "gitorch"] + list(fakes)


def _parser_plugin(mod_name, parser_name, default):
    from gitorch import AuditResult, Parser

    cls = type(
        parser_name.title(),
        (Parser,),
        {"name": parser_name, "default": default, "parse": lambda self, text, *, dimension="general": (
            AuditResult(dimension=dimension, agent="unknown", notes=[parser_name]))},
    )  # fmt: skip

    @hookimpl
    def gitorch_parsers():
        return [cls]

    return _module(mod_name, gitorch_parsers=gitorch_parsers)


def test_the_default_parser_is_the_one_a_plugin_declares_and_third_party_pre_empts():
    assert get_plugins().default_parser().name == "markdown"
    mine = FakeEntryPoint("mine", _parser_plugin("mine", "mine", default=True))
    plugins = get_plugins(_with_builtins(mine))
    plugins_off = get_plugins(
        _with_builtins(FakeEntryPoint("plain", _parser_plugin("plain", "plain", default=False)))
    )
    assert plugins_off.default_parser().name == "markdown"
    assert list(plugins.parsers()) == ["mine", "markdown"]  # pluggy's order: third-party first
    assert plugins.default_parser().name == "mine"


def test_without_a_default_parser_the_error_says_so():
    plugins = get_plugins([], modules={"only": _parser_plugin("only", "plain", default=False)})
    with pytest.raises(PluginError, match="no parser declares itself the default.*parsers: plain"):
        plugins.default_parser()
    assert plugins.default_parser(required=False) is None


def test_default_agents_come_from_the_agents_classes(git_repo):
    from pathlib import Path

    from gitorch import Agent, AuditResult
    from gitorch.audit import agent_chain, choose_agent
    from gitorch.config import Config

    class Mine(Agent):
        name = "mine"
        default = True
        audits = frozenset({"security"})

        def audit(self, request):
            return AuditResult(dimension="security", agent=self.name)

    @hookimpl
    def gitorch_agents():
        return [Mine]

    mine = FakeEntryPoint("mine", _module("mine", gitorch_agents=gitorch_agents))
    plugins = get_plugins(_with_builtins(mine))
    assert plugins.default_agents() == ["mine", "local"]  # third-party first, as pluggy calls them
    config = Config()
    assert agent_chain(plugins, config, "fix", "security") == ["mine", "local"]
    assert choose_agent(plugins, "security", config) == "mine"
    assert choose_agent(plugins, "backend", config) == "local"  # mine cannot audit backend
    configured = Config.model_validate({"routing": {"audit": ["local"]}})
    assert choose_agent(plugins, "security", configured) == "local"  # the configuration wins
    from gitorch.audit import run_audit

    assert run_audit(Path(git_repo.working_tree_dir), "security", config, plugins).agent == "mine"


# Hooks go through pluggy's hook caller ------------------------------------------------------------


class _Chain:
    def __init__(self, tag, seen):
        self.tag, self.seen = tag, seen

    @hookimpl
    def gitorch_process_findings(self, findings):
        self.seen.append((self.tag, [f.description for f in findings]))
        return [f.model_copy(update={"description": f"{f.description}+{self.tag}"}) for f in findings]


def test_process_findings_is_a_chain_in_pluggy_order():
    from gitorch import AuditResult, Finding
    from gitorch.config import Config

    seen = []
    plugins = get_plugins([])
    plugins.pm.register(_Chain("first", seen), name="first")
    plugins.pm.register(_Chain("second", seen), name="second")  # registered last: called first
    finding = Finding(dimension="d", severity="P2", description="x")
    out = plugins.process_findings([finding], AuditResult(dimension="d", agent="a"), Config())
    assert seen == [("second", ["x"]), ("first", ["x+second"])]
    assert [f.description for f in out] == ["x+second+first"]


def test_a_process_findings_plugin_that_raises_or_returns_junk_fails_the_audit_naming_it():
    from gitorch import AuditResult, Finding
    from gitorch.config import Config

    class Raises:
        @hookimpl
        def gitorch_process_findings(self, result):
            raise KeyError("boom")

    class Junk:
        @hookimpl
        def gitorch_process_findings(self, config):
            return "not a list"

    args = ([Finding(dimension="d", severity="P2", description="x")], AuditResult(dimension="d", agent="a"))
    plugins = get_plugins([])
    plugins.pm.register(Raises(), name="raiser")
    with pytest.raises(PluginError, match=r"plugin 'raiser': gitorch_process_findings failed: KeyError"):
        plugins.process_findings(*args, Config())
    plugins = get_plugins([])
    plugins.pm.register(Junk(), name="junk")
    with pytest.raises(PluginError, match=r"plugin 'junk': gitorch_process_findings returned str"):
        plugins.process_findings(*args, Config())


def test_add_commands_a_plugin_that_raises_costs_only_that_plugin(capsys):
    import typer
    from typer.testing import CliRunner

    class Broken:
        @hookimpl
        def gitorch_add_commands(self):
            raise RuntimeError("no commands today")

    class Fine:
        @hookimpl
        def gitorch_add_commands(self, app):
            app.command("fine")(lambda: typer.echo("fine"))

    plugins = get_plugins([])
    plugins.pm.register(Fine(), name="fine")
    plugins.pm.register(Broken(), name="broken")  # called first
    app = typer.Typer()
    app.command("noop")(lambda: None)
    plugins.add_commands(app)
    assert CliRunner().invoke(app, ["fine"]).stdout == "fine\n"
    assert [f.name for f in plugins.failures] == ["broken"]
    assert "gitorch_add_commands failed: RuntimeError: no commands today" in capsys.readouterr().err


def test_registration_hooks_pass_through_hook_call_monitoring():
    calls = []
    plugins = get_plugins(_with_builtins(FakeEntryPoint("good", _dimension_plugin("good", "style"))))
    plugins.pm.add_hookcall_monitoring(
        lambda hook, impls, kwargs: calls.append((hook, [i.plugin_name for i in impls])),
        lambda outcome, hook, impls, kwargs: None,
    )
    plugins.dimensions()
    assert ("gitorch_dimensions", ["good"]) in calls and ("gitorch_dimensions", ["dimensions"]) in calls
