"""A small run of benchmarks/realworld.py (one snapshot, one dimension) kept green in CI: gitorch on a
real application nobody here wrote fixes at least what ruff fixes blindly, and breaks nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = REPO.parent / "shared" / "corpus" / "repos" / "dvpwa.tar.gz"


@pytest.mark.slow
@pytest.mark.skipif(not SNAPSHOT.is_file(), reason="the shared corpus is not beside this checkout")
def test_gitorch_fixes_a_real_app_at_least_as_well_as_the_blind_tools_and_breaks_nothing(tmp_path):
    out = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "realworld.py"), "--only", "dvpwa", "--dim", "backend",
         "--no-write", "--json", str(out)],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [result] = json.loads(out.read_text())
    run = result["gitorch"]
    assert run["checkout_identical"]
    assert run["commits"] >= 1 and run["commits_failing_gate"] == []
    blind = {t["tool"]: t for t in result["tools"]}
    unsafe = blind["ruff --fix --unsafe-fixes"]
    assert len(run["fixed"]) >= len(unsafe["fixed"]) >= 1
    assert run["new"] == []
    assert run["scores"]["backend"] > result["scores_before"]["backend"]  # every fixed finding counts
    assert "| dvpwa |" in done.stdout and "<!-- realworld:start -->" in done.stdout
