"""Words that carry meaning in audit reports: severities, section kinds, field and column names.

Everything here works on *folded* text (lower-cased, accents removed), so ``CRÍTICO``, ``crítico``
and ``critico`` are one word. Severity words come from :data:`gitorch.models.SEVERITY_WORDS`; this
module adds plurals, weights and emoji, and decides between conflicting signals.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from gitorch.models import SEVERITY_WORDS, Severity


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Lower-case and strip accents: ``CRÍTICO`` → ``critico``, ``Maßnahmen`` → ``massnahmen``."""
    text = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    # NFC puts Hangul syllables back together (NFKD splits them into jamo, which no pattern spells)
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


# --- severity signals --------------------------------------------------------------------------

# NOTE: weights decide conflicts such as "HALLAZGOS IMPORTANTES (🟡 MEDIA PRIORIDAD)": a P-label
# outweighs a plain severity word, which outweighs a vague word ("important") or a colour emoji.
W_LABEL, W_WORD, W_WEAK = 3, 2, 1

# fmt: off

_WEAK_WORDS = {
    "important", "importante", "major", "minor", "menor", "blocker", "bloqueante", "urgent", "urgente",
    "moderate", "moderado", "moderada", "trivial", "warning", "grave", "severe", "severo", "severa",
    "elevee", "elevada", "elevado", "medium-high", "note", "nota", "information", "informacion", "hinweis",
}
_EXCLUDED_WORDS = {"none", "note", "nota", "hinweis", "information", "media"}
_EXTRA_WORDS = {
    "bloqueante": Severity.P0, "blocking": Severity.P0, "secundario": Severity.P4,
    "informativ": Severity.P4, "informacional": Severity.P4, "informative": Severity.P4,
    "med": Severity.P2, "crit": Severity.P0, "highest": Severity.P0, "lowest": Severity.P4,
    # Dutch, Polish, Turkish, Russian, Swedish
    "kritiek": Severity.P0, "hoog": Severity.P1, "gemiddeld": Severity.P2, "laag": Severity.P3,
    "krytyczny": Severity.P0, "krytyczne": Severity.P0, "wysoki": Severity.P1, "wysokie": Severity.P1,
    "sredni": Severity.P2, "srednie": Severity.P2, "niski": Severity.P3, "niskie": Severity.P3,
    "kritik": Severity.P0, "yuksek": Severity.P1, "orta": Severity.P2, "dusuk": Severity.P3,
    "критический": Severity.P0, "критическая": Severity.P0, "критические": Severity.P0,
    "критичный": Severity.P0, "высокии": Severity.P1,
    "критично": Severity.P0, "высокий": Severity.P1, "высокая": Severity.P1, "высокие": Severity.P1,
    "средний": Severity.P2, "средняя": Severity.P2, "средние": Severity.P2, "низкий": Severity.P3,
    "низкая": Severity.P3, "низкие": Severity.P3, "информационный": Severity.P4,
    "kritisk": Severity.P0, "hog": Severity.P1, "medel": Severity.P2, "lag": Severity.P3,
    # Korean (spaces between words, but adjectives and nouns both in use)
    "치명적": Severity.P0, "치명": Severity.P0, "심각": Severity.P0, "긴급": Severity.P0,
    "높음": Severity.P1, "높은": Severity.P1, "중간": Severity.P2, "보통": Severity.P2,
    "낮음": Severity.P3, "낮은": Severity.P3, "정보": Severity.P4,
}
_EXTRA_WORDS = {fold(word): sev for word, sev in _EXTRA_WORDS.items()}  # "й" folds to "и"
# NOTE: inflected languages decline severity adjectives ("критических", "высоких", "kritischer",
# "hohe", "mittlere"): a word that starts with one of these stems is that severity.
_STEMS = tuple(
    (fold(stem), sev)
    for stem, sev in (
        ("критич", Severity.P0), ("высок", Severity.P1), ("средн", Severity.P2), ("низк", Severity.P3),
        ("информац", Severity.P4), ("kritisch", Severity.P0), ("hohe", Severity.P1),
        ("mittler", Severity.P2), ("niedrig", Severity.P3), ("gering", Severity.P3),
        # Polish declines them too: "krytyczna", "wysokich", "średnie", "niskie"
        ("krytyczn", Severity.P0), ("wysok", Severity.P1), ("sredni", Severity.P2), ("nisk", Severity.P3),
    )
)
_STEM_PREFIXES = tuple(stem for stem, _ in _STEMS)
# Chinese and Japanese write severities without spaces ("高危问题", "重大な脆弱性"): matched as prefixes.
CJK_WORDS = {
    "致命": Severity.P0, "严重": Severity.P0, "嚴重": Severity.P0, "重大": Severity.P0, "緊急": Severity.P0,
    "紧急": Severity.P0, "高危": Severity.P1, "高风险": Severity.P1, "高風險": Severity.P1, "高": Severity.P1,
    "中危": Severity.P2, "中风险": Severity.P2, "中風險": Severity.P2, "中": Severity.P2, "低危": Severity.P3,
    "低风险": Severity.P3, "低風險": Severity.P3, "低": Severity.P3, "信息": Severity.P4, "情報": Severity.P4,
    "提示": Severity.P4,
}
_CJK_SINGLE_OK = (
    "危", "风险", "風險", "优先", "優先", "级", "級", "等级", "リスク", "重要度", "問題", "问题", "程度", "",
)


CJK_NOUNS = (
    "问题", "問題", "漏洞", "脆弱性", "指摘", "发现", "発見", "缺陷", "风险", "リスク", "事項", "事项",
)


def cjk_severity(token: str) -> Severity | None:
    """``高危`` → P1, ``重大な問題`` → P0, ``中`` → P2; ``中文`` → None (one character needs a hint)."""
    for key in sorted(CJK_WORDS, key=len, reverse=True):
        if token.startswith(key):
            rest = token[len(key):]
            if len(key) > 1 or rest in _CJK_SINGLE_OK or rest.startswith(_CJK_SINGLE_OK[:-1]):
                return CJK_WORDS[key]
    return None

EMOJI = {"🔴": Severity.P0, "🟠": Severity.P1, "🟡": Severity.P2, "🟢": Severity.P3, "🔵": Severity.P4}
POSITIVE_MARKS = ("✅", "✔", "☑", "👍")
NEGATIVE_MARKS = ("❌", "⚠", "🔴", "🟠", "⛔", "🚨", "✗")

# fmt: on

_TOKEN = re.compile(r"[^\W_]+(?:[-/][^\W_]+)*|[\U0001F534-\U0001F7EB]", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_PLABEL = re.compile(r"p([0-4])")
_ID_PLABEL = re.compile(r"((?:[a-z]+-)*)p([0-4])((?:-[a-z0-9]+)*)")


def _id_label(part: str) -> Severity | None:
    """``P0-01``, ``H-P0-SEC-01``, ``P1-3`` → the P-label inside an identifier; ``P1-High`` → None."""
    m = _ID_PLABEL.fullmatch(part)
    if not m or not (m.group(1) or re.search(r"\d", m.group(3))):
        return None
    return Severity(f"P{m.group(2)}")


def word_severity(word: str, *, strict: bool = True) -> tuple[Severity, int] | None:
    """A single folded word → (severity, weight), or None. Handles plurals (``criticos``).

    ``strict`` (free text) ignores words too common to mean a severity there ("note", "none").
    """
    if strict and word in _EXCLUDED_WORDS:
        # "media" is both Spanish "medium" and "media files"; only trust it as a word signal
        return (Severity.P2, W_WORD) if word == "media" else None
    for candidate in (
        word,
        word[:-1] if word.endswith("s") else None,
        word[:-2] if word.endswith("es") else None,
    ):
        if not candidate or strict and candidate in _EXCLUDED_WORDS and candidate != "media":
            continue  # "Notes" is not "note" (info)
        sev = SEVERITY_WORDS.get(candidate) or _EXTRA_WORDS.get(candidate)
        if sev is not None:
            return sev, (W_WEAK if candidate in _WEAK_WORDS else W_WORD)
    if word.startswith(_STEM_PREFIXES):
        for stem, sev in _STEMS:
            if word.startswith(stem):
                return sev, W_WORD
    return None


@dataclass(frozen=True)
class Signal:
    severity: Severity
    weight: int
    form: str  # "label", "id" (P-label inside an ID such as P0-01), "word", "emoji"


@lru_cache(maxsize=16384)
def signals(text: str, *, strict: bool = True) -> tuple[Signal, ...]:
    """Every severity signal in a piece of text, in order."""
    return tuple(_signals(text, strict))


_SEVERITY_NOUNS = {"severity", "severidad", "severidade", "severite", "schweregrad", "gravita", "sev"}


def _signals(text: str, strict: bool) -> list[Signal]:
    out: list[Signal] = []
    tokens = [m.group(0) for m in _TOKEN.finditer(fold(text))]
    for i, token in enumerate(tokens):
        # NOTE: "High Severity" / "Severity: High" names the classification itself, so it outweighs
        # a neighbouring adjective ("Critical Vulnerabilities (High Severity)" is P1). "Alta
        # prioridad" is about urgency and gets no such weight.
        qualified = (i + 1 < len(tokens) and tokens[i + 1] in _SEVERITY_NOUNS) or (
            i > 0 and tokens[i - 1] in _SEVERITY_NOUNS
        )
        start = len(out)
        _token_signals(token, strict, out)
        if qualified:
            out[start:] = [
                Signal(s.severity, s.weight + 2, s.form) if s.form == "word" else s for s in out[start:]
            ]
    return out


def _token_signals(token: str, strict: bool, out: list[Signal]) -> None:
    if token in EMOJI:
        out.append(Signal(EMOJI[token], W_WEAK, "emoji"))
        return
    for part in token.split("/"):
        if _PLABEL.fullmatch(part):
            out.append(Signal(Severity(f"P{part[1]}"), W_LABEL, "label"))
        elif (sev := _id_label(part)) is not None:
            out.append(Signal(sev, W_WEAK, "id"))
        elif _CJK.match(part):
            if (sev := cjk_severity(part)) is not None:
                out.append(Signal(sev, W_WORD, "word"))
        else:
            # "Medium-High" and "HIGH-01" are severities; "high-level", "critical-path" and
            # "shared-mime-info" are not
            subs = [sub for sub in part.split("-") if not sub.isdigit()]
            found_subs = [
                Signal(Severity(f"P{sub[1]}"), W_LABEL, "label")
                if _PLABEL.fullmatch(sub)
                else (Signal(w[0], w[1], "word") if (w := word_severity(sub, strict=strict)) else None)
                for sub in subs
            ]
            if found_subs and all(found_subs):
                out.extend(f for f in found_subs if f)


def decide(found: Iterable[Signal], *, mixed_labels_ambiguous: bool = False) -> Severity | None:
    """The severity a set of signals points to: highest total weight, ties go to the more severe.

    With ``mixed_labels_ambiguous``, several distinct P-labels ("(P1/P2/P3)") mean "a mix": None.
    """
    found = list(found)
    if not found:
        return None
    labels = {s.severity for s in found if s.form == "label"}
    if mixed_labels_ambiguous and len(labels) > 1:
        return None
    totals: dict[Severity, int] = {}
    for s in found:
        totals[s.severity] = totals.get(s.severity, 0) + s.weight
    best = max(totals.values())
    return min(sev for sev, total in totals.items() if total == best)


@lru_cache(maxsize=16384)
def value_severity(text: str) -> Severity | None:
    """Severity of a field value or table cell: it must *start* with the severity (``High — …``).

    ``Medium/High`` resolves to the higher level; ``Ataque DoS`` or ``INMEDIATA`` give None.
    """
    head = fold(text).strip()
    head = re.sub(r"^[\s*_`\[\](){}:|•·-]+", "", head)
    # "(severity: high)", "Priority - P1": a field name written inside the value
    head = re.sub(
        r"^(?:severity|severidad|severidade|sev|priority|prioridad|prioridade|risk|riesgo|level|nivel)"
        r"\s*[:=\-]\s*",
        "",
        head,
    )
    found: list[Signal] = []
    head = re.sub(r"^(?:cvss\s*[:=]?\s*)?\d+(?:[.,]\d+)?\s*(?=[(\[/-])", "", head)  # "9.8 (Critical)"
    for match in _TOKEN.finditer(head[:40]):
        token = match.group(0)
        sigs = signals(token, strict=token not in ("information", "note", "nota"))
        if not sigs:
            if token in ("⚠", "✅") or len(token) == 1 and not token.isalnum():
                continue
            break
        found.extend(s for s in sigs if s.form != "id")
        if len(found) >= 3:
            break
    return decide(found)


# --- section kinds ------------------------------------------------------------------------------


def _rx(*words: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])(?:" + "|".join(words) + r")(?![a-z])")


# fmt: off


KIND_RESOLVED = _rx(
    r"resolved", r"resuelt[oa]s?", r"fixed", r"fixes (?:validad|aplicad|applied|verified|done)\w*",
    r"fix validado", r"fix(?:es)? .*validad[oa]s?", r"corregid[oa]s?", r"solucionad[oa]s?", r"closed",
    r"cerrad[oa]s?", r"remediated",
    r"resolvid[oa]s?", r"corrigid[oa]s?", r"corrige[es]?", r"behoben", r"risolt[io]", r"already fixed",
    r"issues addressed", r"addressed",
    # inflected: "Behobene Schwachstellen", "Erledigte Punkte", "Naprawione problemy"
    r"behoben\w*", r"gelost\w*", r"erledigt\w*", r"korrigiert\w*", r"resolu\w*", r"naprawion\w*",
    r"rozwiazan\w*",
)
# Cyrillic, CJK and Hangul: "Исправленные проблемы" (but not "Неисправленные"), "已修复问题", "対応済み"
_KIND_RESOLVED_OTHER = re.compile(
    r"(?<!\w)(?:исправлен\w*|устранен\w*)|已修复|已解决|已修正|修正済み|対応済み|解決済み|해결된|수정된"
    r"|조치 완료"
)
KIND_REMEDIATION = _rx(
    r"recommendations?", r"recomendaciones", r"recomendacoes", r"recommandations?", r"empfehlungen?",
    r"raccomandazioni", r"action plan", r"plan de accion", r"plano de acao", r"plan d'action",
    r"remediation(?: plan| roadmap| steps)?", r"plan (?:de )?remediacion", r"remediacion", r"roadmap",
    r"next steps", r"proximos pasos", r"proximos passos", r"fix order", r"recommended \w+",
    r"action items", r"quick wins", r"sprint \d+", r"priorit[iy]\w* (?:actions|fixes)",
    r"plan de mejora", r"hoja de ruta", r"mitigation plan", r"mitigations?",
    r"mitigaciones", r"suggested fixes", r"(?:fix|action|improvement) plan", r"what to do next",
    r"suggestions?", r"sugerencias", r"sugestoes", r"vorschlage",
    r"proximos passos", r"improvement ideas", r"рекомендации", r"建议", r"修复建议", r"改进建议",
    r"권장 사항", r"개선 제안",
    # improvements someone could make: suggestions, not findings
    r"(?:suggested|possible|potential|proposed|future|further|optional) (?:improvements|enhancements)",
    r"improvement (?:suggestions|opportunities|ideas)", r"nice to have", r"oportunidades de mejora",
    r"mejoras (?:sugeridas|propuestas|futuras|posibles|opcionales)",
    r"melhorias (?:sugeridas|futuras|opcionais)",
    r"verbesserungsvorschlage", r"pistes d'amelioration", r"возможные улучшения",
    # actions to take (pending, recommended, completed): tasks, not findings
    r"(?:pending|required|recommended|immediate|corrective|follow[- ]up|suggested|prioriti[sz]ed|"
    r"completed|remaining|next) actions", r"actions? (?:required|needed|to take|pending)",
    r"acciones (?:pendientes|requeridas|recomendadas|inmediatas|correctivas|sugeridas|completadas|"
    r"realizadas|tomadas|prioritarias|a tomar|necesarias)",
    r"acoes (?:pendentes|recomendadas|imediatas|corretivas|necessarias|prioritarias|concluidas)",
    r"actions (?:correctives|recommandees|prioritaires|a mener|immediates)", r"prochaines etapes",
    r"\w*massnahmen", r"nachste schritte", r"\w*empfehlung(?:en)?",
    r"rekomendacje", r"zalecenia", r"plan naprawczy", r"nastepne kroki", r"план \w+", r"дорожная карта",
    r"следующие шаги", r"推奨事項", r"改善推奨", r"改善提案", r"対応策", r"今後の対応", r"路线图",
    r"行动计划", r"后续行动", r"整改", r"권장사항", r"로드맵", r"조치 사항", r"조치사항", r"개선 계획",
)
KIND_SUMMARY = _rx(
    r"executive summary", r"resumen(?: ejecutivo)?", r"summary", r"sumario", r"resumo(?: executivo)?",
    r"overview", r"synthese", r"zusammenfassung", r"sintesis", r"tl;?dr", r"at a glance",
    r"conclusions?", r"conclusion(?:es)?", r"conclusao", r"conclusiones", r"top \d+", r"highlights",
    r"key takeaways", r"riepilogo", r"sommario", r"fazit", r"итоги?", r"резюме", r"заключение", r"выводы",
    r"总结", r"總結", r"摘要", r"概要", r"概述", r"结论", r"結論", r"まとめ", r"要約", r"요약", r"결론",
    r"총평", r"sommaire", r"podsumowanie", r"streszczenie", r"サマリー?", r"エグゼクティブ", r"总览", r"개요",
    r"ubersicht", r"uberblick", r"zestawienie", r"汇总", r"彙總", r"一览", r"概览", r"一覧", r"обзор",
    r"сводка",
    r"сводная \w+", r"quadro resumo", r"visao geral", r"vue d'ensemble", r"panoramica", r"tabla resumen",
    r"cuadro resumen",
)
KIND_LEGEND = _rx(
    r"classification", r"clasificacion", r"classificacao", r"legend", r"leyenda", r"legenda",
    r"severity (?:levels|scale|definitions)", r"definitions", r"definiciones", r"methodology",
    r"metodologia", r"glossary", r"glosario", r"scoring (?:method|rubric)", r"scope", r"alcance",
    r"methodik", r"methodologie", r"legende", r"kriterien", r"bewertungs(?:skala|kriterien|schema|methodik)",
    r"schweregrade", r"risikostufen", r"criteria", r"criterios", r"criterios de \w+", r"rating scale",
    r"(?:severity|risk|priority) (?:criteria|model)", r"skala", r"kryteria", r"metodyka",
    r"(?:niveles|niveis|niveaux) de (?:severidad|severidade|gravite|riesgo|risco|risque|criticidad)",
    r"методолог\w+", r"методика", r"критерии", r"условные обозначения",
    r"уровни (?:критичности|серьезности|риска|важности)", r"图例", r"凡例", r"범례", r"方法论", r"评级标准",
    r"评估标准", r"评分标准", r"判定基準", r"評価基準", r"評価方法", r"평가 기준", r"평가 방법",
    r"심각도 기준", r"严重程度定义", r"等级说明", r"重大度の定義",
)
KIND_POSITIVE = _rx(
    r"strengths", r"fortalezas", r"what'?s good", r"what works", r"positives?", r"buenas practicas",
    r"good practices", r"best practices", r"pontos fortes", r"points forts", r"no changes needed",
    r"well done", r"lo bueno", r"aciertos", r"validaciones", r"verificaciones", r"validations",
    r"verifications", r"passed", r"compliant", r"cumple", r"stark", r"优点", r"優點", r"亮点", r"良い点",
    r"장점", r"잘된 점", r"сильные стороны", r"staerken", r"starken",
)
KIND_METRICS = _rx(
    r"metrics?", r"metricas?", r"metriques", r"statistics", r"estadisticas", r"score", r"breakdown",
    r"desglose", r"distribution", r"distribucion", r"coverage", r"cobertura", r"comparativa",
    r"comparison", r"comparacion", r"kpis?", r"puntuacion", r"calificacion", r"scorecard", r"analisis pid",
    r"inventory", r"inventario", r"por componente", r"per component", r"by component", r"avaliacao",
    r"component grades", r"notas por",
)

# Plural nouns a heading uses to announce a list of findings ("Critical Issues", "HALLAZGOS P1").
GROUP_NOUNS = {
    "issues", "findings", "hallazgos", "vulnerabilities", "vulnerabilidades", "problems", "problemas",
    "problemes", "probleme", "risks", "riesgos", "riscos", "bugs", "defects", "defectos", "concerns",
    "observations", "observaciones", "observacoes", "gaps", "mejoras", "improvements", "optimizaciones",
    "optimizations", "otimizacoes", "achados", "violations", "violaciones", "smells", "warnings",
    "advertencias", "items", "errors", "errores", "anti-patterns", "antipatterns", "antipatrones",
    "weaknesses", "constatacoes", "befunde", "schwachstellen", "constats", "failles", "fixes",
    "pendientes", "pending", "open", "abiertos", "ouverts", "resueltos", "resolved", "fixed",
    "corregidos", "validados", "validado", "detectados", "detected", "encontrados", "found", "identified",
    "identificados", "criticos", "secundarios", "anti", "problemi", "priorita", "rischi", "проблемы",
    "уязвимости", "замечания", "bevindingen", "problemen",
    "problemy", "bulgular", "sorunlar", "brister", "приоритет", "prioriteit", "priorytet", "oncelik",
    "vulnerabilita", "risultati", "priority", "prioridad", "prioridade", "priorite",
    "severity", "severidad", "severidade", "level", "nivel", "risk", "riesgo", "priorities",
}
_FILLER = {
    "de", "del", "la", "las", "los", "el", "por", "the", "of", "and", "y", "e", "en", "with", "con", "a",
    "to", "fix", "immediately", "inmediato", "inmediata", "des", "du", "le", "les", "et", "und", "der",
    "die", "das", "do", "da", "dos", "severidade", "total", "by", "que", "requieren",
    "requiring", "attention", "atencion", "must", "should", "now", "ahora", "urgentes", "prioritarios",
}
FINDING_NOUNS = GROUP_NOUNS - {"priority", "prioridad", "prioridade", "priorite", "severity", "severidad",
                               "severidade", "level", "nivel", "open", "found", "identified", "identificados",
                               "detected", "detectados", "encontrados", "criticos", "secundarios",
                               "priorities"}

GENERIC_DETAIL = {
    "evidence", "evidencia", "fix", "fixes", "solution", "solucion", "solucao", "recommendation",
    "recomendacion", "recomendacao", "remediation", "remediacion", "impact", "impacto", "problem",
    "problema", "details", "detalles", "detalhes", "example", "examples", "ejemplo", "ejemplos", "exemplo",
    "code", "codigo", "context", "contexto", "analysis", "analisis", "root", "cause", "causa", "raiz",
    "steps", "pasos", "reproduction", "reproduccion", "proof", "poc", "before", "after", "antes",
    "despues", "references", "referencias", "notes", "notas", "description", "descripcion", "location",
    "ubicacion", "affected", "afectados", "files", "archivos", "archivo", "file", "mitigation",
    "mitigacion", "validation", "validacion", "distribution", "distribucion", "por", "by", "per", "de",
    "the", "of", "and", "y", "current", "actual", "suggested", "sugerido", "proposed", "propuesto",
    "conversion", "how", "to", "a", "el", "la", "en", "in", "summary", "resumen", "risk", "riesgo",
    "status", "estado", "result", "resultado", "background", "overview", "why", "what", "it", "matters",
}
STOPWORDS = {
    "the", "and", "for", "with", "from", "that", "this", "not", "are", "was", "has", "have", "los", "las",
    "del", "por", "con", "sin", "una", "uno", "para", "que", "into", "when", "than", "all", "todo",
    "todos", "its", "their", "en", "de", "la", "el", "no", "is", "in", "of", "on", "to", "a", "an", "y",
    "hallazgo", "finding", "issue", "problema", "problem", "fix", "vulnerabilidad", "vulnerability",
}


# fmt: on


# "1.", "1.2", "一、", "（三）", "IV.", "B)", "가.", "①", "第二章": numbering in any script before a title.
NUMBERING = re.compile(
    r"^[\s#*_`]*(?:(?:[(（]?(?:\d+(?:\.\d+)*|[一二三四五六七八九十百零〇]+|[IVXLC]{1,6}|[A-Za-z]|[가-힣])[)）]?"
    r"(?:[.)、．:：]|(?<=\d)(?=\s)))\s*|[①-⑳]\s*|第[一二三四五六七八九十百\d]+[章节節部条項点]\s*)"
)


# "Overall risk: Medium", "総合評価: ⚠️ 中程度のリスク", "Risk level — HIGH": the report's verdict on
# itself, written as a heading; its severity word rates the project, not a finding.
_VERDICT_LABEL = re.compile(
    r"(?<![a-z])(?:overall|global|general|total|final|gesamt\w*|geral|globale?|итогов\w*|общ\w*|ogoln\w*|"
    r"risk (?:level|rating|posture)|nivel de riesgo|nivel de risco|niveau de risque|risikostufe|risikoniveau|"
    r"уровень риска|poziom ryzyka|verdict|veredicto|posture)(?![a-z])"
    r"|综合|綜合|总体|總體|整体|総合|全体|종합|전체|风险等级|リスクレベル|위험 수준"
)
_LABELLED = re.compile(r"^\W*(?P<label>[^:\n]{2,40}?)\s*(?::|\s[-–—]\s)\s*(?P<value>\S.{0,30})$")


def is_verdict_title(text: str) -> bool:
    """``Overall risk: Medium``: a label naming the report's overall verdict, and a severity as its value."""
    m = _LABELLED.match(strip_numbering(text))
    return bool(
        m
        and _VERDICT_LABEL.search(fold(m.group("label")))
        and signals(m.group("value"))
        and not has_finding_noun(m.group("value"))
    )


def strip_numbering(text: str) -> str:
    """``一、P1 问题`` → ``P1 问题``; ``3.2 Bare except`` → ``Bare except``; ``IV. Risks`` → ``Risks``."""
    m = NUMBERING.match(text)
    return text[m.end() :] if m and m.end() < len(text.rstrip()) else text


def significant_words(text: str) -> list[str]:
    return [t for t in re.findall(r"[^\W_]+", fold(text)) if not t.isdigit()]


@lru_cache(maxsize=4096)
def is_group_title(text: str) -> bool:
    """ "Critical Issues (Fix Immediately)", "HALLAZGOS P1 - UX", "P2 - Media Prioridad" → True."""
    outside = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", strip_numbering(text))
    words = [w for w in significant_words(outside) if not re.fullmatch(r"\d+(?:\.\d+)*", w)]
    if not words:
        return False
    if _ITEM_LABEL.match(outside) and not _PLABEL.fullmatch(words[0]):
        return False  # "Issue 3: …", "问题 1：…", "Hallazgo #2": one numbered finding
    has_sev = any(_severity_word(w) for w in words)
    rated = has_sev or any(s.form in ("label", "word") for s in signals(text))
    cjk_noun = bool(_CJK.match(words[0])) and any(n in words[0] for n in CJK_NOUNS)
    if _finding_noun(words[0], rated=rated) or cjk_noun:
        return True
    rest = [
        w
        for w in words
        if w not in GROUP_NOUNS and not _finding_noun(w) and w not in _FILLER and not _severity_word(w)
    ]
    return not rest and (has_sev or any(_finding_noun(w) for w in words))


_ITEM_LABEL = re.compile(r"^\W*[^\W\d_]+\s*[#№]?\s*\d+(?:\.\d+)*\s*(?:[:.\-–—)]|$)")


def _severity_word(word: str) -> bool:
    if _PLABEL.fullmatch(word) or word_severity(word):
        return True
    return bool(_CJK.match(word)) and cjk_severity(word) is not None


# German writes compounds: "Sicherheitsbefunde", "Datenschutzmängel" are findings nouns too.
_GERMAN_NOUN_ENDINGS = ("befunde", "schwachstellen", "probleme", "sicherheitslucken", "mangel", "risiken")


# "Improvements", "Optimizaciones": findings when the heading rates them ("OPTIMIZACIONES (P3)"), a list
# of suggestions when it does not.
_RATED_ONLY_NOUNS = {"mejoras", "improvements", "optimizaciones", "optimizations", "otimizacoes"}


def _finding_noun(word: str, *, rated: bool = False) -> bool:
    if word in _RATED_ONLY_NOUNS:
        return rated
    return word in FINDING_NOUNS or (len(word) > 9 and word.endswith(_GERMAN_NOUN_ENDINGS))


def has_finding_noun(text: str) -> bool:
    words = set(significant_words(text)) | {w.rstrip(":") for w in fold(text).split()}
    return any(_finding_noun(w) for w in words)


def is_generic_title(text: str) -> bool:
    """A detail heading inside a finding ("Evidence", "Fix Ejemplo:", "Distribución por Archivo")."""
    words = significant_words(text)
    return any(w in GENERIC_DETAIL and w not in _FILLER and len(w) > 2 for w in words) and all(
        w in GENERIC_DETAIL for w in words
    )


@lru_cache(maxsize=4096)
def section_kind(title: str) -> str | None:
    """What a heading announces: resolved, remediation, summary, legend, positive, metrics or None."""
    folded = fold(title)
    sevs = signals(title)
    findingish = has_finding_noun(title) or any(s.form == "label" for s in sevs)
    if (KIND_RESOLVED.search(folded) or _KIND_RESOLVED_OTHER.search(folded)) and not re.search(
        r"(?<!\w)(?:un|not|no|sin|never|nunca|still|aun|todavia|partial\w*|parcial\w*|nicht|noch|nie|не)\s+"
        r"(?:\w+\s+)?(?:resolved|fixed|resuelt|closed|cerrad|behoben|gelost|erledigt|naprawion|исправлен|устранен)",
        folded,
    ):
        return "resolved"
    if KIND_REMEDIATION.search(folded):
        return "remediation"
    if KIND_SUMMARY.search(folded):
        return "summary"
    if any(m in title for m in POSITIVE_MARKS) and not any(m in title for m in NEGATIVE_MARKS):
        return "positive"
    if findingish or sevs:
        return None
    if KIND_LEGEND.search(folded):
        return "legend"
    if KIND_POSITIVE.search(folded):
        return "positive"
    if KIND_METRICS.search(folded):
        return "metrics"
    return None


# --- field and column names ---------------------------------------------------------------------

# fmt: off
FIELD_SEVERITY = _rx(
    r"severity", r"severidad", r"severidade", r"severite", r"schweregrad", r"gravita", r"gravedad",
    r"criticidad", r"criticality", r"criticidade", r"criticite", r"risk level", r"nivel de riesgo",
    r"nivel de severidad", r"sev", r"cvss severity", r"risk rating", r"严重程度", r"严重性", r"嚴重程度",
    r"重要度", r"深刻度", r"危险等级", r"风险等级", r"リスク", r"критичность", r"серьезность", r"важность",
    r"ernst", r"waga", r"onem", r"심각도", r"위험도", r"등급", r"级别", r"等级", r"危害等级", r"严重级别",
)
FIELD_PRIORITY = _rx(r"priority", r"prioridad", r"prioridade", r"priorite", r"prioritat", r"prioritaet",
                     r"优先级", r"優先度", r"приоритет", r"prioriteit", r"priorytet", r"oncelik", r"우선순위")
FIELD_RISK = _rx(r"risk", r"riesgo", r"risco", r"risque", r"rischio", r"impact", r"impacto", r"level",
                 r"nivel", r"rating", r"gravity", r"tier")
FIELD_LOCATION = _rx(
    r"files?", r"file\(s\)", r"archivos?", r"ficheros?", r"arquivos?", r"fichiers?", r"dateien?",
    r"locations?", r"ubicacion(?:es)?", r"localizacao", r"localizacion", r"emplacement", r"path",
    r"paths", r"ruta", r"where", r"lines?", r"lineas?", r"linhas?", r"archivo:linea", r"file:line",
    r"test file", r"source", r"codigo afectado", r"affected files?", r"archivos afectados", r"donde",
    r"component", r"componente", r"modulo", r"module", r"zeilen?", r"lignes?", r"riga", r"righe", r"ln",
    r"fichier", r"datei", r"文件", r"ファイル", r"位置", r"場所", r"файл", r"bestand", r"plik", r"dosya",
    r"文件位置", r"代码位置", r"路径", r"위치", r"파일", r"경로", r"расположение", r"местоположение",
    r"fundstelle",
)
FIELD_LINE = _rx(r"lines?", r"lineas?", r"linhas?", r"lignes?", r"zeilen?", r"riga", r"righe", r"ln", r"l")
FIELD_RECOMMENDATION = _rx(
    r"recommendations?", r"recomendacion(?:es)?", r"recomendacao", r"recommandation", r"empfehlung",
    r"fix", r"suggested fix", r"how to fix", r"solution", r"solucion", r"solucao", r"remediation",
    r"remediacion", r"remediacao", r"mitigation", r"mitigacion", r"accion", r"action", r"acao",
    r"sugerencia", r"suggestion", r"correccion", r"correcao", r"建议", r"修复建议", r"修复方案", r"改进建议",
    r"対策", r"修正案", r"권장 사항", r"권장", r"수정 방안", r"해결 방법", r"рекомендация", r"исправление",
    r"推奨事項", r"推奨", r"改善案", r"改善提案", r"修复建议", r"改进建议", r"建議", r"권장사항",
    r"개선 방안",
    r"рекомендации", r"zalecenie", r"zalecenia", r"rekomendacja", r"empfehlungen", r"massnahme",
    r"recomendacoes", r"recommendations", r"remediation steps",
)
FIELD_PROBLEM = _rx(
    r"problem", r"problema", r"issue", r"description", r"descripcion", r"descricao", r"details",
    r"detalle", r"finding", r"hallazgo", r"vulnerability", r"vulnerabilidad", r"title", r"titulo",
    r"summary", r"resumen", r"observacion", r"message", r"mensaje", r"name", r"nombre", r"riesgo",
    r"risk", r"check", r"rule", r"regla", r"beschreibung", r"befund", r"descrizione", r"problema", r"描述",
    r"问题描述", r"问题", r"說明", r"说明", r"概要", r"설명", r"문제", r"описание", r"проблема",
)
FIELD_STATUS = _rx(r"status", r"estado", r"state", r"result", r"resultado", r"calificacion", r"verdict",
                   r"veredicto", r"outcome", r"situacion", r"situacao", r"statut", r"ergebnis", r"результат",
                   r"статус", r"结果", r"結果", r"状态", r"狀態", r"状況", r"결과", r"상태")
COLUMN_TASK = _rx(r"tasks?", r"tareas?", r"tarefas?", r"taches?", r"aufgaben?", r"todo", r"to do",
                  r"steps?", r"pasos?", r"passos?", r"etapes?", r"schritte?", r"zadanie", r"задача", r"шаг",
                  r"任务", r"步骤", r"タスク", r"작업", r"할 일")
COLUMN_ID = re.compile(r"^(?:id|#|no\.?|n[ºo°]|ref|ref\.|codigo|code|key|clave|item|issue id|finding id|nr)$")
COLUMN_COUNT = _rx(r"count", r"cantidad", r"quantidade", r"numero", r"number", r"total", r"hallazgos",
                   r"findings", r"issues", r"occurrences", r"ocurrencias", r"anzahl", r"nombre", r"qty", r"#",
                   r"quantidade", r"количество", r"кол-во", r"数量", r"数目", r"件数", r"건수", r"개수")

POSITIVE_VALUE = re.compile(
    r"^\W*(?:ok\b|pass(?:ed)?\b|good\b|verified\b|verificado|compliant|conforme|cumple|safe\b|seguro\b|"
    r"excelente|excellent|correct[oa]?\b|no se encontr|no encontrad|not found|none found|no issues|"
    r"sin hallazgos|sin problemas|sin ocurrencias|n/?a\b|ningun[oa]?\b|nenhum|aucun|keine|nothing|"
    r"no (?:vulnerabilit|problem|finding|hallazgo)|bien\b|bueno\b|implementado correctamente|✅|✔|"
    r"bestanden|sicher\b|пройден\w*|норма\w*|безопасно|通过|通過|安全|正常|合格|问题なし|問題なし|통과|양호|안전|정상|"
    # "implemented", "in place", "adequate" in the languages met so far, unless qualified as partial
    r"(?:implemented|in place|adequate|implementad[oa]|adecuad[oa]|adequad[oa]|implemente|en place|"
    r"implementato|adeguato|corretto|erfullt|umgesetzt|vorhanden|korrekt|gut|in ordnung|реализовано|"
    r"выполнено|в норме|соответствует|корректно|zaimplementowan\w*|poprawn\w*|zgodn\w*|wdrozon\w*|"
    r"已实现|已实施|已启用|符合|良好|正确|実装済み|適合|適切|구현됨|적합|적절)"
    r"(?![a-z])(?!\s*(?:parcial|partial|teilweise|частично|czesciowo|部分|一部)))"
)
RESOLVED_VALUE = re.compile(
    r"^\W*(?:(?:fully|completely|totalmente|completamente|vollstandig|entierement|полностью) )?"
    r"(?:resuelt[oa]|resolved|fixed|corregid[oa]|solucionad[oa]|closed|cerrad[oa]|done|hecho|"
    r"resolvid[oa]|corrigid[oa]|remediated|mitigad[oa]|behoben|corrige|resolu|erledigt|исправлено|устранено|"
    r"naprawion[aey]|改善済み|修正済み|対応済み|解決済み|已修复|已解决|已修正|해결됨|해결 완료|수정 완료|"
    r"조치 완료)"
    r"(?:\b|(?<=[^\x00-\x7f]))"
)
NONE_FOUND = re.compile(
    r"^\W*(?:none(?: found| identified| detected)?|n/?a|nothing(?: to report| found)?|ningun[oa]?|nenhum|"
    r"aucun|"
    r"keine?|sin hallazgos\b.*|no se (?:encontr|detect|identific)\w*\b.*|"
    r"no (?:\w+ ){0,2}(?:issues|findings|vulnerabilities|problems|hallazgos|vulnerabilidades|problemas)"
    r"(?: (?:were )?(?:found|detected|identified|encontrad\w*|detectad\w*|identificad\w*))?\b.*)\W*$"
)


# fmt: on


def is_positive_value(text: str) -> bool:
    return bool(POSITIVE_VALUE.match(fold(text))) or is_dismissal(text)


# The report's own verdict that a rated entry is not a problem after all: "LOW (false alarm — the
# implementation is correct)", "**Conclusion**: No vulnerability.", a "False positive" status.
_DISMISSAL = re.compile(
    r"(?<![a-z])(?:false (?:alarm|positive)|non-issue|"
    r"not an? (?:real |actual )?(?:vulnerability|issue|problem|bug)|"
    r"no (?:real |actual )?(?:vulnerability|issue|problem)(?: here| exists)?(?![a-z])|"
    r"falso positivo|falsa alarma|no es (?:una )?vulnerabilidad|nao e (?:uma )?vulnerabilidade|"
    r"faux positif|fausse alerte|fehlalarm|falsch[- ]positiv|"
    r"keine (?:echte )?(?:schwachstelle|sicherheitslucke)|"
    r"ложн\w+ (?:срабатывание|тревога)|не является уязвимостью|nie jest podatnoscia|fałszywy alarm)(?![a-z])"
    r"|误报|不是漏洞|不构成漏洞|误判|誤検知|脆弱性ではない|脆弱性なし|오탐|취약점 아님|취약점이 아님"
)
FIELD_VERDICT = _rx(
    r"conclusions?", r"verdict", r"veredicto", r"conclusao", r"conclusion", r"fazit", r"вывод", r"заключение",
    r"wniosek", r"assessment", r"evaluacion", r"avaliacao", r"结论", r"結論", r"결론", r"判定",
)


def is_dismissal(text: str) -> bool:
    """Whether a status, verdict or severity value says the entry is no problem (false alarm…)."""
    return bool(_DISMISSAL.search(fold(text)))


def is_resolved_value(text: str) -> bool:
    folded = fold(text)
    return bool(RESOLVED_VALUE.match(folded)) and not re.search(
        r"parcial|partial|not |no |pendiente|pending", folded
    )


def is_none_found(text: str) -> bool:
    return bool(NONE_FOUND.match(fold(text).strip()))
