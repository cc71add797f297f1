from __future__ import annotations

from pathlib import Path

from gitorch_local.ruff import CURATED_SELECT, severity_of

from gitorch.config import Config
from gitorch.models import Severity

from .conftest import by_rule, git

BUGGY = """\
import os
import sys
import subprocess


def f(x=[]):
    if x == None:
        return undefined_name
    subprocess.call("ls", shell=True)
    return x


def g():
    print("a very long line that goes past any sensible limit, ruff's E501 would flag it if selected")
    return sys.argv
"""


def test_curated_rules_map_to_severities_and_leave_style_and_security_out(project, audit):
    root = project({"app.py": BUGGY})
    progress: list[str] = []
    result = audit(root, "backend", progress=progress)
    rules = {f.rule_id for f in result.findings}

    assert rules == {"ruff:F401", "ruff:B006", "ruff:E711", "ruff:F821"}
    unused = by_rule(result, "ruff:F401")[0]
    assert (unused.file, unused.line, unused.snippet) == ("app.py", 1, "import os")
    assert unused.severity == Severity.P3
    assert "safe automatic fix" in (unused.recommendation or "")
    assert by_rule(result, "ruff:F821")[0].severity == Severity.P1
    assert by_rule(result, "ruff:B006")[0].severity == Severity.P2
    assert "unsafe" in (by_rule(result, "ruff:B006")[0].recommendation or "")
    assert progress == ["running ruff…"]
    assert "curated" in result.notes[0]


def test_repository_ruff_config_is_respected_without_select_override(project, audit):
    root = project({"app.py": BUGGY, "ruff.toml": "line-length = 100\n[lint]\nselect = [\"E501\"]\n"})
    result = audit(root, "backend")
    assert {f.rule_id for f in result.findings} == {"ruff:E501"}
    assert result.findings[0].severity == Severity.P4  # style families are info
    assert "own ruff configuration" in result.notes[0]


def test_pyproject_tool_ruff_counts_as_repository_config(project, audit):
    root = project({"app.py": BUGGY, "pyproject.toml": "[tool.ruff.lint]\nselect = [\"F401\"]\n"})
    assert {f.rule_id for f in audit(root, "backend").findings} == {"ruff:F401"}


def test_excluded_directories_are_skipped(project, audit):
    root = project({"app.py": "import os\n", "vendor/x.py": "import os\n", "build/y.py": "import os\n"})
    files = {f.file for f in audit(root, "backend", config=Config(exclude=["vendor", "build"])).findings}
    assert files == {"app.py"}


def test_ruff_writes_no_cache_in_the_tree(project, audit):
    root = project({"app.py": BUGGY})
    audit(root, "backend")
    assert not (Path(root) / ".ruff_cache").exists()
    assert git(root, "status", "--porcelain", "--ignored") == ""


def test_severity_table_prefers_the_longest_prefix():
    assert severity_of("F821") == Severity.P1
    assert severity_of("F811") == Severity.P2
    assert severity_of("F501") == Severity.P2
    assert severity_of("F541") == Severity.P3
    assert severity_of("F401") == Severity.P3
    assert severity_of("B950") == Severity.P3
    assert severity_of("B006") == Severity.P2
    assert severity_of("D100") == Severity.P4
    assert "S" not in CURATED_SELECT  # bandit owns security


def test_dry_run_names_the_ruff_command(project, audit):
    root = project({"app.py": BUGGY})
    result = audit(root, "backend", dry_run=True)
    assert result.findings == []
    assert "check --no-cache --output-format json" in result.notes[0]
    assert "--select F,E7,E9,B" in result.notes[0]
