"""Severity tags written in titles and bullets: ``[P1]``, ``(High)``, ``Critical: …``, ``🔴 …``."""

from __future__ import annotations

import re
from functools import lru_cache

from gitorch.models import Severity
from gitorch_markdown.lexicon import EMOJI, decide, fold, signals, strip_numbering

# NOTE: a green circle alone is as often "passed" (a checklist, a traffic light next to a grade) as
# "low": it rates an entry only together with a severity word ("🟢 Low", "🟢 Baixa").
GREEN = "🟢"

_TAG_NOUNS = {
    "severity", "severidad", "severidade", "sev", "priority", "prioridad", "prioridade", "priorite",
    "risk", "riesgo", "risco", "level", "nivel", "impact", "impacto",
}  # fmt: skip


@lru_cache(maxsize=4096)
def tag_severity(text: str) -> Severity | None:
    """A tag made only of severity words: ``High``, ``P1 - High``, ``🔴 ALTA PRIORIDAD``, ``Severity: Low``.

    ``High level approach``, ``BAJO RIESGO ACTUAL`` or a vague word alone (``Warning``, ``Note``,
    ``Important``) are not tags.
    """
    # compounds stay whole: "P0-04" is an identifier, "HIGH-01" and "Medium-High" are severities
    tokens = re.findall(r"[^\W_]+(?:[-/][^\W_]+)*|[\U0001F534-\U0001F7EB]", fold(text))
    found = []
    for token in tokens:
        sigs = [s for s in signals(token) if s.form != "id"]
        if sigs:
            found.extend(sigs)
        elif token not in _TAG_NOUNS and not token.isdigit():  # "HIGH-01" is a tag
            return None
    if not found or all(s.form == "word" and s.weight < 2 for s in found):
        return None
    return decide(found)


@lru_cache(maxsize=4096)
def title_severity(text: str) -> tuple[Severity | None, bool]:
    """A heading's own severity tag and whether it only comes from an ID such as ``P0-04``.

    P-labels count anywhere; words count in brackets/parentheses, as a ``High:``/``High -`` prefix,
    as a ``- High`` suffix or as a leading colour emoji. "High CPU usage" has no severity tag.
    """
    sigs = signals(text)
    labels = [s for s in sigs if s.form == "label"]
    if labels:
        return decide(labels), False
    for m in re.finditer(r"\(([^()]*)\)|\[([^\[\]]*)\]", text):
        sev = tag_severity(m.group(1) or m.group(2) or "")
        if sev is not None:
            return sev, False
    stripped = strip_numbering(re.sub(r"^[\s#*_`]+", "", text))
    parts = [p for p in re.split(r"\s*(?::|\s[-–—|]\s)\s*", stripped) if p.strip()]
    if len(parts) > 1 or stripped[:1] in EMOJI:
        # "🔴 High — Correctness": the words of the tag outweigh its colour
        for part in [parts[0], parts[-1], *parts[1:-1]]:
            sev = tag_severity(part)
            if sev is not None:
                return sev, False
    if stripped[:1] in EMOJI and stripped[:1] != GREEN:
        return EMOJI[stripped[:1]], False
    ids = [s for s in sigs if s.form == "id"]
    if ids:
        return decide(ids), True
    return None, False


def leading_severity(text: str, *, tagged_only: bool = False, strong: bool = False) -> Severity | None:
    """``[P0] …``, ``**High**: …``, ``🔴 …``, ``Critical - …``, ``P1 …`` → the severity; else None.

    ``tagged_only`` accepts only bracketed tags and ``Word:`` prefixes (for paragraphs). ``strong``
    refuses vague words alone: outside a findings section "**Important:** run migrations" is advice.
    """
    t = re.sub(r"^[\s*_`~]+", "", text)
    t = re.sub(r"^\[[ xX]\]\s+", "", t)  # task-list checkbox
    if t[:1] in EMOJI:
        rest = re.sub(r"^[\s*_`~]+", "", t[1:])
        word = re.match(r"[^\W_]+", rest)
        sigs = [s for s in signals(word.group(0))] if word else []
        if sigs and sigs[0].form in ("word", "label") and (sigs[0].weight >= 2 or sigs[0].form == "label"):
            return decide([*sigs, *signals(t[:1])])  # "🔴 **High**: …" is High
        # NOTE: outside a findings section a colour alone is as often a status light as a severity
        return None if t[:1] == GREEN or strong else EMOJI[t[:1]]
    t = re.sub(r"^[^\w\[(]+", "", t)
    m = re.match(
        r"^(?P<open>[\[(])?\s*(?P<tok>[^\W_]+(?:[-/][^\W_]+)*)\s*(?P<close>[\])])?\s*(?P<sep>[:\-–—|]|$)?", t
    )
    if not m:
        return None
    token = m.group("tok")
    sigs = [s for s in signals(token) if s.form != "id"]
    if not sigs or strong and all(s.form == "word" and s.weight < 2 for s in sigs):
        return None
    if tagged_only:
        if m.group("open") or (m.group("sep") or "") in (":", "|", "-", "–", "—"):
            return decide(sigs)
        return None
    if any(s.form == "label" for s in sigs) or m.group("open") or m.group("sep") is not None:
        return decide(sigs)
    return None


def tagged_severity(text: str) -> Severity | None:
    """A bracketed or parenthesised tag anywhere: ``SQL injection (severity: high) in db.py``."""
    for m in re.finditer(r"\(([^()]{1,30})\)|\[([^\[\]]{1,30})\]", text):
        sev = tag_severity(m.group(1) or m.group(2) or "")
        if sev is not None:
            return sev
    return None


def only_severity(text: str) -> bool:
    words = re.findall(r"[^\W_]+", fold(text))
    return 0 < len(words) <= 3 and all(
        signals(w) or w in ("priority", "prioridad", "severity", "issues", "findings", "hallazgos", "risk")
        for w in words
    )


def trailing_severity(text: str) -> Severity | None:
    m = re.search(r"[(\[]\s*([^()\[\]]{1,30})\s*[)\]]\W*$", text) or re.search(
        r"(?:\s[-–—|]\s|:\s)([^-–—|:]{1,25})$", text
    )
    return tag_severity(m.group(1)) if m else None
