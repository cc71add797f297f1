"""The ``markdown`` parser: real agent reports (the shared corpus) and our own reports with traps."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gitorch_markdown.locations import find_refs
from gitorch_markdown.parser import MarkdownParser

from gitorch.models import AuditResult, Severity
from gitorch.plugin.manager import get_plugins

REPORTS = Path(__file__).resolve().parents[1] / "data" / "reports"
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "parser_corpus.py"


def corpus_dir() -> Path:
    env = os.environ.get("GITORCH_CORPUS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "agent-reports"


def parse(text: str, dimension: str = "general") -> AuditResult:
    return MarkdownParser().parse(text, dimension=dimension)


def counts(result: AuditResult) -> dict[str, int]:
    return {sev.value: n for sev, n in result.counts.items() if n}


def resolved_counts(result: AuditResult) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in result.resolved:
        out[f.severity.value] = out.get(f.severity.value, 0) + 1
    return out


def stated(result: AuditResult) -> dict[str, int] | None:
    if result.stated_counts is None:
        return None
    return {sev.value: n for sev, n in result.stated_counts.items() if n}


# --------------------------------------------------------------------------------------------------
# Plugin registration


def test_markdown_parser_is_registered_through_the_entry_point():
    plugins = get_plugins()
    assert plugins.parsers()["markdown"] is MarkdownParser
    assert plugins.provider("gitorch_parsers", "markdown") == "markdown"
    assert isinstance(plugins.parser("markdown"), MarkdownParser)


def test_loading_the_plugin_does_not_load_the_engine():
    code = (
        "import sys, gitorch_markdown\n"
        "names = ('markdown_it', 'gitorch_markdown.report', 'gitorch_markdown.lexicon')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_result_carries_dimension_agent_source_and_score_provenance():
    result = parse(
        "# Audit\n\n**Score:** 78/100\n\n## High\n\n- `app/db.py:12` SQL built with f-strings\n",
        dimension="security",
    )
    assert result.dimension == "security"
    assert result.agent == "unknown"
    assert (result.score, result.score_scale, result.score_source) == (78, 100, "reported")
    assert (result.claimed_score, result.claimed_score_scale) == (78, 100)
    [finding] = result.findings
    assert finding.dimension == "security"
    assert finding.source == "markdown"
    assert (finding.severity, finding.file, finding.line) == (Severity.P1, "app/db.py", 12)
    assert finding.description == "SQL built with f-strings"


def test_empty_report_has_no_score_and_no_findings():
    result = parse("")
    assert result.findings == []
    assert (result.score, result.score_scale, result.score_source) == (None, None, "none")
    assert result.stated_counts is None


# --------------------------------------------------------------------------------------------------
# Our own reports (tests/data/reports): varied styles and languages, each with traps.

# What each report must yield: counts, [score, scale], grade, resolved, stated totals and [file, line] per
# finding in order (tests/data/reports/expected.json, one report per line).
EXPECTED = json.loads((REPORTS / "expected.json").read_text(encoding="utf-8"))


def test_every_extra_report_has_expectations():
    assert sorted(p.name for p in REPORTS.glob("*.md")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_extra_report_is_parsed_as_expected(name):
    expected = EXPECTED[name]
    result = parse((REPORTS / name).read_text(encoding="utf-8"))
    assert counts(result) == expected["counts"]
    assert [result.score, result.score_scale] == (expected["score"] or [None, None])
    assert result.grade == expected["grade"]
    assert resolved_counts(result) == expected["resolved"]
    assert stated(result) == expected["stated"]
    assert [[f.file, f.line] for f in result.findings] == expected["locations"]
    assert all(f.description and f.source == "markdown" for f in result.findings)


def test_table_row_recommendation_and_mixed_severity():
    result = parse((REPORTS / "en_table_grade_traps.md").read_text(encoding="utf-8"))
    by_title = {f.description: f for f in result.findings}
    assert by_title["SQL injection in refund lookup"].recommendation == "Use bound parameters"
    assert by_title["Secrets logged at debug level"].severity is Severity.P1  # "Medium/High" → higher
    assert result.findings[1].end_line == 52


def test_field_recommendation_is_kept():
    result = parse((REPORTS / "en_severity_field_lists.md").read_text(encoding="utf-8"))
    assert result.findings[0].recommendation == "Replace pickle.loads with JSON."


def test_descriptions_drop_tags_and_leading_locations():
    result = parse((REPORTS / "en_codex_numbered_bold_tags.md").read_text(encoding="utf-8"))
    assert [f.description for f in result.findings][1:] == ["Missing CSRF token", "Unused import"]
    result = parse((REPORTS / "en_gemini_emoji_headings.md").read_text(encoding="utf-8"))
    assert result.findings[1].description == "Missing authentication on /admin"
    assert result.findings[0].recommendation == "Load it from the environment."


def test_positive_and_none_found_entries_are_not_findings():
    result = parse((REPORTS / "en_none_found_good.md").read_text(encoding="utf-8"))
    descriptions = " ".join(f.description for f in result.findings)
    assert "VERIFIED" not in descriptions and "GOOD" not in descriptions
    assert "None" not in descriptions and "naming" not in descriptions


# --------------------------------------------------------------------------------------------------
# Traps, one at a time


def test_summary_count_table_is_stated_not_counted():
    text = """# R

## Summary

| Severity | Count |
|---|---|
| Critical | 3 |
| High | 5 |

## Critical Issues

### 1. Hard-coded password
**File:** `a.py:3`
"""
    result = parse(text)
    assert counts(result) == {"P0": 1}
    assert stated(result) == {"P0": 3, "P1": 5}


def test_remediation_plan_with_p0_headings_adds_nothing():
    text = """# R

## Findings

- [P2] `web/app.py:9` debug mode left on

## Remediation Plan

### P0
- Rotate all keys
- Patch the login flow

### P1 (next sprint)
1. Add tests
"""
    assert counts(parse(text)) == {"P2": 1}


def test_no_critical_issues_found_under_a_critical_heading():
    text = """# R

## Critical

No critical issues found.

## High

### Missing CSRF protection
`forms.py:20`
"""
    result = parse(text)
    assert counts(result) == {"P1": 1}
    assert (result.findings[0].file, result.findings[0].line) == ("forms.py", 20)


def test_resolved_section_goes_to_resolved():
    text = """# R

## Open Issues

- [HIGH] `a.py:1` token leak

## Fixed Issues

- [CRITICAL] `b.py:2` SQL injection
- [LOW] `c.py:3` typo
"""
    result = parse(text)
    assert counts(result) == {"P1": 1}
    assert resolved_counts(result) == {"P0": 1, "P3": 1}


def test_status_field_marks_fixed_and_partially_fixed_stays_open():
    text = """# R

### [P1] Pool not configured
**Estado:** PARCIALMENTE RESUELTO
**Ubicación:** main.py:10

### [P1] Redis errors not handled
**Status:** RESUELTO
"""
    result = parse(text)
    assert counts(result) == {"P1": 1}
    assert resolved_counts(result) == {"P1": 1}


def test_id_column_that_looks_like_severity_is_ignored():
    text = """## Hallazgos

| ID | Archivo:Línea | Issue | Impacto |
|----|---------------|-------|---------|
| P1 | main.py:1330 | Redis sin pool | LOW |
| P2 | main.py:969 | Cache sin TTL | LOW |
"""
    assert counts(parse(text)) == {"P3": 2}


def test_severity_field_beats_the_heading_tag():
    text = "## Pendientes (P1/P2/P3)\n\n### [P4] - JSON lento\n**Prioridad:** P3\n**Ubicación:** main.py\n"
    assert counts(parse(text)) == {"P3": 1}


def test_executive_summary_bullets_do_not_double_count_itemized_findings():
    text = """# R

## Executive Summary
- [P0] **No auth on admin**: anyone can log in
- [P1] **Monolith**: main.py is huge

## Findings by Severity

### P0 - Critical
#### [P0-1] No auth on admin
**Location:** `admin/views.py:5`

### P1 - High
#### [P1-1] Monolithic main.py
"""
    result = parse(text)
    assert counts(result) == {"P0": 1, "P1": 1}
    assert result.findings[0].file == "admin/views.py"


def test_summary_is_used_when_it_is_the_only_itemization():
    text = "# R\n\n## Summary of findings\n\n| ID | Severity | Title |\n|---|---|---|\n| 1 | High | XSS |\n"
    result = parse(text)
    assert counts(result) == {"P1": 1}
    assert any("summary" in note for note in result.notes)


def test_unrated_items_are_noted_not_counted():
    text = (
        "## Issues found\n\n1. ⚠️ Singleton without lock (main.py:1310)\n"
        "2. ⚠️ JSON in hot path (main.py:870)\n3. ✅ No N+1 queries\n"
    )
    result = parse(text)
    assert result.findings == []
    assert any(note.startswith("2 itemized problem(s) without a severity") for note in result.notes)


def test_a_word_qualified_by_severity_beats_a_neighbouring_adjective():
    text = "## Critical Vulnerabilities (High Severity)\n\n### 1. Cookie parsing\n`a.go:3`\n"
    assert counts(parse(text)) == {"P1": 1}
    text = "## HALLAZGOS CRÍTICOS (🔴 ALTA PRIORIDAD)\n\n### 1. Tamaño de archivo\n`a.py:3`\n"
    assert counts(parse(text)) == {"P0": 1}


def test_severity_section_weights_words_over_emoji():
    text = """## HALLAZGOS CRÍTICOS (🔴 ALTA PRIORIDAD)

### 1. Archivos sin límite de tamaño
`a.py:1`

## HALLAZGOS IMPORTANTES (🟡 MEDIA PRIORIDAD)

### 2. Excepciones genéricas
`b.py:2`

## Hallazgos Secundarios (🟡 Informativos)

### 3. Comentarios históricos
"""
    assert counts(parse(text)) == {"P0": 1, "P2": 1, "P4": 1}


def test_item_under_critical_heading_that_says_nothing_found_is_not_a_finding():
    text = """## HALLAZGOS CRÍTICOS

### 2.3 SQL Injection (BAJO RIESGO)
**Estado:** NO SE ENCONTRARON consultas raw.
**Calificación:** ✅ EXCELENTE

### 2.4 Validación de tipo de archivo insuficiente
**Ubicación:** `views.py` línea 1742
"""
    result = parse(text)
    assert counts(result) == {"P0": 1}
    assert (result.findings[0].file, result.findings[0].line) == ("views.py", 1742)


# --------------------------------------------------------------------------------------------------
# Scores and grades


@pytest.mark.parametrize(
    ("text", "score", "scale"),
    [
        ("**Score:** 78/100", 78, 100),
        ("Overall: 7.5/10", 7.5, 10),
        ("**Rating:** 3.75 / 5", 3.75, 5),
        ("Puntuación: 82 sobre 100", 82, 100),
        ("Puntuación global: 82 de 100", 82, 100),
        ("Nota final: 8,5/10", 8.5, 10),
        ("**Security score:** 85%", 85, 100),
        ("**Baseline:** 70/100 | **Target:** 90/100\n\n**OVERALL: 84/100**", 84, 100),
        ("- Code quality: 20/25\n- Tests: 18/25\n\n**TOTAL: 76/100**", 76, 100),
        ("**Score:** 60/100\n\nProjected score after fixes: 95/100", 60, 100),
        ("OWASP Coverage: 8/10 categorías", None, None),
        ("Compliance Rate Global: 100% (7/7)", None, None),
        ("No score here, 5/5 endpoints tested.", None, None),
    ],
)
def test_score_formats(text, score, scale):
    result = parse(f"# Report\n\n{text}\n")
    assert (result.score, result.score_scale) == (score, scale)


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("Grade: B+", "B+"),
        ("Error Handling Grade: **D+**", "D+"),
        ("**Calificación:** A-", "A-"),
        ("**Nota:** Análisis estático", None),
        ("**Calificación**: ✅ EXCELENTE", None),
    ],
)
def test_grade_formats(text, grade):
    assert parse(f"# Report\n\n{text}\n").grade == grade


# --------------------------------------------------------------------------------------------------
# File and line references


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config.py:28", ("config.py", 28, None)),
        ("`productos/views.py` líneas 1732-1748", ("productos/views.py", 1732, 1748)),
        ("`sync.py` (lines 299-304)", ("sync.py", 299, 304)),
        ("Config.swift:49, 67", ("Config.swift", 49, None)),
        ("src/app.ts#L12-L20", ("src/app.ts", 12, 20)),
        ("main.py:1800+", ("main.py", 1800, None)),
        ("`main.py` (2015 líneas)", ("main.py", None, None)),
        ("prisma/schema.prisma:416", ("prisma/schema.prisma", 416, None)),
        ("the query in db.py at line 12 is built", ("db.py", 12, None)),
        ("see line 40 of app/views.py", ("app/views.py", 40, None)),
        ("líneas 3-9 de utils.py", ("utils.py", 3, 9)),
    ],
)
def test_file_line_references(text, expected):
    ref = find_refs(text.replace("`", ""))[0]
    assert (ref.path, ref.line, ref.end_line) == expected


def test_paths_with_spaces_in_code_spans_and_non_paths():
    code = "/apps/Operations Center/Supabase.swift:71"
    [ref] = find_refs(code, [code])
    assert (ref.path, ref.line) == ("apps/Operations Center/Supabase.swift", 71)
    assert find_refs("TaskRepositoryClient.deleteTask(taskId) and A07:2021 and v1.3.0 and e.g. this") == []
    assert find_refs("see https://example.com/a.py:12") == []
    assert find_refs("api.example.com:443 and e.g.:5") == []


def test_line_numbers_inside_code_comments_count():
    text = (
        "## HALLAZGOS CRÍTICOS (P0)\n\n### [H-1] Falta rate limiting\n**Archivo:** `main.py`\n\n"
        "```python\n# ai-service/config.py:43\nx = 1\n```\n"
    )
    [finding] = parse(text).findings
    assert (finding.file, finding.line) == ("ai-service/config.py", 43)


# --------------------------------------------------------------------------------------------------
# Performance


def test_a_thousand_line_report_is_read_whole():
    """Speed is measured by benchmarks/parser_scale.py (docs/benchmarks.md), never timed here."""
    block = """### {n}. Issue number {n}
**Severity:** High
**File:** `pkg/mod{n}.py:{n}`

Some explanation of the problem with `code` and **bold** words.

| a | b |
|---|---|
| 1 | 2 |

"""
    text = "# Big report\n\n**Score:** 50/100\n\n## Findings\n\n" + "".join(
        block.format(n=n) for n in range(1, 101)
    )
    assert len(text.splitlines()) >= 1000
    result = parse(text)
    assert counts(result) == {"P1": 100}
    assert [(f.file, f.line) for f in result.findings][-1] == ("pkg/mod100.py", 100)


# --------------------------------------------------------------------------------------------------
# The shared corpus of real agent reports


def _benchmark():
    spec = importlib.util.spec_from_file_location("parser_corpus", BENCHMARK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_corpus_targets():
    corpus = corpus_dir()
    if not (corpus / "truth.json").is_file():
        pytest.skip(f"agent-report corpus not found at {corpus} (set GITORCH_CORPUS)")
    score = _benchmark().evaluate(corpus)
    assert len(score.reports) >= 14
    assert score.count_f1 >= 0.95, score.count_f1
    assert score.score_exact >= 0.95, score.score_exact
    assert score.file_line_recall >= 0.95, score.file_line_recall


def test_field_sub_headings_and_cvss_values():
    text = """# R

## Findings

### SQL injection in search
Query built from input at `db.py:12`.

#### Impact: High

#### Fix
Use parameters.

### Weak hashing
**Severity:** 9.8 (Critical)
`auth.py:3`
"""
    result = parse(text)
    assert [(f.severity.value, f.file, f.line) for f in result.findings] == [
        ("P1", "db.py", 12),
        ("P0", "auth.py", 3),
    ]


def test_rows_numbered_alike_in_two_tables_are_two_findings():
    text = """## Backend

| # | Severity | Title |
|---|---|---|
| 1 | Low | Typo in a log message |

## Frontend

| # | Severity | Title |
|---|---|---|
| 1 | Low | Typo in a log message |
"""
    assert counts(parse(text)) == {"P3": 2}


def test_similar_titles_in_sibling_sections_are_not_merged():
    text = """## Login
### Missing input validation on login form (Medium)
## Signup
### Missing input validation on signup form (Medium)
"""
    assert counts(parse(text)) == {"P2": 2}


def test_the_format_gitorch_audit_prompts_ask_for():
    """templates/_audit_format.md.j2 asks agents for exactly this shape."""
    text = """# Security audit: app

**Score:** 72/100

## P0 Critical
- [P0] SQL query built from user input (app/models/query.py:128)
  - Recommendation: use a parameterised query.

## P1 High
- [P1] No rate limiting on the login endpoint (app/controllers/auth.py:67)
  - Recommendation: add a rate-limiting middleware.
- [P1] No rate limiting on the admin endpoint (app/controllers/admin.py:12-30)
  - Recommendation: add a rate-limiting middleware.

## P2 Medium
## P3 Low
## P4 Info
"""
    result = parse(text, dimension="security")
    assert (result.score, result.score_scale) == (72, 100)
    assert [(f.severity.value, f.file, f.line, f.end_line) for f in result.findings] == [
        ("P0", "app/models/query.py", 128, None),
        ("P1", "app/controllers/auth.py", 67, None),
        ("P1", "app/controllers/admin.py", 12, 30),
    ]
    assert result.findings[0].description == "SQL query built from user input"
    assert result.findings[0].recommendation == "use a parameterised query."
    assert result.notes == []


def test_a_report_wrapped_in_a_markdown_fence_is_unwrapped():
    text = (
        "Here is the audit:\n\n```markdown\n# Audit\n\n**Score:** 72/100\n\n## P0 Critical\n"
        "- [P0] SQL built from input (app/q.py:128)\n```\n\nLet me know.\n"
    )
    result = parse(text)
    assert (result.score, [(f.severity.value, f.file, f.line) for f in result.findings]) == (
        72,
        [("P0", "app/q.py", 128)],
    )
    # code of another language stays code
    assert parse("```python\n# [P0] not a finding (a.py:1)\n```\n").findings == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # severity in a nested "- Severity: High" bullet
            "## Findings\n\n1. **SQL injection in search**\n   - Severity: High\n   - File: `db.py:12`\n"
            "2. **Weak hashing**\n   - Severity: Medium\n",
            [("P1", "db.py", 12), ("P2", None, None)],
        ),
        (  # bold title lines with a severity after them
            "# Review\n\n**SQL injection** (High)\nFound in `db.py:12`.\n\n"
            "**Weak hashing** — Medium\n`auth.py:3`\n",
            [("P1", "db.py", 12), ("P2", "auth.py", 3)],
        ),
        (  # an unlabelled column of colour badges
            "## Issues\n\n|   | Issue | File |\n|---|---|---|\n| 🔴 | Secret in repo | `cfg.py:1` |\n"
            "| 🟡 | Long function | `big.py:10` |\n",
            [("P0", "cfg.py", 1), ("P2", "big.py", 10)],
        ),
    ],
)
def test_more_finding_shapes(text, expected):
    assert [(f.severity.value, f.file, f.line) for f in parse(text).findings] == expected


def test_a_ticked_entry_marked_fixed_is_resolved_not_dropped():
    result = parse("## Findings\n- ✅ [P1] Token leak in logs (fixed)\n- [P2] Missing index (`db.py:4`)\n")
    assert counts(result) == {"P2": 1}
    assert resolved_counts(result) == {"P1": 1}


def test_vague_words_outside_findings_sections_are_advice_not_findings():
    text = """# Notes

**Important:** run migrations first.

- **Important**: back up the database
- **Minor**: typo in the README

## Findings
- **Minor**: typo in `README.md:3`
"""
    result = parse(text)
    assert [(f.severity.value, f.file) for f in result.findings] == [("P3", "README.md")]


@pytest.mark.parametrize(
    "heading",
    [
        "Warning: binding to a public IP",
        "Note on host headers",
        "High level approach - types",
        "shared-mime-info",
        "Critical-path rendering",
    ],
)
def test_documentation_headings_are_not_severity_tags(heading):
    assert parse(f"# Guide\n\n## {heading}\n\nSee `a.py:3` for details.\n").findings == []


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("Open bucket (Medium-High)", "P1"),
        ("HIGH-01 — Open bucket", "P1"),
        ("[P1-High] Open bucket", "P1"),
        ("Open bucket — Severity: Low", "P3"),
    ],
)
def test_compound_severity_tags(text, severity):
    assert parse(f"## Findings\n\n### {text}\n`a.py:3`\n").findings[0].severity.value == severity


def test_an_identifier_that_contains_a_p_label_yields_to_its_group():
    text = (
        "## 🟡 Hallazgos Secundarios (Informativos)\n\n"
        "### 1. P0-04: Referencias históricas a _sql_constraints\n"
        "**Archivos**:\n- `models/move.py:350`\n"
    )
    result = parse(text)
    assert [(f.severity.value, f.file, f.line) for f in result.findings] == [("P4", "models/move.py", 350)]


def test_development_set_targets():
    """The first corpus and the even half of the second (the held-out half is measured by
    ``benchmarks/parser_corpus.py --held-out`` only, never by the suite)."""
    module = _benchmark()
    if not (module.shared_corpora() / "agent-reports-2" / "truth.json").is_file():
        pytest.skip("second agent-report corpus not found")
    score = module.development_set()
    assert not any(module.is_held_out(Path(r.name).parent, Path(r.name).name) for r in score.reports)
    assert len(score.reports) >= 19
    assert score.count_f1 >= 0.98, score.count_f1
    assert score.file_line_recall >= 0.98, score.file_line_recall
    assert score.scores_exact == len(score.reports)


def test_fresh_development_set_targets():
    """The fresh corpus's development half (outside the repository: ``$GITORCH_FRESH_CORPUS``)."""
    module = _benchmark()
    root = module.fresh_corpus()
    if root is None or not (root / "dev" / "truth.json").is_file():
        pytest.skip("fresh corpus not given (set GITORCH_FRESH_CORPUS to the folder holding dev/)")
    score = module.fresh_dev_set(root)
    assert {Path(r.name).parent.name for r in score.reports} == {"dev"}
    assert score.count_f1 >= 0.98, score.count_f1
    assert score.file_line_recall >= 0.98, score.file_line_recall
    assert score.scores_exact == len(score.reports)


def _fake_corpus(folder: Path, name: str, counts_: dict[str, int]) -> Path:
    """A corpus folder holding one of our own reports and its truth."""
    import json

    folder.mkdir(parents=True)
    (folder / name).write_text((REPORTS / name).read_text(encoding="utf-8"), encoding="utf-8")
    truth = {"score": None, "score_scale": None, "counts": counts_, "findings_with_file_line": 0}
    (folder / "truth.json").write_text(json.dumps({name: truth}), encoding="utf-8")
    return folder


def test_the_benchmark_reads_the_fresh_held_out_half_only_when_asked(tmp_path, capsys, monkeypatch):
    # NOTE: made-up corpora only (our own reports): the suite never parses a real held-out report.
    first = _fake_corpus(
        tmp_path / "shared" / "agent-reports", "de_verdict_plan_legend.md", {"P1": 1, "P2": 1}
    )
    monkeypatch.setenv("GITORCH_CORPUS", str(first))
    monkeypatch.delenv("GITORCH_FRESH_CORPUS", raising=False)
    fresh = tmp_path / "fresh"
    _fake_corpus(fresh / "dev", "pl_restated_issue_list.md", {"P0": 1, "P1": 1, "P2": 2})
    _fake_corpus(fresh / "heldout", "ja_postfix_quality.md", {"P2": 2})
    module = _benchmark()
    opened: list[str] = []
    real = module.evaluate

    def evaluate(corpus, names=None):
        opened.append(corpus.name)
        return real(corpus, names)

    monkeypatch.setattr(module, "evaluate", evaluate)
    assert module.main(["--fresh", str(fresh)]) == 0
    out = capsys.readouterr().out
    assert "== development: fresh dev: 1 reports" in out and "held-out" not in out
    assert opened == ["agent-reports", "dev"]
    assert module.main(["--held-out", "--fresh", str(fresh)]) == 0
    out = capsys.readouterr().out
    assert "== held-out: fresh: 1 reports" in out and "== held-out: shared odd half: 0 reports" in out
    assert opened[2:] == ["agent-reports", "dev", "heldout"]


def test_corpus_counts_are_exact():
    """Stricter than the 0.95 target: every corpus report's counts match the truth."""
    corpus = corpus_dir()
    if not (corpus / "truth.json").is_file():
        pytest.skip(f"agent-report corpus not found at {corpus} (set GITORCH_CORPUS)")
    score = _benchmark().evaluate(corpus)
    assert [r.name for r in score.reports if r.counts != r.truth_counts] == []


def test_claude_code_security_review_shape():
    text = """# Vuln 1: XSS: `app/templates/view.py:42`

* Severity: High
* Description: User input is rendered without escaping.
* Recommendation: Escape the value with markupsafe.
* Confidence: 0.9

# Vuln 2: SQL Injection: `app/db/query.py:17`

* Severity: Medium
* Description: The ORDER BY clause is built from a request parameter.
* Recommendation: Whitelist the sort columns.
"""
    result = parse(text)
    assert [(f.severity.value, f.file, f.line, f.description.split(":")[0]) for f in result.findings] == [
        ("P1", "app/templates/view.py", 42, "XSS"),
        ("P2", "app/db/query.py", 17, "SQL Injection"),
    ]
    assert result.findings[1].recommendation == "Whitelist the sort columns."


def test_dunder_file_names_are_not_read_as_bold_text():
    from gitorch_markdown import MarkdownParser

    text = (
        "# Audit\n\n## High\n\n- [P1] Unsafe import (app/__init__.py:1)\n"
        "- [P1] __Bold__ title (src/my_mod/__main__.py:3)\n"
    )
    found = MarkdownParser().parse(text).findings
    assert [(f.file, f.line) for f in found] == [("app/__init__.py", 1), ("src/my_mod/__main__.py", 3)]
    assert found[1].description.startswith("Bold title")
