"""Security fixes from codemodder's CodeTF report, one change at a time.

The fast tests seed the report cache with a CodeTF report captured from a real codemodder run on
``data/flask_app.py.txt`` and point the codemodder option at a missing binary, so any attempt to run
it fails loudly; the slow test runs codemodder (and semgrep) for real.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from gitorch_local import codemods
from gitorch_local.agent import LocalAgent

from gitorch.config import Config
from gitorch.errors import AgentError, AnalyzerMissingError
from gitorch.models import AuditRequest, Finding

from .conftest import DATA, by_rule, dimension, git

SOURCE = (DATA / "flask_app.py.txt").read_text()
NO_CODEMODDER = {"codemodder": "/nonexistent/codemodder"}


def seed(root: Path, config: Config | None = None) -> None:
    config = config or Config()
    cache = codemods.ReportCache(root, codemods.scope_key(codemods.SECURITY_CODEMODS, config.exclude, "."))
    cache.store((DATA / "flask_app.codetf.json").read_text())


def diff(root: Path) -> list[str]:
    """Changed lines (+/-) of the working tree against HEAD."""
    text = git(root, "diff", "-U0")
    return [line for line in text.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_each_finding_gets_only_its_own_change_even_after_lines_moved(project, audit, fix):
    root = project({"app.py": SOURCE})
    seed(root)
    result = audit(root, "security")
    shell, rand = by_rule(result, "B602")[0], by_rule(result, "B311")[0]

    done = fix(root, shell, options=NO_CODEMODDER)
    assert done.status == "changed" and "subprocess-shell-false" in done.summary
    assert diff(root) == [
        '-    return subprocess.run(["ls", cmd], shell=True)',
        '+    return subprocess.run(["ls", cmd], shell=False)',
    ]

    # The loop commits that fix; the report (made at the previous commit) is reused by snippet.
    git(root, "commit", "-qam", "fix shell")
    project({"app.py": "# header added by another fix\n" + Path(root, "app.py").read_text()})
    done = fix(root, rand, options=NO_CODEMODDER)
    assert done.status == "changed" and "secure-random" in done.summary
    changed = diff(root)
    assert "-    return random.randint(0, 10)" in changed and "+import secrets" in changed
    assert not any("set_cookie" in line or "jwt" in line for line in changed)


def test_a_finding_no_codemod_fixes_is_left_for_an_ai_agent(project, audit, fix):
    root = project({"app.py": SOURCE})
    seed(root)
    import_subprocess = by_rule(audit(root, "security"), "B404")[0]
    done = fix(root, import_subprocess, options=NO_CODEMODDER)
    assert done.status == "cannot_fix" and "left for an AI agent" in done.summary
    assert git(root, "status", "--porcelain") == ""


def test_untargeted_rules_and_test_files_never_start_a_codemodder_run(project, audit, fix):
    helper = "import subprocess\n\n\ndef test_x():\n    subprocess.call('true', shell=True)\n"
    root = project({"app.py": SOURCE, "tests/test_app.py": helper})
    result = audit(root, "security")  # no report cached, and codemodder "missing": a run would raise
    in_tests = [f for f in by_rule(result, "B602") if f.file == "tests/test_app.py"]
    assert len(in_tests) == 1  # targeted, but codemodder never looks at tests
    for finding in by_rule(result, "B404") + in_tests:
        assert fix(root, finding, options=NO_CODEMODDER).status == "cannot_fix"
    in_app = [f for f in by_rule(result, "B602") if f.file == "app.py"]
    with pytest.raises(AnalyzerMissingError):
        fix(root, in_app[0], options=NO_CODEMODDER)  # targeted: worth a run


def test_deterministic_fixes_are_the_changes_no_audit_finding_covers(project, fix):
    root = project({"app.py": SOURCE})
    seed(root)
    agent = LocalAgent(LocalAgent.Options.model_validate(NO_CODEMODDER))
    request = AuditRequest(root=root, dimension=dimension("security"), config=Config())
    extra = agent.deterministic_fixes(request)
    assert sorted(f.rule_id for f in extra) == [
        "codemod:pixee:python/jwt-decode-verify",
        "codemod:pixee:python/secure-flask-cookie",
    ]
    cookie = next(f for f in extra if f.rule_id.endswith("secure-flask-cookie"))
    assert (cookie.file, cookie.line) == ("app.py", 25)
    assert cookie.snippet == 'response.set_cookie("name", "value")'

    assert fix(root, cookie, options=NO_CODEMODDER).status == "changed"
    changed = diff(root)
    assert changed[0] == '-    response.set_cookie("name", "value")'
    assert "secure=True" in changed[1] and len(changed) == 2

    # Next iteration, after the loop committed it (and a line moved): only the jwt change is left.
    git(root, "commit", "-qam", "secure cookie")
    project({"app.py": "# moved\n" + Path(root, "app.py").read_text()})
    left = agent.deterministic_fixes(request)
    assert [(f.rule_id, f.line) for f in left] == [("codemod:pixee:python/jwt-decode-verify", 20)]


def test_a_change_that_no_longer_applies_reruns_codemodder_on_that_file(project, audit, fix):
    root = project({"app.py": SOURCE})
    seed(root)
    # Someone rewrote the shell line since the report was made: the cached change cannot match.
    project({"app.py": SOURCE.replace('subprocess.run(["ls", cmd], shell=True)',
                                      'subprocess.run(["ls", cmd] , shell=True)')})
    shell = by_rule(audit(root, "security"), "B602")[0]
    with pytest.raises(AnalyzerMissingError, match="codemodder"):
        fix(root, shell, options=NO_CODEMODDER)


def test_change_units_come_from_codetf_with_patch_headers():
    report = codemods.Codetf.model_validate_json((DATA / "flask_app.codetf.json").read_text())
    changes = {c.short_id: c for c in codemods.changes_of(report)}
    assert set(changes) == {
        "jwt-decode-verify", "secure-flask-cookie", "secure-random", "subprocess-shell-false"
    }
    rand = changes["secure-random"]
    assert rand.patch.startswith("--- a/app.py\n+++ b/app.py\n@@")
    assert rand.first_line == 11 and rand.lines == (11,)
    b311 = Finding(dimension="security", severity="P3", rule_id="B311", file="app.py", line=11,
                   description="x", snippet="return random.randint(0, 10)")
    assert codemods.matches(rand, b311, by_line=False)
    assert not codemods.matches(changes["subprocess-shell-false"], b311, by_line=True)


def test_include_list_is_security_only_and_leaves_out_dependency_adding_codemods():
    included = set(codemods.SECURITY_CODEMODS)
    assert not included & set(codemods.EXCLUDED_CODEMODS)
    assert not included & {"pixee:python/order-imports", "pixee:python/unused-imports"}
    listed = subprocess.run([codemods.find_tool("codemodder"), "--list"], capture_output=True, text=True,
                            check=True).stdout.split()
    assert included <= set(listed)
    assert set(codemods.EXCLUDED_CODEMODS) <= set(listed)


@pytest.mark.slow
def test_real_codemodder_runs_once_and_its_changes_apply_one_at_a_time(project, audit, fix):
    root = project({"app.py": SOURCE})
    cache_dir = root / ".git" / "gitorch" / "local-agent" / "codetf"
    result = audit(root, "security")

    assert fix(root, by_rule(result, "B311")[0]).status == "changed"
    assert len(list(cache_dir.iterdir())) == 1
    assert [line for line in diff(root) if "random" in line or "secrets" in line]
    assert not any("shell" in line for line in diff(root))
    git(root, "commit", "-qam", "secure random")

    assert fix(root, by_rule(result, "B602")[0]).status == "changed"
    assert len(list(cache_dir.iterdir())) == 1  # no second codemodder run
    assert any("shell=False" in line for line in diff(root))
    assert git(root, "status", "--porcelain") == " M app.py\n"


def test_a_codemodder_timeout_fails_the_attempt_and_is_not_paid_twice(project, audit, fix, tmp_path):
    slow = tmp_path / "codemodder"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    options = {"codemodder": str(slow), "codemod_timeout_s": 1}
    root = project({"app.py": SOURCE})
    shell = by_rule(audit(root, "security"), "B602")[0]

    start = time.monotonic()
    done = fix(root, shell, options=options)
    assert done.status == "failed" and "did not finish within 1s" in done.summary
    assert time.monotonic() - start < 10
    assert git(root, "status", "--porcelain") == ""

    agent = LocalAgent(LocalAgent.Options.model_validate(options))
    request = AuditRequest(root=root, dimension=dimension("security"), config=Config())
    start = time.monotonic()
    with pytest.raises(AgentError, match="timed out on this tree before"):
        agent.deterministic_fixes(request)
    assert time.monotonic() - start < 5


def test_no_rerun_for_a_line_the_cached_report_already_saw(project, audit, fix):
    other = "import tempfile\n\n\ndef scratch():\n    return tempfile.mktemp(suffix='.json')\n"
    root = project({"app.py": SOURCE, "other.py": other})
    seed(root)  # made at this commit: it proposes nothing for other.py
    project({"README.md": "# moved on\n"})  # the loop committed something since
    mktemp = by_rule(audit(root, "security"), "B306")[0]
    done = fix(root, mktemp, options=NO_CODEMODDER)  # a codemodder run would raise
    assert done.status == "cannot_fix" and "left for an AI agent" in done.summary


def test_shell_false_on_a_string_command_is_undone_not_applied(project, audit, fix):
    """subprocess-shell-false would turn a working string command into a FileNotFoundError."""
    string_cmd = 'subprocess.run("ls " + cmd, shell=True)'
    root = project({"app.py": SOURCE.replace('subprocess.run(["ls", cmd], shell=True)', string_cmd)})
    report = json.loads((DATA / "flask_app.codetf.json").read_text())
    for result in report["results"]:
        for changeset in result["changeset"]:
            diff = changeset["diff"]
            changeset["diff"] = diff.replace('subprocess.run(["ls", cmd],', 'subprocess.run("ls " + cmd,')
    config = Config()
    cache = codemods.ReportCache(root, codemods.scope_key(codemods.SECURITY_CODEMODS, config.exclude, "."))
    cache.store(json.dumps(report))

    shell = by_rule(audit(root, "security"), "B602")[0]
    done = fix(root, shell, options=NO_CODEMODDER)
    assert done.status == "cannot_fix" and "not proven to be a list" in done.summary
    assert git(root, "status", "--porcelain") == ""


def test_shell_false_is_not_applied_to_a_command_built_elsewhere(project, audit, fix):
    """The command is a parameter: what the callers pass is not visible at the call site."""
    root = project({"app.py": SOURCE.replace('["ls", cmd]', "cmd")})
    report = (DATA / "flask_app.codetf.json").read_text().replace('[\\"ls\\", cmd]', "cmd")
    scope = codemods.scope_key(codemods.SECURITY_CODEMODS, Config().exclude, ".")
    codemods.ReportCache(root, scope).store(report)
    done = fix(root, by_rule(audit(root, "security"), "B602")[0], options=NO_CODEMODDER)
    assert done.status == "cannot_fix" and "not proven to be a list at the call site" in done.summary
    assert git(root, "status", "--porcelain") == ""


def test_a_report_stays_fresh_for_a_file_no_commit_has_changed_since(project, audit, fix):
    """Commits to other files (an import sort elsewhere) do not make codemodder run again for this one."""
    root = project({"app.py": SOURCE})
    seed(root)
    project({"README.md": "# another fix was committed\n"})
    shell = by_rule(audit(root, "security"), "B602")[0].model_copy(update={"snippet": None})
    done = fix(root, shell, options=NO_CODEMODDER)  # matched by line: a codemodder run would raise
    assert done.status == "changed" and "subprocess-shell-false" in done.summary


XML_APP = "import xml.etree.ElementTree as ET\n\n\ndef parse(data):\n    return ET.fromstring(data)\n"


@pytest.mark.slow
def test_a_codemod_that_adds_a_package_names_it_and_updates_the_dependency_file(project, audit, fix):
    root = project({"app.py": XML_APP, "requirements.txt": "flask\n"})
    xml = by_rule(audit(root, "security"), "B314")[0]
    # off by default: a new dependency needs a yes
    assert not set(codemods.DEPENDENCY_CODEMODS) & set(LocalAgent()._codemod_settings())
    # only the dependency codemods, to keep codemodder's run short
    done = fix(root, xml, options={"codemods": [], "dependency_codemods": True})
    assert done.status == "changed", done.summary
    assert "adds the dependency defusedxml" in done.summary and "requirements.txt" in done.summary
    assert "defusedxml" in Path(root, "requirements.txt").read_text()
    assert "defusedxml.ElementTree.fromstring(data)" in Path(root, "app.py").read_text()
    assert not by_rule(audit(root, "security"), "B314")


def test_the_call_site_is_found_where_it_is_now_after_earlier_commits_moved_it(project, audit, fix):
    root = project({"app.py": SOURCE})
    seed(root)
    project({"app.py": "# an import-sorting commit moved every line\n\n" + SOURCE})
    shell = by_rule(audit(root, "security"), "B602")[0]
    done = fix(root, shell, options=NO_CODEMODDER)
    assert done.status == "changed" and "subprocess-shell-false" in done.summary
    assert 'subprocess.run(["ls", cmd], shell=False)' in Path(root, "app.py").read_text()
