import pytest

from gitorch.models import Finding
from gitorch.score import compute_score


def findings(**counts):
    out = []
    for sev, n in counts.items():
        out += [
            Finding(dimension="d", severity=sev, description=f"{sev} {i}", file="a.py", line=i + 1)
            for i in range(n)
        ]
    return out


def test_no_findings_scores_100():
    assert compute_score([], 500) == 100.0


def test_info_findings_do_not_lower_the_score():
    assert compute_score(findings(P4=5), 500) == 100.0


@pytest.mark.parametrize("sev", ["P0", "P1", "P2", "P3"])
def test_100_only_when_nothing_at_p0_to_p3_remains_even_in_huge_code(sev):
    assert compute_score(findings(**{sev: 1}), 50_000_000) < 100


def test_worked_example_from_the_readme():
    # 1 P1 + 2 P2 + 4 P3 in 4,000 lines: weight 5+4+2 = 11, size √4 = 2, raw 94.5, capped at 79 by the P1.
    assert compute_score(findings(P1=1, P2=2, P3=4), 4000) == 79.0
    # without the P1: weight 6 / 2 = 3 → 97.0
    assert compute_score(findings(P2=2, P3=4), 4000) == 97.0


def test_a_critical_finding_caps_the_score_below_the_default_acceptable_score():
    assert compute_score(findings(P0=1), 1_000_000) == 59.0


def test_bigger_code_dilutes_the_same_findings():
    assert compute_score(findings(P2=5), 1000) < compute_score(findings(P2=5), 100_000)


def test_score_never_goes_below_zero_and_is_deterministic():
    many = findings(P0=50)
    assert compute_score(many, 10) == 0.0
    assert compute_score(many, 10) == compute_score(list(reversed(many)), 10)
