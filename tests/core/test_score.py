import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitorch.models import Finding, Severity
from gitorch.score import FORMULA_VERSION, compute_score, improved, measure, score_v1


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
    # 1 P1 + 2 P2 + 4 P3 in 4,000 lines: weight 5+4+2 = 11, size √4 = 2, w 5.5, P1 band (60, 79]:
    # 60 + 19·100/105.5 = 78.009…
    assert compute_score(findings(P1=1, P2=2, P3=4), 4000) == 78.01
    # without the P1: w = 6/2 = 3, P2/P3 band (80, 99]: 80 + 19·100/103 = 98.446…
    assert compute_score(findings(P2=2, P3=4), 4000) == 98.45


def test_worked_example_of_a_p0_run_where_two_p1_fixes_move_the_score():
    # 1 P0 + 3 P1 + 2 P3 in 2,000 lines: weight 26, size √2, w 18.38: 59·100/118.38 = 49.84
    assert compute_score(findings(P0=1, P1=3, P3=2), 2000) == 49.84
    # two P1 fixed: weight 16, w 11.31: 59·100/111.31 = 53.00 (formula 1 said 59.0 both times)
    assert compute_score(findings(P0=1, P1=1, P3=2), 2000) == 53.0
    assert score_v1(findings(P0=1, P1=3, P3=2), 2000) == score_v1(findings(P0=1, P1=1, P3=2), 2000) == 59.0


def test_a_critical_finding_keeps_the_score_below_the_default_acceptable_score():
    assert compute_score(findings(P0=1), 1_000_000) <= 59.0
    assert compute_score(findings(P1=1), 1_000_000) <= 79.0


def test_bigger_code_dilutes_the_same_findings():
    assert compute_score(findings(P2=5), 1000) < compute_score(findings(P2=5), 100_000)


def test_score_never_reaches_zero_and_is_deterministic():
    many = findings(P0=50)
    assert 0 < measure(many, 10) < measure(many[1:], 10)
    assert compute_score(many, 10) == compute_score(list(reversed(many)), 10)


def test_rounding_never_shows_a_band_end_that_was_not_earned():
    # a P3 in a billion lines is a hair below 99: shown as 98.99, never 99 or 100
    assert compute_score(findings(P3=1), 10**12) == 98.99


def test_old_ledgers_can_be_scored_with_formula_1():
    assert compute_score(findings(P1=1, P2=2, P3=4), 4000, formula=1) == 79.0
    assert compute_score(findings(P2=2, P3=4), 4000, formula=1) == 97.0
    assert compute_score(findings(P0=50), 10, formula=1) == 0.0
    assert FORMULA_VERSION == 2
    with pytest.raises(ValueError, match="unknown score formula 7"):
        compute_score([], 10, formula=7)


# --- properties ---------------------------------------------------------------------------------

SEVERITIES = [Severity.P0, Severity.P1, Severity.P2, Severity.P3]
counts = st.fixed_dictionaries({s: st.integers(0, 1_000) for s in [*SEVERITIES, Severity.P4]})
sizes = st.integers(0, 100_000_000)


POOL = {s: findings(**{str(s): 1_001})[: 1_001] for s in [*SEVERITIES, Severity.P4]}


def build(c):
    return [f for s, n in c.items() for f in POOL[s][:n]]


@settings(max_examples=200, deadline=None, database=None)
@given(counts, sizes, st.sampled_from(SEVERITIES))
def test_removing_a_finding_with_nothing_new_always_raises_the_score(c, loc, severity):
    before = build({**c, severity: c[severity] + 1})
    after = build(c)
    assert measure(after, loc) > measure(before, loc)
    assert improved(before, after, loc) and not improved(after, before, loc)
    assert compute_score(after, loc) >= compute_score(before, loc)  # the display never goes backwards


@settings(max_examples=200, deadline=None, database=None)
@given(counts, sizes, st.sampled_from(SEVERITIES), st.sampled_from(SEVERITIES))
def test_trading_a_finding_for_a_less_severe_one_raises_the_score(c, loc, worse, better):
    if better.rank <= worse.rank:
        worse, better = better, worse
    if better == worse:
        return
    before = build({**c, worse: c[worse] + 1})
    after = build({**c, better: c[better] + 1})
    assert measure(after, loc) > measure(before, loc)


@settings(max_examples=200, deadline=None, database=None)
@given(counts, sizes)
def test_the_bands_hold_for_any_finding_set(c, loc):
    score = compute_score(build(c), loc)
    if c[Severity.P0]:
        assert measure(build(c), loc) > 0 and score <= 59
    elif c[Severity.P1]:
        assert 60 <= score <= 79
    elif c[Severity.P2] or c[Severity.P3]:
        assert 80 <= score < 100
    else:
        assert score == 100


@settings(max_examples=200, deadline=None, database=None)
@given(counts, sizes)
def test_info_findings_never_move_the_score(c, loc):
    assert measure(build(c), loc) == measure(build({**c, Severity.P4: 0}), loc)


def test_one_p3_is_visible_in_the_display_up_to_5000_lines_and_weight_200():
    # the README's display-precision promise: two decimals show every finding in that range
    for loc in (0, 1000, 2500, 5000):
        for p0, p1, p2 in ((0, 0, 0), (0, 0, 99), (0, 39, 0), (19, 0, 4)):
            base = build({Severity.P0: p0, Severity.P1: p1, Severity.P2: p2, Severity.P3: 1, Severity.P4: 0})
            more = base + POOL[Severity.P3][1:2]
            assert compute_score(base, loc) > compute_score(more, loc), (loc, p0, p1, p2)
