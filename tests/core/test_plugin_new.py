"""``gitorch plugin new``: the package it writes installs, passes its own tests and is listed by gitorch.

The real check installs the generated package with pip into a throwaway virtual environment that sees
this one's packages (gitorch included) through a ``.pth`` file, so nothing is installed into the test
environment; then runs the package's own test suite and ``gitorch plugins`` with that environment's
Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from gitorch.services.skeleton import compatible_range, plugin_skeleton

ALL_KINDS = [
    ("dimension", "agent"),
    ("dimension",),
    ("agent",),
    ("parser",),
    ("dimension", "agent", "parser"),
]
HOOKS = (("dimension", "gitorch_dimensions"), ("agent", "gitorch_agents"), ("parser", "gitorch_parsers"))


def throwaway_venv(where: Path) -> Path:
    """A virtual environment whose Python also sees this environment's packages; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()["purelib"]
    Path(site, "_gitorch_test_environment.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return python


def run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=600, env={**os.environ, **env}, check=False
    )


@pytest.mark.slow
def test_a_new_plugin_installs_passes_its_own_tests_and_is_listed(cli, tmp_path):
    target = tmp_path / "gitorch-todo-scan"
    made = cli("plugin", "new", "todo-scan", "--dimension", "--agent", "--parser",
               "--description", "Finds TODO markers", "--output", str(target))  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "next: cd" in made.stdout and "pip install -e '.[test]'" in made.stdout
    python = throwaway_venv(tmp_path / "venv")
    pip = run([str(python), "-m", "pip", "install", "--no-index", "--no-build-isolation", "-e", "."], target)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]

    tests = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], target)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "5 passed" in tests.stdout

    listing = [str(python), "-m", "gitorch", "plugins", "--json"]
    listed = run(listing, tmp_path, GITORCH_LOAD_PLUGINS="todo-scan")
    assert listed.returncode == 0, listed.stderr
    mine = next(p for p in json.loads(listed.stdout)["plugins"] if p["name"] == "todo-scan")
    assert (mine["distribution"], mine["version"]) == ("gitorch-todo-scan", "0.1.0")
    assert mine["agents"] == mine["dimensions"] == mine["parsers"] == ["todo-scan"]
    assert mine["requires_gitorch"] == "<0.2,>=0.1.0"
    # the test environment itself did not get it
    assert run([sys.executable, "-c", "import gitorch_todo_scan"], tmp_path).returncode == 1


@pytest.mark.parametrize("kinds", ALL_KINDS, ids="+".join)
def test_every_combination_of_kinds_is_clean_python_with_matching_tests(kinds, tmp_path):
    files = plugin_skeleton("seo-check", "Checks SEO tags", kinds=kinds)
    assert set(files) == {
        "README.md",
        "pyproject.toml",
        "src/gitorch_seo_check/__init__.py",
        "tests/conftest.py",
        "tests/test_gitorch_seo_check.py",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    meta = tomllib.loads(files["pyproject.toml"])
    assert meta["project"]["entry-points"]["gitorch"] == {"seo-check": "gitorch_seo_check"}
    module = files["src/gitorch_seo_check/__init__.py"]
    for kind, hook in HOOKS:
        assert (f"def {hook}(" in module) == (kind in kinds)
    ruff = [sys.executable, "-m", "ruff"]
    lint = run([*ruff, "check", "--isolated", "--select", "E,F,W,I,B,UP,SIM", "."], tmp_path)
    assert lint.returncode == 0, lint.stdout
    assert run([*ruff, "format", "--isolated", "--check", "."], tmp_path).returncode == 0
    compile(module, "module", "exec")


def test_an_agent_without_its_own_dimension_audits_backend():
    module = plugin_skeleton("grep", kinds=("agent",))["src/gitorch_grep/__init__.py"]
    assert 'audits = frozenset({"backend"})' in module and "class GrepDimension" not in module


def test_the_declared_range_stops_at_the_next_release_that_may_break_plugins():
    assert compatible_range("0.1.0") == ">=0.1.0,<0.2"
    assert compatible_range("0.4.2rc1") == ">=0.4.2,<0.5"
    assert compatible_range("1.3.0") == ">=1.3.0,<2"


def test_bad_requests_change_nothing(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args, message in (
        (["Bad Name"], "use lower-case letters, digits and dashes"),
        (["security", "--dimension"], "a dimension named 'security' exists already (plugin 'dimensions')"),
        (["local", "--agent"], "an agent named 'local' exists already (plugin 'local')"),
        (["x", "--description", 'say "hi"'], "without double quotes"),
    ):
        done = cli("plugin", "new", *args)
        assert done.exit_code == 2 and message in done.stderr, (args, done.stderr)
        assert list(tmp_path.iterdir()) == []
    (tmp_path / "gitorch-taken").mkdir()
    (tmp_path / "gitorch-taken" / "keep.txt").write_text("mine\n")
    done = cli("plugin", "new", "taken")
    assert done.exit_code == 2 and "already exists and is not empty" in done.stderr
    assert [p.name for p in (tmp_path / "gitorch-taken").iterdir()] == ["keep.txt"]
    assert cli("plugin", "new", "fresh").exit_code == 0
    assert (tmp_path / "gitorch-fresh" / "pyproject.toml").exists()
