from __future__ import annotations

import os
import time
from pathlib import Path

from gitorch.config import Config
from gitorch.models import Severity

from .conftest import PYTHON, by_rule, git

CALC = (
    "def add(a, b):\n    return a + b\n\n\n"
    "def sub(a, b):\n    if a:\n        return a - b\n    return -b\n"
)
HALF = (
    "def one(x):\n    if x:\n        return 1\n    return 0\n\n\n"
    "def two(x):\n    y = x * 2\n    z = y + 1\n    w = z - 3\n    return w\n"
)
TESTS = (
    "from pkg.calc import add\nfrom pkg import half\n\n\n"
    "def test_ok():\n    assert add(1, 2) == 3\n\n\n"
    "def test_bad():\n    assert add(1, 2) == 4\n\n\n"
    "def test_half():\n    assert half.one(0) == 0\n"
)


def config(command: str = f"{PYTHON} -m pytest -q", **tests) -> Config:
    return Config.model_validate({"tests": {"command": command, **tests}})


def make(project) -> Path:
    return project({
        "pkg/__init__.py": "",
        "pkg/calc.py": CALC,
        "pkg/half.py": HALF,
        "pkg/other.py": "def other():\n    return 1\n",
        "tests/test_calc.py": TESTS,
    })


def test_failing_tests_low_coverage_and_untested_modules(project, audit):
    root = make(project)
    result = audit(root, "tests", config=config())

    failing = by_rule(result, "tests:failing")
    assert len(failing) == 1
    assert (failing[0].file, failing[0].line, failing[0].severity) == ("tests/test_calc.py", 9, Severity.P1)
    assert failing[0].snippet == "def test_bad():"
    assert "test_bad" in failing[0].description and "assert 3 == 4" in failing[0].description

    assert [f.file for f in by_rule(result, "tests:untested-module")] == ["pkg/other.py"]
    assert by_rule(result, "tests:untested-module")[0].severity == Severity.P3
    low = by_rule(result, "tests:module-coverage")
    assert [f.file for f in low] == ["pkg/half.py"]  # 4 of 9 statements; other.py counts as untested
    assert low[0].severity == Severity.P3
    total = by_rule(result, "tests:coverage")
    assert len(total) == 1 and total[0].severity == Severity.P2 and "minimum 80%" in total[0].description
    assert any(n.startswith("coverage ") for n in result.notes)


def test_thresholds_come_from_the_configuration(project, audit):
    root = make(project)
    result = audit(root, "tests", config=config(coverage_min=10, module_coverage_min=10))
    assert not by_rule(result, "tests:coverage")
    assert not by_rule(result, "tests:module-coverage")


def test_all_green_project_has_no_findings_and_leaves_no_files(project, audit):
    root = project({
        "pkg/__init__.py": "",
        "pkg/calc.py": "def add(a, b):\n    return a + b\n",
        "tests/test_calc.py": "from pkg.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    })
    result = audit(root, "tests", config=config())
    assert result.findings == []
    assert git(root, "status", "--porcelain", "--ignored") == ""  # no .coverage, .pytest_cache, __pycache__


def test_no_tests_collected_is_one_honest_finding(project, audit):
    root = project({"pkg/__init__.py": "", "pkg/calc.py": CALC})
    result = audit(root, "tests", config=config())
    assert [f.rule_id for f in result.findings if f.severity <= Severity.P2] == ["tests:none-collected"]
    assert [f.file for f in by_rule(result, "tests:untested-module")] == ["pkg/calc.py"]


def test_a_hanging_suite_is_killed_with_its_process_group(project, audit, tmp_path):
    pid_file = tmp_path / "child.pid"
    root = project({
        "tests/test_hang.py": (
            "import subprocess, time\n\n\n"
            "def test_hang():\n"
            "    child = subprocess.Popen(['sleep', '60'])\n"
            f"    open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "    time.sleep(60)\n"
        ),
    })
    start = time.monotonic()
    result = audit(root, "tests", config=config(timeout_s=3))
    assert time.monotonic() - start < 20
    assert [f.rule_id for f in result.findings] == ["tests:timeout"]
    assert result.findings[0].severity == Severity.P1
    child = int(pid_file.read_text())
    time.sleep(0.2)
    alive = Path(f"/proc/{child}").exists() and "Z" not in Path(f"/proc/{child}/stat").read_text().split()[2]
    assert not alive


def test_a_command_that_cannot_run_pytest_is_reported_not_hidden(project, audit):
    root = make(project)
    result = audit(root, "tests", config=config(command=f"{PYTHON} -c 'import sys; sys.exit(3)'"))
    assert by_rule(result, "tests:command-failed")
    assert any("coverage was not measured" in n for n in result.notes)


def test_options_travel_through_pytest_addopts_for_wrapper_commands(project, audit, tmp_path):
    script = tmp_path / "run-tests.sh"
    script.write_text(f"#!/bin/sh\nexec {PYTHON} -m pytest -q\n")
    script.chmod(0o755)
    root = make(project)
    result = audit(root, "tests", config=config(command=str(script)))
    assert len(by_rule(result, "tests:failing")) == 1
    assert by_rule(result, "tests:coverage")


def test_command_prefix_is_used(project, audit):
    root = make(project)
    result = audit(root, "tests", config=config(command="-m pytest -q").model_copy(
        update={"command_prefix": PYTHON}))
    assert len(by_rule(result, "tests:failing")) == 1


def test_dry_run_shows_the_command_with_reports(project, audit):
    root = make(project)
    (note,) = audit(root, "tests", config=config(), dry_run=True).notes
    assert "--junitxml=" in note and "--cov-report=json:" in note and "-p no:cacheprovider" in note
    assert not any(Path(root).rglob("junit.xml"))
    assert os.path.basename(PYTHON) in note


def test_without_pytest_cov_the_tests_still_run_and_coverage_is_said_missing(project, audit):
    root = make(project)
    result = audit(root, "tests", config=config(command=f"{PYTHON} -m pytest -q -p no:pytest_cov"))
    assert len(by_rule(result, "tests:failing")) == 1
    assert not by_rule(result, "tests:command-failed") and not by_rule(result, "tests:coverage")
    assert any("coverage was not measured" in n for n in result.notes)
    assert [f.file for f in by_rule(result, "tests:untested-module")] == ["pkg/other.py"]


def _state(root: Path) -> dict[str, str]:
    """Every file under root but .git, with its content: what a test run must not change."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes().hex()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def test_the_tests_run_where_they_leave_nothing_in_the_checkout(project, audit):
    root = project({
        ".gitignore": ".env\n.venv/\n",
        "pkg/__init__.py": "",
        "pkg/calc.py": CALC,
        "tests/conftest.py": (  # as pytest-benchmark does: a folder of its own in the current directory
            "import os, pathlib\n\n\ndef pytest_sessionstart(session):\n"
            "    pathlib.Path('.benchmarks').mkdir(exist_ok=True)\n"
            "    pathlib.Path('.benchmarks/run.json').write_text('{}')\n"
        ),
        "tests/test_calc.py": (
            "import pathlib\nfrom pkg.calc import add\n\n\n"
            "def test_env_and_uncommitted_change():\n"
            "    assert pathlib.Path('.env').read_text() == 'TOKEN=x\\n'\n"
            "    assert add(1, 2) == 30\n\n\n"
            "def test_writes_a_file():\n    pathlib.Path('out.db').write_text('data')\n"
        ),
    })
    (root / ".env").write_text("TOKEN=x\n")  # ignored, needed by the tests
    (root / "pkg" / "calc.py").write_text(CALC.replace("return a + b", "return (a + b) * 10"))  # uncommitted
    before, status = _state(root), git(root, "status", "--porcelain", "--ignored")
    result = audit(root, "tests", config=config())
    assert result.notes and not [f for f in result.findings if f.rule_id in ("tests:failing", "tests:error")]
    assert _state(root) == before and git(root, "status", "--porcelain", "--ignored") == status
    assert not (root / ".benchmarks").exists() and not (root / "out.db").exists()
    assert git(root, "worktree", "list").count("\n") == 1  # the throwaway worktree is gone
