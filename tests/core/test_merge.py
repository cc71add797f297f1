"""``gitorch merge``: unit results (JSON, SARIF, fix run reports) into one report and one score."""

import json
import sys
from pathlib import Path

import pytest

from gitorch.errors import ExitCode
from gitorch.testing.fixtures import commit

# A small module with a critical finding next to a big clean one: averaging their scores would hide
# the P0 behind the clean lines; recomputing from the findings weighs it as a whole audit does.
FILES = {
    "small/__init__.py": "",
    "small/run.py": "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n",
    "big/__init__.py": "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(400)),
    "tool.py": "import os\n",
}


def _audit(cli, root: Path, out: Path, *args: str) -> Path:
    done = cli("audit", "--repo", str(root), "--output", str(out), *args)
    assert done.exit_code == 0, done.output
    return out


@pytest.fixture
def repo(git_repo):
    commit(git_repo, FILES, "two packages and a script")
    return Path(git_repo.working_tree_dir)


def test_merged_units_equal_the_whole_audit_and_the_score_is_recomputed_not_averaged(repo, cli, tmp_path):
    units = json.loads(cli("plan", "--json", "--repo", str(repo), "--dim", "security").stdout)["include"]
    assert sorted(u["path"] for u in units) == ["big", "small", "tool.py"]
    results = tmp_path / "results"
    results.mkdir()
    for unit in units:
        fmt = "sarif" if unit["path"] == "big" else "json"  # SARIF and JSON merge alike
        _audit(cli, repo, results / f"{unit['slug']}.{fmt}", "--dim", "security", "--path", unit["path"],
               "--format", fmt)  # fmt: skip
    whole = json.loads(cli("audit", "--repo", str(repo), "--dim", "security", "--format", "json").stdout)
    done = cli("merge", str(results), "--format", "json")
    assert done.exit_code == 0, done.output
    merged = json.loads(done.stdout)
    (result,) = merged["results"]
    assert result["score"] == whole["score"] == merged["score"] == merged["scores"]["security"]
    assert result["loc"] == whole["loc"] and result["files"] == whole["files"]
    key = ("fingerprint", "severity", "file", "line", "rule_id", "description")
    assert sorted(tuple(f[k] for k in key) for f in result["findings"]) == sorted(
        tuple(f[k] for k in key) for f in whole["findings"]
    )
    unit_scores = [u["score"] for u in merged["units"]]
    assert merged["score"] != pytest.approx(sum(unit_scores) / len(unit_scores))
    assert merged["score_formula"] == 2 and len(merged["units"]) == 3 and merged["branches"] == []
    # the other formats
    table = cli("merge", str(results))
    assert table.exit_code == 0 and "Merged score:" in table.stdout and "3 unit(s)" in table.stdout
    sarif = json.loads(cli("merge", str(results), "--format", "sarif").stdout)
    assert sarif["runs"][0]["properties"]["score"] == whole["score"]
    assert cli("merge", str(results), "--fail-under", "99").exit_code == ExitCode.UNDER_THRESHOLD


def _bad(cli, tmp_path, *paths, expect: str):
    out = tmp_path / "merged.json"
    done = cli("merge", *map(str, paths), "--output", str(out))
    assert done.exit_code == ExitCode.BAD_REPORT == 66, done.output
    assert done.stdout == "" and not out.exists()
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0], done.stderr


def test_bad_input_is_one_line_exit_66_and_nothing_written(repo, cli, tmp_path):
    good = _audit(
        cli, repo, tmp_path / "small.json", "--dim", "security", "--path", "small", "--format", "json"
    )
    big = _audit(cli, repo, tmp_path / "big.json", "--dim", "security", "--path", "big", "--format", "json")
    _bad(cli, tmp_path, good, tmp_path / "missing.json", expect="cannot read")
    (tmp_path / "text.json").write_text("hello\n")
    _bad(cli, tmp_path, good, tmp_path / "text.json", expect="not JSON")
    (tmp_path / "other.json").write_text('{"name": "not gitorch"}\n')
    _bad(cli, tmp_path, tmp_path / "other.json", expect="not a gitorch audit result")
    older = json.loads(big.read_text()) | {"score_formula": 1}
    (tmp_path / "older.json").write_text(json.dumps(older))
    _bad(cli, tmp_path, good, tmp_path / "older.json", expect="different formulas")
    _bad(cli, tmp_path, good, good, expect="a unit given twice")
    whole = _audit(cli, repo, tmp_path / "whole.json", "--dim", "security", "--format", "json")
    _bad(cli, tmp_path, good, whole, expect="overlaps")
    dry = _audit(cli, repo, tmp_path / "dry.json", "--dim", "security", "--path", "big", "--dry-run",
                 "--format", "json")  # fmt: skip
    _bad(cli, tmp_path, good, dry, expect="no score gitorch computed")
    foreign = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "bandit"}}, "results": []}]}
    (tmp_path / "foreign.sarif").write_text(json.dumps(foreign))
    _bad(cli, tmp_path, tmp_path / "foreign.sarif", expect="written by bandit, not gitorch")
    empty = tmp_path / "empty"
    empty.mkdir()
    _bad(cli, tmp_path, empty, expect="no result files")
    merged = tmp_path / "merged-once.json"
    assert cli("merge", str(good), str(big), "--format", "json", "--output", str(merged)).exit_code == 0
    _bad(cli, tmp_path, merged, expect="already a merged report")


@pytest.mark.slow
def test_fix_module_runs_one_unit_and_merge_lists_its_branch(repo, cli, tmp_path):
    from gitorch.loop.session import scan_sessions

    test_cmd = f"{sys.executable} -c pass"
    fixed = cli(
        "fix", "--repo", str(repo), "--module", "tool.py", "--dim", "backend", "--yes", "--quiet",
        "--max-iterations", "1", "--test-cmd", test_cmd,
    )  # fmt: skip
    assert fixed.exit_code in (ExitCode.OK, ExitCode.ITERATIONS, ExitCode.STALLED), fixed.output
    (session,) = scan_sessions(repo)[0]
    assert session.options.path == "tool.py"
    report = tmp_path / "run.json"
    assert (
        cli("report", session.id, "--repo", str(repo), "--format", "json", "--output", str(report)).exit_code
        == 0
    )
    unit = _audit(
        cli, repo, tmp_path / "tool.json", "--dim", "backend", "--module", "tool.py", "--format", "json"
    )
    done = cli("merge", str(unit), str(report))
    assert done.exit_code == 0, done.output
    assert "Branches to review:" in done.stdout and session.branch in done.stdout
    data = json.loads(cli("merge", str(unit), str(report), "--format", "json").stdout)
    assert [(b["branch"], b["path"]) for b in data["branches"]] == [(session.branch, "tool.py")]
    assert data["branches"][0]["commits"] == session.commits
    both = cli("fix", "--repo", str(repo), "--module", "tool.py", "--path", "big")
    assert both.exit_code == 2 and "not both" in both.stderr
    unknown = cli("audit", "--repo", str(repo), "--module", "nowhere")
    assert unknown.exit_code == 2 and "no module 'nowhere'" in unknown.stderr and "big" in unknown.stderr
