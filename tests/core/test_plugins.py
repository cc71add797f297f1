import types
from importlib.metadata import EntryPoint

import pytest

from gitorch import Dimension, hookimpl
from gitorch.errors import PluginError
from gitorch.plugin.manager import get_plugins


class _Dist:
    def __init__(self, name, version="1.0"):
        self.metadata = {"Name": name}
        self.version = version


class FakeEntryPoint(EntryPoint):
    """An entry point whose load() returns (or raises) what the test says (sqlfluff's pattern)."""

    def __init__(self, name, target, dist="gitorch-thing"):
        super().__init__(name, f"fake_{name}", "gitorch")
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_dist", _Dist(dist))

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
