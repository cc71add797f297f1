"""The data gitorch passes around: findings, audit results, requests to agents and their answers.

The plugin kinds (:class:`Agent`, :class:`Dimension`, :class:`Parser`) are defined in
:mod:`gitorch.plugin.agent`, :mod:`gitorch.plugin.dimension` and :mod:`gitorch.plugin.parser` and
re-exported here and from :mod:`gitorch`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from gitorch.config import Config


class Severity(StrEnum):
    """P0 (critical) to P4 (info). Orders by urgency: ``Severity.P0 < Severity.P1``."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def rank(self) -> int:
        return int(self.value[1])

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, Severity):
            return self.rank < other.rank
        return NotImplemented

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, Severity):
            return self.rank <= other.rank
        return NotImplemented

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, Severity):
            return self.rank > other.rank
        return NotImplemented

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, Severity):
            return self.rank >= other.rank
        return NotImplemented

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``P1``, ``p1``, ``high``, ``Alta``, ``CRÍTICO``, ``🔴`` … → a Severity; ValueError otherwise."""
        found = cls.lookup(text)
        if found is None:
            raise ValueError(f"not a severity: {text!r} (use P0-P4 or critical/high/medium/low/info)")
        return found

    @classmethod
    def lookup(cls, text: str) -> Severity | None:
        """Like :meth:`parse` but returns None for an unknown word."""
        key = _fold(text)
        if re.fullmatch(r"p[0-4]", key):
            return cls(key.upper())
        return SEVERITY_WORDS.get(key)


_LABELS = {
    Severity.P0: "critical",
    Severity.P1: "high",
    Severity.P2: "medium",
    Severity.P3: "low",
    Severity.P4: "info",
}


def _fold(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in text if not unicodedata.combining(c))


# Word aliases, accent-folded and lower-cased. English, Spanish, Portuguese, French, German, Italian.
SEVERITY_WORDS: dict[str, Severity] = {
    **dict.fromkeys(
        [
            "critical",
            "critica",
            "critico",
            "criticas",
            "criticos",
            "blocker",
            "urgent",
            "urgente",
            "kritisch",
            "critique",
            "severe",
            "severo",
            "severa",
        ],
        Severity.P0,
    ),
    **dict.fromkeys(
        [
            "high",
            "alta",
            "alto",
            "altas",
            "altos",
            "major",
            "important",
            "importante",
            "hoch",
            "haute",
            "elevee",
            "elevada",
            "elevado",
            "grave",
        ],
        Severity.P1,
    ),
    **dict.fromkeys(
        [
            "medium",
            "media",
            "medio",
            "medias",
            "medios",
            "moderate",
            "moderada",
            "moderado",
            "mittel",
            "moyenne",
            "moyen",
            "warning",
            "medium-high",
        ],
        Severity.P2,
    ),
    **dict.fromkeys(
        [
            "low",
            "baja",
            "bajo",
            "bajas",
            "bajos",
            "baixa",
            "baixo",
            "minor",
            "menor",
            "niedrig",
            "faible",
            "bassa",
            "basso",
            "trivial",
        ],
        Severity.P3,
    ),
    **dict.fromkeys(
        [
            "info",
            "informational",
            "information",
            "informativo",
            "informativa",
            "informacion",
            "note",
            "nota",
            "hinweis",
            "none",
        ],
        Severity.P4,
    ),
}


def _coerce_severity(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Severity):
        return Severity.parse(value)
    return value


SeverityField = Annotated[Severity, BeforeValidator(_coerce_severity)]

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def fingerprint_of(
    dimension: str, rule_id: str | None, file: str | None, snippet: str | None, description: str
) -> str:
    """A stable id for a finding: it ignores the line number, so it survives unrelated lines moving.

    The evidence is the offending source line when known (its text, whitespace-normalised), otherwise
    the description with numbers blanked out (descriptions often quote line numbers).
    """
    if snippet and snippet.strip():
        evidence = _SPACE.sub(" ", snippet.strip())
    else:
        evidence = _DIGITS.sub("#", _SPACE.sub(" ", description.strip().lower()))
    raw = "\x1f".join([dimension, rule_id or "", file or "", evidence])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class Finding(BaseModel):
    """One problem found by an audit."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    dimension: str
    severity: SeverityField
    description: str
    rule_id: str | None = None
    file: str | None = Field(default=None, description="POSIX path relative to the repository root")
    line: int | None = Field(default=None, ge=0)
    end_line: int | None = Field(default=None, ge=0)
    recommendation: str | None = None
    snippet: str | None = Field(default=None, description="the offending source line, when known")
    source: str | None = Field(default=None, description="the tool or agent that reported it")
    fingerprint: str = ""

    @model_validator(mode="after")
    def _fill_fingerprint(self) -> Finding:
        if not self.fingerprint:
            value = fingerprint_of(self.dimension, self.rule_id, self.file, self.snippet, self.description)
            object.__setattr__(self, "fingerprint", value)
        return self

    @property
    def location(self) -> str:
        if not self.file:
            return "-"
        return f"{self.file}:{self.line}" if self.line else self.file


class Usage(BaseModel):
    """Tokens and money one or more agent calls used. Adding two Usages sums them."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    calls: int = 0
    input_tokens: int = Field(default=0, description="all input tokens, cached ones included")
    cached_input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_source: Literal["none", "reported", "priced", "mixed"] = "none"
    models: list[str] = Field(default_factory=list)
    unknown_price: bool = Field(
        default=False, description="a model had no known price and was charged at the highest known rate"
    )

    def __add__(self, other: Usage) -> Usage:
        if self.cost_source == "none":
            source = other.cost_source
        elif other.cost_source in ("none", self.cost_source):
            source = self.cost_source
        else:
            source = "mixed"
        return Usage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
            cost_source=source,
            models=sorted(set(self.models) | set(other.models)),
            unknown_price=self.unknown_price or other.unknown_price,
        )


def count_by_severity(findings: list[Finding]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts


class AuditResult(BaseModel):
    """The outcome of auditing one dimension: findings, a score, and what it cost.

    ``score`` is on ``score_scale``. For audits gitorch computes it from the findings (scale 100, see
    :mod:`gitorch.score`) and ``score_source`` is ``"computed"``; a score an agent wrote in its report
    is kept in ``claimed_score``/``claimed_score_scale``. ``gitorch parse`` reports the score as the
    report wrote it (``score_source == "reported"``).
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    schema_version: int = 1
    dimension: str
    agent: str
    contributors: list[str] = Field(
        default_factory=list, description="other agents whose findings were merged into this audit"
    )
    path: str = "."
    score: float | None = None
    score_scale: int | None = None
    score_source: Literal["computed", "reported", "none"] = "none"
    score_formula: int | None = Field(
        default=None, description="the gitorch.score formula of a computed score (merge refuses mixes)"
    )
    claimed_score: float | None = None
    claimed_score_scale: int | None = None
    grade: str | None = None
    counts: dict[Severity, int] = Field(default_factory=dict, description="open findings per severity")
    stated_counts: dict[Severity, int] | None = Field(
        default=None, description="totals the report itself claims, when they differ from its findings"
    )
    findings: list[Finding] = Field(default_factory=list)
    resolved: list[Finding] = Field(default_factory=list, description="items the report marks fixed")
    loc: int | None = Field(default=None, description="lines of code the score was normalised by")
    files: int | None = None
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="why the parse of an agent's report is doubtful (empty when it is not); see doubtful",
    )
    cached: bool = Field(
        default=False,
        exclude=True,
        description="served from the audit cache (not serialised: cached JSON is the cold one byte for byte)",
    )

    @model_validator(mode="after")
    def _derive(self) -> AuditResult:
        self.counts = count_by_severity(self.findings)
        seen: dict[str, int] = {}
        unique: list[Finding] = []
        for finding in self.findings:
            n = seen.get(finding.fingerprint, 0)
            seen[finding.fingerprint] = n + 1
            unique.append(
                finding
                if n == 0
                else finding.model_copy(update={"fingerprint": f"{finding.fingerprint}-{n + 1}"})
            )
        self.findings = unique
        return self

    @property
    def doubtful(self) -> bool:
        """Whether the report this result was parsed from may have been misread (``warnings`` says why).

        A caller that can ask the agent again (the agent driver) should do so, once, for the
        structured format.
        """
        return bool(self.warnings)

    @property
    def auditors(self) -> str:
        """The agent and the contributors, for display: ``local + odoo``."""
        return " + ".join([self.agent, *self.contributors])

    @property
    def normalized_score(self) -> float | None:
        """The score on a 0–100 scale, or None when there is none."""
        if self.score is None:
            return None
        scale = self.score_scale or 100
        return round(self.score * 100 / scale, 1)


# --------------------------------------------------------------------------------------------------
# Requests agents receive.


@dataclass(frozen=True)
class AuditRequest:
    """What an agent needs to audit one dimension.

    ``root`` is the directory to work in (the user's repository for ``gitorch audit``, the run's
    worktree during ``gitorch fix``); ``path`` is the part of it to audit, relative to ``root``.
    """

    root: Path
    dimension: Dimension
    config: Config
    path: str = "."
    progress: Callable[[str], None] | None = None
    dry_run: bool = False

    def report(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


@dataclass(frozen=True)
class FixRequest:
    """Ask an agent to fix one finding by editing files under ``root`` (the run's worktree).

    ``failure`` holds the test output of the previous attempt at the same finding, if any.
    """

    root: Path
    finding: Finding
    config: Config
    path: str = "."
    attempt: int = 1
    failure: str | None = None
    budget_left_usd: float | None = None
    dry_run: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class FixResult(BaseModel):
    """What an agent says it did. gitorch trusts the worktree's diff, not this summary."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    status: Literal["changed", "unchanged", "cannot_fix", "failed"]
    summary: str = ""
    usage: Usage = Field(default_factory=Usage)
    call_id: str | None = None


# --------------------------------------------------------------------------------------------------
# The plugin kinds live in gitorch.plugin (one interface module per kind); imported here so that
# ``from gitorch.models import Agent, ...`` keeps working. Below the data they use: no import cycle.

from gitorch.plugin.agent import Agent, AgentContext, Availability  # noqa: E402
from gitorch.plugin.dimension import Dimension  # noqa: E402
from gitorch.plugin.parser import Parser  # noqa: E402

__all__ = [
    "SEVERITY_WORDS",
    "Agent",
    "AgentContext",
    "AuditRequest",
    "AuditResult",
    "Availability",
    "Dimension",
    "Finding",
    "FixRequest",
    "FixResult",
    "Parser",
    "Severity",
    "SeverityField",
    "Usage",
    "count_by_severity",
    "fingerprint_of",
]
