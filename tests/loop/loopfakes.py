"""Stand-in agents for the fix-loop tests: an auditor reading marker comments, and a fixer whose
behaviour each marker chooses (a good fix, one that breaks a test, one that deletes a test, ...)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from gitorch import hookimpl
from gitorch.errors import AgentError
from gitorch.models import Agent, AuditResult, Finding, FixResult, Usage

MARK = "# gitorch-test:"


def markers(root: Path, path: str = "."):
    """(file, line number, severity, rule) of every marker under root/path, test files excluded."""
    found = []
    base = root / path
    for file in sorted(base.rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        if rel.startswith("tests/") or "/." in "/" + rel:
            continue
        for n, line in enumerate(file.read_text().splitlines(), 1):
            if MARK in line:
                severity, rule = line.split(MARK, 1)[1].split()[:2]
                found.append((rel, n, severity, rule, line))
    return found


def marker_findings(root: Path, dimension: str, path: str = ".", files=None) -> list[Finding]:
    """The marker findings under root/path (only in ``files``, when given), as an audit reports them."""
    found = [
        Finding(
            dimension=dimension,
            severity=sev,
            description=f"marker {rule}",
            rule_id=rule,
            file=rel,
            line=n,
            snippet=line,
            source="marker",
        )
        for rel, n, sev, rule, line in markers(root, path)
        if files is None or rel in files
    ]
    return AuditResult(dimension=dimension, agent="marker", findings=found).findings


class MarkerAuditor(Agent):
    name = "marker"
    audits = None
    fixes = frozenset()

    def audit(self, request):
        findings = marker_findings(request.root, request.dimension.name, request.path)
        return AuditResult(dimension=request.dimension.name, agent=self.name, findings=findings)


class RecheckingMarkerAuditor(MarkerAuditor):
    """The marker auditor that also re-audits the files an attempt touched (Agent.recheck)."""

    name = "marker-recheck"
    recheck_sources = ("marker",)

    def recheck(self, request):
        wanted = set(request.files)
        return [f for dim in request.dimensions
                for f in marker_findings(request.root, dim, request.path, wanted)]


def _drop_line(root: Path, finding: Finding) -> Path:
    target = root / finding.file
    lines = target.read_text().splitlines(keepends=True)
    lines = [line for line in lines if line.rstrip("\n") != finding.snippet]
    target.write_text("".join(lines))
    return target


class Fixer(Agent):
    """Acts on the marker's rule name."""

    name = "fixer"
    audits = frozenset()
    fixes = None
    calls: list[tuple[str, int]] = []
    contexts: list = []

    def fix(self, request):
        root, f = request.root, request.finding
        Fixer.calls.append((f.rule_id, request.attempt))
        Fixer.contexts.append(self.context)
        rule = f.rule_id
        if rule == "crashonce" and sum(1 for c in Fixer.calls if c[0] == "crashonce") == 1:
            (root / "app" / "half.py").write_text("half an edit\n")
            raise AgentError("fixer: the CLI crashed (exit 1)")
        if rule == "cannot":
            return FixResult(status="cannot_fix", summary="beyond me")
        if rule == "feature":
            (root / "app" / "feature.py").write_text("def feature():\n    return 42\n")
            return FixResult(status="changed", summary="feature added")
        if rule == "persist":  # a commit that does not make the finding go away
            big = root / "app" / "big.py"
            big.write_text(big.read_text() + f"# touched {request.attempt}\n")
            return FixResult(status="changed", summary="touched")
        if rule == "syntax":  # a "fix" that leaves a module that no longer parses
            calc = root / "app" / "calc.py"
            text = calc.read_text().replace(f.snippet + "\n", "")
            calc.write_text(text.replace("return a + b", "return (a +"))
            return FixResult(status="changed", summary="broke it")
        if rule == "noimport":  # a "fix" after which the module no longer imports
            big = root / "app" / "big.py"
            big.write_text("import gitorch_no_such_module_xyz\n" + big.read_text())
            _drop_line(root, f)
            return FixResult(status="changed", summary="imports something missing")
        if rule == "moremarkers":  # fixes its finding and adds a new one as severe on the touched lines
            calc = root / "app" / "calc.py"
            calc.write_text(calc.read_text().replace(f.snippet, "# gitorch-test: P1 fresh"))
            return FixResult(status="changed", summary="swapped")
        if rule == "dependency":  # a fix that needs a new package, declared in requirements.txt
            _drop_line(root, f)
            (root / "requirements.txt").write_text("defusedxml>=0.7\n")
            return FixResult(status="changed", summary="uses defusedxml")
        if rule == "overbudget":
            self.context.budget.check(1000.0, "fixer fix")
        _drop_line(root, f)
        if rule == "break":
            calc = root / "app" / "calc.py"
            calc.write_text(calc.read_text().replace("return a + b", "return a - b"))
        elif rule == "flaky" and request.attempt == 1:
            calc = root / "app" / "calc.py"
            calc.write_text(calc.read_text().replace("return a + b", "return a * b"))
        elif rule == "deltest":
            (root / "tests" / "test_calc.py").unlink()
        elif rule == "weaken":
            t = root / "tests" / "test_calc.py"
            t.write_text(t.read_text().replace("    assert add(-1, 1) == 0\n", "    pass\n"))
        elif rule == "skip":
            t = root / "tests" / "test_calc.py"
            t.write_text(
                "import pytest\n\n"
                + t.read_text().replace("def test_add_neg", "@pytest.mark.skip\ndef test_add_neg")
            )
        elif rule == "fewer":
            t = root / "tests" / "test_calc.py"
            t.write_text(t.read_text().replace("def test_add_neg", "def helper_add_neg"))
        elif rule == "dirtytests":  # the tests themselves modify a tracked file and leave an untracked one
            t = root / "tests" / "test_calc.py"
            t.write_text(
                t.read_text() + "\n\nopen('app/big.py', 'a').write('# tests wrote this\\n')\n"
                "open('scratch.txt', 'w').write('left behind')\n"
            )
        elif rule == "addtest":
            t = root / "tests" / "test_more.py"
            t.write_text("from app.calc import add\n\n\ndef test_more():\n    assert add(2, 2) == 4\n")
        elif rule == "bigdelete":
            big = root / "app" / "big.py"
            lines = big.read_text().splitlines(keepends=True)
            big.write_text("".join(lines[60:]))
        elif rule == "manyfiles":
            for i in range(6):
                (root / "app" / f"extra_{i}.py").write_text(f"X{i} = {i}\n")
        elif rule == "coreinit":
            init = root / "app" / "__init__.py"
            init.write_text(init.read_text() + "VERSION = '1'\n")
        elif rule == "newmodule":
            (root / "app" / "sub").mkdir()
            (root / "app" / "sub" / "__init__.py").write_text("")
        elif rule == "migration":
            (root / "app" / "migrations").mkdir()
            (root / "app" / "migrations" / "0002_x.py").write_text("STEP = 2\n")
        elif rule == "delfile":
            (root / "app" / "old.py").unlink()
        elif rule == "ciconfig":
            (root / ".github" / "workflows").mkdir(parents=True)
            (root / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
        elif rule == "symlink":
            os.symlink("../../../../../etc/passwd", root / "app" / "passwd")
        elif rule == "hook":
            common = Path(
                subprocess.run(
                    ["git", "rev-parse", "--git-common-dir"], cwd=root, capture_output=True, text=True
                ).stdout.strip()
            )
            if not common.is_absolute():
                common = root / common
            (common / "hooks" / "post-commit").write_text("#!/bin/sh\necho pwned\n")
        elif rule == "selfcommit":
            subprocess.run(["git", "commit", "-qam", "agent commit"], cwd=root, check=True)
        elif rule == "slow" and os.environ.get("GITORCH_TEST_SIGNAL"):
            Path(os.environ["GITORCH_TEST_SIGNAL"]).write_text("mid-attempt")
            time.sleep(60)
        elif rule == "costly":
            return FixResult(status="changed", summary="paid fix", usage=Usage(calls=1, cost_usd=0.4))
        return FixResult(status="changed", summary=f"fixed {rule}")


class Cannot(Agent):
    name = "cannot"
    fixes = None

    def fix(self, request):
        return FixResult(status="cannot_fix", summary="no")


@hookimpl
def gitorch_agents():
    return [MarkerAuditor, RecheckingMarkerAuditor, Fixer, Cannot]
