from __future__ import annotations

import sys
from pathlib import Path

import pytest
from gitorch_local.bandit import SEVERITY_MAP
from gitorch_local.tools import find_tool

from gitorch.config import Config
from gitorch.errors import AnalyzerMissingError
from gitorch.models import Severity

from .conftest import by_rule, git

VULNERABLE = """\
import random
import subprocess
import yaml


def run(cmd):
    return subprocess.call(cmd, shell=True)


def token():
    return random.random()


def load(data):
    return yaml.load(data)
"""


def test_bandit_findings_carry_rule_location_snippet_and_mapped_severity(project, audit):
    root = project({"app.py": VULNERABLE})
    progress: list[str] = []
    result = audit(root, "security", progress=progress)

    shell = by_rule(result, "B602")[0]
    assert (shell.file, shell.line, shell.severity) == ("app.py", 7, Severity.P0)  # HIGH x HIGH
    assert shell.snippet == "return subprocess.call(cmd, shell=True)"
    assert shell.source == "bandit" and shell.dimension == "security"
    assert "shell=False" in (shell.recommendation or "")
    assert by_rule(result, "B311")[0].severity == Severity.P3  # LOW x HIGH
    assert by_rule(result, "B506")[0].severity == Severity.P1  # MEDIUM x HIGH
    assert result.agent == "local" and result.dimension == "security"
    assert progress == ["running bandit…"]


def test_severity_mapping_covers_every_bandit_pair_and_rises_with_both_axes():
    levels = ["LOW", "MEDIUM", "HIGH"]
    assert len(SEVERITY_MAP) == 9
    for i, sev in enumerate(levels):
        for j, conf in enumerate(levels):
            if i + 1 < len(levels):
                assert SEVERITY_MAP[(levels[i + 1], conf)] <= SEVERITY_MAP[(sev, conf)]
            if j + 1 < len(levels):
                assert SEVERITY_MAP[(sev, levels[j + 1])] <= SEVERITY_MAP[(sev, conf)]


def test_fingerprint_survives_unrelated_lines_moving(project, audit):
    root = project({"app.py": VULNERABLE})
    before = by_rule(audit(root, "security"), "B602")[0]
    project({"app.py": "# a new header comment\n\n" + VULNERABLE})
    after = by_rule(audit(root, "security"), "B602")[0]
    assert after.line == before.line + 2
    assert after.fingerprint == before.fingerprint


@pytest.mark.parametrize(
    ("config_file", "text"),
    [
        ("pyproject.toml", "[tool.bandit]\nskips = [\"B311\"]\n"),
        (".bandit", "[bandit]\nskips = B311\n"),
        ("bandit.yaml", "skips: ['B311']\n"),
    ],
)
def test_repository_bandit_config_is_respected(project, audit, config_file, text):
    root = project({"app.py": VULNERABLE, config_file: text})
    result = audit(root, "security")
    assert not by_rule(result, "B311")
    assert by_rule(result, "B602")


def test_configured_and_default_excludes_are_skipped(project, audit):
    root = project({
        "app.py": VULNERABLE,
        "vendor/lib.py": VULNERABLE,
        ".venv/lib/site.py": VULNERABLE,
        "src/node_modules/x.py": VULNERABLE,
    })
    config = Config(exclude=[".git", ".venv", "node_modules", "vendor"])
    files = {f.file for f in audit(root, "security", config=config).findings}
    assert files == {"app.py"}
    assert "vendor/lib.py" in {f.file for f in audit(root, "security").findings}


def test_path_limits_the_audit_to_a_subdirectory(project, audit):
    root = project({"app.py": VULNERABLE, "pkg/mod.py": VULNERABLE})
    assert {f.file for f in audit(root, "security", path="pkg").findings} == {"pkg/mod.py"}


def test_a_worktree_inside_dot_git_is_audited_from_its_root_and_skipped_from_the_checkout(project, audit):
    root = project({"app.py": VULNERABLE})
    worktree = root / ".git" / "gitorch" / "worktrees" / "x"
    git(root, "worktree", "add", "-q", "-b", "gitorch/x", str(worktree))

    inside = audit(worktree, "security")
    assert {f.file for f in inside.findings} == {"app.py"}
    assert by_rule(inside, "B602")

    outside = audit(root, "security")
    assert {f.file for f in outside.findings} == {"app.py"}
    assert len(outside.findings) == len(inside.findings)


def test_dry_run_lists_the_command_and_runs_nothing(project, audit):
    root = project({"app.py": VULNERABLE})
    result = audit(root, "security", dry_run=True, options={"bandit": "/nonexistent/bandit"})
    assert result.findings == []
    assert len(result.notes) == 1 and result.notes[0].startswith("would run: cd ")
    assert "-f json" in result.notes[0] and "-r ." in result.notes[0]


def test_missing_bandit_raises_one_clear_line(project, audit):
    root = project({"app.py": VULNERABLE})
    with pytest.raises(AnalyzerMissingError) as info:
        audit(root, "security", options={"bandit": "/nonexistent/bandit"})
    message = str(info.value)
    assert "bandit" in message and "pip install bandit" in message and "\n" not in message


def test_analyzers_are_found_next_to_the_interpreter_before_path(tmp_path, monkeypatch):
    fake_bin = tmp_path / "venv" / "bin"
    fake_bin.mkdir(parents=True)
    (fake_bin / "python").write_text("")
    tool = fake_bin / "bandit"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake_bin / "python"))
    assert find_tool("bandit") == str(tool)

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(AnalyzerMissingError, match="radon is not installed.*pip install radon"):
        find_tool("radon")


def test_nothing_is_written_into_the_audited_tree(project, audit):
    root = project({"app.py": VULNERABLE})
    for dim in ("security", "backend", "architecture"):
        audit(root, dim)
    assert git(root, "status", "--porcelain", "--ignored") == ""
    assert sorted(p.name for p in Path(root).iterdir()) == [".git", "README.md", "app.py"]


def test_asserts_in_tests_are_not_findings_unless_the_repository_configures_bandit(project, audit):
    files = {"app.py": "def f(x):\n    assert x\n", "tests/test_app.py": "def test_f():\n    assert 1\n"}
    root = project(files)
    assert [f.file for f in by_rule(audit(root, "security"), "B101")] == ["app.py"]
    project({".bandit": "[bandit]\nskips = B404\n"})
    assert [f.file for f in by_rule(audit(root, "security"), "B101")] == ["app.py", "tests/test_app.py"]
