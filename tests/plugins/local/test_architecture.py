from __future__ import annotations

from gitorch.config import Config
from gitorch.models import Severity

from .conftest import by_rule


def branches(name: str, n: int) -> str:
    """A function of cyclomatic complexity n + 1."""
    body = "".join(f"    if x == {i}:\n        y += {i} * x - (x % {i + 1})\n" for i in range(n))
    return f"def {name}(x):\n    y = 0\n{body}    return y\n\n\n"


FILES = {
    "simple.py": "def ok(x):\n    return x + 1\n",
    "complex.py": branches("medium", 12) + branches("heavy", 45),  # C (13) and F (46)
    "huge.py": "".join(branches(f"f{i}", 35) for i in range(6)),  # E (36) each; MI rank C
    "mid.py": "".join(branches(f"g{i}", 8) for i in range(9)),  # B functions; MI rank B
}


def test_complexity_ranks_become_findings_of_rising_severity(project, audit):
    root = project(FILES)
    progress: list[str] = []
    result = audit(root, "architecture", progress=progress)
    cc = {f.snippet: f for f in by_rule(result, "radon:cc")}

    assert cc["def medium(x):"].severity == Severity.P3
    assert cc["def f0(x):"].severity == Severity.P2
    assert cc["def heavy(x):"].severity == Severity.P1
    heavy = cc["def heavy(x):"]
    assert (heavy.file, heavy.line, heavy.source) == ("complex.py", 30, "radon")
    assert "complexity 46 (rank F)" in heavy.description
    assert not any(f.file in ("simple.py", "mid.py") for f in by_rule(result, "radon:cc"))
    assert progress == ["running radon cc…", "running radon mi…"]


def test_maintainability_index_ranks_b_and_c_become_findings(project, audit):
    root = project(FILES)
    mi = {f.file: f for f in by_rule(audit(root, "architecture"), "radon:mi")}
    assert set(mi) == {"huge.py", "mid.py"}
    assert mi["huge.py"].severity == Severity.P2
    assert mi["mid.py"].severity == Severity.P3


def test_thresholds_and_severities_come_from_options(project, audit):
    root = project(FILES)
    options = {"cc_min_rank": "E", "mi_min_rank": "C", "cc_severity": {"E": "P0", "F": "P0"}}
    result = audit(root, "architecture", options=options)
    assert {f.snippet for f in by_rule(result, "radon:cc")} == {"def heavy(x):"} | {
        f"def f{i}(x):" for i in range(6)
    }
    assert {f.severity for f in by_rule(result, "radon:cc")} == {Severity.P0}
    assert [f.file for f in by_rule(result, "radon:mi")] == ["huge.py"]


def test_excluded_and_hidden_directories_are_not_measured(project, audit):
    root = project({**FILES, "vendor/big.py": FILES["complex.py"], ".hidden/big.py": FILES["complex.py"]})
    files = {f.file for f in audit(root, "architecture", config=Config(exclude=["vendor"])).findings}
    assert files == {"complex.py", "huge.py", "mid.py"}


def test_dry_run_lists_both_radon_commands(project, audit):
    root = project(FILES)
    notes = audit(root, "architecture", dry_run=True).notes
    assert [n.split(" && ")[1].split()[1:3] for n in notes] == [["cc", "-j"], ["mi", "-j"]]


def test_data_tables_are_left_out_of_the_maintainability_index(project, audit):
    table = "TABLE = [\n" + "".join(f"    ({i}, {i * 7}, 'x{i}'),\n" for i in range(300)) + "]\n"
    root = project({**FILES, "pkg/table.py": table, "pkg/code.py": FILES["mid.py"]})
    result = audit(root, "architecture")
    assert {f.file for f in by_rule(result, "radon:mi")} == {"huge.py", "mid.py", "pkg/code.py"}
    assert any("skipped 1 data table file(s)" in n and "pkg/table.py" in n for n in result.notes)
