from __future__ import annotations

from pathlib import Path

from gitorch_local import ruff_fix
from gitorch_local.agent import LocalAgent
from gitorch_local.ruff_fix import apply_edits

from gitorch.config import Config
from gitorch.models import AuditRequest, Finding, Severity

from .conftest import by_rule, dimension, git

SOURCE = """\
import os
import sys
import json


def f(x=[]):
    return x, json
"""


def test_a_safe_fix_touches_exactly_one_finding(project, audit, fix):
    root = project({"app.py": SOURCE})
    unused = by_rule(audit(root, "backend"), "ruff:F401")
    assert [f.snippet for f in unused] == ["import os", "import sys"]

    result = fix(root, unused[1])

    assert result.status == "changed" and "F401" in result.summary
    assert Path(root, "app.py").read_text() == SOURCE.replace("import sys\n", "")
    left = {f.snippet for f in audit(root, "backend").findings}
    assert left == {"import os", "def f(x=[]):"}


def test_the_finding_is_found_again_after_lines_move(project, audit, fix):
    root = project({"app.py": SOURCE})
    target = by_rule(audit(root, "backend"), "ruff:F401")[1]
    project({"app.py": "# header\n# more\n" + SOURCE})  # the loop committed something above it

    assert fix(root, target).status == "changed"
    assert "import sys" not in Path(root, "app.py").read_text()
    assert "import os" in Path(root, "app.py").read_text()


def test_an_unsafe_fix_is_tried_alone_and_kept_when_the_checks_pass(project, audit, fix):
    root = project({"app.py": SOURCE})
    mutable = by_rule(audit(root, "backend"), "ruff:B006")[0]
    result = fix(root, mutable)
    assert result.status == "changed" and "unsafe fix, checked" in result.summary
    text = Path(root, "app.py").read_text()
    assert "def f(x=None):" in text and "import os" in text  # that one fix, nothing else
    assert not by_rule(audit(root, "backend"), "ruff:B006")


def test_unsafe_fixes_can_be_switched_off(project, audit, fix):
    root = project({"app.py": SOURCE})
    mutable = by_rule(audit(root, "backend"), "ruff:B006")[0]
    result = fix(root, mutable, options={"ruff_unsafe_fixes": False})
    assert result.status == "cannot_fix" and "left for an AI agent" in result.summary
    assert git(root, "status", "--porcelain") == ""


def test_a_finding_ruff_no_longer_reports_is_unchanged(project, fix):
    root = project({"app.py": "import os\n\nprint(os.sep)\n"})
    stale = Finding(dimension="backend", severity=Severity.P3, rule_id="ruff:F401", file="app.py", line=1,
                    description="`os` imported but unused", snippet="import os")
    assert fix(root, stale).status == "unchanged"
    assert git(root, "status", "--porcelain") == ""


def test_radon_and_tests_findings_cannot_be_fixed_locally(project, fix):
    root = project({"app.py": SOURCE})
    for dim, rule in (("architecture", "radon:cc"), ("tests", "tests:failing")):
        finding = Finding(dimension=dim, severity=Severity.P2, rule_id=rule, file="app.py", line=1,
                          description="x")
        assert fix(root, finding).status == "cannot_fix"


def test_edits_use_one_based_character_columns_and_keep_crlf():
    text = "a = 'é'\r\nimport os\r\nb = 1\r\n"
    edits = [{"content": "", "location": {"row": 2, "column": 1}, "end_location": {"row": 3, "column": 1}}]
    assert apply_edits(text, edits) == "a = 'é'\r\nb = 1\r\n"
    edits = [{"content": "2", "location": {"row": 1, "column": 6}, "end_location": {"row": 1, "column": 7}}]
    assert apply_edits(text, edits).startswith("a = '2'")


def test_extra_safe_fixes_are_offered_as_findings_outside_the_audit(project, audit, fix):
    root = project({"app.py": "import sys\nimport os\n\nprint(os.sep, sys.argv)\n"})
    assert audit(root, "backend").findings == []
    agent = LocalAgent()
    request = AuditRequest(root=root, dimension=dimension("backend"), config=Config())
    extra = agent.deterministic_fixes(request)
    assert [f.rule_id for f in extra] == ["ruff:I001"]
    assert extra[0].severity == Severity.P4
    assert fix(root, extra[0]).status == "changed"
    assert Path(root, "app.py").read_text().startswith("import os\nimport sys\n")


def test_trivial_style_fixes_of_one_rule_are_one_finding_and_one_change(project, audit, fix):
    text = "import sys\nimport os\nimport json\n\nprint(os.sep, sys.argv)\n"
    files = {f"pkg/m{i}.py": text for i in range(4)}
    root = project(files)
    unused = by_rule(audit(root, "backend"), "ruff:F401")
    assert len(unused) == 4
    request = AuditRequest(root=root, dimension=dimension("backend"), config=Config())
    groups = {f.rule_id: f for f in LocalAgent().deterministic_fixes(request)}
    assert set(groups) == {"ruff:F401", "ruff:I001"}
    assert groups["ruff:F401"].severity == Severity.P3 and "in 4 file(s)" in groups["ruff:F401"].description
    assert ruff_fix.group_members(groups["ruff:F401"], audit(root, "backend").findings) == unused
    done = fix(root, groups["ruff:F401"])
    assert done.status == "changed" and "F401 safe fixes in 4 file(s)" in done.summary
    assert not by_rule(audit(root, "backend"), "ruff:F401")
    assert all("import json" not in Path(root, f).read_text() for f in files)
    assert all("import sys\nimport os\n" in Path(root, f).read_text() for f in files)  # I001 untouched
    assert fix(root, groups["ruff:F401"]).status == "unchanged"  # nothing left to do


def test_repository_config_means_no_extra_rules_and_its_settings_drive_the_fix(project, audit, fix):
    root = project({
        "app.py": "import sys\nimport os\n\nprint(os.sep)\n",
        "pyproject.toml": "[tool.ruff.lint]\nselect = [\"F401\"]\n",
    })
    request = AuditRequest(root=root, dimension=dimension("backend"), config=Config())
    # no I001 (the repository's config decides the rules); its own F401 findings, grouped
    assert [f.rule_id for f in LocalAgent().deterministic_fixes(request)] == ["ruff:F401"]
    finding = audit(root, "backend").findings[0]
    assert fix(root, finding).status == "changed"
    assert Path(root, "app.py").read_text() == "import os\n\nprint(os.sep)\n"


def test_a_file_outside_the_worktree_is_never_touched(project, fix, tmp_path):
    root = project({"app.py": SOURCE})
    outside = tmp_path / "outside.py"
    outside.write_text("import os\n")
    finding = Finding(dimension="backend", severity=Severity.P3, rule_id="ruff:F401",
                      file="../outside.py", line=1, description="x", snippet="import os")
    assert fix(root, finding).status == "cannot_fix"
    assert outside.read_text() == "import os\n"
