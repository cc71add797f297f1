import pytest
from pydantic import ValidationError

from gitorch.models import AuditResult, Finding, Severity, Usage


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("P0", "P0"),
        ("p3", "P3"),
        ("Critical", "P0"),
        ("CRÍTICO", "P0"),
        ("Alta", "P1"),
        ("high", "P1"),
        ("Média", "P2"),
        ("moderate", "P2"),
        ("Baja", "P3"),
        ("low", "P3"),
        ("info", "P4"),
        ("Informativo", "P4"),
    ],
)
def test_severity_accepts_codes_and_words_in_several_languages(word, expected):
    assert Severity.parse(word) == Severity(expected)


def test_unknown_severity_word_is_rejected():
    with pytest.raises(ValueError, match="not a severity"):
        Severity.parse("catastrophic-ish")


def test_severities_order_by_urgency():
    assert sorted([Severity.P3, Severity.P0, Severity.P2]) == [Severity.P0, Severity.P2, Severity.P3]
    assert Severity.P0 < Severity.P1


def test_finding_coerces_severity_words():
    assert Finding(dimension="security", severity="High", description="x").severity is Severity.P1


def _finding(line: int, severity: str = "P1", **kw) -> Finding:
    return Finding(
        dimension="security",
        rule_id="B602",
        file="app.py",
        line=line,
        description="subprocess call with shell=True",
        snippet="run(cmd, shell=True)",
        severity=severity,
        **kw,
    )


def test_fingerprint_is_stable_when_unrelated_lines_move():
    assert _finding(10).fingerprint == _finding(42).fingerprint


def test_fingerprint_changes_with_the_offending_code_or_file():
    moved = Finding(
        dimension="security",
        severity="P1",
        rule_id="B602",
        file="other.py",
        line=10,
        description="subprocess call with shell=True",
        snippet="run(cmd, shell=True)",
    )
    changed = Finding(
        dimension="security",
        severity="P1",
        rule_id="B602",
        file="app.py",
        line=10,
        description="subprocess call with shell=True",
        snippet="run(other, shell=True)",
    )
    assert len({_finding(10).fingerprint, moved.fingerprint, changed.fingerprint}) == 3


def test_fingerprint_without_snippet_ignores_line_numbers_quoted_in_the_description():
    a = Finding(dimension="tests", severity="P1", description="test fails at line 12", file="t.py", line=12)
    b = Finding(dimension="tests", severity="P1", description="test fails at line 30", file="t.py", line=30)
    assert a.fingerprint == b.fingerprint


def test_duplicate_findings_get_distinct_fingerprints_in_a_result():
    result = AuditResult(
        dimension="security", agent="x", findings=[_finding(1, severity="P1"), _finding(9, severity="P1")]
    )
    prints = [f.fingerprint for f in result.findings]
    assert len(set(prints)) == 2 and prints[1] == prints[0] + "-2"


def test_audit_result_counts_are_derived_from_findings_and_json_round_trips():
    result = AuditResult(
        dimension="security",
        agent="x",
        score=75,
        score_scale=100,
        findings=[_finding(1, severity="P0"), _finding(2, severity="P2", recommendation="r")],
        counts={"P0": 9},
    )
    assert result.counts[Severity.P0] == 1 and result.counts[Severity.P2] == 1
    again = AuditResult.model_validate_json(result.model_dump_json())
    assert again == result


def test_audit_result_rejects_unknown_keys():
    with pytest.raises(ValidationError):
        AuditResult.model_validate({"dimension": "d", "agent": "a", "bogus": 1})


def test_usage_adds_up_and_tracks_where_cost_came_from():
    total = Usage(
        calls=1, input_tokens=10, output_tokens=2, cost_usd=0.1, cost_source="reported", models=["a"]
    ) + Usage(calls=1, input_tokens=5, output_tokens=1, cost_usd=0.2, cost_source="priced", models=["b"])
    assert (total.calls, total.input_tokens, total.output_tokens) == (2, 15, 3)
    assert (
        total.cost_usd == pytest.approx(0.3) and total.cost_source == "mixed" and total.models == ["a", "b"]
    )
