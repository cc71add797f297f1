"""From a section tree to itemized entries ("items"): the finding candidates of a report.

An item is one heading (with everything under it), one table row or one list item. Each carries
the severity the report gives it, the *kind* of section it sits in (findings, summary,
remediation, resolved, positive, legend, metrics) and whether its own text marks it as not a
finding ("✅ GOOD", "None found") or as fixed. :mod:`gitorch_markdown.report` decides which
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

from gitorch.models import Severity
from gitorch_markdown.describe import ITEM_ID, clean_title, describe, item_ids, only_location, recommendation
from gitorch_markdown.document import Block, Line, ListItem, Section
from gitorch_markdown.fields import (
    Field,
    direct_lines,
    field_heading,
    field_lines,
    field_severity,
    fields_of,
    is_field_line,
    priority_severity,
    severity_named_field,
)
from gitorch_markdown.lexicon import (
    COLUMN_COUNT,
    COLUMN_ID,
    COLUMN_TASK,
    FIELD_LINE,
    FIELD_LOCATION,
    FIELD_PRIORITY,
    FIELD_PROBLEM,
    FIELD_RECOMMENDATION,
    FIELD_RISK,
    FIELD_SEVERITY,
    FIELD_STATUS,
    FIELD_VERDICT,
    NEGATIVE_MARKS,
    NUMBERING,
    POSITIVE_MARKS,
    decide,
    fold,
    has_finding_noun,
    is_dismissal,
    is_generic_title,
    is_group_title,
    is_none_found,
    is_positive_value,
    is_resolved_value,
    is_verdict_title,
    section_kind,
    signals,
    value_severity,
)
from gitorch_markdown.locations import Ref, find_refs, line_refs
from gitorch_markdown.tags import (
    leading_severity,
    only_severity,
    tagged_severity,
    title_severity,
    trailing_severity,
)

_LIKELIHOOD = re.compile(
    r"(?<![a-z])(?:probabilidad|probability|likelihood|probabilidade|probabilite)(?![a-z])"
)
_EFFORT = re.compile(
    r"(?<![a-z])(?:effort|esfuerzo|esforco|aufwand|naklad|cost|coste|custo)(?![a-z])|(?<!\w)трудо\w+"
    r"|工作量|工数|工时|공수"
)
_BRACKETED_ID = re.compile(r"\[[^\]]*\bP[0-4]-[^\]]*\]", re.IGNORECASE)
STICKY_KINDS = {"resolved", "remediation", "summary", "positive", "legend"}
SKIPPED_KINDS = {"remediation", "summary", "positive", "legend", "metrics", "resolved"}

_POSITIVE_TITLE = re.compile(
    r"^\W*(?:GOOD|VERIFIED|PASS(?:ED)?|OK|SAFE|COMPLIANT|CORRECT[OA]?|EXCELLENT|EXCELENTE|BIEN|BUENO|OK)\b"
    r"|^\W*(?:good|verified|pass(?:ed)?|ok|safe|compliant|correct[oa]?|excellent|excelente|strength|fortaleza)\s*:",
)
_DONE = r"(?:fixed|resolved|resuelt[oa]|corregid[oa]|solucionad[oa]|closed|cerrad[oa]|done|resolvid[oa])"
# A status tag in a title: "[FIXED]", "(Resuelto)", "✅ Fixed", "… - RESOLVED". Plain words are not
# enough: "Database Connection Never Closed" is an open finding.
_RESOLVED_TITLE = re.compile(
    r"[\[(]\s*" + _DONE + r"\b[^\])]*[\])]|✅\s*" + _DONE + r"\b|\s[-–—|:]\s*" + _DONE + r"\W*$"
)


# "Critical: 0", "- **High**: 2 issues", "🟢 Autenticação — 9/10": a tally or a grade, not a finding
_TALLY_TITLE = re.compile(
    r"^\W*(?P<sev>p[0-4]|[^\W\d_]+)\W*\s*[:=\-–—]?\s*\d+\s*(?:issues?|findings?|hallazgos?|problem\w*|"
    r"vulnerabilit\w*|items?|found|encontrad\w*|achados?|befunde?)?\W*$"
)
_GRADE_IN_TITLE = re.compile(
    r"(?<![\d.,/])\d{1,3}(?:[.,]\d{1,2})?\s*/\s*(?:100|10|5)\b(?![.,/]?\d)|\b[A-F][+-]?$"
)


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


class Walker:
    """Walks a section tree and collects :class:`Item` objects in document order."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self._groups = 0

    def _group(self) -> int:
        self._groups += 1
        return self._groups

    def run(self, root: Section) -> list[Item]:
        self.descend(root, Ctx(group=self._group()))
        return self.items

    # headings ---------------------------------------------------------------------------------

    def own_severity(self, section: Section) -> bool:
        sev, _ = title_severity(section.title.text)
        if sev is not None and not is_group_title(section.title.text):
            return True
        return field_severity(fields_of(direct_lines(section)), weak=False) is not None

    def holds_items(self, section: Section) -> bool:
        """Whether a heading below this one is an item or a group of its own (so this is a topic)."""
        return any(
            self.own_severity(d) or (is_group_title(d.title.text) and signals(d.title.text))
            for c in section.children
            if not field_heading(c)
            for d in c.walk()
            if not field_heading(d)
        )

    def groups_items(self, section: Section) -> bool:
        """Whether a heading with a severity is a group: its body is entries (numbered or ID'd
        sub-headings, or only tables and lists) and it cites no location of its own."""
        direct = direct_lines(section)
        if any(FIELD_LOCATION.fullmatch(f.name) for f in fields_of(direct)):
            return False
        if any(r.line is not None for ln in direct for r in line_refs(ln)):
            return False
        kids = [c for c in section.children if not field_heading(c) and not is_generic_title(c.title.text)]
        # NOTE: two entries at least: a finding's own "#### 1. Steps to reproduce" is one numbered detail
        numbered = [c for c in kids if c.promoted or NUMBERING.match(c.title.text) or item_ids(c.title.text)]
        if len(numbered) >= 2 or (numbered and all(c.promoted for c in numbered)):
            return True
        entries = sum(len(b.rows) if b.kind == "table" else len(b.items) for b in section.blocks)
        return (
            bool(section.blocks) and entries >= 2 and all(b.kind in ("table", "list") for b in section.blocks)
        )

    def visit(self, section: Section, ctx: Ctx) -> None:
        if field_heading(section) and section.parent is not None and section.parent.level:
            return  # read as a field of the parent heading
        title = section.title.text
        group = is_group_title(title)
        tsev, tsev_id = title_severity(title)
        if (
            tsev is not None
            and not (ctx.under_group or ctx.findingish)
            and _colour_only(title)
            and not _cites_line([section.title, *direct_lines(section)])
        ):
            # "### 🔴 Kein HTTPS" in a checklist is a status light; in a findings section, or citing a
            # line of code, the colour rates a finding
            tsev = None
        direct_fields = fields_of(direct_lines(section))
        fsev = field_severity(direct_fields, weak=False)
        weak_sev = field_severity(direct_fields) if fsev is None else None
        if is_verdict_title(title):
            # "## Overall risk: Low": the report's verdict on itself, never an entry; what it holds is summary
            self.descend(section, Ctx("summary", None, False, False, self._group(), ctx.topic))
            return
        own_kind = section_kind(title)
        item_like = own_kind in ("remediation", "summary", "metrics", "legend", "resolved") and not group
        # an item's title that happens to say "summary", "plan", "coverage" or "closed": it sits under
        # a findings group, or carries its own "**Severity:**" field
        if (
            item_like
            and (ctx.under_group or fsev is not None)
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
            self.descend(section, new)
            return

        own = fsev or (tsev if not tsev_id else None)
        id_sev = tsev if tsev_id else None
        if id_sev is not None and not (ctx.under_group and ctx.inherited) and not _BRACKETED_ID.search(title):
            # "### P0-03: XML Views" in a per-pattern analysis names a check, not a finding;
            # "#### [P0-1] …" (bracketed) or an ID under a severity group is one
            id_sev = None
        if own is None and only_location(clean_title(title)):
            # "#### 1. `wizards/views.xml`": findings regrouped by file, restated elsewhere
            new = Ctx(kind, ctx.inherited, ctx.under_group, False, self._group(), ctx.topic)
            self.descend(section, new)
            return
        if own is None and id_sev is None and not (ctx.under_group and ctx.inherited):
            if weak_sev is not None and (ctx.under_group or ctx.findingish):
                own = weak_sev  # in a findings section, only a priority word or an impact says how severe
            elif kind is None and (prio := priority_severity(direct_fields)) is not None:
                # "**Prioridade:** 🔴 Alta" after the body, under a heading that announces nothing
                own = prio
            elif (
                kind is None
                and (_entry_shaped(direct_fields) or ctx.findingish)
                and (rec := _recommendation_severity(section))
            ):
                # "**Status:** ⚠️ …" … "**Recommendations:**" over "- 🔴 **High priority**: …": the one
                # priority the entry's recommendation carries rates the entry
                own = rec
            elif kind in (None, "positive", "resolved") and weak_sev and _status_resolved(direct_fields):
                # "### ✅ M-001: …", "**Status:** ✅ FULLY RESOLVED", "**Priority:** Medium": a fixed finding
                own, kind = weak_sev, "resolved"
        if own is not None and fsev is None and not self.holds_items(section) and self.groups_items(section):
            # "## High priority — potential bugs" over "### 1. …" headings, "#### 🔴 High — Correctness"
            # over "**H1. …**" paragraphs, "## 一、P1 …" over "### 1.1 …": a severity heading with
            # extra words that announces the findings below it
            findingish = (has_finding_noun(title) or ctx.findingish) and not ctx.topic
            self.descend(section, Ctx(kind, own, True, findingish, self._group(), ctx.topic))
            return
        if own or id_sev:
            if not self.holds_items(section):
                if own is None:
                    own = ctx.inherited if (ctx.under_group and ctx.inherited) else id_sev
                self.heading_item(section, own, kind, ctx)
                return
            new = Ctx(kind, None, False, False, self._group(), True)
            self.descend(section, new)
            return

        if ctx.under_group and (ctx.inherited or ctx.findingish):
            if (section.children and not all(is_generic_title(c.title.text) for c in section.children)) or (
                _category_of_items(section)
            ):
                new = Ctx(kind, ctx.inherited, True, ctx.findingish, self._group(), ctx.topic)
                self.descend(section, new)
                return
            if is_generic_title(title):
                return
            self.heading_item(section, ctx.inherited, kind, ctx)
            return

        self.descend(
            section,
            Ctx(kind, None, False, has_finding_noun(title) and not ctx.topic, self._group(), ctx.topic),
        )

    def descend(self, section: Section, ctx: Ctx) -> None:
        """Read a section's own lists and tables, then its sub-headings, in ``ctx``."""
        self.blocks(section.blocks, ctx)
        for child in section.children:
            self.visit(child, ctx)

    def heading_item(self, section: Section, severity: Severity | None, kind: str | None, ctx: Ctx) -> None:
        blocks = section.subtree_blocks()
        lines = [section.title] + [ln for b in blocks for ln in b.all_lines()]
        codes = [c for b in blocks for c in b.codes()]
        fields = fields_of([ln for b in blocks if b.kind in ("para", "list") for ln in field_lines(b)])
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
        for i, block in enumerate(blocks):
            if block.kind == "table":
                self.table(block, ctx)
            elif block.kind == "list":
                if i and _labels_recommendation(blocks[i - 1]):
                    continue  # "**Recommendations:**" over "- 🔴 High: use a keystore": advice, not findings
                self.list(block, ctx)
            elif block.kind == "para" and (ctx.under_group or ctx.findingish or ctx.kind is None):
                self.paragraph(block, ctx)

    def paragraph(self, block: Block, ctx: Ctx) -> None:
        """Lines written as items without list markers: ``**[HIGH]** SQL injection in `db.py:4```."""
        for line in block.lines:
            lead = leading_severity(
                line.text, tagged_only=True, strong=not (ctx.under_group or ctx.findingish)
            )
            if lead is None or is_field_line(line) and not severity_named_field(line):
                continue
            if len(line.text.split()) < 3:
                continue
            entry = ListItem([line], [])
            self.list_item(entry, lead, ctx, block.line)

    def list(self, block: Block, ctx: Ctx) -> None:
        if _is_legend(block):
            return
        for entry in block.items:
            if not entry.lines:
                continue
            first = entry.lines[0].text
            lead = leading_severity(first, strong=not (ctx.under_group or ctx.findingish))
            if lead is None and _cites_line(entry.all_lines()):
                lead = leading_severity(first)  # "- 🔴 SQL injection in `db.py:4`": a colour and a location
            nested = [b for b in entry.blocks if b.kind == "list"]
            if lead is not None and nested and only_severity(first):
                # "- **High**" with the findings as sub-bullets
                self.list(nested[0], Ctx(ctx.kind, lead, True, ctx.findingish, self._group(), ctx.topic))
                continue
            trail = None
            if ctx.findingish or ctx.under_group:
                trail = trailing_severity(first) or tagged_severity(first)
            # "1. **SQL injection**" with "- Severity: High" as a sub-bullet
            nested_fields = fields_of([ln for b in nested for ln in b.all_lines()]) if nested else []
            field_sev = field_severity(nested_fields, weak=False)
            severity = lead or field_sev or trail or (ctx.inherited if ctx.under_group else None)
            if severity is None and not ctx.findingish:
                continue
            if is_field_line(entry.lines[0]) and lead is None:
                continue  # "**Total:** 33" is a fact about the section, not an item
            if (
                is_field_line(entry.lines[0])
                and not severity_named_field(entry.lines[0])
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
        if any(_LIKELIHOOD.search(h) for h in headers) and not any(FIELD_SEVERITY.search(h) for h in headers):
            return  # a risk register (likelihood x impact) rates project risks, not code findings
        if sev_col is None and not (ctx.under_group and ctx.inherited) and not ctx.findingish:
            return
        head = headers[sev_col] if sev_col is not None else ""
        if sev_col is not None and not (FIELD_SEVERITY.search(head) or FIELD_PRIORITY.search(head)):
            # an Impact, Risk or Level column (or an unlabelled one of badges) is weaker evidence: beside an
            # Effort column it prioritises work, and outside a findings section it needs a problem column
            if any(_EFFORT.search(h) for h in headers):
                return
            if not (ctx.under_group or ctx.findingish) and not any(FIELD_PROBLEM.search(h) for h in headers):
                return
        taken = id_cols | ({sev_col} if sev_col is not None else set())
        status_col = _column(headers, FIELD_STATUS, taken)
        loc_cols = [i for i, h in enumerate(headers) if i not in taken and FIELD_LOCATION.search(h)]
        line_col = next((i for i in loc_cols if FIELD_LINE.fullmatch(headers[i])), None)
        taken |= set(loc_cols) | ({status_col} if status_col is not None else set())
        rec_col = _column(headers, FIELD_RECOMMENDATION, taken)
        desc_col = _column(headers, FIELD_PROBLEM, taken | ({rec_col} if rec_col is not None else set()))
        if desc_col is None and (rec_col is not None or _column(headers, COLUMN_TASK, taken) is not None):
            return  # "Priority | Action" / "Task | Owner": a plan of things to do, not problems found
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
                    and ITEM_ID.match(cells[i].strip(" *`[]"))
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
            if FIELD_SEVERITY.search(h):
                rank = 3
            elif FIELD_PRIORITY.search(h):
                rank = 2
            elif FIELD_RISK.search(h) or not h.strip(" *_`"):
                rank = 1  # impact/risk/level, or an unlabelled column of "🔴" / "High" badges
            else:
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
        tally = _TALLY_TITLE.match(folded)
        if (
            is_none_found(title)
            or not folded.strip(" -*_")
            or _POSITIVE_TITLE.match(title)
            or (tally and signals(tally.group("sev")))
        ):
            item.nonfinding = True
        elif _GRADE_IN_TITLE.search(title) and not any(s.form != "emoji" for s in signals(title)):
            item.nonfinding = True  # "🟡 API — 6/10": a component's grade, its colour a traffic light
        elif is_none_found(clean_title(title)):
            item.nonfinding = True  # "- **Low**: none"
        for f in item.fields:
            if FIELD_STATUS.fullmatch(f.name) or FIELD_STATUS.search(f.name):
                if is_resolved_value(f.value) or (item.kind == "resolved" and is_positive_value(f.value)):
                    item.resolved = True  # in a fixed section, "✅ Implemented" is the fix being in
                elif is_positive_value(f.value):
                    item.nonfinding = True
            elif (FIELD_VERDICT.fullmatch(f.name) or FIELD_SEVERITY.search(f.name)) and is_dismissal(f.value):
                item.nonfinding = True  # "**Conclusion**: No vulnerability.", "LOW (false alarm)"
        if _RESOLVED_TITLE.search(folded) and item.origin != "table":
            item.resolved = True
        raw = item.lines[0].raw.strip() if item.lines else ""
        if re.match(r"^(?:[-*+]\s+)?(?:\[[ xX]\]\s+)?~~.+~~", raw):
            item.resolved = True
        if re.match(r"^\[[xX]\]\s", item.title.strip()) and item.origin == "list":
            item.resolved = True
        if item.resolved:
            item.nonfinding = False  # "✅ … (fixed)" is a fixed finding, not praise
        if not item.description:
            item.description = describe(item)
        if item.recommendation is None:
            item.recommendation = recommendation(item, blocks)
        self.items.append(item)


_COUNTED_TITLE = re.compile(
    r"\(\s*\d+\s*(?:hallazgos?|findings?|issues?|problemas?|problems?|vulnerabilidad(?:es)?|vulnerabilit(?:y|ies)|"
    r"items?|achados?)?\s*\)",
    re.IGNORECASE,
)


def _category_of_items(section: Section) -> bool:
    """``### Backend (4 hallazgos)`` over a numbered list: a category whose bullets are the findings.

    A heading whose whole body is one list of two or more entries reads the same way. An item's
    body has prose, fields or code as well.
    """
    if section.children:
        return False
    entries = [e for b in section.blocks if b.kind == "list" for e in b.items if e.lines]
    if len(entries) < 2 or sum(is_field_line(e.lines[0]) for e in entries) * 2 >= len(entries):
        return False  # "- **Package:** …" bullets are the fields of one item
    if sum(only_location(e.lines[0].text) for e in entries) * 2 >= len(entries):
        return False  # "- `a.py:3`" bullets are the locations of one item
    # NOTE: a category (an unnumbered title such as "Concurrency (multi-tab)") whose body opens with
    # the list, a closing remark after it, is a list of entries; a numbered or ID'd heading is one
    # finding whose bullets are its details, and an item opens with prose before listing details.
    title = section.title.text
    if _COUNTED_TITLE.search(title):
        return True
    if NUMBERING.match(title) or item_ids(title):
        return False
    return all(b.kind == "list" for b in section.blocks) or section.blocks[0].kind == "list"


def _labels_recommendation(block: Block) -> bool:
    """A paragraph ending in an empty recommendation field (``**Recommendations:**``, ``**推奨事項**:``)."""
    if block.kind != "para" or not block.lines:
        return False
    last = fields_of(block.lines[-1:])
    return bool(last) and not last[-1].value and bool(FIELD_RECOMMENDATION.fullmatch(last[-1].name))


def _recommendation_severity(section: Section) -> Severity | None:
    """The one severity a heading's recommendation is tagged with (in its value or its list)."""
    found: set[Severity] = set()
    blocks = section.blocks
    for i, block in enumerate(blocks):
        if block.kind != "para":
            continue
        for f in fields_of(block.lines):
            lead = leading_severity(f.value, strong=True) if f.value else None
            if lead is not None and FIELD_RECOMMENDATION.fullmatch(f.name):
                found.add(lead)
        if i + 1 < len(blocks) and blocks[i + 1].kind == "list" and _labels_recommendation(block):
            for entry in blocks[i + 1].items:
                if entry.lines and (lead := leading_severity(entry.lines[0].text, strong=True)) is not None:
                    found.add(lead)
    return found.pop() if len(found) == 1 else None


def _cites_line(lines: list[Line]) -> bool:
    return any(r.line is not None for ln in lines for r in line_refs(ln))


def _colour_only(title: str) -> bool:
    """A title whose only severity signal is a colour emoji (``🔴 Passwort-Hashing``)."""
    return all(s.form == "emoji" for s in signals(title))


def _status_resolved(fields: list[Field]) -> bool:
    """A status field saying fixed; beside a priority, "implemented" means the fix is in too."""
    return any(
        FIELD_STATUS.search(f.name)
        and (is_resolved_value(f.value) or re.match(r"^\W*(?:fully )?implemented\b", fold(f.value)))
        for f in fields
    )


def _entry_shaped(fields: list[Field]) -> bool:
    """Fields that make a heading one entry: a status, a location or a problem statement."""
    return any(
        FIELD_STATUS.search(f.name) or FIELD_LOCATION.fullmatch(f.name) or FIELD_PROBLEM.fullmatch(f.name)
        for f in fields
    )


def _is_legend(block: Block) -> bool:
    """``- 🔴 Critical: fix before release`` / ``- 🟠 High: …`` / ``- 🟡 Medium: …``: one entry per
    level, each a different one, none citing a file, is the report's severity scale, not findings."""
    entries = [e for e in block.items if e.lines]
    if len(entries) < 3:
        return False
    levels = [leading_severity(e.lines[0].text) for e in entries]
    return (
        None not in levels
        and len(set(levels)) == len(levels)
        and not any(line_refs(ln) for e in entries for ln in e.all_lines())
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
