"""The score: a deterministic function of the findings and the size of the code audited.

Formula 2 (the current one, ``FORMULA_VERSION``)::

    weight  = 10·P0 + 5·P1 + 2·P2 + 0.5·P3            (P4 is information and weighs nothing)
    size    = max(1, √(lines of code / 1000))          (a bigger codebase dilutes a finding, gently)
    w       = weight / size
    band    = the worst severity open:  P0 → (0, 59]   P1 → (60, 79]   P2/P3 → (80, 99]   none → 100
    score   = low + (high − low) · 100 / (100 + w)     (low, high: the band's ends)

Inside a band the score falls strictly as the weight grows and never reaches the band's low end, and
the bands do not overlap, so:

- any P0 keeps the score ≤ 59 and any P1 ≤ 79 (a critical finding always fails the default
  ``min_acceptable_score`` of 80, however big the codebase); 100 only when nothing at P0–P3 remains;
- removing a P0–P3 finding, with nothing new, always raises the score, and adding one always lowers it
  (no cap that hides the fixes below it, no floor at 0). The order of the exact score (:func:`measure`)
  is the order the fix loop steers on.

Formula 1 (sessions recorded before formula 2) is kept as :func:`score_v1` so old ledgers can be
recomputed or shown with the formula that produced them: ``compute_score(..., formula=1)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from gitorch.models import Finding, Severity

FORMULA_VERSION = 2

WEIGHTS: dict[Severity, float] = {
    Severity.P0: 10.0,
    Severity.P1: 5.0,
    Severity.P2: 2.0,
    Severity.P3: 0.5,
    Severity.P4: 0.0,
}

# NOTE: the worst open severity picks the band; the bands are disjoint so a fix that empties a severity
# always lands above every state that still has it.
BANDS: tuple[tuple[Severity, float, float], ...] = (
    (Severity.P0, 0.0, 59.0),
    (Severity.P1, 60.0, 79.0),
    (Severity.P2, 80.0, 99.0),
    (Severity.P3, 80.0, 99.0),
)
CLEAN = 100.0
HALF_WEIGHT = 100.0  # the weight (per size unit) that takes a score half-way down its band
DISPLAY_DECIMALS = 2

# Formula 1's caps (kept for old ledgers).
CAPS: tuple[tuple[Severity, float], ...] = (
    (Severity.P0, 59.0),
    (Severity.P1, 79.0),
    (Severity.P2, 99.0),
    (Severity.P3, 99.0),
)


def size_factor(loc: int | None) -> float:
    return max(1.0, math.sqrt(max(0, loc or 0) / 1000))


def _weigh(findings: Iterable[Finding]) -> tuple[float, Severity | None]:
    worst: Severity | None = None
    weight = 0.0
    for finding in findings:
        weight += WEIGHTS[finding.severity]
        if finding.severity != Severity.P4 and (worst is None or finding.severity < worst):
            worst = finding.severity
    return weight, worst


def measure(findings: Iterable[Finding], loc: int | None) -> float:
    """The exact (unrounded) formula-2 score: the monotone measure the fix loop compares.

    Strictly higher when a P0–P3 finding is removed and nothing is added (same ``loc``), strictly lower
    when one is added; P4 findings do not count. Two states compare the same way their displayed
    scores do, except that the display (:func:`compute_score`) can hide a very small step.
    """
    weight, worst = _weigh(findings)
    if worst is None:
        return CLEAN
    low, high = next((lo, hi) for severity, lo, hi in BANDS if severity == worst)
    w = weight / size_factor(loc)
    return low + (high - low) * HALF_WEIGHT / (HALF_WEIGHT + w)


def score_v1(findings: Iterable[Finding], loc: int | None) -> float:
    """Formula 1: ``round(max(0, min(100 − weight/size, cap)), 1)``, caps 59/79/99 (flat under a cap)."""
    weight, worst = _weigh(findings)
    raw = 100.0 - weight / size_factor(loc)
    cap = next((limit for severity, limit in CAPS if worst is not None and severity >= worst), 100.0)
    return round(max(0.0, min(raw, cap)), 1)


def compute_score(findings: Iterable[Finding], loc: int | None, *, formula: int = FORMULA_VERSION) -> float:
    """Score out of 100 for ``findings`` in ``loc`` lines of code, as shown (``DISPLAY_DECIMALS``).

    ``formula=1`` computes the score the way sessions recorded before formula 2 did.
    """
    if formula == 1:
        return score_v1(findings, loc)
    if formula != FORMULA_VERSION:
        raise ValueError(f"unknown score formula {formula} (known: 1, {FORMULA_VERSION})")
    value = measure(findings, loc)
    if value == CLEAN:
        return CLEAN
    # NOTE: rounding must never show 100 (or a band's high end) for a score below it.
    step = 10**-DISPLAY_DECIMALS
    return min(round(value, DISPLAY_DECIMALS), _band_high(value) - step)


def _band_high(value: float) -> float:
    return next(hi for _, lo, hi in BANDS if lo <= value <= hi)


def improved(before: Iterable[Finding], after: Iterable[Finding], loc: int | None) -> bool:
    """Did the change from ``before`` to ``after`` raise the exact score (same ``loc``)?"""
    return measure(after, loc) > measure(before, loc)
