"""run_process: stdin, process groups, the wall-clock timeout and the silence watchdog."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from gitorch.process.runner import run_process

from .conftest import FAKE, ctrl_c_after, process_alive


def fake(cli: str = "codex") -> list[str]:
    return [sys.executable, str(FAKE)]


def test_stdin_is_closed_when_no_prompt_is_given(fakes, tmp_path):
    done = run_process([*fake(), "exec", "-"], cwd=tmp_path, env=_env("codex"), timeout=30)
    assert done.exit_code == 0
    assert fakes.dump()["stdin"] == ""


def test_prompt_reaches_stdin_and_stdin_is_closed(fakes, tmp_path):
    prompt = "audit this ✓ " + "x" * 200_000  # larger than a pipe buffer
    done = run_process([*fake(), "exec", "-"], cwd=tmp_path, env=_env("codex"), stdin_text=prompt, timeout=30)
    assert done.exit_code == 0
    assert fakes.dump()["stdin"] == prompt
    assert fakes.dump()["cwd"] == str(tmp_path)


@pytest.mark.parametrize(
    ("scenario", "timeout", "silence", "reason"),
    [
        ("hang", 1.5, None, "timeout after 1.5s"),  # prints once, then nothing: wall clock
        ("silent", 30, 1.0, "no output for 1s"),  # never prints: the watchdog
        ("chatty", 1.5, 1.0, "timeout after 1.5s"),  # keeps printing: the watchdog stays quiet
        ("stubborn", 1.0, None, "timeout after 1s"),  # ignores SIGTERM: SIGKILL follows
    ],
)
def test_a_stuck_cli_and_its_children_are_killed(fakes, tmp_path, scenario, timeout, silence, reason):
    fakes.scenario(scenario)
    started = time.monotonic()
    done = run_process(
        fake(),
        cwd=tmp_path,
        env=_env("codex", scenario),
        timeout=timeout,
        silence_timeout=silence,
        grace_s=0.5,
    )
    assert done.timed_out
    assert done.reason == reason
    assert time.monotonic() - started < timeout + 5
    dump = fakes.dump()
    assert not process_alive(dump["pid"])
    assert dump["children"] and not any(process_alive(pid) for pid in dump["children"])


def test_keyboard_interrupt_kills_the_group_and_is_re_raised(fakes, tmp_path):
    fakes.scenario("hang")
    with ctrl_c_after(1.0), pytest.raises(KeyboardInterrupt):
        run_process(fake(), cwd=tmp_path, env=_env("codex", "hang"), timeout=60, grace_s=0.5)
    dump = _wait_for(fakes, "children")
    assert not process_alive(dump["pid"])
    assert not any(process_alive(pid) for pid in dump["children"])


def test_a_child_left_behind_by_an_exiting_leader_is_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "print('done', flush=True)\n"
    )
    started = time.monotonic()
    done = run_process([sys.executable, "-c", script], cwd=tmp_path, timeout=30, grace_s=0.5)
    assert done.exit_code == 0 and done.stdout.strip() == "done"
    assert not done.timed_out
    assert time.monotonic() - started < 10
    assert not process_alive(int(pid_file.read_text()))


def test_exit_code_and_both_streams_are_kept(tmp_path):
    done = run_process(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(7)"],
        cwd=tmp_path,
        timeout=30,
    )
    assert (done.exit_code, done.stdout, done.stderr) == (7, "out\n", "err\n")


def _env(cli: str, scenario: str = "success") -> dict[str, str]:
    import os

    return {**os.environ, "FAKE_CLI": cli, "FAKE_SCENARIO": scenario}


def _wait_for(fakes, key: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dump = fakes.dump()
        if key in dump:
            return dump
        time.sleep(0.05)
    raise AssertionError(f"the fake never wrote {key!r}")


del Path


def test_a_cli_still_finishing_after_closing_its_output_is_not_killed(tmp_path):
    script = (
        "import os, sys, time\n"
        "print('answer', flush=True)\n"
        "os.close(1); os.close(2)\n"
        "time.sleep(1.0)\n"  # cleanup after the output is closed
        "sys.exit(3)\n"
    )
    done = run_process([sys.executable, "-c", script], cwd=tmp_path, timeout=30, grace_s=0.2)
    assert (done.exit_code, done.stdout, done.timed_out) == (3, "answer\n", False)


def test_a_cli_that_closes_its_output_and_never_exits_still_times_out(tmp_path):
    script = "import os, time\nos.close(1); os.close(2)\ntime.sleep(1000)\n"
    done = run_process([sys.executable, "-c", script], cwd=tmp_path, timeout=1.0, grace_s=0.2)
    assert done.timed_out and done.reason == "timeout after 1s"
