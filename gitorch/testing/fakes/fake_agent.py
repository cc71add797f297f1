#!/usr/bin/env python3
# ruff: noqa: E501  (verbatim CLI outputs)
"""A stand-in for the AI coding CLIs: prints their REAL output formats (docs/agent-clis.md).

Installed as ``bin/<cli>`` (claude, codex, gemini, copilot, aider, opencode, qwen) by
:class:`gitorch.testing.kit.FakeAgents` (the ``gitorch_fake_agent`` fixture). Environment:

- ``FAKE_SCENARIO``: success (default), auth, partial, garbage, hang, silent, stubborn, chatty, reject,
  spender (claude: many costly turns)
- ``FAKE_TEXT``: the model's final text (default ``Hi! (fake local model)``)
- ``FAKE_EDIT``: ``path::old::new`` replaced in the file under the cwd before answering
- ``FAKE_CREATE``: ``path::content`` written under the cwd before answering
- ``FAKE_STRUCTURED``: JSON the CLI returns as its structured output (claude ``--json-schema``, qwen)
- ``FAKE_SCENARIO_<CLI>``: the scenario of one CLI (``FAKE_SCENARIO_CLAUDE``), over ``FAKE_SCENARIO``
- ``FAKE_DUMP``: a file that receives ``{"argv", "stdin", "cwd", "env", "pid", "children"}`` as JSON
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CLI = os.environ.get("FAKE_CLI") or Path(sys.argv[0]).name
SCENARIO = os.environ.get(f"FAKE_SCENARIO_{CLI.upper()}") or os.environ.get("FAKE_SCENARIO", "success")
TEXT = os.environ.get("FAKE_TEXT", "Hi! (fake local model)")
ARGS = sys.argv[1:]
ENV_KEYS = ("IS_SANDBOX", "CLAUDE_CODE_MAX_RETRIES", "COPILOT_AUTO_UPDATE", "OPENCODE_CONFIG_CONTENT",
            "FAKE_BASE_URL", "ANTHROPIC_BASE_URL")


def arg_after(flag: str) -> str | None:
    return ARGS[ARGS.index(flag) + 1] if flag in ARGS and ARGS.index(flag) + 1 < len(ARGS) else None


def dump(**more) -> None:
    target = os.environ.get("FAKE_DUMP")
    if not target:
        return
    path = Path(target)
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(more)
    path.write_text(json.dumps(data))


def emit(stdout: str = "", stderr: str = "", code: int = 0) -> None:
    sys.stdout.write(stdout)
    sys.stderr.write(stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


def j(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------- claude
def claude() -> None:
    base = {"type": "result", "subtype": "success", "is_error": False, "api_error_status": None,
            "duration_ms": 199, "duration_api_ms": 32, "num_turns": 1, "result": TEXT,
            "stop_reason": "end_turn", "session_id": "f766b8c1-3c17-441b-a056-744bdddd9afb",
            "total_cost_usd": 0.001107,
            "usage": {"input_tokens": 234, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1000,
                      "output_tokens": 7, "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                      "service_tier": "standard"},
            "modelUsage": {"claude-sonnet-4-5": {"inputTokens": 234, "outputTokens": 7, "cacheReadInputTokens": 1000,
                                                 "cacheCreationInputTokens": 0, "webSearchRequests": 0,
                                                 "costUSD": 0.001107, "contextWindow": 200000,
                                                 "maxOutputTokens": 32000}},
            "permission_denials": [], "terminal_reason": "completed", "uuid": "39c8bb36-f3e3-49ee-b73c-caf046a39f2e"}
    if "--definitely-not-a-flag" in ARGS or SCENARIO == "reject":
        emit(stderr="error: unknown option '--definitely-not-a-flag'\n", code=1)
    if SCENARIO == "success":
        if os.environ.get("FAKE_STRUCTURED"):
            base["structured_output"] = json.loads(os.environ["FAKE_STRUCTURED"])
        claude_emit(base)
    if SCENARIO == "auth":
        base.update(is_error=True, result="Not logged in · Please run /login", total_cost_usd=0,
                    usage={"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                           "output_tokens": 0}, modelUsage={})
        claude_emit(base, code=1)
    if SCENARIO == "bash_denied":
        base["permission_denials"] = [{"tool_name": "Bash", "tool_use_id": "toolu_fake2",
                                       "tool_input": {"command": "python -m pytest -q"}}]
        claude_emit(base)
    if SCENARIO == "partial":
        base["permission_denials"] = [{"tool_name": "Write", "tool_use_id": "toolu_fake1",
                                       "tool_input": {"file_path": os.getcwd() + "/new.txt", "content": "hello\n"}}]
        claude_emit(base)
    if SCENARIO == "budget":
        base.update(subtype="error_max_budget_usd", is_error=True, errors=["Reached maximum budget ($1e-7)"])
        del base["result"]
        claude_emit(base, code=1)
    if SCENARIO == "spender":
        claude_spender(base)


def claude_spender(base: dict) -> None:
    """A multi-turn call: ``FAKE_TURNS`` model turns (10k tokens in, 1k out: $0.045 at sonnet 4.5's list
    price), each streamed as it ends. Like claude, it checks ``--max-budget-usd`` after each turn (so it
    can pass the cap by one turn) unless ``FAKE_IGNORE_CAP`` is set."""
    cap = float(arg_after("--max-budget-usd") or "inf")
    turns = int(os.environ.get("FAKE_TURNS", "20"))
    usage = {"input_tokens": 10000, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
             "output_tokens": 1000}
    spent = 0.0
    for n in range(1, turns + 1):
        print(j({"type": "assistant", "message": {"id": f"msg_{n:03d}", "model": "claude-sonnet-4-5",
                 "role": "assistant", "content": [{"type": "text", "text": f"turn {n}"}], "usage": usage}}),
              flush=True)
        spent = round(spent + 0.045, 6)
        dump(turns_done=n)
        if spent > cap and not os.environ.get("FAKE_IGNORE_CAP"):
            base.update(subtype="error_max_budget_usd", is_error=True, total_cost_usd=spent, num_turns=n,
                        errors=[f"Reached maximum budget (${cap})"])
            del base["result"]
            emit(j(base) + "\n", code=1)
        time.sleep(float(os.environ.get("FAKE_TURN_SLEEP", "0.05")))
    total = {**usage, "input_tokens": 10000 * turns, "output_tokens": 1000 * turns}
    base.update(total_cost_usd=spent, num_turns=turns, usage=total)
    emit(j(base) + "\n")


def claude_emit(result: dict, code: int = 0) -> None:
    """``--output-format json``: the result object; ``stream-json --verbose``: init, assistant, result."""
    fmt = arg_after("--output-format") or "text"
    if fmt == "stream-json":
        if "--verbose" not in ARGS:
            emit(stderr="Error: When using --print, --output-format=stream-json requires --verbose\n", code=1)
        lines = [
            {"type": "system", "subtype": "init", "cwd": os.getcwd(), "session_id": result["session_id"], "tools": ["Read", "Edit"],
             "model": "claude-sonnet-4-5", "permissionMode": arg_after("--permission-mode") or "default",
             "apiKeySource": "ANTHROPIC_API_KEY", "claude_code_version": "2.1.197"},
            {"type": "assistant", "message": {"model": "claude-sonnet-4-5", "role": "assistant",
                                              "content": [{"type": "text", "text": result.get("result", "")}],
                                              "usage": result["usage"]}, "session_id": result["session_id"]},
            result,
        ]
        emit("".join(j(line) + "\n" for line in lines), code=code)
    emit(j(result) + "\n", code=code)


# ----------------------------------------------------------------------------------------------- codex
def codex() -> None:
    if "--full-auto" in ARGS or "--definitely-not-a-flag" in ARGS or SCENARIO == "reject":
        flag = "--full-auto" if "--full-auto" in ARGS else "--definitely-not-a-flag"
        emit(stderr=f"error: unexpected argument '{flag}' found\n\n  tip: ...\n\nUsage: codex exec [OPTIONS] [PROMPT]\n",
             code=2)
    last = arg_after("-o")
    if arg_after("--output-schema"):
        dump(schema=json.loads(Path(arg_after("--output-schema")).read_text()))
    if SCENARIO == "success":
        if last:
            Path(last).write_text(TEXT)
        emit("\n".join([
            j({"type": "thread.started", "thread_id": "01a21342-5d02-7b12-9d91-245f5146d7c9"}),
            j({"type": "item.completed", "item": {"id": "item_0", "type": "error", "message": "Model metadata for `gpt-5` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}),
            j({"type": "turn.started"}),
            j({"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": TEXT}}),
            j({"type": "turn.completed", "usage": {"input_tokens": 1234, "cached_input_tokens": 1000,
                                                   "cache_write_input_tokens": 0, "output_tokens": 7,
                                                   "reasoning_output_tokens": 0}}),
        ]) + "\n")
    if SCENARIO == "auth":
        msg = "unexpected status 401 Unauthorized: Incorrect API key provided (fake local 401), url: http://127.0.0.1:18401/v1/responses"
        emit("\n".join([
            j({"type": "thread.started", "thread_id": "01a2133c-1af7-7b13-8201-36d54669fc6c"}),
            j({"type": "turn.started"}),
            j({"type": "error", "message": msg}),
            j({"type": "turn.failed", "error": {"message": msg}}),
        ]) + "\n", code=1)


# ---------------------------------------------------------------------------------------------- gemini
def gemini() -> None:
    if "--definitely-not-a-flag" in ARGS or SCENARIO == "reject":
        emit(stderr="Unknown arguments: definitely-not-a-flag, definitelyNotAFlag\n", code=1)
    stream = arg_after("-o") == "stream-json"
    if SCENARIO == "success" and stream:
        emit("".join(j(e) + "\n" for e in [
            {"type": "init", "timestamp": "2026-11-25T15:10:56.426Z", "session_id": "f5efb54b-6ef4-433b-b26a-76b58ce1da2a", "model": "gemini-2.5-flash"},
            {"type": "message", "timestamp": "2026-11-25T15:10:56.428Z", "role": "user", "content": arg_after("-p") or ""},
            {"type": "message", "timestamp": "2026-11-25T15:10:56.480Z", "role": "assistant", "content": TEXT[: len(TEXT) // 2], "delta": True},
            {"type": "message", "timestamp": "2026-11-25T15:10:56.481Z", "role": "assistant", "content": TEXT[len(TEXT) // 2:], "delta": True},
            {"type": "result", "timestamp": "2026-11-25T15:10:56.523Z", "status": "success", "stats": {
                "total_tokens": 1241, "input_tokens": 1234, "output_tokens": 7, "cached": 1000, "input": 234, "duration_ms": 98, "tool_calls": 0,
                "models": {"gemini-2.5-flash": {"total_tokens": 1241, "input_tokens": 1234, "output_tokens": 7, "cached": 1000, "input": 234}}}},
        ]))
    if SCENARIO == "auth" and stream:  # checks before the run print plain text, even in stream-json mode
        emit(stderr="Please set an Auth method in your /root/.gemini/settings.json or specify one of the following environment variables before running: GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA\n", code=41)
    if SCENARIO == "success":
        tokens = {"input": 234, "prompt": 1234, "candidates": 7, "total": 1241, "cached": 1000, "thoughts": 0, "tool": 0}
        emit(json.dumps({
            "session_id": "70a89383-c61e-4455-9ab6-bbc3d4087e46",
            "response": TEXT,
            "stats": {"models": {"gemini-2.5-flash": {
                "api": {"totalRequests": 1, "totalErrors": 0, "totalLatencyMs": 67, "errorsByType": {}},
                "tokens": tokens, "roles": {"main": {"totalRequests": 1, "tokens": tokens}}}},
                "tools": {"totalCalls": 0, "totalSuccess": 0, "totalFail": 0},
                "files": {"totalLinesAdded": 0, "totalLinesRemoved": 0}},
        }, indent=2) + "\n")
    if SCENARIO == "auth":
        emit(stderr=j({"session_id": "x", "error": {"type": "Error", "message": "Please set an Auth method in your /root/.gemini/settings.json or specify one of the following environment variables before running: GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA", "code": 41}}) + "\n", code=41)
    if SCENARIO == "partial":  # HTTP 401 from the API: process.exit(401) -> 145
        emit(stderr=j({"session_id": "x", "error": {"type": "Error", "message": "[API Error: 401 Unauthorized]", "code": 401}}) + "\n", code=145)


# --------------------------------------------------------------------------------------------- copilot
def copilot() -> None:
    if "--definitely-not-a-flag" in ARGS or SCENARIO == "reject":
        emit(stderr="error: Invalid command format.\n\nIt looks like your prompt was not quoted...\n", code=1)
    usage_file = arg_after("--usage-output-file")
    events = [
        {"type": "user.message", "data": {"content": arg_after("-p") or "", "messageId": "c0b2eb90"}, "id": "887f04fb", "timestamp": "2026-11-25T15:11:06.965Z"},
        {"type": "assistant.turn_start", "data": {"turnId": "0", "interactionId": "468f6e43"}, "id": "90c649a0"},
    ]
    if SCENARIO == "success":
        events += [
            {"type": "assistant.message_delta", "data": {"messageId": "f4362859", "deltaContent": TEXT}, "ephemeral": True},
            {"type": "assistant.message", "data": {"messageId": "f4362859", "model": "gpt-4o", "content": TEXT, "toolRequests": [], "turnId": "0"}},
            {"type": "assistant.turn_end", "data": {"turnId": "0"}},
            {"type": "result", "timestamp": "2026-11-25T15:11:07.057Z", "sessionId": "7e3d027d", "exitCode": 0,
             "usage": {"premiumRequests": 0, "totalApiDurationMs": 32, "sessionDurationMs": 303,
                       "codeChanges": {"linesAdded": 0, "linesRemoved": 0, "filesModified": []}}},
        ]
        if usage_file:
            Path(usage_file).write_text(j({"totalPremiumRequestCost": 0, "totalUserRequests": 1, "totalNanoAiu": 0,
                                           "aiCreditsStatus": "unavailable", "modelMetrics": {"gpt-4o": {
                                               "requests": {"count": 1, "cost": 0},
                                               "usage": {"inputTokens": 1234, "outputTokens": 7, "cacheReadTokens": 1000,
                                                         "cacheWriteTokens": 0, "reasoningTokens": 0}}},
                                           "lastCallInputTokens": 1234, "lastCallOutputTokens": 7}))
        emit("\n".join(map(j, events)) + "\n")
    if SCENARIO == "auth":
        events += [
            {"type": "session.error", "data": {"errorType": "authentication", "message": "Authentication failed with provider at http://127.0.0.1:18401/v1 (HTTP 401)", "statusCode": 401}},
            {"type": "result", "sessionId": "7e3d027d", "exitCode": 1, "usage": {"premiumRequests": 0}},
        ]
        emit("\n".join(map(j, events)) + "\n", code=1)


# -------------------------------------------------------------------------------------------- opencode
def opencode() -> None:
    if "--definitely-not-a-flag" in ARGS or SCENARIO == "reject":
        emit(stderr="opencode run [message..]\n\nrun opencode with a message\n", code=1)
    common = {"timestamp": 1795619503183, "sessionID": "ses_decbcd06dffeevlqsjATD16wf8"}
    if SCENARIO == "success":
        emit("\n".join(map(j, [
            {"type": "step_start", **common, "part": {"id": "prt_1", "type": "step-start"}},
            {"type": "text", **common, "part": {"id": "prt_2", "type": "text", "text": TEXT}},
            {"type": "step_finish", **common, "part": {"id": "prt_3", "reason": "tool-calls", "type": "step-finish",
                                                       "tokens": {"total": 1241, "input": 234, "output": 7, "reasoning": 0, "cache": {"write": 0, "read": 1000}},
                                                       "cost": 0.001107}},
            {"type": "step_finish", **common, "part": {"id": "prt_4", "reason": "stop", "type": "step-finish",
                                                       "tokens": {"total": 1241, "input": 234, "output": 7, "reasoning": 0, "cache": {"write": 0, "read": 1000}},
                                                       "cost": 0.001107}},
        ])) + "\n")
    if SCENARIO == "auth":
        emit(j({"type": "error", **common, "error": {"name": "APIError", "data": {"message": "Incorrect API key provided (fake local 401)", "statusCode": 401, "isRetryable": False}}}) + "\n", code=1)


# ------------------------------------------------------------------------------------------------ qwen
def qwen() -> None:
    if "--definitely-not-a-flag" in ARGS or SCENARIO == "reject":
        emit(stderr="Unknown arguments: definitely-not-a-flag, definitelyNotAFlag\n", code=1)
    init = {"type": "system", "subtype": "init", "session_id": "2c8f56ee", "cwd": os.getcwd(), "tools": ["edit", "write_file"],
            "model": "gpt-4o", "permission_mode": arg_after("--approval-mode") or "default"}
    result = {"type": "result", "subtype": "success", "session_id": "2c8f56ee", "is_error": False, "duration_ms": 336,
              "num_turns": 1, "result": TEXT,
              "usage": {"input_tokens": 2468, "output_tokens": 14, "cache_read_input_tokens": 2000, "total_tokens": 2482},
              "permission_denials": []}
    stream = arg_after("-o") == "stream-json"
    if os.environ.get("FAKE_STRUCTURED") and "--json-schema" in ARGS:
        result["structured_result"] = json.loads(os.environ["FAKE_STRUCTURED"])
        result["result"] = os.environ["FAKE_STRUCTURED"]
    if SCENARIO == "success" and stream:
        emit("".join(j(m) + "\n" for m in [init, {"type": "assistant", "message": {"role": "assistant", "model": "gpt-4o", "content": [{"type": "text", "text": TEXT}]}}, result]))
    if SCENARIO == "success":
        emit(j([init, {"type": "assistant", "message": {"role": "assistant", "model": "gpt-4o", "content": [{"type": "text", "text": TEXT}]}}, result]) + "\n")
    if SCENARIO == "partial":  # an API 401 with exit 0 and is_error false
        result.update(result="[API Error: 401 Incorrect API key provided (fake local 401)]",
                      usage={"input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0, "total_tokens": 0})
        emit(j([init, result]) + "\n")
    if SCENARIO == "auth":
        emit(j([{"type": "result", "subtype": "error_during_execution", "is_error": True, "error": {"message": "No auth type is selected. Please configure an auth type (e.g. via settings or `--auth-type`) before running in non-interactive mode."}}]) + "\n", code=1)


# ----------------------------------------------------------------------------------------------- aider
def aider() -> None:
    if "--definitely-not-a-flag" in ARGS or SCENARIO == "reject":
        emit(stderr="usage: aider [-h] ...\naider: error: unrecognized arguments: --definitely-not-a-flag\n", code=2)
    log = arg_after("--analytics-log")
    if arg_after("--message-file"):
        dump(message=Path(arg_after("--message-file")).read_text())
    offline = ("HTTPSConnectionPool(host='raw.githubusercontent.com', port=443): Max retries exceeded with url: "
               "/BerriAI/litellm/main/model_prices_and_context_window.json (Caused by NameResolutionError(...))\n")
    header = ("Detected dumb terminal, disabling fancy input and pretty output.\n\n"
              'Update git name with: git config user.name "Your Name"\n'
              'Update git email with: git config user.email "you@example.com"\n' + offline
              + "Aider v0.86.2\nMain model: openai/gpt-4o with diff edit format\nWeak model: gpt-4o-mini\n"
              "Git repo: .git with 1 files\nRepo-map: disabled\nAdded app/util.py to the chat (read-only).\n\n")
    if SCENARIO == "success":
        if log:
            Path(log).write_text(
                j({"event": "launched", "properties": {}, "user_id": "u", "time": 1795619520}) + "\n"
                + j({"event": "message_send", "properties": {"main_model": "openai/REDACTED", "edit_format": "diff",
                                                             "prompt_tokens": 1234, "completion_tokens": 7,
                                                             "total_tokens": 1241, "cost": 0.0019, "total_cost": 0.0019},
                     "user_id": "u", "time": 1795619521}) + "\n"
                + j({"event": "exit", "properties": {"reason": "Completed --message"}, "user_id": "u", "time": 1795619522}) + "\n")
        emit(header + TEXT + "\n\nTokens: 1.2k sent, 7 received. Cost: $0.0019 message, $0.0019 session.\n"
             + offline * 3)
    if SCENARIO == "partial":  # missing key: exit 0 with the error on stdout
        if log:
            Path(log).write_text(j({"event": "launched", "properties": {}, "user_id": "u", "time": 1795619520}) + "\n"
                                 + j({"event": "exit", "properties": {"reason": "Completed --message"}}) + "\n")
        emit(header + "litellm.AuthenticationError: AuthenticationError: OpenAIException - The API provider is not able to authenticate you. Check your API key.\n")


def misbehave() -> None:
    if SCENARIO == "garbage":
        emit("\x1b[31m<<<garbage>>> not json {{{\nrandom ### lines\n", "Segmentation fault?\n", 0)
    if SCENARIO in ("hang", "silent", "stubborn", "chatty"):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
        dump(children=[child.pid])
        if SCENARIO == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if SCENARIO != "silent":
            print(json.dumps({"type": "thread.started", "thread_id": "x"}), flush=True)
        while True:
            if SCENARIO == "chatty":
                print("Reconnecting... waiting for network", file=sys.stderr, flush=True)
            time.sleep(0.2)


def main() -> None:
    stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
    dump(argv=sys.argv[1:], stdin=stdin, cwd=os.getcwd(), pid=os.getpid(),
         env={k: os.environ[k] for k in ENV_KEYS if k in os.environ})
    edit = os.environ.get("FAKE_EDIT")
    if edit and SCENARIO in ("success", "bash_denied"):
        rel, old, new = edit.split("::")
        path = Path(os.getcwd()) / rel
        path.write_text(path.read_text().replace(old, new))
    create = os.environ.get("FAKE_CREATE")
    if create and SCENARIO == "success":
        rel, content = create.split("::")
        (Path(os.getcwd()) / rel).parent.mkdir(parents=True, exist_ok=True)
        (Path(os.getcwd()) / rel).write_text(content)
    misbehave()
    handler = {"claude": claude, "codex": codex, "gemini": gemini, "copilot": copilot, "opencode": opencode,
               "qwen": qwen, "aider": aider}[CLI]
    handler()
    emit(stderr=f"fake {CLI}: unknown scenario {SCENARIO}\n", code=99)


if __name__ == "__main__":
    main()
