"""The overall score, letter grade and stated totals a report writes.

A score is a number on a scale of 100, 10 or 5 (``78/100``, ``7.5 / 10``, ``82 sobre 100``,
``Score: 85%``) whose label names a score (``Score``, ``Puntuación``, ``Calificación``,
``Overall``, ``TOTAL``). Labels naming a baseline, target or projection are skipped, and so are
sub-scores on other scales (``20/25``). Among the rest, a label saying *overall/global/total*
wins, then document order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitorch.models import Severity
from gitorch_markdown.document import Block, Line, Section
from gitorch_markdown.lexicon import fold, signals, word_severity

_SCORE = re.compile(
    r"(?<![\w.,/])(?<!\d:)(?P<num>\d{1,3}(?:[.,]\d{1,2})?)\s*(?:/|\bsobre\b|\bde\b|\bout of\b|\bof\b|\bsur\b"
    r"|\bvon\b|\bsu\b|\bem\b|\bиз\b|\bna\b)\s*(?P<scale>100|10|5)(?![\d.,]*\d)(?!:\d)(?P<after>\s*\S*)"
)
# "100점 만점에 72점", "满分 100 分，得分 85", "85 分（满分 100 分）", "10点満点中7点"
_CJK_SCORE = re.compile(
    r"(?P<scale1>100|10|5)\s*[점点分]\s*(?:만점에|満点中|満点で|满分中)\s*(?P<num1>\d{1,3}(?:[.,]\d{1,2})?)"
    r"|(?:满分|滿分)\s*(?P<scale2>100|10|5)\s*分?\s*[，,、;；]?\s*(?:得分|评分|评为|为|為)?\s*[:：]?\s*"
    r"(?P<num2>\d{1,3}(?:[.,]\d{1,2})?)"
    r"|(?P<num3>\d{1,3}(?:[.,]\d{1,2})?)\s*[分点점]\s*[（(]\s*(?:满分|滿分|満点|만점)\s*[:：]?\s*(?P<scale3>100|10|5)"
)
# "⭐⭐⭐⭐☆", "★★★☆☆": filled and empty stars make a score on their count
_STARS = re.compile(r"(?P<full>[⭐★🌟]{1,10})\uFE0F?(?P<empty>[☆✩]{0,9})")
_PERCENT = re.compile(r"(?<![\w.,/])(?P<num>\d{1,3}(?:[.,]\d{1,2})?)\s*%")
_SCORE_WORD = re.compile(
    r"(?<![a-z])(?:scores?|scored|scoring|puntuacion|puntaje|calificacion|nota|pontuacao|punteggio|valutazione|"
    r"bewertung|gesamtbewertung|rating|grade|valoracion|evaluacion|health|note|punteggio|posture|verdict|"
    r"veredicto|assessment|оценка|оценку|балл\w*|beoordeling|ocena|puan|betyg|"
    # a score given inside a sentence: "I'd rate it 7/10", "le daría un 7,5 sobre 10", "ставлю 6 из 10"
    r"rate|rated|give|gave|giving|deserves?|earns?|merece\w*|daria|doy|dou|daria|ставлю|оцениваю|"
    r"оценил\w*|bewerte\w*|vergebe|donnerais|attribue|valuto|darei)(?![a-z])"
    r"|评分|得分|分数|打分|総合評価|評価|スコア|点数|総合点|점수|평점"
)
_OVERALL_WORD = re.compile(
    r"(?<![a-z])(?:overall|global|general|total|final|geral|gesamt\w*|globale?|totale|complessivo|complessiva|"
    r"итогов\w*|общ\w+|종합|전체)(?![a-z])|综合|綜合|总体|總體|整体|総合|全体"
)
_NOT_SCORE = re.compile(
    r"(?<![a-z])(?:baseline|target|objetivo|meta|goal|projected|proyectad[oa]|proyeccion|esperad[oa]|expected|"
    r"previous|anterior|antes|before|avant|vorher|przed|set point|potential|potencial|estimated|estimad[oa]|"
    r"threshold|umbral|"
    r"required|requerid[oa]|minimum|minimo|max|min|after fixes|if fixed|si se resuelve|ciclo 1|cycle 1|"
    r"coverage|cobertura|compliance|cumplimiento|tasa|sp|pv|"
    r"(?:pass|success|error|hit|failure|adoption|conversion|retention|completion) rate)(?![a-z])"
    r"|(?<!\w)до(?!\w)|修复前|改善前|修正前|개선 전|수정 전"
)
_UNIT_OK = re.compile(
    r"^\s*(?:$|[^\w\s]|pts?\b|points?\b|puntos?\b|pontos?\b|stars?\b|estrellas?\b|overall\b|en general\b|"
    r"no geral\b|insgesamt\b|в целом\b|globalement\b)",
    re.IGNORECASE,
)
_GRADE = re.compile(
    r"(?<![a-z])(?:grade|calificacion|rating|letter grade|clasificacion|nota final|note finale|bewertung)"
    r"(?![a-z])[^:\n]{0,30}?[:=\-]?\s*[*_`\"']*\s*(?P<grade>[a-f][+-]?)(?=$|[\s*_`\"').,;|]|\s*[(\-–—])"
)


@dataclass
class ScoreCandidate:
    value: float
    scale: int | None
    tier: int
    order: int


def _segments(root: Section) -> list[tuple[str, str]]:
    """(label context, text) pairs in document order; code blocks excluded."""
    return [(cell.context, cell.text) for cell in _cells(root)]


@dataclass
class _Cell:
    context: str  # a table cell's row label and column header
    text: str
    line: Line
    row: int | None = None  # table rows are numbered through the document
    table: int | None = None


def _cells(root: Section) -> list[_Cell]:
    """Every line of text and table cell in document order; code blocks excluded."""
    out: list[_Cell] = []
    counters = {"rows": 0, "tables": 0}

    def lines_of(block: Block) -> None:
        if block.kind == "para":
            out.extend(_Cell("", line.text, line) for line in block.lines)
        elif block.kind == "list":
            for item in block.items:
                out.extend(_Cell("", line.text, line) for line in item.lines)
                for inner in item.blocks:
                    lines_of(inner)
        elif block.kind == "table":
            counters["tables"] += 1
            headers = [h.text for h in block.header]
            for row in block.rows:
                counters["rows"] += 1
                label = row[0].text if row else ""
                for i, cell in enumerate(row):
                    head = headers[i] if i < len(headers) else ""
                    context = "" if i == 0 else f"{label} {head}:"
                    out.append(_Cell(context, cell.text, cell, counters["rows"], counters["tables"]))

    for section in root.walk():
        if section.level:
            out.append(_Cell("", section.title.text, section.title))
        for block in section.blocks:
            lines_of(block)
    return out


def _split_fields(text: str) -> list[str]:
    """ "**Baseline:** 72/100 | **Target:** 90/100" → one piece per label."""
    return [p for p in re.split(r"\s[|·•]\s|(?<=\d)\s*[,;]\s+(?=[^\d\s])", text) if p.strip()]


def find_score(
    root: Section, warnings: list[str] | None = None, inside_findings: set[int] | None = None
) -> tuple[float | None, int | None]:
    """The report's overall score and scale; doubts about it (no scale, two overall scores that
    disagree, per-category scores and no overall one) are appended to ``warnings``.

    ``inside_findings`` holds the ``id()`` of the lines that belong to findings: a score there
    (``Risk score: 7/10``, ``CVSS score: 8.1``) rates that finding, not the report, unless its
    label says overall.
    """
    found: list[tuple[ScoreCandidate, _Cell]] = []
    order = 0
    for cell in _cells(root):
        for piece in _split_fields(cell.text):
            for cand in _candidates(cell.context, piece, order):
                order += 1
                found.append((cand, cell))
    overall = 4  # the tier of a score whose label says overall/global/total
    rated_findings = False
    if inside_findings:
        kept = [(c, cell) for c, cell in found if c.tier >= overall or id(cell.line) not in inside_findings]
        rated_findings, found = len(kept) < len(found), kept
    # NOTE: a table scoring two categories or more ("Security | 7/10", "Tests | 5/10") grades parts;
    # without an overall row or an overall label elsewhere it gives the report no score.
    scored_rows: dict[int, set[int]] = {}
    for c, cell in found:
        if cell.table is not None and cell.row is not None and c.tier < overall:
            scored_rows.setdefault(cell.table, set()).add(cell.row)
    parts = [
        pair
        for pair in found
        if pair[0].tier < overall and len(scored_rows.get(pair[1].table or -1, ())) >= 2
    ]
    part_ids = {id(pair) for pair in parts}
    found = [pair for pair in found if id(pair) not in part_ids]
    best: ScoreCandidate | None = None
    best_row: int | None = None
    top: list[tuple[ScoreCandidate, int | None]] = []
    for cand, cell in found:
        row = cell.row
        # NOTE: one table row with a score per column ("Before | After phase 1 | After all") is
        # one score over time: its later column is the later state.
        same_row = row is not None and row == best_row
        if (
            best is None
            or (cand.tier, -cand.order) > (best.tier, -best.order)
            or (same_row and cand.tier == best.tier)
        ):
            best, best_row = cand, row
        if cand.tier >= overall:
            if top and row is not None and top[-1][1] == row:
                top[-1] = (cand, row)
            elif len(top) < 8:
                top.append((cand, row))
    if best is None:
        if warnings is not None and parts:
            written = ", ".join(f"{c.value:g}/{c.scale}" if c.scale else f"{c.value:g}" for c, _ in parts[:6])
            warnings.append(f"per-category scores ({written}) and no overall score; none taken")
        elif warnings is not None and not rated_findings and (loose := _unlabelled_score(root)):
            if loose.startswith("star rating"):
                warnings.append(f"a {loose} has no scale (no empty stars, no N/5); not taken")
            else:
                warnings.append(f"a score-like {loose} has no label naming it a score; not taken")
        return None, None
    if warnings is not None:
        if best.scale is None:
            warnings.append(f"a score of {best.value:g} is given without a scale (out of 10? 100?)")
        others = {(c.value * 100 / c.scale) for c, _ in top if c.scale and c.tier == best.tier}
        if best.scale and len(others) > 1:
            written = ", ".join(f"{c.value:g}/{c.scale}" for c, _ in top if c.tier == best.tier)
            warnings.append(
                f"the report gives several overall scores that disagree ({written}); took "
                f"{best.value:g}/{best.scale}"
            )
    return best.value, best.scale


# words that may follow a score without making it a count of something ("7/10 for me", "8/10 overall")
_NOT_A_NOUN = {"for", "from", "in", "on", "at", "by", "overall", "to", "me"}
_NOT_A_NOUN |= {"en", "para", "pour", "fur", "для"}


def _unlabelled_score(root: Section) -> str | None:
    """An ``N/10`` or ``N/100`` outside tables with nothing saying what it is (``It's a 7/10 for me``),
    or a rating in stars with no scale (``Rating: ⭐⭐⭐⭐``)."""
    for context, text in _segments(root):
        stars = _STARS.search(text)
        if stars and not stars.group("empty") and _SCORE_WORD.search(fold(context + " " + text)):
            return f"star rating {stars.group(0)}"
        if context:
            continue  # a table cell
        for m in _SCORE.finditer(text):
            label = fold(text[: m.start()])
            if m.group("scale") != "5" and not _NOT_SCORE.search(label[-60:]):
                value = float(m.group("num").replace(",", "."))
                after = re.match(r"\s*([^\W\d_]+)", m.group("after"))
                if value <= int(m.group("scale")) and (not after or fold(after.group(1)) in _NOT_A_NOUN):
                    return text[m.start() : m.end("scale")]
    return None


def _candidates(context: str, piece: str, order: int):
    folded = fold(piece)
    for m in _STARS.finditer(piece):
        full, empty = len(m.group("full")), len(m.group("empty"))
        if empty and full + empty in (5, 10):
            tier = _tier(fold(context) + " " + folded[: m.start()])
            if tier is not None:
                yield ScoreCandidate(float(full), full + empty, tier + 2, order)
    for m in _CJK_SCORE.finditer(piece):
        n = next(i for i in (1, 2, 3) if m.group(f"num{i}"))
        label = fold(context) + " " + folded[: m.start()]
        if _NOT_SCORE.search(label[-60:]):
            continue
        tier = _tier(label) or 1  # "full marks" (满分, 満点, 만점) says it is a score
        value, scale = float(m.group(f"num{n}").replace(",", ".")), int(m.group(f"scale{n}"))
        if value <= scale:
            yield ScoreCandidate(value, scale, tier + 2, order)
    for m in _SCORE.finditer(piece):
        label = fold(context) + " " + folded[: m.start()]
        if not _UNIT_OK.match(m.group("after")):
            continue
        tier = _tier(label)
        if tier is None:
            continue
        value = float(m.group("num").replace(",", "."))
        scale = int(m.group("scale"))
        if value > scale:
            continue
        yield ScoreCandidate(value, scale, tier + 2, order)
    label_all = fold(context) + " " + folded
    if _SCORE_WORD.search(label_all) and not _NOT_SCORE.search(label_all):
        if m := _PERCENT.search(piece):
            if _SCORE_WORD.search(fold(context) + " " + folded[: m.start()]):
                value = float(m.group("num").replace(",", "."))
                if value <= 100:
                    yield ScoreCandidate(value, 100, 1, order)
        elif (
            m := re.search(r"[:=]\s*[*_]*\s*(?P<num>\d{1,3}(?:[.,]\d{1,2})?)[*_]*\s*$", piece)
        ) and not _SCORE.search(piece):
            value = float(m.group("num").replace(",", "."))
            if value <= 100:
                yield ScoreCandidate(value, None, 0, order)


_SENTENCE_END = re.compile(r"(?<=[a-z\d)][.!?;])\s+|[。！？；]")


def _tier(label: str) -> int | None:
    # Only the text just before the number (its own label, in its own sentence) may disqualify it.
    tail = _SENTENCE_END.split(label[-60:])[-1]
    if _NOT_SCORE.search(tail):
        return None
    has_score = bool(_SCORE_WORD.search(tail))
    has_overall = bool(_OVERALL_WORD.search(tail))
    if has_overall:
        return 2
    if has_score:
        return 1
    return None


def find_grade(root: Section) -> str | None:
    """A letter grade (``Grade: B+``, ``Calificación: A-``), written in capitals."""
    for _context, text in _segments(root):
        folded = fold(text)
        for m in _GRADE.finditer(folded):
            grade = m.group("grade")
            original = text[m.start("grade") : m.end("grade")] if len(folded) == len(text) else grade.upper()
            if original[:1].isupper():
                return original.upper()
    return None


# --- stated totals ------------------------------------------------------------------------------

_SEV_TOKEN = r"(?:p[0-4]|[^\W\d_]+)"
_SEV_COUNT = re.compile(
    r"(?<![\w-])(?P<sev>" + _SEV_TOKEN + r")(?:\s*\([^)]{0,30}\))?\s*[:=]\s*(?P<n>\d{1,4})(?![\d%/.,]\d)"
)
_COUNT_SEV = re.compile(r"(?<![\w.,/-])(?P<n>\d{1,4})(?P<words>(?:\s+[^\W\d_][^\W_]*){1,3})")
_COUNT_COLUMN = re.compile(
    r"(?<![a-z])(?:count|cantidad|total|numero|number|hallazgos|findings|issues|#|qty|anzahl|nombre|quantidade|"
    r"количество|кол-во|число)(?![a-z])|数量|数目|件数|건수|개수"
)


_NOT_FINDINGS = re.compile(
    r"(?<![a-z])(?:patron\w*|patterns?|checks?|reglas?|rules?|validad\w*|validated|verificad\w*|"
    r"compliance|cumplimiento|tests?|pruebas?)(?![a-z])"
)


def _sev_of(token: str) -> Severity | None:
    if re.fullmatch(r"p[0-4]", token):
        return Severity(token.upper())
    found = word_severity(token)
    return found[0] if found and found[1] >= 2 else None


def stated_counts(
    sections: list[Section], mentioned: set[Severity] | None = None
) -> dict[Severity, int] | None:
    """Totals per severity the report claims in its summary (tables or ``P0: 3`` / ``3 hallazgos P0``)."""
    explicit: dict[Severity, int] = {}
    loose: dict[Severity, int] = {}
    for section in sections:
        for block in section.blocks:
            if block.kind == "table":
                _table_counts(block, explicit)
                continue
            for line in block.all_lines():
                # sentence by sentence: "… async patterns. Detectados 3 hallazgos P0" states a count
                for text in re.split(r"(?<=[.;!?])\s+", fold(line.text)):
                    if _NOT_FINDINGS.search(text):
                        continue  # "Patrones validados: 8 (P0: 5, P1: 2)" counts checks, not findings
                    for m in _SEV_COUNT.finditer(text):
                        sev = _sev_of(m.group("sev"))
                        if sev is not None:
                            explicit.setdefault(sev, int(m.group("n")))
                    for m in _COUNT_SEV.finditer(text):
                        for word in m.group("words").split():
                            sev = _sev_of(word)
                            if sev is not None:
                                loose.setdefault(sev, int(m.group("n")))
                                break
    merged = {**loose, **explicit}
    if not merged:
        return None
    if mentioned is not None:
        mentioned.update(merged)
    return {sev: merged.get(sev, 0) for sev in Severity}


def _table_counts(block: Block, out: dict[Severity, int]) -> None:
    headers = [fold(h.text) for h in block.header]
    count_col = next((i for i, h in enumerate(headers) if _COUNT_COLUMN.search(h)), None)
    if count_col is None:
        return
    for row in block.rows:
        if not row or count_col >= len(row):
            continue
        sigs = signals(row[0].text)
        m = re.search(r"\d+", row[count_col].text)
        if sigs and m and len({s.severity for s in sigs}) == 1:
            out.setdefault(sigs[0].severity, int(m.group(0)))
