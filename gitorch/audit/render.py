"""Render audit results as a rich table, JSON, Markdown or SARIF 2.1.0."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

from gitorch import __version__
from gitorch.models import AuditResult, Finding, Severity

FORMATS = ("table", "json", "markdown", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {
    Severity.P0: "error",
    Severity.P1: "error",
    Severity.P2: "warning",
    Severity.P3: "note",
    Severity.P4: "note",
}
SECURITY_SEVERITY = {
    Severity.P0: "9.5",
    Severity.P1: "7.5",
    Severity.P2: "5.0",
    Severity.P3: "2.0",
    Severity.P4: "0.0",
}
SEVERITY_STYLE = {
    Severity.P0: "bold red",
    Severity.P1: "red",
    Severity.P2: "yellow",
    Severity.P3: "cyan",
    Severity.P4: "dim",
}


def render(results: list[AuditResult], fmt: str, *, color: bool = False, width: int | None = None) -> str:
    if fmt == "json":
        return to_json(results)
    if fmt == "markdown":
        return "\n\n".join(to_markdown(result) for result in results)
    if fmt == "sarif":
        return json.dumps(to_sarif(results), indent=2)
    return to_table(results, color=color, width=width)


def to_json(results: list[AuditResult]) -> str:
    """One object for one result (it round-trips into AuditResult), an array for several."""
    if len(results) == 1:
        return results[0].model_dump_json(indent=2)
    return json.dumps([json.loads(r.model_dump_json()) for r in results], indent=2)


def score_text(result: AuditResult) -> str:
    if result.score is None:
        return "n/a"
    scale = result.score_scale or 100
    value = f"{result.score:g}"
    return f"{value}/{scale}"


def to_table(results: list[AuditResult], *, color: bool = False, width: int | None = None) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width or 120)
    for result in results:
        counts = " ".join(f"{sev.value}:{result.counts.get(sev, 0)}" for sev in Severity)
        console.print(
            f"[bold]{result.dimension}[/bold] ({result.auditors}, {result.path}) — "
            f"score [bold]{score_text(result)}[/bold]"
            f"  {counts}" + (f"  {result.loc} LOC" if result.loc is not None else "")
            + ("  [dim](cached)[/dim]" if result.cached else "")
        )
        for note in result.notes:
            console.print(f"  note: {note}", markup=False, soft_wrap=True)  # a command stays one line
        if result.findings:
            table = Table(show_lines=False, expand=False)
            table.add_column("Sev", no_wrap=True)
            table.add_column("Rule", no_wrap=True)
            table.add_column("Location", no_wrap=True, overflow="fold")
            table.add_column("Description", overflow="fold")
            for finding in sorted(result.findings, key=_order):
                table.add_row(
                    f"[{SEVERITY_STYLE[finding.severity]}]{finding.severity.value}[/]",
                    finding.rule_id or "",
                    finding.location,
                    finding.description,
                )
            console.print(table)
        elif result.score is not None:
            console.print("  no findings")
        console.print()
    return buffer.getvalue().rstrip() + "\n"


def _order(finding: Finding) -> tuple:
    return (finding.severity.rank, finding.file or "", finding.line or 0, finding.rule_id or "")


def to_markdown(result: AuditResult) -> str:
    """The original design's report layout; gitorch's own Markdown parser reads it back."""
    lines = [
        f"# {result.dimension.capitalize()} audit — {result.path}",
        "",
        f"**Score:** {score_text(result)}",
        f"**Date:** {datetime.now(UTC).strftime('%Y-%m-%d')}",
        f"**Auditor:** {result.auditors}",
        "",
    ]
    if result.claimed_score is not None:
        lines += [
            f"Score claimed by the agent: {result.claimed_score:g}/{result.claimed_score_scale or 100}",
            "",
        ]
    for note in result.notes:
        lines.append(f"> {note}")
    if result.notes:
        lines.append("")
    for severity in Severity:
        group = [f for f in sorted(result.findings, key=_order) if f.severity == severity]
        if not group:
            continue
        lines += [f"## {severity.label.capitalize()} findings ({severity.value})", ""]
        for finding in group:
            rule = f" `{finding.rule_id}`" if finding.rule_id else ""
            where = f" ({finding.location})" if finding.file else ""
            lines.append(f"- [{severity.value}]{rule} {finding.description}{where}")
            if finding.recommendation:
                lines.append(f"  - Recommendation: {finding.recommendation}")
        lines.append("")
    if not result.findings:
        lines += ["No findings.", ""]
    return "\n".join(lines).rstrip() + "\n"


def to_sarif(results: list[AuditResult]) -> dict:
    """A SARIF 2.1.0 log with one run per (agent, dimension)."""
    runs = []
    for result in results:
        rules: dict[str, dict] = {}
        sarif_results = []
        for finding in sorted(result.findings, key=_order):
            rule_id = finding.rule_id or f"{result.dimension}/{finding.severity.value}"
            if rule_id not in rules:
                rules[rule_id] = {
                    "id": rule_id,
                    "shortDescription": {"text": _first_line(finding.description)},
                    "properties": {
                        "tags": [result.dimension],
                        "security-severity": SECURITY_SEVERITY[finding.severity],
                    },
                }
            region = {}
            if finding.line:
                region = {"startLine": finding.line}
                if finding.end_line and finding.end_line >= finding.line:
                    region["endLine"] = finding.end_line
            location = {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.file or result.path, "uriBaseId": "%SRCROOT%"},
                    **({"region": region} if region else {}),
                }
            }
            text = finding.description
            if finding.recommendation:
                text += f"\nRecommendation: {finding.recommendation}"
            sarif_results.append(
                {
                    "ruleId": rule_id,
                    "level": SARIF_LEVEL[finding.severity],
                    "message": {"text": text},
                    "locations": [location],
                    "partialFingerprints": {"gitorchFingerprint/v1": finding.fingerprint},
                    "properties": {
                        "severity": finding.severity.value,
                        "dimension": result.dimension,
                        "rule": finding.rule_id,
                        "recommendation": finding.recommendation,
                        "source": finding.source,
                    },
                }
            )
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": "gitorch",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/gitorch/",
                        "rules": list(rules.values()),
                        "properties": {"agent": result.agent, "contributors": result.contributors},
                    }
                },
                "automationDetails": {"id": f"gitorch/{result.dimension}/"},
                "results": sarif_results,
                "properties": {
                    "score": result.score,
                    "scoreScale": result.score_scale,
                    "scoreSource": result.score_source,
                    "scoreFormula": result.score_formula,
                    "dimension": result.dimension,
                    "agent": result.agent,
                    "path": result.path,
                    "loc": result.loc,
                    "files": result.files,
                },
            }
        )
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "finding"
    return line[:200]
