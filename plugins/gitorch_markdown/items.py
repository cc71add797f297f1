"""From a section tree to itemized entries ("items"): the finding candidates of a report.

An item is one heading (with everything under it), one table row or one list item. Each carries
the severity the report gives it, the *kind* of section it sits in (findings, summary,
remediation, resolved, positive, legend, metrics) and whether its own text marks it as not a
finding ("✅ GOOD", "None found") or as fixed. :mod:`gitorch_markdown.parser` decides which
items become findings.

How a heading is read:

* a **group** heading announces findings ("Critical Issues", "HALLAZGOS P1 - UX",
  "P2 - Media Prioridad"): its severity (if it names exactly one) is inherited by the items below;
* a heading with its **own severity** (a ``**Severity:**`` field, ``[P1]``, ``(High)``,
  ``Critical: …``) is an item, unless a sub-heading has its own severity too (then it is a topic
  holding items);
* under a group, a plain heading is an item ("### 3. Bare except clauses"), a sub-group if it has
  item sub-headings, and ignored if it is a detail heading ("Fix Example", "Distribution by file").

Lists and tables are read only where they are not the body of an item heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from gitorch.models import Severity
from gitorch_markdown.document import Block, Line, ListItem, Section
from gitorch_markdown.lexicon import (
    COLUMN_COUNT,
    COLUMN_ID,
    EMOJI,
    FIELD_LINE,
    FIELD_LOCATION,
    FIELD_PRIORITY,
    FIELD_PROBLEM,
    FIELD_RECOMMENDATION,
    FIELD_RISK,
    FIELD_SEVERITY,
    FIELD_STATUS,
    NEGATIVE_MARKS,
    POSITIVE_MARKS,
    decide,
    fold,
    has_finding_noun,
    is_generic_title,
    is_group_title,
    is_none_found,
    is_positive_value,
    is_resolved_value,
    section_kind,
    signals,
    value_severity,
)
from gitorch_markdown.locations import Ref, find_refs

STICKY_KINDS = {"resolved", "remediation", "summary", "positive", "legend"}
SKIPPED_KINDS = {"remediation", "summary", "positive", "legend", "metrics", "resolved"}

_FIELD = re.compile(
    r"^\s*(?:[-*+]\s+)?(?P<bold>\*\*|__)?\s*(?P<name>[^\W\d_][^:*_`|\n]{0,40}?)\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?"
    r"\s*(?P<value>.*)$"
)
_REPORT_LEVEL = re.compile(
    r"(?<![a-z])(?:overall|global|general|total|gesamt\w*|geral|globale|residual|residuo)(?![a-z])"
)
_POSITIVE_TITLE = re.compile(
    r"^\W*(?:GOOD|VERIFIED|PASS(?:ED)?|OK|SAFE|COMPLIANT|CORRECT[OA]?|EXCELLENT|EXCELENTE|BIEN|BUENO|OK)\b"
    r"|^\W*(?:good|verified|pass(?:ed)?|ok|safe|compliant|correct[oa]?|excellent|excelente|strength|fortaleza)\s*:",
)
_ID = re.compile(r"^(?:[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*[-_]?\d{1,4}[a-z]?|#\d{1,4})$")
_DONE = r"(?:fixed|resolved|resuelt[oa]|corregid[oa]|solucionad[oa]|closed|cerrad[oa]|done|resolvid[oa])"
# A status tag in a title: "[FIXED]", "(Resuelto)", "✅ Fixed", "… - RESOLVED". Plain words are not
# enough: "Database Connection Never Closed" is an open finding.
_RESOLVED_TITLE = re.compile(
    r"[\[(]\s*" + _DONE + r"\b[^\])]*[\])]|✅\s*" + _DONE + r"\b|\s[-–—|:]\s*" + _DONE + r"\W*$"
)


@dataclass
class Field:
    name: str  # folded
    value: str
    line: Line


@dataclass
class Item:
    """One itemized entry of the report and what is known about it."""

    severity: Severity | None
    title: str
    origin: str  # "heading", "table" or "list"
    kind: str | None
    group: int
    line: int
    lines: list[Line] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    location_lines: list[Line] = field(default_factory=list)
    raw_location: str | None = None
    ids: set[str] = field(default_factory=set)
    description: str = ""
    recommendation: str | None = None
    resolved: bool = False
    nonfinding: bool = False
    grouped: bool = False  # sits under a heading that announces findings of one severity
    ref: Ref | None = None


@dataclass(frozen=True)
class Ctx:
    kind: str | None = None
    inherited: Severity | None = None
    under_group: bool = False
    findingish: bool = False
    group: int = 0
    topic: bool = False  # inside a heading that already holds a rated finding: its sub-points are detail


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
    """Severity from fields: severity-like names first, then priority, then (``weak``) risk/impact/level.

    An impact or risk field is the weakest evidence: "**Impacto:** Alto - …" under a P0 heading
    describes the damage, not the finding's rank, so callers try the headings first.
    """
    fields = [f for f in fields if not _REPORT_LEVEL.search(f.name)]
    for rx in (FIELD_SEVERITY, FIELD_PRIORITY, FIELD_RISK) if weak else (FIELD_SEVERITY, FIELD_PRIORITY):
        for f in fields:
            if rx.fullmatch(f.name) or (rx is FIELD_SEVERITY and rx.search(f.name)):
                sev = value_severity(f.value)
                if sev is not None:
                    return sev
    return None


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
        sev = value_severity(m.group(1) or m.group(2) or "")
        if sev is not None:
            return sev, False
    stripped = re.sub(r"^[\s#*_`]*(?:\d+(?:\.\d+)*\.?\s+)?", "", text)
    if stripped[:1] in EMOJI:
        return EMOJI[stripped[:1]], False
    parts = [p for p in re.split(r"\s*(?::|\s[-–—|]\s)\s*", stripped) if p.strip()]
    if len(parts) > 1:
        for part in [parts[0], parts[-1], *parts[1:-1]]:
            if len(part.split()) <= 3:
                sev = value_severity(part)
                if sev is not None:
                    return sev, False
    ids = [s for s in sigs if s.form == "id"]
    if ids:
        return decide(ids), True
    return None, False


def leading_severity(text: str, *, tagged_only: bool = False) -> Severity | None:
    """``[P0] …``, ``**High**: …``, ``🔴 …``, ``Critical - …``, ``P1 …`` → the severity; else None.

    ``tagged_only`` accepts only bracketed tags and ``Word:`` prefixes (for paragraphs).
    """
    t = re.sub(r"^[\s*_`~]+", "", text)
    t = re.sub(r"^\[[ xX]\]\s+", "", t)  # task-list checkbox
    if t[:1] in EMOJI:
        return EMOJI[t[:1]]
    t = re.sub(r"^[^\w\[(]+", "", t)
    m = re.match(
        r"^(?P<open>[\[(])?\s*(?P<tok>[^\W_]+(?:[-/][^\W_]+)*)\s*(?P<close>[\])])?\s*(?P<sep>[:\-–—|]|$)?", t
    )
    if not m:
        return None
    token = m.group("tok")
    sigs = [s for s in signals(token) if s.form != "id"]
    if not sigs:
        return None
    if tagged_only:
        if m.group("open") or (m.group("sep") or "") in (":", "|", "-", "–", "—"):
            return decide(sigs)
        return None
    if any(s.form == "label" for s in sigs) or m.group("open") or m.group("sep") is not None:
        return decide(sigs)
    return None


def _tagged_severity(text: str) -> Severity | None:
    """A bracketed or parenthesised tag anywhere: ``SQL injection (severity: high) in db.py``."""
    for m in re.finditer(r"\(([^()]{1,30})\)|\[([^\[\]]{1,30})\]", text):
        sev = value_severity(m.group(1) or m.group(2) or "")
        if sev is not None:
            return sev
    return None


def _only_severity(text: str) -> bool:
    words = re.findall(r"[^\W_]+", fold(text))
    return 0 < len(words) <= 3 and all(
        signals(w) or w in ("priority", "prioridad", "severity", "issues", "findings", "hallazgos", "risk")
        for w in words
    )


def _severity_named_field(line: Line) -> bool:
    """``**High**: SQL injection`` (a severity as the field name, text as the value)."""
    m = _FIELD.match(line.raw)
    if not m:
        return False
    value = line.text.split(":", 1)[1].strip() if ":" in line.text else ""
    return value_severity(m.group("name")) is not None and not re.fullmatch(r"[\d\s%()./+-]*", value)


def trailing_severity(text: str) -> Severity | None:
    m = re.search(r"[(\[]\s*([^()\[\]]{1,30})\s*[)\]]\W*$", text) or re.search(
        r"(?:\s[-–—|]\s|:\s)([^-–—|:]{1,25})$", text
    )
    return value_severity(m.group(1)) if m else None


def clean_title(text: str) -> str:
    """Drop numbering, IDs, severity tags, emoji and location-only segments from a title."""
    t = re.sub(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]", "", text)
    t = re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|#\d+)\s+", "", t)
    parts = [p.strip(" *_`") for p in re.split(r"\s+[-–—|]\s+", t)]
    keep = []
    for part in parts:
        part = _drop_leading_location(part)
        bare = re.sub(r"[\[\]():]", " ", part).strip()
        if not bare or _only_location(part):
            continue
        words = bare.split()
        if all(_ID.match(w) or value_severity(w) or find_refs(w) for w in words) and len(words) <= 3:
            continue
        keep.append(part)
    t = " - ".join(keep) if keep else t
    t = re.sub(r"^\s*(?:\[[^\]]{1,20}\]\s*)+", "", t)
    lead = re.match(r"^\s*([^\W_]+(?:[-/][^\W_]+)?)\s*[:\-–—|]\s+", t)
    if lead and value_severity(lead.group(1)) is not None and len(t) > lead.end() + 2:
        t = t[lead.end() :]
    t = _drop_leading_location(t)
    t = re.sub(r"^\s*[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*-?\d{1,4}\s*[:.]\s+", "", t)
    t = re.sub(
        r"\s*[(\[]\s*(?:p[0-4]|[A-Za-z]+)(?:\s*[-/]\s*[A-Za-z0-9]+)?\s*[)\]]\s*$",
        lambda m: "" if value_severity(m.group(0).strip(" ()[]")) else m.group(0),
        t,
        flags=re.I,
    )
    return t.strip(" :-–—*_`") or text.strip()


def _only_location(text: str) -> bool:
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
            if _ID.match(tok) and re.search(r"[A-Za-z]", tok):
                out.add(tok.upper())
    m = re.match(
        r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*-?\d{1,4})\s*[:.\-–]\s", text
    )
    if m and re.search(r"[A-Za-z]", m.group(1)):
        out.add(m.group(1).upper())
    return out


class Walker:
    """Walks a section tree and collects :class:`Item` objects in document order."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self._groups = 0

    def _group(self) -> int:
        self._groups += 1
        return self._groups

    def run(self, root: Section) -> list[Item]:
        ctx = Ctx(group=self._group())
        self.blocks(root.blocks, ctx)
        for child in root.children:
            self.visit(child, ctx)
        return self.items

    # headings ---------------------------------------------------------------------------------

    def own_severity(self, section: Section) -> bool:
        sev, _ = title_severity(section.title.text)
        if sev is not None and not is_group_title(section.title.text):
            return True
        return field_severity(fields_of(_direct_lines(section)), weak=False) is not None

    def holds_items(self, section: Section) -> bool:
        """Whether a heading below this one is an item or a group of its own (so this is a topic)."""
        return any(
            self.own_severity(d) or (is_group_title(d.title.text) and signals(d.title.text))
            for c in section.children
            if not _field_heading(c)
            for d in c.walk()
            if not _field_heading(d)
        )

    def visit(self, section: Section, ctx: Ctx) -> None:
        if _field_heading(section) and section.parent is not None and section.parent.level:
            return  # read as a field of the parent heading
        title = section.title.text
        group = is_group_title(title)
        tsev, tsev_id = title_severity(title)
        direct_fields = fields_of(_direct_lines(section))
        fsev = field_severity(direct_fields, weak=False)
        weak_sev = field_severity(direct_fields) if fsev is None else None
        own_kind = section_kind(title)
        item_like = own_kind in ("remediation", "summary", "metrics", "legend", "resolved") and not group
        # an item's title that happens to say "summary", "plan" or "closed"
        if (
            item_like
            and ctx.under_group
            and (own_kind != "resolved" or not _RESOLVED_TITLE.search(fold(title)))
        ):
            own_kind = None
        if ctx.kind in STICKY_KINDS:
            kind = ctx.kind
        elif ctx.kind in ("metrics", "legend") and (group or tsev or fsev):
            kind = own_kind
        else:
            kind = own_kind or ctx.kind

        if group:
            sigs = signals(title)
            inherited = decide(sigs, mixed_labels_ambiguous=True) if sigs else ctx.inherited
            findingish = (has_finding_noun(title) or ctx.findingish) and not ctx.topic
            new = Ctx(kind, inherited, True, findingish, self._group(), ctx.topic)
            self.blocks(section.blocks, new)
            for child in section.children:
                self.visit(child, new)
            return

        own = fsev or (tsev if not tsev_id else None)
        id_sev = tsev if tsev_id else None
        if (
            own is None
            and id_sev is None
            and weak_sev is not None
            and not (ctx.under_group and ctx.inherited)
        ):
            own = weak_sev  # only an impact/risk field says how severe it is
        if own or id_sev:
            if not self.holds_items(section):
                if own is None:
                    own = ctx.inherited if (ctx.under_group and ctx.inherited) else id_sev
                self.heading_item(section, own, kind, ctx)
                return
            new = Ctx(kind, None, False, False, self._group(), True)
            self.blocks(section.blocks, new)
            for child in section.children:
                self.visit(child, new)
            return

        if ctx.under_group and (ctx.inherited or ctx.findingish):
            if section.children and not all(is_generic_title(c.title.text) for c in section.children):
                new = Ctx(kind, ctx.inherited, True, ctx.findingish, self._group(), ctx.topic)
                self.blocks(section.blocks, new)
                for child in section.children:
                    self.visit(child, new)
                return
            if is_generic_title(title):
                return
            self.heading_item(section, ctx.inherited, kind, ctx)
            return

        new = Ctx(kind, None, False, has_finding_noun(title) and not ctx.topic, self._group(), ctx.topic)
        self.blocks(section.blocks, new)
        for child in section.children:
            self.visit(child, new)

    def heading_item(self, section: Section, severity: Severity | None, kind: str | None, ctx: Ctx) -> None:
        blocks = section.subtree_blocks()
        lines = [section.title] + [ln for b in blocks for ln in b.all_lines()]
        codes = [c for b in blocks for c in b.codes()]
        fields = fields_of([ln for b in blocks if b.kind in ("para", "list") for ln in _field_lines(b)])
        item = Item(
            severity=severity,
            title=section.title.text,
            origin="heading",
            kind=kind,
            group=ctx.group,
            line=section.line,
            lines=lines,
            codes=codes,
            fields=fields,
            ids=item_ids(section.title.text),
            grouped=ctx.under_group and ctx.inherited is not None,
        )
        item.location_lines = [f.line for f in fields if FIELD_LOCATION.fullmatch(f.name)]
        # a location field whose value is on the following list ("**Archivos:**" + bullets)
        for i, block in enumerate(blocks):
            if block.kind == "para" and block.lines and i + 1 < len(blocks) and blocks[i + 1].kind == "list":
                last = fields_of(block.lines[-1:])
                if last and FIELD_LOCATION.fullmatch(last[0].name) and not find_refs(last[0].value):
                    item.location_lines.extend(blocks[i + 1].all_lines())
        body = [ln for ln in lines[1:] if ln.text]
        if len(body) == 1 and is_none_found(body[0].text):
            item.nonfinding = True
        self._finish(item, blocks)

    # blocks -----------------------------------------------------------------------------------

    def blocks(self, blocks: list[Block], ctx: Ctx) -> None:
        for block in blocks:
            if block.kind == "table":
                self.table(block, ctx)
            elif block.kind == "list":
                self.list(block, ctx)
            elif block.kind == "para" and (ctx.under_group or ctx.findingish or ctx.kind is None):
                self.paragraph(block, ctx)

    def paragraph(self, block: Block, ctx: Ctx) -> None:
        """Lines written as items without list markers: ``**[HIGH]** SQL injection in `db.py:4```."""
        for line in block.lines:
            lead = leading_severity(line.text, tagged_only=True)
            if lead is None or _is_field_line(line) and not _severity_named_field(line):
                continue
            if len(line.text.split()) < 3:
                continue
            entry = ListItem([line], [])
            self.list_item(entry, lead, ctx, block.line)

    def list(self, block: Block, ctx: Ctx) -> None:
        for entry in block.items:
            if not entry.lines:
                continue
            first = entry.lines[0].text
            lead = leading_severity(first)
            nested = [b for b in entry.blocks if b.kind == "list"]
            if lead is not None and nested and _only_severity(first):
                # "- **High**" with the findings as sub-bullets
                self.list(nested[0], Ctx(ctx.kind, lead, True, ctx.findingish, self._group(), ctx.topic))
                continue
            trail = None
            if ctx.findingish or ctx.under_group:
                trail = trailing_severity(first) or _tagged_severity(first)
            severity = lead or trail or (ctx.inherited if ctx.under_group else None)
            if severity is None and not ctx.findingish:
                continue
            if _is_field_line(entry.lines[0]) and lead is None:
                continue  # "**Total:** 33" is a fact about the section, not an item
            if (
                _is_field_line(entry.lines[0])
                and not _severity_named_field(entry.lines[0])
                and not (re.match(r"^\W*[\[(]", first))
            ):
                continue  # "**Severity:** High" alone is a field of the section, not an item
            self.list_item(entry, severity, ctx, block.line)

    def list_item(self, entry: ListItem, severity: Severity | None, ctx: Ctx, line: int) -> None:
        lines = entry.all_lines()
        title = entry.lines[0].text
        item = Item(
            severity=severity,
            title=title,
            origin="list",
            kind=ctx.kind,
            group=ctx.group,
            line=line,
            lines=lines,
            codes=[c for b in entry.blocks for c in b.codes()],
            fields=fields_of(lines),
            ids=item_ids(title),
        )
        item.location_lines = [f.line for f in item.fields if FIELD_LOCATION.fullmatch(f.name)]
        self._finish(item, [])

    def table(self, block: Block, ctx: Ctx) -> None:
        headers = [fold(h.text).strip(" *_`") for h in block.header]
        if len(headers) < 2 or not block.rows:
            return
        id_cols = {i for i, h in enumerate(headers) if COLUMN_ID.match(h)}
        if sum(1 for h in headers if value_severity(h)) >= 2:
            return  # a matrix of counts per severity ("File | Critical | High | …")
        for i, h in enumerate(headers):
            if i not in id_cols and COLUMN_COUNT.search(h) and _mostly_numbers(block, i):
                return  # an aggregate ("Severity | Count", "Category | Findings | Score")
        sev_col = self._severity_column(block, headers, id_cols)
        if sev_col is None and not (ctx.under_group and ctx.inherited) and not ctx.findingish:
            return
        taken = id_cols | ({sev_col} if sev_col is not None else set())
        status_col = _column(headers, FIELD_STATUS, taken)
        loc_cols = [i for i, h in enumerate(headers) if i not in taken and FIELD_LOCATION.search(h)]
        line_col = next((i for i in loc_cols if FIELD_LINE.fullmatch(headers[i])), None)
        taken |= set(loc_cols) | ({status_col} if status_col is not None else set())
        rec_col = _column(headers, FIELD_RECOMMENDATION, taken)
        desc_col = _column(headers, FIELD_PROBLEM, taken | ({rec_col} if rec_col is not None else set()))
        for row in block.rows:
            cells = [c.text.strip() for c in row]
            if not any(c.strip(" -–—*") for c in cells) or fold(cells[0]).strip(" *").startswith("total"):
                continue
            if sev_col is not None:
                severity = value_severity(row[sev_col].text) if sev_col < len(row) else None
                if severity is None and ctx.under_group:
                    severity = ctx.inherited
            else:
                severity = ctx.inherited if ctx.under_group else None
            if desc_col is not None and desc_col < len(row) and cells[desc_col]:
                title = cells[desc_col]
            else:
                others = [c for i, c in enumerate(cells) if i not in taken and i != rec_col]
                title = max(others or cells, key=len)
            item = Item(
                severity=severity,
                title=title,
                origin="table",
                kind=ctx.kind,
                group=ctx.group,
                line=block.line,
                lines=list(row),
                ids={
                    cells[i].strip(" *`[]").upper()
                    for i in id_cols
                    if i < len(cells)
                    and _ID.match(cells[i].strip(" *`[]"))
                    and re.search(r"[A-Za-z]", cells[i])
                },
            )
            item.location_lines = [row[i] for i in loc_cols if i < len(row)]
            for i in loc_cols:
                if (
                    i != line_col
                    and i < len(cells)
                    and re.fullmatch(r"[\w./@~+-]+/?", cells[i].strip("`"))
                    and ("/" in cells[i] or "." in cells[i])
                ):
                    item.raw_location = cells[i].strip("`")
                    break
            if line_col is not None and item.raw_location and line_col < len(cells):
                m = re.match(r"\s*(\d+)(?:\s*[-–]\s*(\d+))?", cells[line_col])
                if m:
                    end = int(m.group(2)) if m.group(2) else None
                    item.ref = Ref(item.raw_location.lstrip("./"), int(m.group(1)), end)
            if status_col is not None and status_col < len(cells):
                status = cells[status_col]
                if is_resolved_value(status):
                    item.resolved = True
                elif is_positive_value(status):
                    item.nonfinding = True
            if rec_col is not None and rec_col < len(cells) and cells[rec_col]:
                item.recommendation = cells[rec_col]
            item.description = title
            self._finish(item, [])

    def _severity_column(self, block: Block, headers: list[str], id_cols: set[int]) -> int | None:
        best: tuple[float, int, int] | None = None
        for i, h in enumerate(headers):
            if i in id_cols:
                continue
            rank = (
                3
                if FIELD_SEVERITY.search(h)
                else 2
                if FIELD_PRIORITY.search(h)
                else 1
                if FIELD_RISK.search(h)
                else 0
            )
            if not rank:
                continue
            values = [row[i].text for row in block.rows if i < len(row) and row[i].text.strip()]
            if not values:
                continue
            ratio = sum(1 for v in values if value_severity(v)) / len(values)
            if ratio >= 0.5 and (best is None or (ratio, rank) > best[:2]):
                best = (ratio, rank, i)
        return best[2] if best else None

    # common -----------------------------------------------------------------------------------

    def _finish(self, item: Item, blocks: list[Block]) -> None:
        title = item.title
        folded = fold(title)
        positive = any(m in title for m in POSITIVE_MARKS) and not any(m in title for m in NEGATIVE_MARKS)
        if positive and item.kind != "resolved":
            item.nonfinding = True
        if is_none_found(title) or not folded.strip(" -*_") or _POSITIVE_TITLE.match(title):
            item.nonfinding = True
        elif is_none_found(clean_title(title)):
            item.nonfinding = True  # "- **Low**: none"
        for f in item.fields:
            if FIELD_STATUS.fullmatch(f.name) or FIELD_STATUS.search(f.name):
                if is_resolved_value(f.value):
                    item.resolved = True
                elif is_positive_value(f.value):
                    item.nonfinding = True
        if _RESOLVED_TITLE.search(folded) and item.origin != "table":
            item.resolved = True
        raw = item.lines[0].raw.strip() if item.lines else ""
        if re.match(r"^(?:[-*+]\s+)?(?:\[[ xX]\]\s+)?~~.+~~", raw):
            item.resolved = True
        if re.match(r"^\[[xX]\]\s", item.title.strip()) and item.origin == "list":
            item.resolved = True
        if not item.description:
            item.description = _describe(item)
        if item.recommendation is None:
            item.recommendation = _recommendation(item, blocks)
        self.items.append(item)


def _direct_lines(section: Section) -> list[Line]:
    lines = [ln for b in section.blocks if b.kind in ("para", "list") for ln in _field_lines(b)]
    return lines + [c.title for c in section.children if _field_heading(c)]


_FIELD_HEADING = re.compile(r"^\W*([^\W\d_][^:\-–—]{0,30}?)\s*(?::|\s[-–—]\s)\s*\S")


def _field_heading(section: Section) -> bool:
    """A sub-heading that is a field of its parent: ``#### Severity: High``, ``#### Impact - High``."""
    m = _FIELD_HEADING.match(section.title.text)
    if not m:
        return False
    name = fold(m.group(1)).strip()
    return bool(
        FIELD_SEVERITY.fullmatch(name) or FIELD_PRIORITY.fullmatch(name) or FIELD_RISK.fullmatch(name)
    )


def _field_lines(block: Block) -> list[Line]:
    if block.kind == "para":
        return block.lines
    return [item.lines[0] for item in block.items if item.lines]


def _is_field_line(line: Line) -> bool:
    """``**Name:** value`` or ``**Name**: value``."""
    return bool(
        re.match(r"^\s*(?:[-*+]\s+)?(?:\*\*|__)[^*_]{1,40}?(?::(?:\*\*|__)|(?:\*\*|__)\s*:)", line.raw)
    )


def _column(headers: list[str], rx: re.Pattern[str], taken: set[int]) -> int | None:
    for i, h in enumerate(headers):
        if i not in taken and rx.search(h):
            return i
    return None


def _mostly_numbers(block: Block, col: int) -> bool:
    values = [row[col].text.strip(" *") for row in block.rows if col < len(row) and row[col].text.strip()]
    return (
        bool(values)
        and sum(1 for v in values if re.fullmatch(r"[~≈]?\d+\+?(?:\s*\(.*\))?", v)) >= len(values) * 0.6
    )


def _describe(item: Item) -> str:
    title = clean_title(item.title)
    for f in item.fields:
        if FIELD_PROBLEM.fullmatch(f.name) and f.value and f.value not in title:
            return f"{title}: {f.value}"[:500]
    return title[:500]


def _recommendation(item: Item, blocks: list[Block]) -> str | None:
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
    loc_refs = [r for ln in item.location_lines for r in find_refs(ln.text, ln.codes)]
    title_refs = find_refs(item.lines[0].text, item.lines[0].codes) if item.lines else []
    body_refs = [r for ln in item.lines[1:] for r in find_refs(ln.text, ln.codes)]
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
