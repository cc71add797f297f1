"""The one process runner: the launch policy, merged output, errors, and the test command run on it."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from gitorch.process.launch import HostLaunch, Launch, LaunchPolicy, current_policy, using_policy
from gitorch.process.runner import ProcessError, run_process
from gitorch.process.testrun import run_command, run_tests


class Recording(LaunchPolicy):
    """Prefixes every argv with ``env TAG=wrapped`` and remembers what it was asked to start."""

    def __init__(self) -> None:
        self.seen: list[Launch] = []

    def wrap(self, launch: Launch) -> Launch:
        self.seen.append(launch)
        return launch.with_argv(["env", "TAG=wrapped", *launch.argv])


def _print_tag() -> list[str]:
    return [sys.executable, "-c", "import os; print(os.environ.get('TAG', 'bare'))"]


def test_the_policy_decides_what_is_started_and_knows_cwd_writable_paths_and_purpose(tmp_path):
    policy = Recording()
    out = tmp_path / "out"
    done = run_process(_print_tag(), cwd=tmp_path, writable=(out,), purpose="analyzer", policy=policy)
    assert done.stdout.strip() == "wrapped"
    assert done.argv == _print_tag()  # what the caller asked for, not the wrapped argv
    [launch] = policy.seen
    assert (launch.cwd, launch.writable, launch.purpose) == (tmp_path, (out,), "analyzer")


def test_a_policy_set_for_a_block_reaches_every_run_inside_it_and_only_those(tmp_path):
    policy = Recording()
    with using_policy(policy):
        assert current_policy() is policy
        inside = run_process(_print_tag(), cwd=tmp_path)
        tests = run_command(_print_tag(), tmp_path, timeout_s=30)
    outside = run_process(_print_tag(), cwd=tmp_path)
    assert inside.stdout.strip() == "wrapped" and "wrapped" in tests.output
    assert outside.stdout.strip() == "bare"
    assert isinstance(current_policy(), HostLaunch)
    assert [launch.purpose for launch in policy.seen] == ["other", "tests"]


def test_merged_output_keeps_the_order_a_terminal_shows(tmp_path):
    script = (
        "import sys\n"
        "for i in range(3):\n"
        "    print(i, flush=True); print(f'e{i}', file=sys.stderr, flush=True)\n"
    )
    done = run_process([sys.executable, "-c", script], cwd=tmp_path, merge_stderr=True)
    assert done.stdout.split() == ["0", "e0", "1", "e1", "2", "e2"]
    assert done.stderr == ""


def test_bytes_go_in_and_come_out_unchanged(tmp_path):
    data = bytes(range(256))
    script = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"
    done = run_process([sys.executable, "-c", script], cwd=tmp_path, stdin_text=data)
    assert done.stdout_bytes == data


def test_a_failed_command_raises_an_error_carrying_command_exit_code_and_output(tmp_path):
    script = "import sys; print('partial'); print('boom: bad thing', file=sys.stderr); sys.exit(3)"
    argv = [sys.executable, "-c", script]
    done = run_process(argv, cwd=tmp_path)
    assert not done.ok
    with pytest.raises(ProcessError) as caught:
        done.check()
    error = caught.value
    assert (error.argv, error.returncode) == (argv, 3)
    assert (error.stdout, error.stderr) == ("partial\n", "boom: bad thing\n")
    assert "\n" not in str(error) and "exit 3: boom: bad thing" in str(error)
    details = error.details()
    assert "return code: 3" in details and "    partial" in details and "    boom: bad thing" in details


def test_a_killed_command_is_an_error_that_says_why(tmp_path):
    done = run_process([sys.executable, "-c", "import time; time.sleep(30)"], cwd=tmp_path, timeout=0.5,
                       grace_s=0.2)
    with pytest.raises(ProcessError, match=r"killed \(timeout after 0.5s\)"):
        done.check()


def test_a_missing_program_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        run_process(["gitorch-no-such-program"], cwd=tmp_path)


def test_a_test_run_that_leaves_a_child_holding_its_output_does_not_wait_for_it(tmp_path):
    """The old test runner waited for the pipes to close: a daemon the tests started held it until the
    timeout."""
    pidfile = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pidfile}; echo '1 passed'"
    started = time.monotonic()
    outcome = run_command(["sh", "-c", script], tmp_path, timeout_s=60)
    assert outcome.passed and outcome.counts == {"passed": 1}
    assert time.monotonic() - started < 20
    child = int(pidfile.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"


def test_a_test_command_that_cannot_start_fails_with_a_reason(tmp_path):
    outcome = run_tests(tmp_path, "gitorch-no-such-test-runner -q", "", 30)
    assert not outcome.passed and outcome.exit_code is None
    assert outcome.output.startswith("cannot run gitorch-no-such-test-runner")


def test_a_test_run_sees_the_environment_it_is_given(tmp_path):
    outcome = run_command([sys.executable, "-c", "import os; print(os.environ['EXTRA'], os.environ['HOME'])"],
                          tmp_path, timeout_s=30, env={"EXTRA": "yes"})
    assert outcome.output.split() == ["yes", os.environ["HOME"]]


def test_pytest_collecting_no_test_is_not_a_pass(tmp_path):
    (tmp_path / "app.py").write_text("X = 1\n")
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    outcome = run_tests(tmp_path, command, "", 120)
    assert outcome.exit_code == 5 and not outcome.passed and outcome.no_tests
    (tmp_path / "test_app.py").write_text("def test_x():\n    assert True\n")
    outcome = run_tests(tmp_path, command, "", 120)
    assert outcome.passed and not outcome.no_tests
