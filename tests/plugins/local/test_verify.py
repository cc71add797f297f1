"""The re-audit of an attempt's touched files (real bandit and ruff), and the call-site preconditions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitorch_local import preconditions, verify

from gitorch.models import Severity

from .conftest import by_rule, git

APP = """\
import subprocess


def run(name):
    return subprocess.call(["ls", name], shell=True)


def total(values):
    return sum(values)
"""


def patch_of(root: Path) -> str:
    return git(root, "diff", "-U0")


def attempt_on_the_shell_finding(project, audit, new_text: str) -> verify.Recheck:
    """Commit APP, audit it, write ``new_text`` as an attempt at the B602 finding, and recheck it."""
    root = project({"app.py": APP})
    before = audit(root, "security").findings
    target = by_rule(audit(root, "security"), "B602")[0]
    Path(root, "app.py").write_text(new_text)
    return verify.recheck_attempt(root, verify.touched_lines(patch_of(root)), before, target)


def test_a_change_that_breaks_parsing_is_rejected_and_the_finding_not_counted_fixed(project, audit):
    indented = APP.replace("    return subprocess.call(", "    name = name\n      return subprocess.call(")
    check = attempt_on_the_shell_finding(project, audit, indented)
    assert "app.py no longer parses (line 6: unexpected indent)" in (check.rejection or "")
    assert check.target_gone is False and not check.fixes_target


def test_a_file_that_did_not_parse_before_is_not_blamed_on_the_change(project):
    root = project({"old.py": "print 'python 2'\n"})
    Path(root, "old.py").write_text("print 'python 2, still'\n")
    assert verify.parse_failures(root, ["old.py"]) == {}
    assert "old.py" in verify.parse_failures(root, ["old.py"], base=None)


def test_the_fix_of_a_finding_counts_only_when_the_reaudit_no_longer_reports_it(project, audit):
    check = attempt_on_the_shell_finding(project, audit, APP.replace("shell=True", "shell=False"))
    # bandit now reports B603 (P3) on the same line: lower than the P0 being fixed, so not a reason
    assert check.rejection is None and check.target_gone and check.fixes_target
    assert any(f.rule_id == "B603" for f in check.findings)


def test_a_change_that_leaves_the_finding_is_not_its_fix(project, audit):
    check = attempt_on_the_shell_finding(project, audit, APP.replace("sum(values)", "sum(values) + 0"))
    assert check.rejection is None and check.target_gone is False and not check.fixes_target


def test_a_new_finding_at_the_same_severity_on_a_touched_line_rejects(project, audit):
    root = project({"app.py": APP})
    before = audit(root, "security").findings + audit(root, "backend").findings
    target = by_rule(audit(root, "security"), "B602")[0]
    new = APP.replace('subprocess.call(["ls", name], shell=True)', "subprocess.call(['ls', name])")
    new = new.replace("return sum(values)", "return eval(values)")  # B307 (P2) on a touched line
    Path(root, "app.py").write_text(new)
    check = verify.recheck_attempt(root, verify.touched_lines(patch_of(root)), before, target)
    # the B602 is gone, and the eval is new but below the P0 being fixed: accepted ...
    assert check.rejection is None and check.fixes_target
    # ... while fixing a P3 that way adds something worse: rejected
    p3 = by_rule(audit(root, "security"), "B404")[0]
    check = verify.recheck_attempt(root, verify.touched_lines(patch_of(root)), before, p3)
    assert "B307" in (check.rejection or "") and not check.fixes_target


def test_findings_on_untouched_lines_do_not_count(project, audit):
    root = project({"app.py": APP})
    before = audit(root, "security").findings
    Path(root, "app.py").write_text(APP + "\n\nX = 1\n")
    check = verify.recheck_attempt(root, verify.touched_lines(patch_of(root)), before)
    assert check.rejection is None and check.new == [] and check.target_gone is None


def test_reaudit_reports_the_findings_the_audit_reports(project, audit):
    root = project({"app.py": APP, "other.py": "import os\n"})
    both = audit(root, "security").findings + audit(root, "backend").findings
    full = [f for f in both if f.file == "app.py"]
    again = verify.reaudit(root, ["app.py"])
    assert sorted(f.fingerprint for f in again) == sorted(f.fingerprint for f in full)


def test_a_syntax_error_is_the_worst_severity_for_both_analyzers(project, audit):
    root = project({"bad.py": "def f(:\n    pass\n", "ok.py": "X = 1\n"})
    backend = by_rule(audit(root, "backend"), "ruff:syntax-error")
    security = by_rule(audit(root, "security"), "syntax-error")
    assert [(f.file, f.severity) for f in backend] == [("bad.py", Severity.P0)]  # one per file
    assert [(f.file, f.severity) for f in security] == [("bad.py", Severity.P0)]


def test_touched_lines_from_a_patch(tmp_path):
    patch = """\
diff --git a/a.py b/a.py
--- a/a.py
+++ b/a.py
@@ -2,3 +2,3 @@ x
 keep
-old
+new
 keep
@@ -10,2 +10,0 @@ y
-gone
-gone too
diff --git a/dead.py b/dead.py
deleted file mode 100644
--- a/dead.py
+++ /dev/null
@@ -1 +0,0 @@
-x
"""
    assert verify.touched_lines(patch) == {"a.py": {3, 10, 11}}
    assert verify.changed_lines("a\nb\nc\n", "a\nB\nc\nd\n") == {2, 4}


# --- preconditions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, safe",
    [
        ('subprocess.run(["ls", "-l"], shell=True)', True),
        ("subprocess.run(('ls', d), shell=True)", True),
        ('subprocess.run("ls", shell=True)', True),  # one word: the same program either way
        ('subprocess.run("ls -l", shell=True)', False),  # a shell splits it, shell=False does not
        ('subprocess.run("du -sk " + d, shell=True)', False),
        ('subprocess.run(f"ls {d}", shell=True)', False),
        ("subprocess.run(shlex.split(line), shell=True)", True),
        ("subprocess.run(args=['ls'], shell=True)", True),
        ("subprocess.run(d, shell=True)", False),  # a parameter: built elsewhere
    ],
)
def test_shell_false_only_where_the_command_is_proven_a_list(code, safe):
    source = f"import shlex\nimport subprocess\n\n\ndef f(d, line):\n    {code}\n"
    assert preconditions.shell_false_is_safe(source, [6]) is safe


def test_shell_false_follows_a_name_to_its_assignments_in_scope():
    listed = "import subprocess\n\ndef f(d):\n    cmd = ['ls', d]\n    subprocess.run(cmd, shell=True)\n"
    built = "import subprocess\n\ndef f(d):\n    cmd = 'ls ' + d\n    subprocess.run(cmd, shell=True)\n"
    either = listed.replace("    subprocess.run", "    if d:\n        cmd = 'ls ' + d\n    subprocess.run")
    assert preconditions.shell_false_is_safe(listed, [5])
    assert not preconditions.shell_false_is_safe(built, [5])
    assert not preconditions.shell_false_is_safe(either, [7])
    assert not preconditions.shell_false_is_safe("def f(:\n", [1])


def test_sql_placeholders_must_be_the_imported_drivers():
    match = preconditions.sql_placeholders_match_driver
    sqlite = "import sqlite3\n\ndef q(c, n):\n    c.execute('SELECT * FROM t WHERE n = ' + n)\n"
    assert match(sqlite, ["    c.execute('SELECT * FROM t WHERE n = ?', (n,))"])
    assert not match(sqlite, ["    c.execute('... n = %s', (n,))"])
    pg = sqlite.replace("import sqlite3", "from aiopg import create_pool")
    assert not match(pg, ["    c.execute('SELECT 1 WHERE n = ?', (n,))"])
    assert match(pg, ["    c.execute('SELECT 1 WHERE n = %s', (n,))"])
    # the connection comes from another module (dvpwa): no driver known here, nothing proven
    elsewhere = sqlite.replace("import sqlite3\n", "")
    assert not match(elsewhere, ["    c.execute('... = ?', (n,))"])


def test_verify_needs_no_git_outside_a_repository(tmp_path):
    Path(tmp_path, "a.py").write_text("x = (\n")
    assert verify.parse_failures(tmp_path, ["a.py"]) == {"a.py": "line 1: '(' was never closed"}
    assert subprocess.run(["git", "-C", str(tmp_path), "rev-parse"], capture_output=True).returncode != 0


def test_removing_a_repeated_import_is_the_fix_of_its_redefinition(project, audit):
    text = "from os import path\nfrom os import path\n\nprint(path)\n"
    root = project({"app.py": text})
    before = audit(root, "backend").findings
    target = by_rule(audit(root, "backend"), "ruff:F811")[0]
    Path(root, "app.py").write_text("from os import path\n\nprint(path)\n")
    check = verify.recheck_attempt(root, verify.touched_lines(patch_of(root)), before, target)
    assert check.rejection is None and check.fixes_target
