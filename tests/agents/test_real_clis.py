"""The agent plugins driving the REAL CLIs (when installed) against the loopback model server.

Proves that each argv gitorch builds is accepted by the CLI's own parser (shared/agent-clis README
§8 says how an accepted argv differs from a rejected one), and that the real output is read right:
text, structured findings, usage and cost, an edit in the worktree, an authentication failure.
Skipped, with the reason, for a CLI that is not installed (``.ci/install-agent-clis`` installs
claude, codex and gemini into ``.ci/.npm-agents``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gitorch.errors import AgentError
from gitorch.testing.model_server import (
    Fail,
    Redirect,
    Reply,
    ToolCall,
    Usage,
    codex_apply_patch,
    edit_file_turns,
    minimal_env,
    model_server_fixture,
    redirect_for,
)

pytestmark = pytest.mark.integration

NPM_BIN = Path(__file__).resolve().parents[2] / ".ci" / ".npm-agents" / "node_modules" / ".bin"
SERVED = ("claude", "codex", "gemini", "qwen", "copilot", "opencode", "aider")
USAGE = Usage(input=4321, cached=1200, output=77)
ANSWER = {
    "score": 64,
    "summary": "One problem.",
    "findings": [
        {
            "severity": "P1",
            "description": "answer() returns the wrong value",
            "rule_id": None,
            "file": "app/util.py",
            "line": 2,
            "end_line": None,
            "recommendation": "return 42",
            "snippet": None,
        }
    ],
}
MARKDOWN = """# Security audit: .

**Score:** 64/100

## P1 High
- [P1] answer() returns the wrong value (app/util.py:2)
  - Recommendation: return 42.
"""

model_server = model_server_fixture()


def bin_dirs() -> list[Path]:
    extra = os.environ.get("GITORCH_AGENT_CLIS_BIN", "")
    return [*(Path(d) for d in extra.split(os.pathsep) if d), NPM_BIN]


def find_cli(name: str) -> str | None:
    for directory in bin_dirs():
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def redirect(cli: str, server, home: Path) -> Redirect:
    """The model server's redirect, or this module's for copilot (BYOK), opencode and aider."""
    if cli == "copilot":
        env = {
            "COPILOT_OFFLINE": "true",
            "COPILOT_PROVIDER_BASE_URL": server.openai_base_url,
            "COPILOT_PROVIDER_TYPE": "openai",
            "COPILOT_PROVIDER_API_KEY": "sk-gitorch-loopback",
            "COPILOT_MODEL": "gpt-4o",
        }
        return Redirect(env=env, model="gpt-4o")
    if cli == "opencode":
        provider = {
            "npm": "@ai-sdk/openai-compatible",
            "name": "loopback",
            "options": {"baseURL": server.openai_base_url, "apiKey": "sk-gitorch-loopback"},
            "models": {
                "fake-model": {"name": "fake-model", "cost": {"input": 3, "output": 15, "cache_read": 0.3}}
            },
        }
        env = {"OPENCODE_CONFIG_CONTENT": json.dumps({"provider": {"loopback": provider}})}
        return Redirect(env=env, model="loopback/fake-model")
    if cli == "aider":
        args = ["--openai-api-base", server.openai_base_url, "--openai-api-key", "sk-gitorch-loopback"]
        return Redirect(env={}, args=args, model="openai/gpt-4o")
    return redirect_for(cli, server, home)


def title_turns(cli: str) -> list:
    """opencode's first request names the session; it takes a scripted turn of its own."""
    return [Reply("Session title", usage=Usage(input=10, output=2))] if cli == "opencode" else []


def edit_turns(cli: str, root: Path) -> list:
    """The tool calls that make ``cli`` change ``return 41`` into ``return 42`` in app/util.py."""
    target = root / "app" / "util.py"
    if cli == "copilot":  # gpt-4o gets copilot's freeform apply_patch tool
        return [
            ToolCall(
                "apply_patch",
                codex_apply_patch({str(target): ("    return 41", "    return 42")}),
                usage=USAGE,
            )
        ]
    if cli == "aider":  # aider edits through SEARCH/REPLACE blocks in the model's text
        block = (
            "app/util.py\n```python\n<<<<<<< SEARCH\n    return 41\n=======\n    return 42\n"
            ">>>>>>> REPLACE\n```\n"
        )
        return [Reply(block, usage=USAGE)]
    if cli == "opencode":
        arguments = {"filePath": str(target), "oldString": "    return 41", "newString": "    return 42"}
        return [ToolCall("edit", arguments, usage=USAGE)]
    path = "app/util.py" if cli == "codex" else target
    return edit_file_turns(cli, path, "    return 41", "    return 42", usage=USAGE)


def require(name: str) -> str:
    path = find_cli(name)
    if path is None:
        pytest.skip(f"agent CLI {name!r} is not installed (run .ci/install-agent-clis or put it on PATH)")
    return path


def argv_rejected(cli: str, exit_code: int | None, stdout: str, stderr: str) -> bool:
    """README §8: did the CLI's own argument parser refuse the argv?"""
    if cli in ("codex", "aider"):
        return exit_code == 2
    if exit_code != 1:
        return False
    if cli == "claude":
        return (
            re.search(r"^error: (unknown option|option .* is invalid|.*requires)", stderr, re.M) is not None
        )
    if cli in ("gemini", "qwen"):
        pattern = (
            r"^(Unknown arguments|Invalid values|Not enough arguments|.* cannot be used|Cannot use both)"
        )
        return re.search(pattern, stderr, re.M) is not None
    if cli == "copilot":
        return re.search(r"^error: ", stderr, re.M) is not None
    if cli == "opencode":
        return not stdout.strip() and stderr.lstrip().startswith(("opencode", "█", "▄"))
    raise ValueError(cli)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)
    return home


def real_agent(harness, cli: str, server, home: Path, **options):
    """The gitorch agent for ``cli``, its executable and environment pointed at the model server."""
    exe = require(cli)
    point = redirect(cli, server, home)
    path = os.pathsep.join([*map(str, bin_dirs()), "/usr/local/bin", "/usr/bin", "/bin"])
    env = {**minimal_env(home, path=path), **point.env}
    extra = list(point.args)
    for flag in ("-m", "--model"):  # the model goes through Options.model
        if flag in extra:
            i = extra.index(flag)
            del extra[i : i + 2]
    if "--skip-trust" in extra:
        extra.remove("--skip-trust")  # gitorch passes it already
    return harness.agent(
        cli, binary=exe, model=point.model, env=env, extra_args=extra, timeout_s=120, **options
    )


def audit_turns(cli: str) -> list:
    if cli == "claude":  # --json-schema: claude delivers the answer through its StructuredOutput tool
        return [ToolCall("StructuredOutput", ANSWER, usage=USAGE)]
    if cli == "qwen":  # --json-schema: qwen's structured_output tool
        return [ToolCall("structured_output", ANSWER, usage=USAGE)]
    if cli == "codex":  # --output-schema: the final message is the JSON answer
        return [Reply(json.dumps(ANSWER), usage=USAGE)]
    return [*title_turns(cli), Reply(MARKDOWN, usage=USAGE)]  # the others: a Markdown report


@pytest.mark.parametrize(
    ("cli", "stream"),
    [(cli, None) for cli in SERVED] + [(cli, False) for cli in ("claude", "gemini", "qwen")],
)
def test_real_audit_argv_is_accepted_and_its_output_read(harness, model_server, home, cli, stream):
    from gitorch_markdown.parser import MarkdownParser

    harness.parser = MarkdownParser()
    model_server.script(*audit_turns(cli))
    options = {} if stream is None else {"stream": stream}  # False: the one-object -o json formats
    agent = real_agent(harness, cli, model_server, home, **options)
    result = agent.audit(harness.audit_request())

    call = harness.recorder.calls[-1]
    assert not argv_rejected(cli, call.exit_code, call.stdout, call.stderr)
    assert call.exit_code == 0 and call.error is None
    assert model_server.agent_requests and model_server.agent_requests[0].text_contains("OWASP")
    [finding] = result.findings
    assert (finding.severity, finding.file, finding.line) == ("P1", "app/util.py", 2)
    assert (result.claimed_score, result.claimed_score_scale) == (64, 100)
    usage = result.usage
    cached = 0 if cli == "aider" else 1200  # aider's analytics report no cached tokens
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == (4321, cached, 77)
    assert usage.cost_usd > 0 and not usage.unknown_price
    assert usage.cost_source == ("reported" if cli in ("claude", "opencode", "aider") else "priced")


@pytest.mark.parametrize("cli", SERVED)
def test_real_fix_edits_the_worktree(harness, model_server, home, cli):
    target = harness.root / "app" / "util.py"
    model_server.script(
        *title_turns(cli),
        *edit_turns(cli, harness.root),
        Reply("Changed the return value to 42.", usage=USAGE),
    )
    agent = real_agent(harness, cli, model_server, home)
    result = agent.fix(harness.fix_request())

    call = harness.recorder.calls[-1]
    assert not argv_rejected(cli, call.exit_code, call.stdout, call.stderr)
    assert result.status == "changed", call.stdout[-2000:]
    assert target.read_text() == "def answer():\n    return 42\n"
    assert "42" in result.summary
    assert result.usage.output_tokens >= 77


@pytest.mark.parametrize("cli", SERVED)
def test_real_audit_cannot_edit_files(harness, model_server, home, cli):
    """Audits run read-only: a scripted edit is refused and the file stays as it was."""
    target = harness.root / "app" / "util.py"
    model_server.script(
        *title_turns(cli), *edit_turns(cli, harness.root), *audit_turns(cli)[len(title_turns(cli)) :]
    )
    agent = real_agent(harness, cli, model_server, home)
    # Refusing the tool may end the run with an error; either way nothing may change.
    with contextlib.suppress(AgentError):
        agent.audit(harness.audit_request())
    assert target.read_text() == "def answer():\n    return 41\n"
    assert (
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=harness.root, capture_output=True, text=True
        ).stdout
        == ""
    )


@pytest.mark.parametrize("cli", SERVED)
def test_real_auth_failure_is_an_agent_error(harness, model_server, home, cli):
    model_server.script(Fail(401, "Incorrect API key provided (fake local 401)"))
    model_server.default = Fail(401, "Incorrect API key provided (fake local 401)")
    agent = real_agent(harness, cli, model_server, home, use_schema=False)
    with pytest.raises(AgentError, match=f"agent '{cli}' failed"):
        agent.audit(harness.audit_request())
    call = harness.recorder.calls[-1]
    if cli == "qwen":  # the trap: qwen exits 0 after an API error; gitorch still sees the failure
        assert call.exit_code == 0 and "[API Error: 401" in call.error
    elif cli == "aider":  # the same trap: the error is text on stdout after exit 0
        assert call.exit_code == 0 and "litellm.AuthenticationError" in call.error
    else:
        assert call.error and call.exit_code != 0
    assert not argv_rejected(cli, call.exit_code, call.stdout, call.stderr)


@pytest.mark.parametrize("cli", SERVED)
def test_the_rejection_check_catches_a_bogus_flag(harness, model_server, home, cli):
    """The acceptance check above can fail: an unknown flag is recognised as rejected."""
    agent = real_agent(harness, cli, model_server, home)
    agent.options.extra_args.append("--definitely-not-a-flag")
    with pytest.raises(AgentError):
        agent.audit(harness.audit_request())
    call = harness.recorder.calls[-1]
    assert argv_rejected(cli, call.exit_code, call.stdout, call.stderr)
    assert not model_server.agent_requests


def test_a_real_fix_session_commits_and_replays_without_the_cli(model_server, home, tmp_path):
    """gitorch fix with the real codex commits a fix; --replay reproduces it with no codex anywhere."""
    import sys

    exe = require("codex")
    repo = tmp_path / "project"
    (repo / "tests").mkdir(parents=True)
    (repo / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    (repo / "tests" / "test_app.py").write_text("def test_ok():\n    assert True\n")
    old, new = "    return subprocess.call(cmd, shell=True)", "    return subprocess.call(cmd.split())"
    model_server.script(
        ToolCall("apply_patch", codex_apply_patch({"app.py": (old, new)}), usage=USAGE),
        Reply("Removed shell=True.", usage=USAGE),
    )
    point = redirect(cli="codex", server=model_server, home=home)
    env = {**minimal_env(home, path=f"{Path(exe).parent}:/usr/bin:/bin"), **point.env}
    toml = (
        f"[agents.codex]\nbinary = {json.dumps(exe)}\nmodel = {json.dumps(point.model)}\n"
        f"extra_args = {json.dumps(point.args)}\n"
        "env = { " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in env.items()) + " }\n"
        f"[tests]\ncommand = {json.dumps(sys.executable + ' -m pytest -q -p no:cacheprovider')}\n"
    )
    (repo / ".gitorch.toml").write_text(toml)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "init")
    command = [
        sys.executable,
        "-m",
        "gitorch",
        "fix",
        "-d",
        "security",
        "--agent",
        "codex",
        "--yes",
        "--max-iterations",
        "1",
    ]
    # NOTE: the loop checks an agent's availability on its class, so the CLI must be on gitorch's PATH.
    first_env = {**os.environ, "PATH": f"{Path(exe).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    first = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=300, env=first_env)
    assert "committed" in first.stdout + first.stderr, first.stdout[-3000:] + first.stderr[-2000:]
    [session] = [p.name for p in (repo / ".git" / "gitorch" / "sessions").iterdir()]
    fixed = git("show", f"gitorch/{session}:app.py")
    assert new in fixed

    # A codex that only leaves a mark: the loop still checks the agent's availability on replay, but
    # nothing may run it.
    trap = tmp_path / "trap"
    trap.mkdir()
    (trap / "codex").write_text(f"#!/bin/sh\ntouch {tmp_path / 'codex-ran'}\nexit 99\n")
    (trap / "codex").chmod(0o755)
    replay_env = {**os.environ, "PATH": f"{trap}:/usr/bin:/bin"}
    (repo / ".gitorch.toml").write_text(toml.replace(json.dumps(exe), json.dumps(str(trap / "codex"))))
    requests = len(model_server.agent_requests)
    again = subprocess.run(
        [*command, "--replay", session], cwd=repo, capture_output=True, text=True, timeout=300, env=replay_env
    )
    assert "committed" in again.stdout + again.stderr, again.stdout[-3000:] + again.stderr[-2000:]
    assert len(model_server.agent_requests) == requests  # the model was not asked again
    assert not (tmp_path / "codex-ran").exists()
    [replayed] = [p.name for p in (repo / ".git" / "gitorch" / "sessions").iterdir() if p.name != session]
    assert git("show", f"gitorch/{replayed}:app.py") == fixed
