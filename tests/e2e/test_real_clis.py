"""The real claude, codex, gemini and qwen processes against the scripted loopback model server.

Direct subprocess calls (no gitorch agent plugin in between) proving, for each CLI, that:
(a) a scripted text answer and its token counts come back in the CLI's own JSON output;
(b) a scripted tool call makes the CLI edit a file in the repository through its own edit tool;
(c) an HTTP 401 from the server gives the CLI's real authentication failure;
(d) a server that stalls, a timeout and a process-group kill leave no process behind;
and that a tool call the CLI is not allowed to run is refused (file untouched).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitorch.testing.model_server import (
    Fail,
    ModelServer,
    Reply,
    Stall,
    Usage,
    edit_file_turns,
    structured_answer,
    write_file_call,
)

from .conftest import CLIS, Run, Sandbox, require_cli

pytestmark = pytest.mark.integration

USAGE = Usage(input=4321, cached=1200, output=77)
PROMPT = "Audit this repository for security issues. PROMPT-MARKER-7f3a"


def argv_for(
    cli: str, exe: str, redirect_args: list[str], prompt: str, *, allow_edits: bool = True
) -> list[str]:
    """The headless argv of each CLI; ``allow_edits`` picks its auto-approve mode for file edits."""
    if cli == "claude":
        mode = ["--permission-mode", "acceptEdits"] if allow_edits else []
        return [exe, "-p", prompt, "--output-format", "json", *redirect_args, *mode]
    if cli == "codex":
        sandbox = "workspace-write" if allow_edits else "read-only"
        return [exe, "exec", "--json", "--ephemeral", *redirect_args, "-s", sandbox, prompt]
    if cli == "gemini":
        mode = ["--approval-mode", "auto_edit"] if allow_edits else []
        return [exe, "-p", prompt, "-o", "json", *redirect_args, *mode]
    if cli == "qwen":
        mode = ["--approval-mode", "auto-edit"] if allow_edits else []  # hyphen, unlike gemini
        return [exe, prompt, "-o", "json", *redirect_args, *mode]
    raise ValueError(cli)


def ask(cli: str, sandbox: Sandbox, redirect, prompt: str = PROMPT, *, allow_edits: bool = True,
        timeout: float = 90) -> Run:
    """Run the real ``cli`` headless on ``prompt`` in the sandbox repository, pointed at the server."""
    argv = argv_for(cli, require_cli(cli), redirect.argv, prompt, allow_edits=allow_edits)
    return sandbox.run(argv, sandbox.env(redirect), timeout=timeout)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def final_text_and_usage(cli: str, run: Run) -> tuple[str, dict[str, int]]:
    """The final answer and token counts each CLI printed, normalised to input/cached/output.

    ``input`` includes cached tokens for every CLI (claude reports non-cached input separately).
    """
    if cli == "claude":
        data = json.loads(run.stdout)
        usage = data["usage"]
        cached = usage["cache_read_input_tokens"]
        return data["result"], {
            "input": usage["input_tokens"] + cached,
            "cached": cached,
            "output": usage["output_tokens"],
        }
    if cli == "codex":
        events = json_lines(run.stdout)
        texts = [
            e["item"]["text"]
            for e in events
            if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"
        ]
        usage = [e["usage"] for e in events if e.get("type") == "turn.completed"][-1]
        return texts[-1], {
            "input": usage["input_tokens"],
            "cached": usage["cached_input_tokens"],
            "output": usage["output_tokens"],
        }
    if cli == "qwen":
        (result,) = [m for m in json.loads(run.stdout) if m.get("type") == "result"]
        usage = result["usage"]  # input_tokens includes the cached ones
        return result["result"], {
            "input": usage["input_tokens"],
            "cached": usage["cache_read_input_tokens"],
            "output": usage["output_tokens"],
        }
    data = json.loads(run.stdout)
    (tokens,) = [m["tokens"] for m in data["stats"]["models"].values()]
    return data["response"], {
        "input": tokens["prompt"],
        "cached": tokens["cached"],
        "output": tokens["candidates"],
    }


def describe(run: Run) -> str:
    head = f"exit={run.returncode} timed_out={run.timed_out}"
    return f"{head}\nstdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-3000:]}"


@pytest.mark.parametrize("cli", CLIS)
def test_text_answer_and_token_counts(cli: str, sandbox: Sandbox, model_server: ModelServer, point) -> None:
    require_cli(cli)
    report = "## Findings\n- P1 `app.py:2` hard-coded value\n\nScore: 88/100"
    model_server.script(Reply(report, usage=USAGE))
    redirect = point(cli)

    run = ask(cli, sandbox, redirect)

    assert run.returncode == 0, describe(run)
    text, usage = final_text_and_usage(cli, run)
    assert text.strip() == report
    assert usage == {"input": 4321, "cached": 1200, "output": 77}
    # The prompt reached the server, once, and no credential was recorded.
    agent = model_server.agent_requests
    assert len(agent) == 1
    assert agent[0].text_contains("PROMPT-MARKER-7f3a")
    secret = next(v for k, v in redirect.env.items() if k.endswith("API_KEY"))
    for request in model_server.requests:
        assert secret not in json.dumps(request.headers)
        assert secret not in request.raw
    assert not run.leftovers


@pytest.mark.parametrize("cli", CLIS)
def test_scripted_tool_call_edits_the_repository(
    cli: str, sandbox: Sandbox, model_server: ModelServer, point
) -> None:
    require_cli(cli)
    target = "app.py" if cli == "codex" else str(sandbox.repo / "app.py")
    model_server.script(
        *edit_file_turns(cli, target, "    return 41", "    return 42", usage=Usage(900, 100, 30)),
        Reply("Fixed the off-by-one in answer().", usage=Usage(1000, 900, 12)),
    )
    redirect = point(cli)

    run = ask(cli, sandbox, redirect, "Fix the failing test.")

    assert run.returncode == 0, describe(run)
    assert (sandbox.repo / "app.py").read_text() == "def answer():\n    return 42\n"
    assert sandbox.git("status", "--porcelain").strip() == "M app.py"
    assert model_server.pending == []
    # The CLI sent the result of its edit tool back before the final answer.
    last = model_server.agent_requests[-1]
    assert last.tool_results, "the final request carried no tool result"
    assert "error" not in last.tool_results[-1].lower(), last.tool_results
    text, _ = final_text_and_usage(cli, run)
    assert text.strip() == "Fixed the off-by-one in answer()."
    assert not run.leftovers


@pytest.mark.parametrize("cli", CLIS)
def test_scripted_write_creates_a_file(cli: str, sandbox: Sandbox, model_server: ModelServer, point) -> None:
    require_cli(cli)
    target = "SECURITY.md" if cli == "codex" else str(sandbox.repo / "SECURITY.md")
    model_server.script(
        write_file_call(cli, target, "# Security\n\nReport issues privately.\n"), Reply("Added.")
    )
    redirect = point(cli)

    run = ask(cli, sandbox, redirect, "Add a security policy.")

    assert run.returncode == 0, describe(run)
    assert (sandbox.repo / "SECURITY.md").read_text() == "# Security\n\nReport issues privately.\n"


@pytest.mark.parametrize("cli", CLIS)
def test_refused_tool_call_leaves_the_file_alone(
    cli: str, sandbox: Sandbox, model_server: ModelServer, point
) -> None:
    require_cli(cli)
    target = "app.py" if cli == "codex" else str(sandbox.repo / "app.py")
    model_server.script(
        *edit_file_turns(cli, target, "    return 41", "    return 42"),
        Reply("I could not edit the file."),
    )
    redirect = point(cli)

    run = ask(cli, sandbox, redirect, "Fix it.", allow_edits=False)

    assert (sandbox.repo / "app.py").read_text() == "def answer():\n    return 41\n", describe(run)
    assert sandbox.git("status", "--porcelain").strip() == ""
    # Every CLI exits 0: a refused tool is not a failed run. Each says so in its own way.
    assert run.returncode == 0, describe(run)
    refusal = model_server.agent_requests[-1].tool_results[-1]
    if cli == "claude":
        data = json.loads(run.stdout)
        assert [d["tool_name"] for d in data["permission_denials"]] == ["Edit"]
    elif cli == "codex":
        # The read-only sandbox rejects the patch; the rejection goes back to the model.
        assert "patch rejected" in refusal and "read-only" in refusal
    elif cli == "gemini":
        # Headless default approval mode removes the edit tools altogether.
        assert 'Tool \\"replace\\" not found' in refusal or 'Tool "replace" not found' in refusal
        assert json.loads(run.stdout)["stats"]["tools"]["totalFail"] == 1
    else:
        # qwen declines the edit by a deny rule (after the read it was allowed).
        assert 'permission to use "edit"' in refusal and "declined" in refusal, refusal
    assert not run.leftovers


@pytest.mark.parametrize("cli", CLIS)
def test_auth_failure(cli: str, sandbox: Sandbox, model_server: ModelServer, point) -> None:
    require_cli(cli)
    model_server.script(Fail(401))

    run = ask(cli, sandbox, point(cli))

    assert not run.timed_out, describe(run)
    if cli == "claude":
        data = json.loads(run.stdout)
        assert run.returncode == 1, describe(run)
        assert data["is_error"] is True
        assert data["api_error_status"] == 401
    elif cli == "codex":
        assert run.returncode == 1, describe(run)
        failed = [e for e in json_lines(run.stdout) if e.get("type") == "turn.failed"]
        assert failed and "401" in failed[0]["error"]["message"]
    elif cli == "gemini":
        assert run.returncode == 145, describe(run)  # process.exit(401) truncated to 8 bits
        assert "UNAUTHENTICATED" in run.stderr or "401" in run.stderr
    else:
        # qwen: exit 0 and is_error false; the failure is only in the result text.
        assert run.returncode == 0, describe(run)
        (result,) = [m for m in json.loads(run.stdout) if m.get("type") == "result"]
        assert result["result"].startswith("[API Error: 401")
    # No retry: one request reached the server.
    assert len(model_server.agent_requests) == 1
    assert not run.leftovers


@pytest.mark.parametrize("cli", CLIS)
def test_stalled_server_timeout_kills_the_whole_group(
    cli: str, sandbox: Sandbox, model_server: ModelServer, point
) -> None:
    require_cli(cli)
    model_server.script(Stall())

    run = ask(cli, sandbox, point(cli), timeout=12)

    assert run.timed_out, describe(run)
    assert model_server.agent_requests, "the CLI never reached the server before the timeout"
    assert run.leftovers == [], f"processes of the run survived the group kill: {run.leftovers}"


FINDINGS = {
    "findings": [
        {"severity": "P1", "title": "Hard-coded answer", "file": "app.py", "line": 2},
    ],
    "score": 88,
}
SCHEMA = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "severity": {"type": "string"},
                    "title": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": "integer"},
                },
                "required": ["severity", "title", "file", "line"],
                "additionalProperties": False,
            },
        },
        "score": {"type": "integer"},
    },
    "required": ["findings", "score"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("cli", ["claude", "codex"])
def test_structured_output_with_a_json_schema(
    cli: str, sandbox: Sandbox, model_server: ModelServer, point
) -> None:
    """The schema path gitorch's audits use: claude --json-schema, codex exec --output-schema."""
    exe = require_cli(cli)
    model_server.script(structured_answer(cli, FINDINGS, usage=USAGE))
    redirect = point(cli)
    if cli == "claude":
        argv = [
            exe,
            "-p",
            PROMPT,
            "--output-format",
            "json",
            "--json-schema",
            json.dumps(SCHEMA),
            *redirect.argv,
        ]
    else:
        schema_file = sandbox.root / "schema.json"
        schema_file.write_text(json.dumps(SCHEMA))
        argv = [
            exe,
            "exec",
            "--json",
            "--ephemeral",
            *redirect.argv,
            "--output-schema",
            str(schema_file),
            PROMPT,
        ]

    run = sandbox.run(argv, sandbox.env(redirect), timeout=90)

    assert run.returncode == 0, describe(run)
    (request,) = model_server.agent_requests
    if cli == "claude":
        assert "StructuredOutput" in request.tool_names
        assert json.loads(run.stdout)["structured_output"] == FINDINGS
    else:
        assert request.body["text"]["format"]["schema"] == SCHEMA
        text, usage = final_text_and_usage(cli, run)
        assert json.loads(text) == FINDINGS
        assert usage == {"input": 4321, "cached": 1200, "output": 77}
