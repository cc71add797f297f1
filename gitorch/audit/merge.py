"""Merging several agents' audits of one dimension and tree into one audit, before it is scored.

The auditor's audit comes first; each contributor adds the findings no earlier agent reported. Two
findings are the same when their fingerprints are (dimension, rule, file and offending line: see
:func:`gitorch.models.fingerprint_of`), so the same problem reported by two tools under their own rule
ids counts twice; the same tool run twice counts once. An agent's own repeated findings (two identical
lines) keep their ``-2`` fingerprints and are matched one for one.
"""

from __future__ import annotations

from gitorch.models import AuditResult, Finding


def merge_results(
    auditor: AuditResult, contributions: list[tuple[str, AuditResult]], notes: list[str] | None = None
) -> AuditResult:
    """``auditor``'s result with each ``(agent, result)`` of ``contributions`` merged in: new findings
    (by fingerprint) appended, notes and warnings prefixed with the agent's name, usage and durations
    summed.

    ``notes`` are added as they are (contributors left out, say). Nothing to merge returns ``auditor``.
    """
    if not contributions and not notes:
        return auditor
    seen = {f.fingerprint for f in auditor.findings}
    findings: list[Finding] = list(auditor.findings)
    merged_notes = list(auditor.notes) + list(notes or [])
    warnings = list(auditor.warnings)
    usage = auditor.usage
    duration = auditor.duration_s
    names: list[str] = list(auditor.contributors)
    for name, result in contributions:
        new = [f for f in result.findings if f.fingerprint not in seen]
        seen.update(f.fingerprint for f in new)
        findings += new
        repeated = len(result.findings) - len(new)
        merged_notes += [f"{name}: {note}" for note in result.notes]
        warnings += [f"{name}: {warning}" for warning in result.warnings]
        merged_notes.append(
            f"{name}: {len(new)} finding(s) merged"
            + (f", {repeated} already reported by another agent" if repeated else "")
        )
        usage = usage + result.usage
        duration += result.duration_s
        names.append(name)
    update = {
        "findings": findings,
        "notes": merged_notes,
        "warnings": warnings,
        "usage": usage,
        "duration_s": round(duration, 3),
        "contributors": names,
    }
    return AuditResult.model_validate(auditor.model_dump() | update)
