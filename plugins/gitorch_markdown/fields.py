"""Fields of an entry: ``**Severity:** High``, ``**Archivo:** `a.py:3```, ``#### Impact: High``.

A field is a short name, a colon and a value, on its own line (bold name, or a known name without
bold). Fields give an entry its severity, location, status and recommendation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitorch.models import Severity
from gitorch_markdown.document import Block, Line, Section
from gitorch_markdown.lexicon import (
    FIELD_LOCATION,
    FIELD_PRIORITY,
    FIELD_PROBLEM,
    FIELD_RECOMMENDATION,
    FIELD_RISK,
    FIELD_SEVERITY,
    FIELD_STATUS,
    fold,
    value_severity,
)

_FIELD = re.compile(
    r"^\s*(?:[-*+]\s+)?(?P<bold>\*\*|__)?\s*(?P<name>[^\W\d_][^:*_`|\n]{0,40}?)\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?"
    r"\s*(?P<value>.*)$"
)


_REPORT_LEVEL = re.compile(
    r"(?<![a-z])(?:overall|global|general|total|totals|gesamt\w*|geral|globale|residual|residuo|summary|resumen|"
    r"resumo|counts?|итог\w*)(?![a-z])"
)


@dataclass
class Field:
    name: str  # folded
    value: str
    line: Line


def fields_of(lines: list[Line]) -> list[Field]:
    """``**Name:** value`` lines (bold names, or known names without bold); ``a | b`` split first."""
    out: list[Field] = []
    for line in lines:
        raws = re.split(r"\s+\|\s+", line.raw) if " | " in line.raw else [line.raw]
        texts = re.split(r"\s+\|\s+", line.text) if len(raws) > 1 else [line.text]
        if len(texts) != len(raws):
            raws, texts = [line.raw], [line.text]
        for raw, text in zip(raws, texts, strict=True):
            m = _FIELD.match(raw)
            if not m:
                continue
            name = fold(m.group("name")).strip()
            if len(name.split()) > 5:
                continue
            known = any(
                rx.search(name)
                for rx in (
                    FIELD_SEVERITY,
                    FIELD_PRIORITY,
                    FIELD_RISK,
                    FIELD_LOCATION,
                    FIELD_STATUS,
                    FIELD_RECOMMENDATION,
                    FIELD_PROBLEM,
                )
            )
            if not m.group("bold") and not known:
                continue
            value = text.split(":", 1)[1].strip() if ":" in text else ""
            out.append(Field(name, value, Line(value, m.group("value"), line.codes)))
    return out


def field_severity(fields: list[Field], *, weak: bool = True) -> Severity | None:
    """Severity from fields: ``Severity:`` first, then a ``Priority:`` given as a P-label.

    With ``weak``, also a priority word and then risk/impact/level fields. They are the weakest
    evidence: "**Prioridad:** ALTA (Fase 2)" is the urgency of the fix, and "**Impacto:** Alto - …"
    under a P0 heading describes the damage, so callers try the headings first.
    """
    fields = [f for f in fields if not _REPORT_LEVEL.search(f.name)]
    rules: list[tuple[re.Pattern[str], bool]] = [(FIELD_SEVERITY, False), (FIELD_PRIORITY, True)]
    if weak:
        rules += [(FIELD_PRIORITY, False), (FIELD_RISK, False)]
    for rx, label_only in rules:
        for f in fields:
            if not (rx.fullmatch(f.name) or (rx is FIELD_SEVERITY and rx.search(f.name))):
                continue
            if label_only and not _P_LABEL_VALUE.match(fold(f.value)):
                continue
            if _TALLY.match(fold(f.value)):
                continue  # "Critical: 0, High: 2" counts findings, it rates none
            sev = value_severity(f.value)
            if sev is not None:
                return sev
    return None


def priority_severity(fields: list[Field]) -> Severity | None:
    """A ``Priority:`` field whose value is a severity (``🔴 Alta``, ``High``, ``P1``)."""
    for f in fields:
        if FIELD_PRIORITY.fullmatch(f.name) and not _TALLY.match(fold(f.value)):
            sev = value_severity(f.value)
            if sev is not None:
                return sev
    return None


_P_LABEL_VALUE = re.compile(r"^\W*p[0-4]\b")
_TALLY = re.compile(r"^\W*[^\W\d_]+\s*[:=]\s*\d+\s*(?:[,;|·]|$)")


_FIELD_HEADING = re.compile(r"^\W*([^\W\d_][^:\-–—]{0,30}?)\s*(?::|\s[-–—]\s)\s*\S")


def field_heading(section: Section) -> bool:
    """A sub-heading that is a field of its parent: ``#### Severity: High``, ``#### Impact - High``."""
    m = _FIELD_HEADING.match(section.title.text)
    if not m:
        return False
    name = fold(m.group(1)).strip()
    return bool(
        FIELD_SEVERITY.fullmatch(name) or FIELD_PRIORITY.fullmatch(name) or FIELD_RISK.fullmatch(name)
    )


def field_lines(block: Block) -> list[Line]:
    if block.kind == "para":
        return block.lines
    return [item.lines[0] for item in block.items if item.lines]


def is_field_line(line: Line) -> bool:
    """``**Name:** value``, ``**Name**: value``, or a known name without bold (``위치: a.py:3``)."""
    if re.match(r"^\s*(?:[-*+]\s+)?(?:\*\*|__)[^*_]{1,40}?(?::(?:\*\*|__)|(?:\*\*|__)\s*:)", line.raw):
        return True
    return bool(fields_of([line])) and not line.raw.lstrip().startswith(("**", "__"))


def severity_named_field(line: Line) -> bool:
    """``**High**: SQL injection`` (a severity as the field name, text as the value)."""
    m = _FIELD.match(line.raw)
    if not m:
        return False
    value = line.text.split(":", 1)[1].strip() if ":" in line.text else ""
    return value_severity(m.group("name")) is not None and not re.fullmatch(r"[\d\s%()./+-]*", value)


def direct_lines(section: Section) -> list[Line]:
    lines = [ln for b in section.blocks if b.kind in ("para", "list") for ln in field_lines(b)]
    return lines + [c.title for c in section.children if field_heading(c)]
