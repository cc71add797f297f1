import json
from pathlib import Path

import pytest

from gitorch.audit.render import render, to_markdown, to_sarif
from gitorch.models import AuditResult, Finding

SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


def _result():
    return AuditResult(
        dimension="security",
        agent="local",
        score=61.5,
        score_scale=100,
        score_source="computed",
        loc=1200,
        findings=[
            Finding(
                dimension="security",
                severity="P0",
                rule_id="B602",
                file="app/run.py",
                line=12,
                end_line=14,
                description="subprocess call with shell=True",
                recommendation="Pass a list and shell=False.",
            ),
            Finding(
                dimension="security",
                severity="P2",
                rule_id="B311",
                file="app/codes.py",
                line=3,
                description="random is not suitable for security",
            ),
            Finding(dimension="security", severity="P3", description="no security policy documented"),
        ],
    )


def test_json_round_trips_into_audit_result():
    result = _result()
    assert AuditResult.model_validate_json(render([result], "json")) == result


def test_json_for_several_dimensions_is_an_array_of_results():
    data = json.loads(render([_result(), _result()], "json"))
    assert [AuditResult.model_validate(item) for item in data] == [_result(), _result()]


def test_markdown_follows_the_original_layout():
    text = to_markdown(_result())
    assert "**Score:** 61.5/100" in text
    assert text.index("(P0)") < text.index("(P2)") < text.index("(P3)")
    assert "- [P0] `B602` subprocess call with shell=True (app/run.py:12)" in text
    assert "Recommendation: Pass a list and shell=False." in text


def test_table_lists_every_finding_with_its_location():
    text = render([_result()], "table")
    assert "61.5/100" in text and "app/run.py:12" in text and "B311" in text


def test_sarif_is_valid_against_the_official_schema():
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    log = json.loads(render([_result()], "sarif"))
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))


def test_sarif_has_what_github_code_scanning_requires():
    log = to_sarif([_result()])
    assert log["version"] == "2.1.0" and log["$schema"]
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "gitorch"
    rules = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    for item in run["results"]:
        assert item["ruleId"] in rules
        assert item["message"]["text"]
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"]
        assert "region" not in location or location["region"]["startLine"] >= 1
        assert item["partialFingerprints"]
    assert [r["level"] for r in run["results"]] == ["error", "warning", "note"]


def test_gitorch_markdown_is_read_back_by_the_markdown_parser():
    from gitorch_markdown import MarkdownParser

    result = _result()
    parsed = MarkdownParser().parse(to_markdown(result), dimension="security")
    assert (parsed.score, parsed.score_scale) == (61.5, 100)
    assert parsed.counts == result.counts
    assert [(f.severity, f.file, f.line) for f in parsed.findings] == [
        (f.severity, f.file, f.line) for f in result.findings
    ]
