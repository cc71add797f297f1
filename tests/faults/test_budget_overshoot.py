"""Fault probes on the budget: a multi-turn CLI call that would spend past the cap (issue 9: the estimate is
made before the call, and the call then spends what it likes). `gitorch fix` runs for real with the fake
claude of gitorch/testing/fakes (the real stream-json format, ten thousand tokens in and a thousand out per
turn, $0.045 a turn at sonnet 4.5's price); the run must end at or under its budget, every recorded call
with an overshoot of 0.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from gitorch.agents.accounting import SpendWatch
from gitorch.models import Usage
from gitorch.testing.kit import FAKE_AGENT as FAKE

from .gatehelpers import make_probe

BUDGET = 0.30
TURN = 0.045

CLAUDE = """
[agents.claude]
model = "claude-sonnet-4-5"
overhead_tokens = 1000
max_output_tokens = 1000
"""


def claude_probe(tmp_path: Path):
    probe = make_probe(tmp_path, "pass\n", extra_config=CLAUDE)
    probe.config.write_text(probe.config.read_text().replace('fix = ["command"]', 'fix = ["claude"]'))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text(f'#!/bin/sh\nFAKE_CLI=claude exec "{sys.executable}" "{FAKE}" "$@"\n')
    (bin_dir / "claude").chmod(0o755)
    env = {
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "FAKE_SCENARIO": "spender",
    }
    return probe, env


def run(probe, env):
    return probe.gitorch(
        "fix", "--config", str(probe.config), "--dim", "security", "--agent", "claude",
        "--budget", str(BUDGET), "--max-iterations", "3", "--yes", env=env,
    )


@pytest.mark.parametrize("honours_its_cap", [True, False], ids=["claude-like", "ignores-the-cap"])
def test_a_multi_turn_call_is_stopped_before_it_passes_the_budget(tmp_path, honours_its_cap):
    probe, env = claude_probe(tmp_path)
    if not honours_its_cap:
        env["FAKE_IGNORE_CAP"] = "1"
    done = run(probe, env)
    assert done.returncode == 6, done.stderr  # stopped by the budget cap
    assert "Traceback" not in done.stderr
    state = probe.state()
    assert state["stop_reason"] == "budget"
    assert 0 < state["cost_usd"] <= BUDGET
    calls = [json.loads(p.read_text()) for p in sorted((probe.session() / "calls").glob("*.json"))]
    claude_calls = [c for c in calls if c["agent"] == "claude"]
    assert claude_calls, "claude was never called"
    assert all(c["overshoot_usd"] == 0 for c in calls)
    first = claude_calls[0]
    assert "--max-budget-usd" in first["argv"]
    assert float(first["argv"][first["argv"].index("--max-budget-usd") + 1]) <= BUDGET
    assert "stopped: budget" in (first["error"] or "")
    # it ran turns, and was stopped while the next one could still have passed the cap
    assert first["usage"]["cost_usd"] == pytest.approx(TURN * int(BUDGET // TURN), abs=1e-6)
    assert first["stdout"].count('"type":"assistant"') == int(BUDGET // TURN) < 20


def test_the_watch_stops_while_the_dearest_turn_still_fits():
    price = {"a": 0.01, "b": 0.02, "c": 0.02}
    watch = SpendWatch(lambda line: (line, Usage()) if line in price else None,
                       lambda usage: 0.0, left_usd=0.06)
    watch.price = lambda usage: price[watch._last]  # type: ignore[method-assign]

    def feed(turn: str) -> str | None:
        watch._last = turn  # type: ignore[attr-defined]
        return watch.feed(f"{turn}\n".encode())

    assert feed("a") is None  # 0.01 spent, a 0.01 turn still fits
    assert feed("b") is None  # 0.03 spent, a 0.02 turn still fits (0.05)
    assert feed("a") is None  # the same turn reported again counts once
    reason = feed("c")  # 0.05 spent: another 0.02 turn would make 0.07
    assert reason is not None and "$0.0500 of the $0.0600 left" in reason
