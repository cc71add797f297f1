"""``gitorch audit --agent X`` driving the real agent CLIs against the loopback model server.

gitorch runs as its own process (``python -m gitorch``) with a minimal environment; its agent plugin
(``plugins/gitorch_agents``) starts the real CLI, which talks to the scripted model server. The
options that point each plugin at the server come from :meth:`Redirect.agent_options`, written to a
configuration file outside the repository.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gitorch.testing.model_server import (
    Dynamic,
    Fail,
    ModelServer,
    Redirect,
    Reply,
    Stall,
    Usage,
    edit_file_turns,
    structured_answer,
)

from .conftest import CLIS, Sandbox, leftover_processes, require_cli

pytestmark = pytest.mark.integration

PRICES = tomllib.loads((Path(__file__).resolve().parents[2] / "gitorch/data/prices.toml").read_text())[
    "models"
]
# codex only offers its apply_patch tool to models it knows; gpt-5.5 is one, absent from the price table.
EXTRA_PRICES = {"gpt-5.5": {"input": 1.25, "cached_input": 0.125, "output": 10.0}}
USAGE = Usage(input=52_000, cached=40_000, output=1_500)
PLANTED = "sk_live_PLANTED0123456789abcdef"

FINDINGS = [
    {
        "severity": "P1",
        "description": "Shell command built from user input",
        "file": "app.py",
        "line": 5,
        "end_line": None,
        "rule_id": "shell-injection",
        "recommendation": "Pass an argument list to subprocess.run.",
        "snippet": None,
    },
    {
        "severity": "P3",
        "description": "Debug flag left on",
        "file": "app.py",
        "line": 1,
        "end_line": None,
        "rule_id": None,
        "recommendation": "Read it from the environment.",
        "snippet": None,
    },
]
MARKDOWN_REPORT = """# Security audit: .

**Score:** 70/100

## P1 High
- [P1] Shell command built from user input (app.py:5)
  - Recommendation: Pass an argument list to subprocess.run.

## P3 Low
- [P3] Debug flag left on (app.py:1)
  - Recommendation: Read it from the environment.
"""


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def write_config(path: Path, cli: str, redirect: Redirect, **extra_options: Any) -> Path:
    """A gitorch configuration pointing agent ``cli`` at the server (and pricing its model)."""
    lines = [f"[agents.{cli}]"]
    options = redirect.agent_options()
    options["timeout_s"] = 60
    options.update(extra_options)
    lines += [f"{key} = {_toml_value(value)}" for key, value in options.items()]
    for model, price in EXTRA_PRICES.items():
        lines.append(f"[pricing.{json.dumps(model)}]")
        lines += [f"{key} = {value!r}" for key, value in price.items()]
    path.write_text("\n".join(lines) + "\n")
    tomllib.loads(path.read_text())  # fail here, not inside gitorch, if the file is malformed
    return path


def expected_cost(model: str, usage: Usage) -> float:
    price = EXTRA_PRICES.get(model) or PRICES[model]
    uncached = usage.input - usage.cached
    return (
        uncached * price["input"] + usage.cached * price["cached_input"] + usage.output * price["output"]
    ) / 1e6


@pytest.fixture
def project(sandbox: Sandbox) -> Sandbox:
    """The sandbox repository with a small vulnerable module and a planted secret."""
    (sandbox.repo / "app.py").write_text(
        "DEBUG = True\nimport subprocess\n\n\ndef run(name):\n"
        "    return subprocess.run('ls ' + name, shell=True)\n"
    )
    (sandbox.repo / ".env").write_text(f"STRIPE_SECRET_KEY={PLANTED}\n")
    sandbox.git("add", "app.py", ".env")
    sandbox.git("-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "app")
    return sandbox


def run_gitorch(
    sandbox: Sandbox, redirect: Redirect, *args: str, timeout: float = 120,
    env_extra: dict[str, str] | None = None,
):
    env = {**sandbox.env(redirect), **(env_extra or {})}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env["GITORCH_LOAD_PLUGINS"] = ""  # first-party plugins only
    for name in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        env[name] = "Test"
    for name in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        env[name] = "test@example.com"
    return sandbox.run([sys.executable, "-m", "gitorch", *args], env, timeout=timeout)


def require_agent(cli: str) -> None:
    """Skip unless the real ``cli`` and gitorch's agent plugins are installed."""
    require_cli(cli)
    try:
        import gitorch_agents  # noqa: F401
    except ImportError:
        pytest.skip("gitorch's agent plugins (plugins/gitorch_agents) are not installed")


def run_audit(project: Sandbox, cli: str, redirect: Redirect, *, timeout_s: int | None = None,
              timeout: float = 120):
    """``gitorch audit --dim security --agent cli --format json`` on the project."""
    options = {"timeout_s": timeout_s} if timeout_s is not None else {}
    config = write_config(project.root / "gitorch.toml", cli, redirect, **options)
    return run_gitorch(
        project, redirect, "audit", "--dim", "security", "--agent", cli, "--format", "json",
        "--config", str(config), "--repo", str(project.repo), timeout=timeout,
    )  # fmt: skip


def story(run, server: ModelServer) -> str:
    """gitorch's exit code and output, and what the server answered, for failure messages."""
    return f"{run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}\n" + server_story(server)


def tool_results(server: ModelServer) -> list[str]:
    """Every tool result the CLI sent back to the model."""
    return [result for request in server.agent_requests for result in request.tool_results]


@pytest.mark.parametrize("cli", CLIS)
def test_gitorch_audit_through_the_real_cli(
    cli: str, project: Sandbox, model_server: ModelServer, point
) -> None:
    require_agent(cli)
    if cli == "gemini":
        answer = Reply(MARKDOWN_REPORT, usage=USAGE)  # no schema support: the Markdown report is parsed
    else:
        answer = structured_answer(
            cli, {"score": 70, "summary": "Two issues.", "findings": FINDINGS}, usage=USAGE
        )
    model_server.script(answer)
    redirect = point(cli)

    run = run_audit(project, cli, redirect)

    assert run.returncode == 0, f"{run.returncode}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    result = json.loads(run.stdout)
    assert result["agent"] == cli and result["dimension"] == "security"
    # The Markdown parser keeps the "(file:line)" suffix in the description as the report wrote it.
    got = sorted(
        (f["severity"], f["file"], f["line"], f["description"].removesuffix(f" ({f['file']}:{f['line']})"))
        for f in result["findings"]
    )
    assert got == [
        ("P1", "app.py", 5, "Shell command built from user input"),
        ("P3", "app.py", 1, "Debug flag left on"),
    ]
    assert result["claimed_score"] == 70 and result["score_source"] == "computed"
    assert result["score"] is not None and 0 <= result["score"] < 100
    usage = result["usage"]
    assert (usage["input_tokens"], usage["cached_input_tokens"], usage["output_tokens"]) == (
        52_000,
        40_000,
        1_500,
    )
    assert usage["calls"] == 1
    if cli == "claude":
        assert usage["cost_source"] == "reported"  # claude's own estimate, taken as is
        assert usage["cost_usd"] > 0
    else:
        assert usage["cost_usd"] == pytest.approx(expected_cost(redirect.model, USAGE), rel=1e-6)
    # What gitorch sent: an audit prompt for security, and never the planted secret.
    (request,) = model_server.agent_requests
    assert request.text_contains("ecurity")
    for recorded in model_server.requests:
        assert PLANTED not in recorded.raw
    assert not run.leftovers


@pytest.mark.parametrize("cli", CLIS)
def test_gitorch_audit_reports_the_clis_auth_failure(
    cli: str, project: Sandbox, model_server: ModelServer, point
) -> None:
    require_agent(cli)
    model_server.script(*[Fail(401)] * 5)

    run = run_audit(project, cli, point(cli))

    assert run.returncode == 3, f"{run.returncode}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    assert cli in run.stderr
    assert "401" in run.stderr or "auth" in run.stderr.lower() or "API key" in run.stderr
    assert model_server.agent_requests
    assert not run.leftovers


@pytest.mark.parametrize("cli", CLIS)
def test_gitorch_audit_times_out_a_stalled_model_and_kills_the_cli(
    cli: str, project: Sandbox, model_server: ModelServer, point
) -> None:
    require_agent(cli)
    model_server.script(*[Stall()] * 5)

    # NOTE: on a loaded machine (2 cores, load 6) qwen took 8.3 s to send its first request: 15 s leaves
    # room for the CLI to reach the stalled model before gitorch's timeout fires.
    run = run_audit(project, cli, point(cli), timeout_s=15, timeout=150)

    assert not run.timed_out, "gitorch itself hung: its own timeout did not fire"
    assert run.returncode == 3, f"{run.returncode}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    assert "time" in run.stderr.lower()
    assert model_server.agent_requests, ("the CLI never reached the model", run.stderr)
    # gitorch killed the CLI's whole process group: nothing of the run is left.
    assert leftover_processes(run.marker) == []


# -- gitorch fix -----------------------------------------------------------------------------------

VULNERABLE = "import subprocess\n\n\ndef run(name):\n    return subprocess.run('ls ' + name, shell=True)\n"
FIXED_LINE = "    return subprocess.run(['ls', name])"
VULNERABLE_LINE = "    return subprocess.run('ls ' + name, shell=True)"
APP_TEST = "import app\n\n\ndef test_run_lists_a_directory():\n    assert app.run('.').returncode == 0\n"


@pytest.fixture
def fixable(sandbox: Sandbox) -> Sandbox:
    """A repository whose one security finding (bandit B602, shell=True) a one-line edit fixes."""
    (sandbox.repo / "app.py").write_text(VULNERABLE)
    (sandbox.repo / "tests" / "test_app.py").write_text(APP_TEST)
    sandbox.git("add", "-A")
    sandbox.git(
        "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "vulnerable"
    )
    return sandbox


def edit_in_worktree(cli: str, repo: Path, old: str, new: str, usage: Usage, file: str = "app.py"):
    """A Dynamic turn: edit ``file`` inside the worktree gitorch made for the run (found in the request).

    The worktree is in the git directory, or in the sandbox HOME's cache directory for agents that cannot
    edit under a ``.git`` path (claude).
    """
    candidates = [
        repo / ".git" / "gitorch" / "worktrees",
        repo.parent / "home" / ".cache" / "gitorch" / "worktrees",
    ]

    def build(request):
        if cli == "codex":  # codex's patch paths are relative to its -C root
            return [*edit_file_turns(cli, file, old, new, usage=usage), Reply("Fixed.", usage=usage)]
        for worktrees in candidates:
            paths = request.paths_under(worktrees)
            if paths:
                root = str(worktrees / Path(paths[0]).relative_to(worktrees).parts[0])
                break
        else:
            raise AssertionError("the fix request never named the worktree")
        return [*edit_file_turns(cli, f"{root}/{file}", old, new, usage=usage), Reply("Fixed.", usage=usage)]

    return Dynamic(build)


FIX_OPTIONS: dict[str, dict[str, Any]] = {}


def run_fix(
    sandbox: Sandbox, cli: str, redirect: Redirect, *extra: str, options: dict[str, Any] | None = None,
    env_extra: dict[str, str] | None = None,
):
    options = FIX_OPTIONS.get(cli, {}) if options is None else options
    config = write_config(sandbox.root / "gitorch.toml", cli, redirect, **options)
    return run_gitorch(
        sandbox, redirect, "fix", "--dim", "security", "--agent", cli, "--yes", "--max-iterations", "1",
        "--until", "90",
        "--test-cmd", "python -m pytest -q -p no:cacheprovider", "--config", str(config),
        "--repo", str(sandbox.repo), *extra, timeout=240, env_extra=env_extra,
    )  # fmt: skip


def server_story(server: ModelServer) -> str:
    """What the server answered and which tool results came back, for failure messages."""
    lines = []
    for request in server.agent_requests:
        lines.append(f"{request.path} -> {request.turn!r:.300} results={request.tool_results!r:.500}")
    return "\n".join(lines)


def run_branches(sandbox: Sandbox) -> list[str]:
    return sandbox.git("for-each-ref", "--format=%(refname:short)", "refs/heads/gitorch/").split()


@pytest.mark.parametrize("cli", CLIS)
def test_gitorch_fix_commits_the_clis_real_edit(
    cli: str, fixable: Sandbox, model_server: ModelServer, point
) -> None:
    require_agent(cli)
    model_server.script(
        edit_in_worktree(cli, fixable.repo, VULNERABLE_LINE, FIXED_LINE, Usage(3000, 1000, 200))
    )
    redirect = point(cli)

    run = run_fix(fixable, cli, redirect)

    detail = story(run, model_server)
    assert run.returncode == 0, detail
    (branch,) = run_branches(fixable)
    shown = fixable.git("show", f"{branch}:app.py")
    assert FIXED_LINE in shown and "shell=True" not in shown, detail
    message = fixable.git("log", "-1", "--format=%B", branch)
    assert f"Gitorch-Agent: {cli}" in message and "Gitorch-Dimension: security" in message
    assert "Gitorch-Finding: " in message and "Gitorch-Cost-USD: " in message
    # The user's checkout is untouched; the edit came from the CLI's own tool, through the server.
    assert (fixable.repo / "app.py").read_text() == VULNERABLE
    assert fixable.git("status", "--porcelain").strip() == ""
    results = tool_results(model_server)
    assert results, "the CLI never sent its edit tool's result back"
    assert not run.leftovers


def test_claude_fixes_with_accept_edits_in_a_worktree_outside_the_git_dir(
    fixable: Sandbox, model_server: ModelServer, point
) -> None:
    """Claude Code refuses acceptEdits edits under any ``.git/`` path ("a sensitive file"): gitorch puts
    the worktree of a run that may use claude in the cache directory, so the default mode works."""
    require_agent("claude")
    model_server.script(
        edit_in_worktree("claude", fixable.repo, VULNERABLE_LINE, FIXED_LINE, Usage(3000, 1000, 200))
    )
    run = run_fix(fixable, "claude", point("claude"), options={})
    results = tool_results(model_server)
    assert not any("sensitive file" in r for r in results), results
    assert run.returncode == 0


def session_events(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The events of the (only) gitorch session of the repository."""
    (events,) = (sandbox.repo / ".git" / "gitorch").rglob("events.jsonl")
    return [json.loads(line) for line in events.read_text().splitlines() if line.strip()]


BROKEN_LINE = "    return subprocess.run(['ls', name, '--no-such-option'])"
TEST_BODY = "def test_run_lists_a_directory():\n    assert app.run('.').returncode == 0\n"


@pytest.mark.parametrize("cli", CLIS)
def test_gitorch_fix_rolls_back_an_edit_that_breaks_a_test(
    cli: str, fixable: Sandbox, model_server: ModelServer, point
) -> None:
    require_agent(cli)
    model_server.script(
        edit_in_worktree(cli, fixable.repo, VULNERABLE_LINE, BROKEN_LINE, Usage(3000, 1000, 200))
    )
    base = fixable.git("rev-parse", "HEAD").strip()

    run = run_fix(fixable, cli, point(cli))

    detail = story(run, model_server)
    edited = tool_results(model_server)
    assert edited, detail
    (branch,) = run_branches(fixable)
    assert fixable.git("rev-list", f"{base}..{branch}").strip() == "", detail  # nothing committed
    assert "shell=True" in fixable.git("show", f"{branch}:app.py")
    events = session_events(fixable)
    rollbacks = [e for e in events if e.get("type") == "rollback_attempt"]
    assert rollbacks and rollbacks[0]["reason"] == "tests failed", ([e.get("type") for e in events], detail)
    assert [e["passed"] for e in events if e.get("type") == "tests" and e.get("kind") == "attempt"] == [False]
    assert (fixable.repo / "app.py").read_text() == VULNERABLE
    assert not run.leftovers


@pytest.mark.parametrize("cli", CLIS)
def test_gitorch_fix_rejects_an_edit_that_deletes_a_test(
    cli: str, fixable: Sandbox, model_server: ModelServer, point
) -> None:
    require_agent(cli)
    model_server.script(
        edit_in_worktree(cli, fixable.repo, TEST_BODY, "", Usage(3000, 1000, 200), file="tests/test_app.py")
    )
    base = fixable.git("rev-parse", "HEAD").strip()

    run = run_fix(fixable, cli, point(cli))

    detail = story(run, model_server)
    (branch,) = run_branches(fixable)
    assert fixable.git("rev-list", f"{base}..{branch}").strip() == "", detail
    assert TEST_BODY in fixable.git("show", f"{branch}:tests/test_app.py")
    events = session_events(fixable)
    rollbacks = [e for e in events if e.get("type") == "rollback_attempt"]
    assert rollbacks and rollbacks[0]["reason"] == "rejected", ([e.get("type") for e in events], detail)
    gates = [e for e in events if e.get("type") == "gate" and e.get("decision") == "reject"]
    assert gates and "test" in json.dumps(gates[0]["hits"]).lower(), (gates, detail)
    # The rejected edit never reached the test command.
    assert not [e for e in events if e.get("type") == "tests" and e.get("kind") == "attempt"]
    assert not run.leftovers


@pytest.mark.parametrize("cli", CLIS)
def test_gitorch_fix_stops_when_the_budget_runs_out_mid_run(
    cli: str, fixable: Sandbox, model_server: ModelServer, point
) -> None:
    require_agent(cli)
    # Well over $0.30 at any listed price. codex compacts its history (one more request) when a turn
    # reports more than ~90% of the model's 272k context window, so it gets a smaller prompt.
    expensive = Usage(150_000, 0, 20_000) if cli == "codex" else Usage(500_000, 0, 10_000)
    model_server.script(edit_in_worktree(cli, fixable.repo, VULNERABLE_LINE, FIXED_LINE, expensive))
    model_server.script(Reply("a turn that must never be asked for"))

    run = run_fix(fixable, cli, point(cli), "--budget", "0.30", "--max-iterations", "3", "--until", "100")

    detail = story(run, model_server)
    events = session_events(fixable)
    (stop,) = [e for e in events if e.get("type") == "stop"]
    assert stop["reason"] == "budget", (stop, detail)
    # The expensive call was charged in full and nothing was called after it: a CLI that streams its
    # spend (claude) is stopped by the spend watch inside its call, the others end their call first.
    assert stop["cost_usd"] > 0.30, (stop, detail)
    attempts = [e for e in events if e.get("type") == "attempt"]
    stopped_inside = [e for e in events if e.get("type") == "agent_try" and "budget" in str(e.get("error"))]
    assert len(attempts) + len(stopped_inside) == 1, (attempts, stopped_inside, detail)
    assert all(e["cost_usd"] > 0.30 for e in attempts), (attempts, detail)
    if stopped_inside:  # stopped before the rest of its scripted turns (the edit among them) was asked for
        assert model_server.pending[-1:] == [Reply("a turn that must never be asked for")], detail
    else:
        assert model_server.pending == [Reply("a turn that must never be asked for")], detail
    assert not run.leftovers


# Observed here (as root, in a VM), outside gitorch's sandbox: claude (acceptEdits) and gemini (auto_edit)
# refuse an edit outside their working directory; codex (-s workspace-write, whose Linux sandbox does not hold
# here) and qwen (auto-edit) perform it. In gitorch's sandbox the checkout is read-only to all of them;
# without the sandbox gitorch's guard sees the change, puts it back and stops the run, naming the files.
REFUSES_OUTSIDE_EDITS = {"claude": True, "gemini": True, "codex": False, "qwen": False}
NO_BUBBLEWRAP = {"GITORCH_BWRAP": "/nonexistent/bwrap"}


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "fallback"])
@pytest.mark.parametrize("cli", CLIS)
def test_gitorch_fix_and_an_edit_aimed_at_the_users_checkout(
    cli: str, sandboxed: bool, fixable: Sandbox, model_server: ModelServer, point
) -> None:
    """The scripted model edits the user's own checkout (outside the run's worktree) by absolute path.
    In gitorch's sandbox the write fails and nothing changes. Without it (bubblewrap unavailable), either
    the CLI refuses the tool call, or gitorch notices the change, puts the file back, and stops the run
    (exit 8, needs a human) naming the file. Never is it committed, and the checkout ends as it was."""
    require_agent(cli)
    target = str(fixable.repo / "app.py")
    turns = [*edit_file_turns(cli, target, VULNERABLE_LINE, FIXED_LINE, usage=Usage(3000, 1000, 200)),
             Reply("Done.", usage=Usage(3000, 1000, 50))]
    model_server.script(*turns)

    run = run_fix(fixable, cli, point(cli), env_extra=None if sandboxed else NO_BUBBLEWRAP)

    detail = story(run, model_server)
    for branch in run_branches(fixable):
        assert "shell=True" in fixable.git("show", f"{branch}:app.py"), detail  # nothing committed
    assert not run.leftovers
    assert (fixable.repo / "app.py").read_text() == VULNERABLE, detail
    assert fixable.git("status", "--porcelain").strip() == "", detail
    events = session_events(fixable)
    assert [e["sandboxed"] for e in events if e["type"] == "sandbox"] == [sandboxed], detail
    if sandboxed or REFUSES_OUTSIDE_EDITS[cli]:
        assert run.returncode != 0, detail  # nothing fixed: the loop ends below its target
        assert not [e for e in events if e["type"] == "repository_changed"], detail
        results = tool_results(model_server)
        assert results, "the CLI never reported the refused tool call back to the model"
    else:
        assert run.returncode == 8, detail
        said = run.stdout + run.stderr
        assert f"your repository changed while {cli} (agent call) ran (app.py)" in said, detail
        assert any(e["type"] == "repository_changed" and e["changed"] == ["app.py"] for e in events), detail
