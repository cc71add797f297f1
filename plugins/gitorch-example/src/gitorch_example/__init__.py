"""gitorch-example: flags TODO/FIXME/XXX markers left in the code."""

from __future__ import annotations

import re
from pathlib import Path

from gitorch import Agent, AuditResult, Dimension, Finding, Severity, hookimpl

MARKER = re.compile(r"#\s*(TODO|FIXME|XXX)\b:?\s*(.*)")
SEVERITY = {"FIXME": Severity.P2, "XXX": Severity.P2, "TODO": Severity.P3}


class Todos(Dimension):
    name = "todos"
    title = "TODO markers"
    description = "TODO, FIXME and XXX comments left in the code."


class GrepTodos(Agent):
    name = "grep-todos"
    description = "Finds TODO/FIXME/XXX comments in Python files (offline)."
    audits = frozenset({"todos"})

    def audit(self, request):
        base = request.root / request.path
        findings = []
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(request.root)
            if any(part.startswith(".") for part in rel.parts):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                match = MARKER.search(line)
                if match:
                    findings.append(
                        Finding(
                            dimension="todos",
                            severity=SEVERITY[match.group(1)],
                            rule_id=f"todo:{match.group(1).lower()}",
                            file=Path(rel).as_posix(),
                            line=number,
                            description=match.group(2).strip() or match.group(1),
                            recommendation="Do it, or file an issue and remove the marker.",
                            snippet=line.strip(),
                            source=self.name,
                        )
                    )
        return AuditResult(dimension="todos", agent=self.name, findings=findings)


@hookimpl
def gitorch_dimensions():
    return [Todos]


@hookimpl
def gitorch_agents():
    return [GrepTodos]
