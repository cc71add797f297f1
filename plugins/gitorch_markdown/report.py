"""A Markdown audit report → :class:`~gitorch.models.AuditResult` (the ``markdown`` parser's engine).

The report is walked as a markdown-it token tree (:mod:`gitorch_markdown.document`), its
itemized entries collected (:mod:`gitorch_markdown.items`), and only the open, rated ones in
findings sections kept: summaries, remediation plans, legends, metrics and "what's good" sections
restate or praise, they do not add findings. Entries restated in two structures (a table and
detail headings, an inline finding and its entry under "Findings by severity") are merged.
"""

from __future__ import annotations

import gc
import re

from gitorch.models import AuditResult, Finding, Severity
from gitorch_markdown.describe import choose_ref
from gitorch_markdown.document import Section, parse_document
from gitorch_markdown.items import SKIPPED_KINDS, Item, Walker
from gitorch_markdown.lexicon import STOPWORDS, fold, signals
from gitorch_markdown.locations import Ref
from gitorch_markdown.scores import find_grade, find_score, stated_counts

_STATED_SECTIONS = re.compile(
    r"(?<![a-z])(?:summary|resumen|resumo|overview|sintesis|synthese|zusammenfassung|tl;?dr|at a glance|"
    r"categorizacion por severidad|findings by severity|hallazgos por severidad|fazit|итог\w*|резюме|"
    r"resumen por severidad|sumario|sommaire|podsumowanie|ubersicht|uberblick|обзор|сводка|visao geral"
    r")(?![a-z])"
    r"|总结|總結|摘要|概要|概述|要約|まとめ|요약|결론|총평|统计|統計|汇总|概览|サマリー?|개요"
)


def parse_report(text: str, *, dimension: str = "general") -> AuditResult:
    """Parse one Markdown audit report (see :class:`gitorch_markdown.parser.MarkdownParser`)."""
    # NOTE: the tree is tens of thousands of objects for a large report; the cyclic collector would
    # walk them again and again while they are built. They are collected after the parse as usual.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, dimension)
    finally:
        if enabled:
            gc.enable()


def _parse(text: str, dimension: str) -> AuditResult:
    root = parse_document(text)
    items = Walker().run(root)
    notes: list[str] = []

    rated = [i for i in items if i.severity is not None and not i.nonfinding]
    # NOTE: entries the report dismisses ("✅ GOOD", "false alarm") are merged with their restatements
    # too, so that a summary row of a dismissed entry does not count either.
    open_items = [
        i
        for i in _merge_restated(
            [i for i in items if i.severity is not None and i.kind not in SKIPPED_KINDS and not i.resolved]
        )
        if not i.nonfinding
    ]
    if not open_items:
        summary = [i for i in rated if i.kind == "summary" and not i.resolved]
        if summary:
            open_items = summary
            notes.append("findings taken from the summary: the report itemizes them nowhere else")
    resolved = [
        i
        for i in rated
        if (i.kind == "resolved" or i.resolved)
        and i.kind not in ("remediation", "summary", "positive", "legend", "metrics")
    ]
    unrated = [
        i
        for i in items
        if i.severity is None and not i.nonfinding and not i.resolved and i.kind not in SKIPPED_KINDS
    ]

    open_items = _drop_restating_structure(open_items, notes)
    resolved = _merge_restated(resolved)
    if unrated:
        notes.append(f"{len(unrated)} itemized problem(s) without a severity were not counted as findings")

    warnings: list[str] = []
    inside = {id(line) for item in open_items for line in item.lines}
    score, scale = find_score(root, warnings, inside)
    stated_sections = [
        s
        for top in root.children
        for s in top.walk()
        if _STATED_SECTIONS.search(fold(s.title.text)) and "conclu" not in fold(s.title.text)
    ]
    # the preamble: text before the first heading, or under the document's title heading
    preamble = [root] + [s for s in root.children[:1] if s.level == 1]
    mentioned: set[Severity] = set()
    stated = stated_counts([*preamble, *stated_sections], mentioned)
    findings = [_finding(i, dimension) for i in open_items]
    warnings[:0] = _doubts(root, items, findings, stated, mentioned)
    return AuditResult(
        dimension=dimension,
        agent="unknown",
        score=score,
        score_scale=scale,
        score_source="reported" if score is not None else "none",
        claimed_score=score,
        claimed_score_scale=scale,
        grade=find_grade(root),
        findings=findings,
        resolved=[_finding(i, dimension) for i in resolved],
        stated_counts=stated,
        notes=notes,
        warnings=warnings,
    )


# A verdict that the report found nothing: "No issues found", "LGTM", "Sin hallazgos", "未发现问题"…
_CLEAN_VERDICT = re.compile(
    r"(?<![a-z])(?:(?:no|zero|0)\s+(?:[a-z-]+\s+){0,3}(?:issues|findings|vulnerabilities|problems|bugs|defects|"
    r"concerns)(?:\s+(?:were\s+|have\s+been\s+|was\s+)?(?:found|detected|identified|reported|discovered)|"
    r"\s*(?:[.!;]|$))|"
    r"nothing\s+(?:to\s+report|found|to\s+fix)|lgtm|looks\s+good|all\s+checks\s+pass\w*|"
    r"no\s+action\s+(?:is\s+)?(?:needed|required)|clean\s+bill\s+of\s+health|"
    r"sin\s+(?:hallazgos|problemas|vulnerabilidades|observaciones)|no\s+se\s+(?:encontr|detect|identific)\w*|"
    r"nenhum\s+(?:problema|achado|vulnerabilidade)\w*|nao\s+(?:foram\s+)?(?:encontrad|identificad)\w*|"
    r"aucun\w*\s+(?:probleme|defaut|vulnerabilite|anomalie)|keine?\w*\s+(?:probleme|befunde|schwachstellen|"
    r"mangel)|nessun\w*\s+(?:problema|difetto|vulnerabilita)|"
    r"проблем\s+не\s+(?:обнаружено|наидено|выявлено)|замечании\s+нет|не\s+(?:обнаружено|выявлено)\s+\w*)(?![a-z])"
    r"|未发现|没有发现|未發現|沒有發現|問題は(?:見つかりませんでした|ありません)|問題なし|指摘事項なし"
    r"|문제(?:가|는|점이)?\s*(?:발견되지\s*않|없)|이슈\s*없"
)


def clean_verdict(root: Section) -> bool:
    """Whether the report says, somewhere, that it found nothing."""
    for section in root.walk():
        lines = [section.title] + [ln for b in section.blocks for ln in b.all_lines()]
        # folded for accents; as written too, since folding drops Japanese voicing marks
        if any(_CLEAN_VERDICT.search(fold(ln.text)) or _CLEAN_VERDICT.search(ln.text) for ln in lines):
            return True
    return False


def _doubts(
    root: Section,
    items: list[Item],
    findings: list[Finding],
    stated: dict[Severity, int] | None,
    mentioned: set[Severity],
) -> list[str]:
    """Why this parse may be wrong; the agent driver asks the agent again when there is any reason."""
    out = []
    if not findings and not clean_verdict(root):
        unrated = sum(
            1 for i in items if i.severity is None and not i.nonfinding and i.kind not in SKIPPED_KINDS
        )
        out.append(
            "no findings and no clean verdict"
            + (f": {unrated} itemized problem(s) carry no severity" if unrated else "")
        )
    if stated is not None and mentioned:
        counts = {sev: 0 for sev in Severity}
        for f in findings:
            counts[f.severity] += 1
        if any(stated[sev] != counts[sev] for sev in mentioned):
            said = ", ".join(f"{sev.value} {stated[sev]}" for sev in Severity if sev in mentioned)
            found = ", ".join(f"{sev.value} {counts[sev]}" for sev in Severity if sev in mentioned)
            out.append(
                f"the report's stated totals ({said}) disagree with the findings it itemizes ({found})"
            )
    return out


def _finding(item: Item, dimension: str) -> Finding:
    ref = item.ref if item.ref is not None else choose_ref(item)
    assert item.severity is not None
    return Finding(
        dimension=dimension,
        severity=item.severity,
        description=item.description or item.title,
        file=ref.path if ref else None,
        line=ref.line if ref else None,
        end_line=ref.end_line if ref else None,
        recommendation=item.recommendation,
        source="markdown",
    )


def _words(text: str) -> set[str]:
    words = set()
    for w in re.findall(r"[^\W_]+", fold(text)):
        if len(w) < 3 or w.isdigit() or w in STOPWORDS or signals(w):
            continue
        words.add(w)
    return words


def _line_keys(item: Item) -> set[tuple[str, int | None]]:
    from gitorch_markdown.locations import line_refs

    return {r.key for ln in item.lines for r in line_refs(ln) if r.line is not None}


# NOTE: near-identical titles are compared within this many kept entries (IDs and file:line through
# indexes, throughout): a report's restatements sit within a few hundred entries of each other, and
# comparing each entry with every earlier one would make huge reports quadratic.
TITLE_WINDOW = 256
_POSTINGS = 8  # kept entries remembered per ID or file:line (the earliest ones win a merge)


def _merge_restated(items: list[Item]) -> list[Item]:
    """Keep the first of entries that restate each other from different structures.

    Two entries restate each other when they share an ID (``S3``, ``H-P0-SEC-01``), or have the
    same severity and either cite a common ``file:line`` or have nearly the same title words.
    Entries of one table or one list are never merged (two rows may describe the same code).
    Linear: candidates come from an ID index, a ``file:line`` index and a window of recent entries.
    """
    kept: list[Item] = []
    keys: list[set[tuple[str, int | None]]] = []
    words: list[set[str]] = []
    by_id: dict[str, list[int]] = {}
    by_key: dict[tuple[str, int | None], list[int]] = {}
    by_word: dict[str, list[int]] = {}

    def index(j: int, ids: set[str], item_keys: set[tuple[str, int | None]]) -> None:
        for key, table in [(i, by_id) for i in ids] + [(k, by_key) for k in item_keys]:
            postings = table.setdefault(key, [])  # type: ignore[arg-type]
            if len(postings) < _POSTINGS and j not in postings:
                postings.append(j)

    for item in items:
        item.ref = item.ref or choose_ref(item)
        k = _line_keys(item)
        w = _words(item.title)
        candidates: set[int] = set()
        lowest = len(kept) - TITLE_WINDOW
        shared: dict[int, int] = {}
        for word in w:
            postings = by_word.get(word, ())
            for j in reversed(postings):
                if j < lowest:
                    break
                shared[j] = shared.get(j, 0) + 1
        candidates.update(j for j, n in shared.items() if n >= 2)
        for i in item.ids:
            candidates.update(by_id.get(i, ()))
        for key in k:
            candidates.update(by_key.get(key, ()))
        duplicate = None
        for j in sorted(candidates):
            other = kept[j]
            if other.group == item.group:
                continue
            if item.ids & other.ids:
                duplicate = j
                break
            # NOTE: a restatement lives in another kind of structure (a table row retold as a heading,
            # an aside retold under "Findings by severity"); two headings of one kind are two findings.
            if other.severity != item.severity or (
                other.origin == item.origin and other.grouped == item.grouped
            ):
                continue
            if k and keys[j] and k & keys[j]:
                duplicate = j
                break
            common = w & words[j]
            if len(common) >= 2 and len(common) >= 0.8 * min(len(w), len(words[j])):
                own_line = item.ref.line if item.ref else None
                other_line = other.ref.line if other.ref else None
                if own_line is None or other_line is None or own_line == other_line:
                    duplicate = j
                    break
        if duplicate is None:
            kept.append(item)
            keys.append(k)
            words.append(w)
            index(len(kept) - 1, item.ids, k)
            for word in w:
                by_word.setdefault(word, []).append(len(kept) - 1)
        elif item.grouped and not kept[duplicate].grouped and item.origin == kept[duplicate].origin:
            # an aside restated later under "Findings by severity": the later entry is the canonical one
            item.nonfinding = item.nonfinding or kept[duplicate].nonfinding
            kept[duplicate] = item
            keys[duplicate] |= k
            words[duplicate] = w
            index(duplicate, item.ids, k)
            for word in w:
                by_word.setdefault(word, []).append(duplicate)
        else:
            other = kept[duplicate]
            other.nonfinding = other.nonfinding or item.nonfinding  # dismissed in either telling
            if other.ref is None and item.ref is not None:
                other.ref = item.ref  # a summary row first, its detailed entry with the location later
            elif (
                other.ref is not None
                and other.ref.line is None
                and item.ref is not None
                and item.ref.line is not None
                and other.ref.key[0] == item.ref.key[0]
            ):
                other.ref = item.ref  # the restatement gives the line of the same file
            keys[duplicate] |= k
            index(duplicate, set(), k)
    return kept


def _drop_restating_structure(items: list[Item], notes: list[str]) -> list[Item]:
    """Drop one telling of the findings when the report tells them twice in different structures.

    A summary table or list under a heading no vocabulary names ("Issue tracker", "主要问题") retells
    the detailed findings in other words, so titles do not match; but its severities do. A telling is
    one table or list, or every entry of one structure (all the lists, all the headings). When a
    telling and the rest of the findings have the same severities in the same order (three entries
    at least, or two that share a file or a title word), or in another order (four at least, one pair
    sharing a file or a title word), one of them is a restatement. Two short lists of different
    problems that happen to be rated alike are not taken for each other. The telling with more
    ``file:line`` references is kept (the headings on a tie); the other lends its locations to the
    entries it restates when it can.
    """
    tellings: list[list[Item]] = []
    groups: dict[int, list[Item]] = {}
    for item in items:
        if item.origin in ("table", "list"):
            groups.setdefault(item.group, []).append(item)
    tellings += groups.values()
    for origin in ("table", "list", "heading"):
        same = [i for i in items if i.origin == origin]
        if same and len(same) < len(items) and same not in tellings:
            tellings.append(same)
    for telling in tellings:
        if 2 * len(telling) != len(items):
            continue  # a restatement tells as many findings as the rest (this keeps the search linear)
        ids = {id(i) for i in telling}
        rest = [i for i in items if id(i) not in ids]
        if len(telling) != len(rest) or len(telling) < 2:
            continue
        in_order = [i.severity for i in telling] == [i.severity for i in rest]
        if not in_order and sorted(i.severity for i in telling) != sorted(i.severity for i in rest):
            continue
        shared = any(_related(a, b) for a in telling for b in rest if a.severity == b.severity)
        if not (in_order and (len(telling) >= 3 or shared)) and not (len(telling) >= 4 and shared):
            continue
        kept, dropped = _more_detailed(rest, telling)
        if in_order:
            for restated, entry in zip(dropped, kept, strict=True):
                ref = restated.ref
                if ref is None or ref.line is None:
                    continue
                if entry.ref is None:
                    entry.ref = ref
                elif entry.ref.line is None and entry.ref.key[0] == ref.key[0]:
                    entry.ref = Ref(entry.ref.path, ref.line, ref.end_line)  # the kept entry's path
        notes.append(
            f"{len(dropped)} entries ({_structures(dropped)}) restate the findings itemized elsewhere "
            "(the same severities); counted once"
        )
        return [i for i in items if any(i is k for k in kept)]
    return items


_DETAIL_RANK = {"table": 0, "list": 1, "heading": 2}


def _more_detailed(a: list[Item], b: list[Item]) -> tuple[list[Item], list[Item]]:
    """(kept, dropped): the telling citing more lines, else the one in headings, else ``a``."""

    def rank(telling: list[Item]) -> tuple[int, int]:
        lines = sum(1 for i in telling if i.ref is not None and i.ref.line is not None)
        return lines, min(_DETAIL_RANK.get(i.origin, 0) for i in telling)

    return (b, a) if rank(b) > rank(a) else (a, b)


def _structures(entries: list[Item]) -> str:
    names = {"table": "table rows", "list": "list entries", "heading": "headings"}
    return " and ".join(names[kind] for kind in sorted({i.origin for i in entries}))


def _related(a: Item, b: Item) -> bool:
    """Two entries that cite one file or share a title word."""
    if a.ref is not None and b.ref is not None and a.ref.key[0] == b.ref.key[0]:
        return True
    return bool(_words(a.title) & _words(b.title))
