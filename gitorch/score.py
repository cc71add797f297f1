"""The score: a deterministic function of the findings and the size of the code audited.

::

    weight  = 10·P0 + 5·P1 + 2·P2 + 0.5·P3            (P4 is information and weighs nothing)
    size    = max(1, √(lines of code / 1000))          (a bigger codebase dilutes a finding, gently)
    raw     = 100 − weight / size
    cap     = 59 with any P0, 79 with any P1, 99 with any P2 or P3, else 100
    score   = round(max(0, min(raw, cap)), 1)

The caps keep a critical finding from being diluted away in a large codebase: a P0 always fails the
default ``min_acceptable_score`` (80), and 100 is reached only when nothing at P0–P3 remains.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from gitorch.models import Finding, Severity

WEIGHTS: dict[Severity, float] = {
    Severity.P0: 10.0,
    Severity.P1: 5.0,
    Severity.P2: 2.0,
    Severity.P3: 0.5,
    Severity.P4: 0.0,
}
CAPS: tuple[tuple[Severity, float], ...] = (
    (Severity.P0, 59.0),
    (Severity.P1, 79.0),
    (Severity.P2, 99.0),
    (Severity.P3, 99.0),
)


def size_factor(loc: int | None) -> float:
    return max(1.0, math.sqrt(max(0, loc or 0) / 1000))


def compute_score(findings: Iterable[Finding], loc: int | None) -> float:
    """Score out of 100 for ``findings`` in ``loc`` lines of code."""
    present: set[Severity] = set()
    weight = 0.0
    for finding in findings:
        present.add(finding.severity)
        weight += WEIGHTS[finding.severity]
    raw = 100.0 - weight / size_factor(loc)
    cap = next((limit for severity, limit in CAPS if severity in present), 100.0)
    return round(max(0.0, min(raw, cap)), 1)
