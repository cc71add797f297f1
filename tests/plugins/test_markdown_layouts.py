"""The ``markdown`` parser on the layout classes of reports it was not developed on, its doubts
(``AuditResult.warnings``), and how its work grows with the size of the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitorch_markdown import document, report
from gitorch_markdown.locations import find_refs, link_ref
from gitorch_markdown.parser import MarkdownParser

from gitorch.models import AuditResult

REPORTS = Path(__file__).resolve().parents[1] / "data" / "reports"


def parse(text: str) -> AuditResult:
    return MarkdownParser().parse(text)


def found(text: str) -> list[tuple[str, str | None, int | None]]:
    return [(f.severity.value, f.file, f.line) for f in parse(text).findings]


# --------------------------------------------------------------------------------------------------
# Severity headings with extra words or foreign numbering announce the findings below them


@pytest.mark.parametrize(
    "heading",
    [
        "## High priority — potential bugs / data loss",
        "## 一、P1 高优先级问题",
        "## II. High Severity — Backend",
        "## 🟠 High — Correctness",
        "## 第二章 高危问题",
        "## 가. 높음 (High)",
    ],
)
def test_a_severity_heading_with_extra_words_groups_numbered_findings(heading):
    text = f"{heading}\n\n### 1. Delete drops edits\n`a.py:3`\n\n### 2. Rename is not atomic\n\nNo file.\n"
    assert [sev for sev, _, _ in found(text)] == ["P1", "P1"]


def test_a_severity_heading_over_a_table_of_entries_is_a_group():
    text = (
        "## Medium priority — correctness & UX\n\n| Issue | Where | Impact |\n|---|---|---|\n"
        "| Case-only rename | `store.rename` | throws |\n| Conflict banner | `Workspace` | silent |\n"
    )
    assert [sev for sev, _, _ in found(text)] == ["P2", "P2"]


def test_an_item_heading_with_a_location_stays_one_finding():
    text = "## [P1] SQL injection\n**File:** `db.py:4`\n\n### 1. Reproduce\nCall it.\n\n### 2. Fix\nBind.\n"
    assert found(text) == [("P1", "db.py", 4)]


def test_a_numbered_issue_label_is_an_item_not_a_group():
    text = (
        "## 🔴 严重问题（P0）\n\n### 问题 1：硬编码的密码\n"
        "- **文件**：`app/config.py:12`\n- **描述**：写死。\n"
    )
    result = parse(text)
    assert [(f.severity.value, f.file, f.line) for f in result.findings] == [("P0", "app/config.py", 12)]
    assert result.findings[0].description.startswith("硬编码的密码")


def test_fields_without_bold_in_korean_are_fields_of_one_item():
    text = (
        "## 🔴 심각 (Critical)\n\n### 1. SQL 인젝션\n"
        "- 위치: `api/users.py:30`\n- 설명: 입력이 그대로 들어갑니다.\n"
    )
    assert found(text) == [("P0", "api/users.py", 30)]


# --------------------------------------------------------------------------------------------------
# Bold lead-ins as findings


def test_bold_id_lead_ins_under_a_severity_heading_are_findings():
    text = (
        "#### 🔴 High — Correctness\n\n"
        "**H1. Cursor committed early.** In `runner.py:141` the cursor moves.\n\n"
        "**H2 — Retries re-send POSTs.** `http.py:58-73` retries.\n"
    )
    result = parse(text)
    assert [(f.severity.value, f.file, f.line, f.description) for f in result.findings] == [
        ("P1", "runner.py", 141, "Cursor committed early"),
        ("P1", "http.py", 58, "Retries re-send POSTs"),
    ]


def test_plain_bold_lead_ins_count_only_under_a_severity_heading():
    body = "**Race in refresh.** `cache.py:8` has no lock.\n\n**Unsafe retries.** `http.py:4` retries.\n"
    assert [sev for sev, _, _ in found("### High\n\n" + body)] == ["P1", "P1"]
    assert found("### Notes\n\n" + body) == []


def test_a_field_lead_in_is_not_a_finding():
    text = "### High\n\n**Race in refresh.** `cache.py:8`.\n\n**Note:** seen on staging only.\n"
    assert found(text) == [("P1", "cache.py", 8)]


# --------------------------------------------------------------------------------------------------
# Severity in a field after the body; grades and check lists are not findings


def test_a_priority_field_after_the_body_rates_the_entry():
    text = (
        "## Pontos de atenção\n\n### 1. Segredo padrão\nO código usa `changeme`.\n\n"
        "**Arquivo:** `core/config.py:12`\n\n**Prioridade:** 🔴 Alta\n"
    )
    assert found(text) == [("P1", "core/config.py", 12)]


@pytest.mark.parametrize(
    "entry",
    [
        "### 🟢 Autenticação — 9/10\nBem feito.",
        "### 🟡 API — 6/10\nFaltam validações.",
        "- 🟡 Documentação — 5/10",
        "- 🟢 Testing — A",
        "- 🟢 SQL injection — all queries use the ORM (`db.py:14`)",
    ],
)
def test_component_grades_and_green_checks_are_not_findings(entry):
    assert found(f"# Review\n\n## Components\n\n{entry}\n") == []


def test_a_green_circle_with_a_severity_word_is_a_finding():
    assert found("## Findings\n\n- 🟢 **Low** — typo in `ui.py:3`\n") == [("P3", "ui.py", 3)]


@pytest.mark.parametrize("entry", ["- Critical: 0", "- **High**: 2 issues", "- P1: 0", "- Критические: 0"])
def test_tallies_are_not_findings(entry):
    assert found(f"## Findings\n\n{entry}\n") == []


def test_a_tally_in_a_severity_named_field_rates_nothing():
    text = "# R\n\n## Checks\n\n**Severity summary:** Critical: 0, High: 0.\n\nAll fine.\n"
    assert found(text) == []


# --------------------------------------------------------------------------------------------------
# Locations in link targets, Cursor code citations, CJK line forms


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("C:/Users/me/repo/frontend/src/app/page.tsx:170", ("Users/me/repo/frontend/src/app/page.tsx", 170)),
        ("src/app.py#L12-L20", ("src/app.py", 12)),
        ("https://github.com/o/r/blob/abc123/pkg/db.go#L40", ("pkg/db.go", 40)),
        ("file:///home/me/repo/a.py:3", ("home/me/repo/a.py", 3)),
    ],
)
def test_link_targets_with_a_line(href, expected):
    ref = link_ref(href)
    assert ref is not None and (ref.path, ref.line) == expected


@pytest.mark.parametrize("href", ["https://example.com/a.py:12", "docs/guide.md", "#section", "mailto:a@b.c"])
def test_link_targets_without_a_file_line(href):
    ref = link_ref(href)
    assert ref is None or ref.line is None


def test_a_finding_takes_its_line_from_a_link_target():
    text = "**Findings**\n\n- **High:** import is unused. See [excel.ts](C:/repo/src/excel.ts:24).\n"
    assert found(text) == [("P1", "excel.ts", 24)]
    text = "## Findings\n\n- **High:** import is unused, see [here](src/excel.ts#L24).\n"
    assert found(text) == [("P1", "src/excel.ts", 24)]


def test_a_cursor_code_citation_fence_gives_the_location():
    text = (
        "## High priority — data loss\n\n### 1. Delete without flush\n\n"
        "```263:276:src/hooks/useNotes.ts\nconst remove = 1;\n```\n"
    )
    result = parse(text)
    assert [(f.file, f.line, f.end_line) for f in result.findings] == [("src/hooks/useNotes.ts", 263, 276)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order_service/api/admin.py 第 88 行", ("order_service/api/admin.py", 88)),
        ("app/upload.py (第 40-58 行)", ("app/upload.py", 40)),
        ("views.py の 12行目", ("views.py", 12)),
        ("login.ts 15번째 줄", ("login.ts", 15)),
        ("shop/search.py, Zeile 45", ("shop/search.py", 45)),
    ],
)
def test_line_forms_of_other_languages(text, expected):
    ref = find_refs(text)[0]
    assert (ref.path, ref.line) == expected


# --------------------------------------------------------------------------------------------------
# Scores written inside a sentence, in several languages


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Overall, I would rate this codebase 7/10.", (7, 10)),
        ("I give it a solid 8/10 overall.", (8, 10)),
        ("En general, le daría al módulo un 7,5 sobre 10.", (7.5, 10)),
        ("No geral, o projeto merece 8/10.", (8, 10)),
        ("Итоговая оценка — 6 из 10.", (6, 10)),
        ("总体评分为 85 分（满分 100 分）。", (85, 100)),
        ("满分10分，得分7分", (7, 10)),
        ("종합 점수는 100점 만점에 72점입니다.", (72, 100)),
        ("10点満点中7点です。", (7, 10)),
        ("Gesamtbewertung: 6,5/10", (6.5, 10)),
        ("Fix bugs 1 and 2 before release. Overall: 6/10.", (6, 10)),
        ("**Overall rating:** ⭐⭐⭐⭐☆", (4, 5)),
        ("Rating: ★★★☆☆ (good)", (3, 5)),
        ("We tested 8/10 endpoints.", (None, None)),
        ("Pass rate: 95%", (None, None)),
    ],
)
def test_scores_in_sentences(text, score):
    result = parse(f"# Review\n\n{text}\n")
    assert (result.score, result.score_scale) == score


# --------------------------------------------------------------------------------------------------
# Doubts: AuditResult.warnings and AuditResult.doubtful


def test_a_clean_report_is_not_doubtful_and_has_no_findings():
    for name in ("en_clean_verdict.md", "ko_clean_verdict.md"):
        result = parse((REPORTS / name).read_text(encoding="utf-8"))
        assert (result.findings, result.warnings, result.doubtful) == ([], [], False), name


@pytest.mark.parametrize(
    "verdict",
    [
        "No issues were found.",
        "No critical issues.",
        "LGTM.",
        "Sin hallazgos.",
        "Nenhum problema encontrado.",
        "Keine Probleme gefunden.",
        "Проблем не обнаружено.",
        "未发现安全问题。",
        "問題は見つかりませんでした。",
        "문제가 발견되지 않았습니다.",
    ],
)
def test_clean_verdicts_in_several_languages(verdict):
    assert parse(f"# Review\n\n{verdict}\n").warnings == []


def test_no_findings_and_no_verdict_is_doubtful():
    result = parse("# Review\n\n## Things\n\n- The cache has no lock\n- Retries re-send POSTs\n")
    assert result.doubtful
    assert result.warnings[0].startswith("no findings and no clean verdict")


def test_stated_totals_that_disagree_with_the_items_are_doubtful_and_the_items_count():
    result = parse((REPORTS / "ru_stated_totals_disagree.md").read_text(encoding="utf-8"))
    assert {s.value: n for s, n in result.counts.items() if n} == {"P0": 2, "P1": 2, "P2": 1}
    assert result.warnings == [
        "the report's stated totals (P0 2, P1 3, P2 1) disagree with the findings it itemizes "
        "(P0 2, P1 2, P2 1)"
    ]


def test_stated_totals_that_agree_are_not_doubtful():
    result = parse((REPORTS / "zh_numbered_sections_fields.md").read_text(encoding="utf-8"))
    assert result.stated_counts is not None and result.warnings == []


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("**Score:** 85\n\n## High\n- [P1] x (a.py:1)", "a score of 85 is given without a scale"),
        ("It's a 7/10 for me.\n\n## High\n- [P1] x (a.py:1)", "a score-like 7/10 has no label"),
        ("**Rating:** ⭐⭐⭐⭐\n\n## High\n- [P1] x (a.py:1)", "a star rating ⭐⭐⭐⭐ has no scale"),
        (
            "**Overall score:** 7/10\n\n**Overall score:** 82/100\n\n## High\n- [P1] x (a.py:1)",
            "the report gives several overall scores that disagree (7/10, 82/100)",
        ),
    ],
)
def test_a_score_it_cannot_place_is_doubtful(text, start):
    result = parse(f"# Review\n\n{text}\n")
    assert any(w.startswith(start) for w in result.warnings), result.warnings


def test_warnings_round_trip_through_json():
    result = parse("# Review\n\nNothing much.\n")
    again = AuditResult.model_validate_json(result.model_dump_json())
    assert again.warnings == result.warnings and again.doubtful


def test_a_report_over_the_parser_limit_is_not_parsed_and_is_doubtful():
    parser = MarkdownParser()
    parser.max_bytes = 100
    result = parser.parse("## High\n\n" + "- [P1] x (a.py:1)\n" * 20)
    assert result.findings == [] and result.doubtful
    assert "over the 100-byte limit" in result.warnings[0]


# --------------------------------------------------------------------------------------------------
# gitorch parse: --strict, warnings, the size limit


def test_parse_reports_warnings_on_stderr_and_in_the_json(cli, tmp_path):
    path = tmp_path / "r.md"
    path.write_text("# Review\n\n## Notes\n\n- The cache has no lock\n", encoding="utf-8")
    result = cli("parse", str(path), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["warnings"][0].startswith("no findings and no clean verdict")
    assert result.stderr.startswith("gitorch: warning: no findings and no clean verdict")


def test_parse_strict_exits_4_when_the_parse_is_doubtful(cli, tmp_path):
    doubtful = tmp_path / "d.md"
    doubtful.write_text("# Review\n\nThe code is fine, mostly.\n", encoding="utf-8")
    assert cli("parse", str(doubtful), "--strict").exit_code == 4
    clean = tmp_path / "c.md"
    clean.write_text("# Review\n\nNo issues found.\n", encoding="utf-8")
    assert cli("parse", str(clean), "--strict").exit_code == 0
    sure = tmp_path / "s.md"
    sure.write_text("# Review\n\n**Score:** 7/10\n\n## High\n\n- [P1] x (a.py:1)\n", encoding="utf-8")
    assert cli("parse", str(sure), "--strict", "--json").exit_code == 0


def test_parse_refuses_a_report_over_the_size_limit_in_one_line(cli, tmp_path):
    path = tmp_path / "big.md"
    path.write_text("## High\n\n" + "- [P1] x (a.py:1)\n" * 100, encoding="utf-8")
    result = cli("parse", str(path), "--max-size", "1000", "--json")
    assert result.exit_code == 5
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "over the 1,000 bytes limit (--max-size)" in result.stderr
    assert cli("parse", "-", "--max-size", "1000", input=path.read_text()).exit_code == 5
    assert cli("parse", str(path), "--max-size", "100000", "--json").exit_code == 0


def test_parse_rejects_a_file_that_is_not_utf8(cli, tmp_path):
    path = tmp_path / "bin.md"
    path.write_bytes(b"\xff\xfe\x00binary")
    result = cli("parse", str(path))
    assert result.exit_code == 2 and "not a UTF-8 text file" in result.stderr


# --------------------------------------------------------------------------------------------------
# Linear work (counted, never timed)


def test_chunked_parsing_reads_reports_exactly_as_a_whole(monkeypatch):
    texts = [p.read_text(encoding="utf-8") for p in sorted(REPORTS.glob("*.md"))]
    whole = [parse(t) for t in texts]
    monkeypatch.setattr(document, "CHUNK_CHARS", 200)
    assert len(list(document._chunks(texts[0]))) > 1
    chunked = [parse(t) for t in texts]
    for a, b in zip(whole, chunked, strict=True):
        assert [(f.severity, f.file, f.line, f.description) for f in a.findings] == [
            (f.severity, f.file, f.line, f.description) for f in b.findings
        ]
        assert (a.score, a.stated_counts, a.warnings) == (b.score, b.stated_counts, b.warnings)


def test_chunks_are_never_cut_inside_a_fence_and_unwrap_markdown_fences():
    text = "intro\n\n```python\n" + "x = 1\n\n" * 50 + "```\n\n```markdown\n## High\n- [P1] y (b.py:2)\n```\n"
    chunks = [chunk for _, chunk in document._chunks(text, size=20)]
    assert "".join(chunks).count("```python") == 1
    assert all(c.count("```") % 2 == 0 for c in chunks if "```" in c)
    assert "```markdown" not in "".join(chunks)


def test_the_markdown_engine_sees_bounded_chunks(monkeypatch):
    sizes: list[int] = []
    real = document._chunks

    def spy(text, size=None):
        for offset, chunk in real(text, size):
            sizes.append(len(chunk))
            yield offset, chunk

    monkeypatch.setattr(document, "_chunks", spy)
    block = (REPORTS / "en_bold_id_paragraphs.md").read_text(encoding="utf-8")
    parse("\n\n".join([block] * 400))
    assert len(sizes) > 2 and max(sizes) < document.CHUNK_CHARS + len(block)


def test_merging_restatements_compares_each_entry_with_a_bounded_number_of_others(monkeypatch):
    """Doubling the entries (all alike in their words) at most doubles the candidate pairs looked at."""
    looked_at: list[int] = []

    def counting_sorted(candidates):
        looked_at.append(len(candidates))
        return sorted(candidates)

    monkeypatch.setattr(report, "sorted", counting_sorted, raising=False)
    totals = []
    for n in (1000, 2000):
        looked_at.clear()
        rows = "".join(f"- [P2] Problem number {i} in module {i} (m{i}.py:{i})\n" for i in range(n))
        assert len(parse("## Findings\n\n" + rows).findings) == n
        totals.append(sum(looked_at))
    assert totals[0] > 0 and totals[1] <= 2.2 * totals[0], totals


def test_a_severity_scale_written_as_a_list_is_a_legend_not_findings():
    text = (
        "# Review\n\nSeverity scale:\n\n- 🔴 **Critical**: exploitable now\n- 🟠 **High**: serious\n"
        "- 🟡 **Medium**: should fix\n\n## Findings\n\n- 🔴 **Critical**: SQL injection in `db.py:3`\n"
    )
    assert found(text) == [("P0", "db.py", 3)]


# --------------------------------------------------------------------------------------------------
# Round 2: things that look like findings and are not (plans, advice, verdicts, restatements,
# dismissed entries, per-category and per-finding scores), each with a control that still counts


@pytest.mark.parametrize(
    "table",
    [
        "| Prioridad | Accion |\n|---|---|\n| CRITICA | Rotar la clave |\n| ALTA | Configurar la CSP |\n",
        "| Task | Owner | Priority |\n|---|---|---|\n| Rotate keys | Ops | High |\n| Logs | Dev | Medium |\n",
        "| Priorität | Maßnahme | Aufwand |\n|---|---|---|\n| Hoch | Export | 2h |\n| Mittel | Tor | 1h |\n",
    ],
)
def test_a_table_of_actions_is_a_plan(table):
    assert found(f"# Audit\n\n## Pending\n\n{table}") == []


def test_a_table_with_a_problem_column_is_findings():
    table = "| Severity | Issue | Fix |\n|---|---|---|\n| High | SQL injection in `db.py:4` | Bind |\n"
    assert found(f"# Audit\n\n## Pending\n\n{table}") == [("P1", "db.py", 4)]


@pytest.mark.parametrize(
    "title",
    ["## Acciones pendientes", "## Sofortmaßnahmen", "## Handlungsempfehlungen", "## 優先度別の改善推奨事項"],
)
def test_action_headings_in_other_languages_are_plans(title):
    assert found(f"# Audit\n\n{title}\n\n- 🔴 **Crítico:** rotar la clave de `app.py:3`\n") == []


def test_a_recommendation_list_is_advice_and_its_priority_rates_the_entry():
    text = (
        "## 2. Crypto\n\n### 2.1 Key storage\n\n**Status**: ⚠️ needs work\n\n**Files**:\n"
        "- `src/keys.rs` (lines 11-49)\n\n**Recommendations**:\n- 🔴 **High priority**: use the OS keystore\n"
        "- keep the current code meanwhile\n\n### 2.2 Transport\n\n**Status**: ✅ good\n\n"
        "**Recommendations**:\n- 🟡 **Medium priority**: consider certificate pinning\n"
    )
    assert found(text) == [("P1", "src/keys.rs", 11)]


@pytest.mark.parametrize(
    "heading",
    [
        "## Overall risk: High",
        "## 総合評価: ⚠️ 中程度のリスク",
        "## Gesamtrisiko: Mittel",
        "## Общая оценка: высокий риск",
    ],
)
def test_a_verdict_heading_is_not_a_finding(heading):
    result = parse(f"# Review\n\n{heading}\n\nSolid overall; see the details.\n\nNo issues found.\n")
    assert result.findings == []


def test_a_severity_prefixed_heading_is_still_a_finding():
    assert found("# Review\n\n## Critical: SQL injection in login\n\n`auth.py:12` concatenates.\n") == [
        ("P0", "auth.py", 12)
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("**File:** `app/pay.js` (line ~24)\n", ("app/pay.js", 24)),
        (
            "**File:** `app/ui.js` (30+ places)\n\n```js\n// Lines 42, 47, 158\nstore();\n```\n",
            ("app/ui.js", 42),
        ),
        ("**File:** `app/ui.js`\n\nThe loader already shows it (line 3033-3034).\n", ("app/ui.js", 3033)),
        ("**File:** `src/Foo.java` (L45-L60)\n", ("src/Foo.java", 45)),
        ("The handler in `server/upload.rs` reads the whole body (line 88).\n", ("server/upload.rs", 88)),
        ("**File:** `app/main.js` (5,452 lines)\n", ("app/main.js", None)),
    ],
)
def test_a_line_written_apart_from_its_file(body, expected):
    assert found(f"## Findings\n\n### 1. Problem\n\n**Severity:** High\n{body}") == [("P1", *expected)]


def test_product_names_are_not_files():
    assert found("## Findings\n\n### 1. Tests crash in Node.js\n\n**Severity:** Medium\n") == [
        ("P2", None, None)
    ]


def test_a_score_row_over_time_gives_its_latest_column():
    text = (
        "# Re-audit\n\n| Metric | Before | After phase 1 | After all fixes |\n|---|---|---|---|\n"
        "| Security | 8.5/10 | 8.5/10 | 9.4/10 |\n| **Overall score** | 8.2/10 | 8.3/10 | **9.2/10** |\n\n"
        "No issues found.\n"
    )
    result = parse(text)
    assert (result.score, result.score_scale, result.warnings) == (9.2, 10, [])


def test_per_category_scores_give_no_overall_score():
    text = (
        "# Review\n\n| Area | Score |\n|---|---|\n| Security | 6/10 |\n| Tests | 7/10 |\n\nNo issues found.\n"
    )
    result = parse(text)
    assert (result.score, result.score_scale) == (None, None)
    assert result.warnings == ["per-category scores (6/10, 7/10) and no overall score; none taken"]
    overall = parse(text.replace("| Tests | 7/10 |", "| Tests | 7/10 |\n| Overall | 6.5/10 |"))
    assert (overall.score, overall.score_scale) == (6.5, 10)


def test_a_score_inside_a_finding_rates_that_finding():
    text = (
        "## Findings\n\n### 1. SQL injection\n\n**Severity:** High\n**Risk score:** 8/10\n**File:** `db.py:4`"
    )
    result = parse(text)
    assert (result.score, result.warnings) == (None, [])
    assert parse("# Audit\n\nScore: 6/10\n\n" + text).score == 6.0


def test_times_are_not_scores():
    result = parse("# Review\n\nBoundaries tested: 05:00/10:00 and 18:00/23:59.\n\nNo issues found.\n")
    assert (result.score, result.warnings) == (None, [])


def test_a_table_restating_every_finding_in_other_words_counts_once():
    text = (
        "## Details\n\n### 1. Hashing with SHA-256\n**Severity:** Critical\n**File:** `login.js:11`\n\n"
        "### 2. Token in the logs\n**Severity:** High\n**File:** `pay.js`\n\n"
        "### 3. Listeners never removed\n**Severity:** Medium\n**File:** `app.js:761`\n\n"
        "## Issue tracker\n\n| # | Issue | Severity | File |\n|---|---|---|---|\n"
        "| 1 | Switch to bcrypt | Critical | login.js |\n| 2 | Drop the log line | High | pay.js:20 |\n"
        "| 3 | Use delegation | Medium | app.js |\n"
    )
    result = parse(text)
    assert [(f.severity.value, f.file, f.line) for f in result.findings] == [
        ("P0", "login.js", 11),
        ("P1", "pay.js", 20),
        ("P2", "app.js", 761),
    ]
    assert result.notes[-1].startswith("3 entries (table rows) restate the findings")


def test_two_short_lists_rated_alike_are_not_taken_for_each_other():
    text = (
        "## Backend\n\n### 1. Unbounded upload\n**Severity:** High\n**File:** `api/upload.py:9`\n\n"
        "### 2. Debug mode on\n**Severity:** Medium\n**File:** `settings.py:3`\n\n"
        "## Frontend\n\n- [High] Token kept in localStorage (`web/auth.ts:30`)\n"
        "- [Medium] No CSP meta tag (`web/index.html:1`)\n"
    )
    assert [sev for sev, _, _ in found(text)] == ["P1", "P2", "P1", "P2"]


@pytest.mark.parametrize(
    "dismissal",
    [
        "**Severity**: LOW (false alarm — the implementation is correct)\n",
        "**Severity**: LOW\n\n**Conclusion**: No vulnerability. The comparison is constant-time.\n",
        "**Severity**: LOW\n**Status**: False positive\n",
        "**Severity**: Bajo\n**Conclusión**: falso positivo\n",
    ],
)
def test_an_entry_the_report_dismisses_is_not_a_finding(dismissal):
    text = (
        f"## Findings\n\n### Finding 3: Timing leak in compare\n\n{dismissal}**File**: `auth/compare.rs:12`\n"
    )
    assert found(text) == []


def test_a_dismissed_entry_restated_in_a_table_is_not_counted_either():
    text = (
        "## Findings table\n\n| # | Finding | Severity | Status |\n|---|---|---|---|\n"
        "| 1 | Token printed in debug logs | MEDIUM | Requires fix |\n"
        "| 2 | Timing leak in token comparison | LOW | Bounds-checked |\n\n"
        "## Details\n\n### Finding 1: Token printed in debug logs\n**Severity**: MEDIUM\n"
        "**File**: `cli/login.rs:41`\n\n### Finding 2: Timing leak in token comparison\n**Severity**: LOW\n"
        "**File**: `auth/compare.rs:12`\n\n"
        "**Conclusion**: No vulnerability.\n"
    )
    assert found(text) == [("P2", "cli/login.rs", 41)]


def test_a_mitigated_but_rated_entry_still_counts():
    text = "## Findings\n\n### Finding 4: Cache keys may collide\n\n**Severity**: LOW\n"
    text += (
        "**File**: `core/key.rs:30`\n\n**Conclusion**: The risk is adequately mitigated. No fix required.\n"
    )
    assert found(text) == [("P3", "core/key.rs", 30)]


def test_a_numbered_heading_whose_body_is_bullets_is_one_finding():
    text = "## High issues\n\n### 1.2. Heavy libraries in the main bundle\n\n- Charts ship at start.\n"
    text += "- Two pages use them.\n"
    assert found(text) == [("P1", None, None)]


def test_an_unnumbered_category_under_a_severity_heading_lists_findings():
    text = (
        "## Medium priority — correctness\n\n| Issue | Where |\n|---|---|\n| Rename race | `store.rename` |\n"
        "| Stale banner | `Workspace` |\n\n### Concurrency (multi-tab)\n\n- Last write wins.\n"
        "- Parallel create races.\n\nWorth documenting.\n"
    )
    assert [sev for sev, _, _ in found(text)] == ["P2", "P2", "P2", "P2"]


def test_a_finding_with_one_numbered_detail_heading_is_not_a_group():
    text = "## Findings\n\n### [HIGH] SQL injection in search\n\n`db.py:4` concatenates.\n\n"
    text += "#### 1. Steps to reproduce\n\nSend a quote.\n"
    assert found(text) == [("P1", "db.py", 4)]


def test_bold_lead_ins_under_a_finding_rated_by_colour_are_its_details():
    text = (
        "## Findings\n\n### 🔴 SQL injection in search\n\n**Attack scenario.** Send a quote to `db.py:4`.\n\n"
    )
    text += "**Why it matters.** Data leaks.\n"
    assert found(text) == [("P0", "db.py", 4)]


def test_bold_lead_ins_under_a_severity_heading_with_an_intro_are_findings():
    text = "### High\n\nFix these first.\n\n**Race in refresh.** `cache.py:8` has no lock.\n\n"
    text += "**Unsafe retries.** `http.py:4` retries POSTs.\n"
    assert found(text) == [("P1", "cache.py", 8), ("P1", "http.py", 4)]


def test_polish_and_german_inflections():
    assert found(
        "## Szczegóły\n\n### 1. Brak limitu\n\n**Waga:** Krytyczna\n**Plik:** `app/main.py:40`\n"
    ) == [("P0", "app/main.py", 40)]
    assert found("## Kritische Sicherheitsbefunde\n\n### 1. Export ohne Prüfung\n\n`api/export.py:58`\n") == [
        ("P0", "api/export.py", 58)
    ]


def test_a_fixed_entry_with_a_priority_is_resolved():
    text = "## Statut\n\n### ✅ M-001: CSP unsafe-inline\n**Status**: ✅ **FULLY RESOLVED**\n"
    text += "**Priority**: Medium\n"
    result = parse(text)
    assert result.findings == []
    assert [f.severity.value for f in result.resolved] == ["P2"]


def test_a_summary_list_split_by_severity_restating_the_details_counts_once():
    text = (
        "## 主要问题\n\n### P0\n\n- 库存扣减没有加锁\n\n### P2\n\n- 日志输出完整请求体\n- 缺少分页\n\n"
        "## 问题详情\n\n#### [P0] 并发扣减导致负库存\n`stock/service.py:120`\n\n"
        "#### [P2] 请求体写入日志\n`common/logging.py:33`\n\n#### [P2] 列表接口不分页\n`api/list.py:8`\n"
    )
    assert found(text) == [
        ("P0", "stock/service.py", 120),
        ("P2", "common/logging.py", 33),
        ("P2", "api/list.py", 8),
    ]


def test_an_impact_column_beside_an_effort_column_prioritises_work():
    table = "| Improvement | Impact | Effort |\n|---|---|---|\n| Cache the catalogue | High | Low |\n"
    table += "| Split the bundle | Medium | High |\n"
    assert found(f"## Findings\n\n{table}") == []


def test_an_impact_column_rates_rows_only_in_a_findings_section():
    table = "| Problem | Impact |\n|---|---|\n| N+1 query in `orders.py:40` | High |\n| No index | Medium |\n"
    assert [sev for sev, _, _ in found(f"## Issues\n\n{table}")] == ["P1", "P2"]
    ideas = "| Idea | Impact |\n|---|---|\n| Cache the catalogue | High |\n| Split the bundle | Medium |\n"
    assert found(f"## Ideas\n\n{ideas}") == []


@pytest.mark.parametrize(
    "heading",
    ["## Behobene Schwachstellen", "## Исправленные проблемы", "## 已修复问题", "## Erledigte Punkte"],
)
def test_fixed_sections_in_other_languages(heading):
    result = parse(f"# Audit\n\n{heading}\n\n- [P1] Token in logs (`cli/login.rs:41`)\n")
    assert (result.findings, [f.severity.value for f in result.resolved]) == ([], ["P1"])


@pytest.mark.parametrize("heading", ["## Nicht behobene Probleme", "## Неисправленные проблемы"])
def test_not_fixed_sections_are_open(heading):
    text = f"# Audit\n\n{heading}\n\n- [P1] Token in logs (`cli/login.rs:41`)\n"
    assert found(text) == [("P1", "cli/login.rs", 41)]


def test_improvements_are_findings_only_when_the_heading_rates_them():
    rated = "## OPTIMIZACIONES (P3)\n\n### 1. Índice faltante\n\n### 2. Caché ausente\n"
    assert [sev for sev, _, _ in found(rated)] == ["P3", "P3"]
    assert found("## Suggested improvements\n\n- (High) Add authentication to the admin API\n") == []


def test_a_colour_alone_outside_findings_needs_a_location():
    lights = "- 🔴 Kein HTTPS erzwungen\n- 🟡 Cookies ohne Secure\n"
    assert found(f"# Prüfbericht\n\n## Checkliste\n\n{lights}") == []
    assert [sev for sev, _, _ in found(f"# Prüfbericht\n\n## Befunde\n\n{lights}")] == ["P0", "P2"]
    located = "- 🔴 SQL injection in `db.py:4`\n"
    assert found(f"# Prüfbericht\n\n## Checkliste\n\n{located}") == [("P0", "db.py", 4)]
    heading = "# Prüfbericht\n\n### 🔴 Kein HTTPS\n\nDer Server lauscht auf Port 80.\n"
    assert found(heading) == []
    assert found(heading.replace("Port 80.", "Port 80 (`server.js:12`).")) == [("P0", "server.js", 12)]


@pytest.mark.parametrize(
    ("text", "line"),
    [("`Dashboard.tsx`（850行）", None), ("`Dashboard.tsx` の 850行目", 850), ("`view.py` 第 88 行", 88)],
)
def test_a_cjk_line_count_is_a_length_not_a_line(text, line):
    assert [(r.path, r.line) for r in find_refs(text.replace("（", " (").replace("）", ") "))][0][1] == line


def test_in_a_findings_section_the_recommendation_priority_rates_a_plain_entry():
    text = "## Findings\n\n### 3.2 Dynamic queries\n\nBuilt by string concatenation.\n\n"
    text += "**Recommendations**:\n- 🟡 **Medium**: review them\n"
    assert [(f.severity.value, f.description) for f in parse(text).findings] == [("P2", "Dynamic queries")]
