"""The console of a fix run: live on a terminal (status line, one line per attempt), plain elsewhere."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from gitorch.cli.console import RunConsole
from gitorch.loop.human import Note
from gitorch.testing.fixtures import commit
from gitorch.testing.terminal import run_in_terminal

GITORCH = str(Path(sys.executable).parent / "gitorch")
CURSOR_UP = "\x1b[1A"


def fake_run(iteration=2, commits=3, spent=0.0123, budget=5.0):
    return SimpleNamespace(
        state=SimpleNamespace(iteration=iteration, commits=commits),
        options=SimpleNamespace(max_iterations=10, budget_usd=budget),
        budget=SimpleNamespace(spent_usd=spent),
    )


def test_the_status_line_says_phase_time_spending_and_commits():
    console = RunConsole()
    console.watch(fake_run())
    console.progress(Note("iteration 2: close_gaps — 3 finding(s)", phase="close_gaps"))
    line = console.status_line()
    assert line.startswith("iteration 2/10 · close gaps · 0:0")
    assert line.endswith("$0.012 of $5.00 · 3 commits")


def test_each_attempt_has_a_line_until_it_ends_and_several_can_run_at_once():
    console = RunConsole(stream=io.StringIO())
    console.progress(Note("  P1 a.py:1: claude", slot="a", what="P1 a.py:1 · claude", stage="claude at work"))
    console.progress(Note("  P2 b.py:2: codex", slot="b", what="P2 b.py:2 · codex", stage="codex at work"))
    console.progress(Note("  P1 a.py:1: tests", slot="a", stage="running the tests", transient=True))
    assert [(s.what, s.stage) for s in console.slots.values()] == [
        ("P1 a.py:1 · claude", "running the tests"),
        ("P2 b.py:2 · codex", "codex at work"),
    ]
    from rich.console import Console

    screen = Console(file=io.StringIO(), width=100, color_system=None)
    screen.print(console._render())
    lines = screen.file.getvalue().splitlines()
    assert "gitorch fix · starting · 0:00" in lines[0]
    assert [line.rstrip() for line in lines[1:]] == [
        "  P1 a.py:1 · claude — running the tests (0:00)",
        "  P2 b.py:2 · codex — codex at work (0:00)",
    ]
    console.progress(Note("", slot="a", done=True, transient=True))
    assert list(console.slots) == ["b"]


def test_plain_output_leaves_out_what_only_says_what_runs_now(capsys):
    console = RunConsole()
    console.progress(Note("audit security: running bandit…", transient=True))
    console.progress(Note("audit security: score 59 (8 findings)", phase="audit"))
    console.progress("a plain string")
    assert capsys.readouterr().err.splitlines() == ["audit security: score 59 (8 findings)", "a plain string"]


def test_quiet_prints_nothing(capsys):
    console = RunConsole(quiet=True)
    console.progress(Note("audit security: score 59", phase="audit"))
    assert capsys.readouterr().err == ""


@pytest.fixture
def app(git_repo) -> Path:
    commit(git_repo, {
        "app/__init__.py": "",
        "app/main.py": "import os\nimport sys\n\n\ndef name():\n    return sys.platform\n",
        "tests/test_main.py": "from app.main import name\n\n\ndef test_name():\n    assert name()\n",
    }, "app")
    return Path(git_repo.working_tree_dir)


def _fix(app: Path, *extra: str, env: dict[str, str] | None = None):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | (env or {})
    argv = [GITORCH, "fix", "--dim", "backend", "--test-cmd", f"{sys.executable} -m pytest -q", *extra]
    return run_in_terminal(argv, cwd=app, env=env, timeout=240)


@pytest.mark.slow
def test_fix_on_a_terminal_shows_a_live_status_line_and_the_attempt_under_way(app):
    run = _fix(app)
    assert run.exit_code == 0, run.text
    text = run.text
    assert CURSOR_UP in text  # redrawn in place
    assert "gitorch fix · baseline tests · " in text  # the waits before the first iteration say what runs
    assert "gitorch fix · iteration 1/10 · " in text
    assert "$0.000 of $5.00 · 0 commits" in text and "· 1 commit" in text
    assert "\x1b[1m" in text  # bold: colour and style on a terminal
    assert "# gitorch report" in text


@pytest.mark.slow
def test_no_progress_and_no_color_on_a_terminal(app):
    plain = _fix(app, "--no-progress")
    assert plain.exit_code == 0 and CURSOR_UP not in plain.text and "gitorch fix · " not in plain.text
    assert "baseline tests: pass" in plain.text
    uncoloured = _fix(app, env={"NO_COLOR": "1"})
    assert uncoloured.exit_code == 0
    assert "gitorch fix · " in uncoloured.text  # still live
    assert "\x1b[36m" not in uncoloured.text and "\x1b[3" not in uncoloured.text  # but no colour
