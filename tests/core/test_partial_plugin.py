"""A real installed plugin whose hook implementations name only some of their arguments.

``plugin_packages/gitorch_partial`` implements every hook of gitorch/hookspecs.py; here it is installed
for real (a ``.dist-info`` with an entry point in the ``gitorch`` group, on the path of the process)
and gitorch is run with it, as a subprocess and in-process.
"""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitorch import hookspecs
from gitorch.plugin import get_plugins
from gitorch.testing.fixtures import commit

PACKAGES = Path(__file__).parent / "plugin_packages"
HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("gitorch_"))


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """gitorch-partial installed: its package and a dist-info declaring its entry point."""
    site = tmp_path / "site"
    info = site / "gitorch_partial-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: gitorch-partial\nVersion: 0.1\nRequires-Dist: gitorch (>=0.1)\n"
    )
    (info / "entry_points.txt").write_text("[gitorch]\npartial = gitorch_partial\n")
    monkeypatch.syspath_prepend(str(PACKAGES))
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.setenv("GITORCH_LOAD_PLUGINS", "partial")
    return os.pathsep.join([str(site), str(PACKAGES), os.environ.get("PYTHONPATH", "")])


@pytest.fixture
def project(git_repo):
    commit(git_repo, {"app.py": "# teh answer\nx = 1  # recieve\ny = 2  # teh end\n"}, "typos")
    return Path(git_repo.working_tree_dir)


def gitorch(*args, pythonpath, **env):
    return subprocess.run(
        [sys.executable, "-m", "gitorch", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": pythonpath, **env},
    )


def test_the_plugin_implements_every_hook_with_fewer_arguments_than_specified(installed):
    import inspect

    import gitorch_partial

    for name in HOOKS:
        assert hasattr(gitorch_partial, name), f"gitorch_partial does not implement {name}"
    named = inspect.signature(gitorch_partial.gitorch_process_findings).parameters
    assert list(named) == ["findings"]  # the spec has findings, result, config


def test_it_is_discovered_through_its_entry_point_and_fills_every_registry(installed, tmp_path):
    from gitorch.config import Config

    plugins = get_plugins()
    info = next(p for p in plugins.loaded if p.name == "partial")
    assert (info.distribution, info.version, info.first_party) == ("gitorch-partial", "0.1", False)
    assert set(info.hooks) == set(HOOKS)
    assert plugins.provider("gitorch_dimensions", "spelling") == "partial"
    assert plugins.provider("gitorch_agents", "speller") == "partial"
    assert plugins.provider("gitorch_parsers", "wordlist") == "partial"
    assert [name for name, _ in plugins.template_dirs(None)] == ["partial"]
    assert plugins.gate_defaults() == {"confirm.core_files": [("**/dictionary.txt", "partial")]}
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "dictionary.txt").write_text("teh\n")
    assert plugins.modules(tmp_path, Config()) == [("partial", "words")]
    assert not plugins.failures


def test_gitorch_audit_runs_every_hook_and_the_trace_sees_each_call(installed, project):
    done = gitorch(
        "audit", "--dim", "spelling", "--agent", "speller", "--format", "json", "--repo", str(project),
        pythonpath=installed, GITORCH_TRACE_PLUGINS="1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    planned = gitorch(
        "plan", "--dim", "spelling", "--json", "--repo", str(project), pythonpath=installed,
        GITORCH_TRACE_PLUGINS="1",
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr  # gitorch_modules is asked by the commands that plan
    result = json.loads(done.stdout)
    # gitorch_process_findings(findings) dropped the 'recieve' finding before the score
    assert sorted(f["rule_id"] for f in result["findings"]) == ["teh", "teh"]
    assert result["score_source"] == "computed"
    traced = [
        line for line in (done.stderr + planned.stderr).splitlines() if line.startswith("gitorch: hook ")
    ]
    # a built-in command adds no plugin command (issue 14): `--help`, with no listing kept, does
    listed = gitorch("--help", pythonpath=installed, GITORCH_TRACE_PLUGINS="1",
                     XDG_CACHE_HOME=str(project.parent / "xdg-cache"))  # fmt: skip
    traced += [line for line in listed.stderr.splitlines() if line.startswith("gitorch: hook ")]
    for hook in HOOKS:
        assert any(line.startswith(f"gitorch: hook {hook}(") and "partial" in line for line in traced), (
            f"GITORCH_TRACE_PLUGINS did not see {hook}:\n" + "\n".join(traced)
        )
    assert "gitorch: hook gitorch_process_findings(findings, result, config) -> partial" in traced
    assert not any("gitorch_add_commands" in line for line in done.stderr.splitlines())


def test_its_command_and_its_parser_work_from_the_command_line(installed, tmp_path):
    hello = gitorch("partial-hello", "--name", "plugins", pythonpath=installed)
    assert (hello.returncode, hello.stdout) == (0, "hello plugins\n"), hello.stderr
    report = tmp_path / "words.txt"
    report.write_text("one two\n")
    parsed = gitorch("parse", str(report), "--parser", "wordlist", "--json", pythonpath=installed)
    assert parsed.returncode == 0, parsed.stderr
    assert [f["description"] for f in json.loads(parsed.stdout)["findings"]] == ["one", "two"]


def test_in_process_audit_with_the_plugin(installed, project, cli):
    result = cli("audit", "-d", "spelling", "--format", "json", "--agent", "speller", "--repo", str(project))
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["findings"]) == 2


def test_gitorch_plugins_shows_what_it_adds_and_refuses_a_plugin_for_another_gitorch(installed, tmp_path):
    future = tmp_path / "site" / "gitorch_future-2.0.dist-info"
    future.mkdir()
    (future / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: gitorch-future\nVersion: 2.0\nRequires-Dist: gitorch>=9,<10\n"
    )
    (future / "entry_points.txt").write_text("[gitorch]\nfuture = gitorch_future_does_not_exist\n")
    done = gitorch("plugins", "--json", pythonpath=installed, GITORCH_LOAD_PLUGINS="partial,future")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    partial = next(p for p in data["plugins"] if p["name"] == "partial")
    assert (partial["version"], partial["requires_gitorch"]) == ("0.1", ">=0.1")
    adds = (partial["agents"], partial["dimensions"], partial["parsers"])
    assert adds == (["speller"], ["spelling"], ["wordlist"])
    local = next(p for p in data["plugins"] if p["name"] == "local")
    assert local["agents"] == ["local"] and local["requires_gitorch"] is None
    [failed] = data["failed"]
    assert (failed["name"], failed["version"], failed["requires_gitorch"]) == ("future", "2.0", "<10,>=9")
    assert "requires gitorch <10,>=9, but this is gitorch 0.1.0" in failed["error"]  # never imported
    text = gitorch("plugins", pythonpath=installed, GITORCH_LOAD_PLUGINS="partial,future")
    assert "adds agents speller; dimensions spelling; parsers wordlist" in text.stdout
    assert "future" in text.stdout and "FAILED: IncompatiblePlugin" in text.stdout
    strict = gitorch(
        "plugins", pythonpath=installed, GITORCH_LOAD_PLUGINS="future", GITORCH_STRICT_PLUGINS="1"
    )
    assert strict.returncode == 3 and "requires gitorch <10,>=9" in strict.stderr
