"""What a finding says: its description, recommendation, identifiers and file:line."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gitorch_markdown.lexicon import (
    FIELD_LINE,
    FIELD_PROBLEM,
    FIELD_RECOMMENDATION,
    fold,
    value_severity,
)
from gitorch_markdown.locations import Ref, bare_lines, find_refs, line_refs
from gitorch_markdown.tags import tag_severity

if TYPE_CHECKING:
    from gitorch_markdown.document import Block
    from gitorch_markdown.items import Item


ITEM_ID = re.compile(r"^(?:[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*[-_]?\d{1,4}[a-z]?|#\d{1,4})$")


def clean_title(text: str) -> str:
    """Drop numbering, IDs, severity tags, emoji and location-only segments from a title."""
    t = re.sub(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]", "", text)
    t = re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|#\d+)\s+", "", t)
    # "(P1 - High)", "[CRITICAL]": severity tags go before splitting on " - "
    t = re.sub(
        r"\s*[(\[]([^()\[\]]{1,30})[)\]]", lambda m: " " if tag_severity(m.group(1)) else m.group(0), t
    )
    t = re.sub(r"\s{2,}", " ", t).strip()
    parts = [p.strip(" *_`") for p in re.split(r"\s+[-–—|]\s+", t)]
    keep = []
    for part in parts:
        part = _drop_leading_location(part)
        bare = re.sub(r"[\[\]():]", " ", part).strip()
        if not bare or only_location(part):
            continue
        words = bare.split()
        if all(ITEM_ID.match(w) or value_severity(w) or find_refs(w) for w in words) and len(words) <= 3:
            continue
        keep.append(part)
    t = " - ".join(keep) if keep else t
    t = re.sub(r"^\s*(?:\[[^\]]{1,20}\]\s*)+", "", t)
    lead = re.match(r"^\s*([^\W_]+(?:[-/][^\W_]+)?)\s*[:\-–—|]\s+", t)
    if lead and value_severity(lead.group(1)) is not None and len(t) > lead.end() + 2:
        t = t[lead.end() :]
    t = _drop_leading_location(t)
    # a leading identifier: "Tests-1: …", "P0-02: …", "H-P0-SEC-01: …", "Vuln 1: …", "Finding 3 - …"
    t = re.sub(r"^\s*(?=[A-Za-z][\w-]{0,15}\s*[:.]\s)(?=[^:.\s]*\d)[A-Za-z][\w-]{0,15}\s*[:.]\s+", "", t)
    t = re.sub(
        r"^\s*(?:vuln(?:erability)?|finding|issue|hallazgo|problema?|bug|vulnerabilidad|achado|befund|"
        r"проблема|问题|問題|漏洞|发现|문제|이슈)\s*#?\d{1,4}\s*[:.\-–—]\s*",
        "",
        t,
        flags=re.IGNORECASE,
    )
    # "XSS: `app/view.py:42`": a location-only last segment
    t = re.sub(r"\s*:\s+`?([^\s`]+)`?\s*$", lambda m: "" if only_location(m.group(1)) else m.group(0), t)
    t = re.sub(
        r"\s*[(\[]\s*(?:p[0-4]|[A-Za-z]+)(?:\s*[-/]\s*[A-Za-z0-9]+)?\s*[)\]]\s*$",
        lambda m: "" if value_severity(m.group(0).strip(" ()[]")) else m.group(0),
        t,
        flags=re.I,
    )
    # "… (app/models/query.py:128)": the location is in file/line already
    t = re.sub(
        r"\s*[(\[]\s*([^()\[\]]+?)\s*[)\]]\W*$", lambda m: "" if only_location(m.group(1)) else m.group(0), t
    )
    return t.strip(" :-–—*_`") or text.strip()


def only_location(text: str) -> bool:
    """``a.py:10.``, ```src/x.ts:3``` → True: the text is nothing but a location."""
    core = text.strip(" `*_.,;:")
    refs = find_refs(core)
    return bool(refs) and " " not in core and refs[0].path in core


def _drop_leading_location(text: str) -> str:
    """``a.py:3 SQL injection`` and ``a.py: typo`` lose the location; ``config.py sin tests`` keeps it."""
    lead = re.match(r"^\s*`?([^\s`]+?)`?\s*([:\-–—|.]?)(?:\s+|$)", text)
    if not lead or len(text) <= lead.end() + 3:
        return text
    refs = find_refs(lead.group(1))
    if refs and refs[0].path in lead.group(1) and (refs[0].line is not None or lead.group(2)):
        return text[lead.end() :].strip()
    return text


def item_ids(text: str) -> set[str]:
    """Identifiers an item carries in its title or ID cell (``S3``, ``H-P0-SEC-01``, ``Tests-2``)."""
    out = set()
    for m in re.finditer(r"\[([^\[\]]{1,24})\]", text):
        for tok in re.split(r"[/,\s]+", m.group(1)):
            if ITEM_ID.match(tok) and re.search(r"[A-Za-z]", tok):
                out.add(tok.upper())
    m = re.match(
        r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*-?\d{1,4})\s*[:.\-–]\s", text
    )
    if m and re.search(r"[A-Za-z]", m.group(1)):
        out.add(m.group(1).upper())
    return out


def describe(item: Item) -> str:
    title = clean_title(item.title)
    for f in item.fields:
        if FIELD_PROBLEM.fullmatch(f.name) and f.value and f.value not in title:
            return f"{title}: {f.value}"[:500]
    return title[:500]


def recommendation(item: Item, blocks: list[Block]) -> str | None:
    for f in item.fields:
        if FIELD_RECOMMENDATION.fullmatch(f.name):
            if f.value:
                return f.value[:1000]
            # the value is the next block ("**Fix:**" followed by a code block or a list)
            for i, block in enumerate(blocks):
                holds_field = block.kind == "para" and any(
                    ln.raw == f.line.raw or ln.text.endswith(":") and fold(ln.text).startswith(f.name)
                    for ln in block.lines
                )
                if holds_field and i + 1 < len(blocks):
                    nxt = blocks[i + 1]
                    text = nxt.code if nxt.kind == "code" else "\n".join(ln.text for ln in nxt.all_lines())
                    return text.strip()[:1000] or None
            return None
    return None


def choose_ref(item: Item) -> Ref | None:
    """The item's file and line: location fields first, then the title, body text and code."""
    loc_refs = [r for ln in item.location_lines for r in line_refs(ln)]
    title_refs = list(line_refs(item.lines[0])) if item.lines else []
    body_refs = [r for ln in item.lines[1:] for r in line_refs(ln)]
    code_refs = [r for code in item.codes for ln in code.splitlines() for r in find_refs(ln)]
    for ref in loc_refs:
        if ref.line is not None:
            return ref
    line_field = next(
        (f for f in item.fields if FIELD_LINE.fullmatch(f.name) and re.match(r"\d+", f.value)), None
    )
    if loc_refs and line_field is not None:
        n = int(re.match(r"\d+", line_field.value).group(0))
        return Ref(loc_refs[0].path, n)
    if loc_refs:
        names = {r.key[0] for r in loc_refs}
        for ref in title_refs + body_refs + code_refs:
            if ref.line is not None and ref.key[0] in names:
                return ref
    cited = loc_refs or title_refs + body_refs + code_refs
    if len({r.path for r in cited}) == 1 and all(r.line is None for r in cited):
        # "**File:** `app.js`" (or the one file the entry names) and, in the entry, "(line 3033)" or
        # "// Lines 42, 47": that file's line
        texts = [ln.text for ln in item.location_lines] + [ln.text for ln in item.lines]
        for text in texts + [c for code in item.codes for c in code.splitlines()]:
            for start, end in bare_lines(text):
                return Ref(cited[0].path, start, end)
    for group in (title_refs, body_refs, code_refs):
        for ref in group:
            if ref.line is not None:
                return ref
    for ref in loc_refs + title_refs:
        return ref
    if item.raw_location:
        return Ref(item.raw_location.lstrip("./"))
    for ln in item.location_lines:  # "**Ubicación:** `pagos/utils/`": a directory
        for code in ln.codes:
            if re.fullmatch(r"[\w.@~+-]+(?:/[\w.@~+-]+)*/", code.strip()):
                return Ref(code.strip().lstrip("./"))
    return body_refs[0] if body_refs else None
