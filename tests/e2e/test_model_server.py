"""The loopback model server on its own: each protocol's event sequence, scripting, recording.

These tests speak HTTP to the server directly (no agent CLI needed) and run everywhere.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gitorch.testing.model_server import (
    Dynamic,
    Fail,
    ModelServer,
    Reply,
    Stall,
    ToolCall,
    Usage,
    codex_apply_patch,
    codex_redirect,
    edit_file_turns,
    gemini_redirect,
    redirect_for,
)

from .conftest import MARKER_VAR, leftover_processes

USAGE = Usage(input=1234, cached=1000, output=7)


def post(
    server: ModelServer, path: str, body: Any, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    conn.request(
        "POST", path, body=json.dumps(body), headers={"content-type": "application/json", **(headers or {})}
    )
    response = conn.getresponse()
    data = response.read().decode()
    conn.close()
    return response.status, response.getheader("content-type") or "", data


def get(server: ModelServer, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    data = response.read().decode()
    conn.close()
    return response.status, data


def sse(text: str) -> list[tuple[str | None, Any]]:
    """Parse an SSE body into (event name, data) pairs; ``[DONE]`` stays a string."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                raw = line[len("data: ") :]
                data = raw if raw == "[DONE]" else json.loads(raw)
        events.append((name, data))
    return events


ANTHROPIC_TOOLS = [{"name": "Edit", "description": "edit", "input_schema": {"type": "object"}}]


# -- Anthropic Messages -------------------------------------------------------------------------------


def test_anthropic_stream_text(model_server: ModelServer) -> None:
    model_server.script(Reply("Hello there, this is a longer scripted answer.", usage=USAGE))
    body = {"model": "claude-x", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    status, ctype, text = post(model_server, "/v1/messages?beta=true", body)

    assert status == 200 and ctype == "text/event-stream"
    events = sse(text)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names[1] == "content_block_start" and "content_block_stop" in names
    assert all(name == data["type"] for name, data in events)
    deltas = [d["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert len(deltas) > 1 and "".join(deltas) == "Hello there, this is a longer scripted answer."
    start = events[0][1]["message"]
    assert start["model"] == "claude-x"
    final = events[-2][1]
    assert final["delta"]["stop_reason"] == "end_turn"
    assert final["usage"] == {
        "input_tokens": 234,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1000,
        "output_tokens": 7,
    }


def test_anthropic_stream_tool_use(model_server: ModelServer) -> None:
    arguments = {"file_path": "/r/app.py", "old_string": "a" * 50, "new_string": "b"}
    model_server.script(ToolCall("Edit", arguments, text="Let me fix it."))
    body = {"model": "m", "stream": True, "tools": ANTHROPIC_TOOLS, "messages": []}
    events = sse(post(model_server, "/v1/messages", body)[2])

    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert [b["type"] for b in starts] == ["text", "tool_use"]
    assert starts[1]["name"] == "Edit" and starts[1]["id"].startswith("toolu_") and starts[1]["input"] == {}
    partial = [
        d["delta"]["partial_json"] for n, d in events if d.get("delta", {}).get("type") == "input_json_delta"
    ]
    assert len(partial) > 1 and json.loads("".join(partial)) == arguments
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_anthropic_non_stream(model_server: ModelServer) -> None:
    model_server.script(Reply("plain", usage=USAGE))
    status, ctype, text = post(model_server, "/v1/messages", {"model": "m", "messages": []})
    data = json.loads(text)
    assert status == 200 and ctype == "application/json"
    assert data["content"] == [{"type": "text", "text": "plain"}]
    assert data["usage"]["input_tokens"] == 234 and data["usage"]["cache_read_input_tokens"] == 1000


# -- OpenAI Responses ---------------------------------------------------------------------------------


def test_responses_stream_text(model_server: ModelServer) -> None:
    model_server.script(Reply("Hi! (scripted)", usage=USAGE))
    events = sse(post(model_server, "/v1/responses", {"model": "gpt-x", "stream": True, "input": []})[2])

    kinds = [d["type"] for _, d in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    for kind in ("response.output_item.added", "response.output_text.delta", "response.output_item.done"):
        assert kind in kinds
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    text = "".join(d["delta"] for _, d in events if d["type"] == "response.output_text.delta")
    assert text == "Hi! (scripted)"
    usage = events[-1][1]["response"]["usage"]
    assert usage["input_tokens"] == 1234 and usage["input_tokens_details"]["cached_tokens"] == 1000
    assert usage["output_tokens"] == 7 and usage["total_tokens"] == 1241


def test_responses_function_call_and_custom_tool_call(model_server: ModelServer) -> None:
    patch = codex_apply_patch({"app.py": ("old", "new")})
    model_server.script(ToolCall("shell", {"command": ["ls"]}), ToolCall("apply_patch", patch))
    tools = [{"type": "function", "name": "shell"}, {"type": "custom", "name": "apply_patch"}]
    body = {"model": "m", "stream": True, "input": [], "tools": tools}

    first = sse(post(model_server, "/v1/responses", body)[2])
    item = [d["item"] for _, d in first if d["type"] == "response.output_item.done"][0]
    assert item["type"] == "function_call" and item["name"] == "shell"
    assert json.loads(item["arguments"]) == {"command": ["ls"]}
    assert (
        "".join(d["delta"] for _, d in first if d["type"] == "response.function_call_arguments.delta")
        == (item["arguments"])
    )

    second = sse(post(model_server, "/v1/responses", body)[2])
    item = [d["item"] for _, d in second if d["type"] == "response.output_item.done"][0]
    assert item["type"] == "custom_tool_call" and item["input"] == patch
    assert patch.startswith("*** Begin Patch\n*** Update File: app.py\n@@\n-old\n+new\n*** End Patch")


# -- OpenAI chat completions --------------------------------------------------------------------------


def test_chat_stream_tool_calls_usage_and_done(model_server: ModelServer) -> None:
    model_server.script(ToolCall("write_file", {"path": "x", "content": "y"}, usage=USAGE))
    body = {
        "model": "gpt-4o",
        "stream": True,
        "messages": [],
        "tools": [{"type": "function", "function": {}}],
    }
    events = sse(post(model_server, "/v1/chat/completions", body)[2])

    assert events[-1][1] == "[DONE]"
    chunks = [d for _, d in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    calls = [tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert calls[0]["function"]["name"] == "write_file" and calls[0]["id"].startswith("call_")
    assert json.loads("".join(tc["function"]["arguments"] for tc in calls)) == {"path": "x", "content": "y"}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 1234
    assert chunks[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] == 1000


def test_chat_non_stream(model_server: ModelServer) -> None:
    model_server.script(Reply("ok then", usage=USAGE))
    data = json.loads(post(model_server, "/v1/chat/completions", {"model": "m", "messages": []})[2])
    assert data["choices"][0]["message"]["content"] == "ok then"
    assert data["usage"]["completion_tokens"] == 7


# -- Gemini -------------------------------------------------------------------------------------------


def test_gemini_stream_text_and_function_call(model_server: ModelServer) -> None:
    model_server.script(
        Reply("A reply long enough to be split in chunks.", usage=USAGE),
        ToolCall("replace", {"file_path": "/r/a.py", "old_string": "1", "new_string": "2"}),
    )
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    events = sse(post(model_server, path, {"contents": []})[2])

    assert len(events) > 1 and all(name is None for name, _ in events)
    text = "".join(p["text"] for _, d in events for p in d["candidates"][0]["content"]["parts"])
    assert text == "A reply long enough to be split in chunks."
    last = events[-1][1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["usageMetadata"] == {
        "promptTokenCount": 1234,
        "candidatesTokenCount": 7,
        "totalTokenCount": 1241,
        "cachedContentTokenCount": 1000,
    }
    assert last["modelVersion"] == "gemini-2.5-flash"

    events = sse(post(model_server, path, {"contents": []})[2])
    parts = events[-1][1]["candidates"][0]["content"]["parts"]
    assert parts[-1]["functionCall"]["name"] == "replace"
    assert parts[-1]["functionCall"]["args"]["new_string"] == "2"


def test_gemini_generate_content_and_count_tokens(model_server: ModelServer) -> None:
    model_server.script(Reply("whole", usage=USAGE))
    data = json.loads(post(model_server, "/v1beta/models/gemini-x:generateContent", {"contents": []})[2])
    assert data["candidates"][0]["content"]["parts"] == [{"text": "whole"}]
    counted = json.loads(post(model_server, "/v1beta/models/gemini-x:countTokens", {"contents": []})[2])
    assert counted["totalTokens"] > 0
    assert [r.agent for r in model_server.requests] == [True, False]


# -- failures -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/v1/messages", lambda d: d["error"]["type"] == "authentication_error" and d["type"] == "error"),
        ("/v1/responses", lambda d: d["error"]["code"] == "invalid_api_key"),
        ("/v1/chat/completions", lambda d: d["error"]["code"] == "invalid_api_key"),
        (
            "/v1beta/models/g:streamGenerateContent?alt=sse",
            lambda d: d["error"]["status"] == "UNAUTHENTICATED",
        ),
    ],
)
def test_fail_401_in_each_protocols_error_shape(model_server: ModelServer, path: str, check) -> None:
    model_server.script(Fail(401))
    status, ctype, text = post(model_server, path, {"model": "m", "stream": True})
    assert status == 401 and ctype == "application/json"
    assert check(json.loads(text))


def test_fail_500_with_message(model_server: ModelServer) -> None:
    model_server.script(Fail(500, "boom"))
    status, _, text = post(model_server, "/v1/messages", {"model": "m"})
    assert status == 500 and json.loads(text)["error"] == {"type": "api_error", "message": "boom"}


def test_exhausted_script_without_default_answers_500() -> None:
    with ModelServer([Reply("one")], default=None) as server:
        assert post(server, "/v1/responses", {"model": "m"})[0] == 200
        status, _, text = post(server, "/v1/responses", {"model": "m"})
        assert status == 500 and "no scripted turn" in text


def test_default_reply_when_script_is_empty(model_server: ModelServer) -> None:
    data = json.loads(post(model_server, "/v1/messages", {"model": "m"})[2])
    assert data["content"][0]["text"] == "Done."


def test_stall_holds_the_request_until_the_server_stops() -> None:
    server = ModelServer([Stall()]).start()
    outcome: dict[str, Any] = {}

    def client() -> None:
        try:
            outcome["response"] = post(server, "/v1/messages", {"model": "m", "stream": True}, timeout=30)
        except Exception as exc:  # the connection is dropped when the server stops
            outcome["error"] = exc

    thread = threading.Thread(target=client)
    thread.start()
    assert server.wait_for_requests(1, timeout=5)
    thread.join(timeout=1.5)
    assert thread.is_alive(), "a stalled request was answered"
    started = time.monotonic()
    server.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - started < 5
    assert "response" not in outcome or outcome["response"][0] != 200 or outcome["response"][2] == ""


def test_stall_after_text_starts_the_stream_then_goes_silent() -> None:
    with ModelServer([Stall(after_text="partial")]) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=1.5)
        conn.request("POST", "/v1/responses", body=json.dumps({"model": "m", "stream": True}))
        response = conn.getresponse()
        assert response.status == 200
        received = b""
        with pytest.raises(TimeoutError):
            while True:
                received += response.read(1)
        events = sse(received.decode())
        assert events[-1][1]["type"] == "response.output_text.delta" and events[-1][1]["delta"] == "partial"
        assert "response.completed" not in received.decode()
        conn.close()


# -- recording and side requests ----------------------------------------------------------------------


def test_records_requests_without_credentials(model_server: ModelServer) -> None:
    model_server.script(Reply("x"))
    headers = {"x-api-key": "sk-ant-PLANTED", "authorization": "Bearer sk-PLANTED", "x-custom": "kept"}
    body = {
        "model": "claude-x",
        "tools": ANTHROPIC_TOOLS,
        "messages": [{"role": "user", "content": "MARK-1"}],
    }
    post(model_server, "/v1/messages?beta=true", body, headers)
    post(model_server, "/v1beta/models/g:generateContent?key=PLANTED-QUERY-KEY", {"contents": []})

    first, second = model_server.requests
    assert first.headers["x-api-key"] == "<redacted>" and first.headers["authorization"] == "<redacted>"
    assert first.headers["x-custom"] == "kept"
    assert "PLANTED" not in json.dumps(first.headers)
    assert first.body == body and first.text_contains("MARK-1") and first.query == {"beta": ["true"]}
    assert first.protocol == "anthropic" and first.model == "claude-x" and first.tool_names == ["Edit"]
    assert first.agent and first.turn == Reply("x")
    assert "key" not in second.query and second.model == "g" and second.protocol == "gemini"


def test_tool_results_are_extracted_per_protocol(model_server: ModelServer) -> None:
    anthropic = {"messages": [{"role": "user", "content": [{"type": "tool_result", "content": "edited A"}]}]}
    responses = {"input": [{"type": "custom_tool_call_output", "output": "edited B"}]}
    chat = {"messages": [{"role": "tool", "content": "edited C"}]}
    gemini = {
        "contents": [{"parts": [{"functionResponse": {"name": "replace", "response": {"output": "D"}}}]}]
    }
    post(model_server, "/v1/messages", anthropic)
    post(model_server, "/v1/responses", responses)
    post(model_server, "/v1/chat/completions", chat)
    post(model_server, "/v1beta/models/g:generateContent", gemini)
    results = [r.tool_results for r in model_server.requests]
    assert results == [["edited A"], ["edited B"], ["edited C"], ['{"output": "D"}']]


def test_side_requests_do_not_consume_turns(model_server: ModelServer) -> None:
    model_server.script(Reply("scripted"))
    assert get(model_server, "/v1/models")[0] == 200
    assert json.loads(get(model_server, "/v1beta/models")[1])["models"]
    assert get(model_server, "/api/event_logging/batch")[0] == 404
    assert (
        json.loads(post(model_server, "/v1/messages/count_tokens", {"messages": []})[2])["input_tokens"] > 0
    )
    assert (
        json.loads(post(model_server, "/v1/messages", {"model": "m"})[2])["content"][0]["text"] == "scripted"
    )
    assert [r.agent for r in model_server.requests] == [False, False, False, False, True]


def test_advertises_tools_classifier() -> None:
    with ModelServer([Reply("agent")], is_agent_request=ModelServer.advertises_tools) as server:
        side = json.loads(post(server, "/v1/messages", {"model": "m", "messages": []})[2])
        agent = json.loads(post(server, "/v1/messages", {"model": "m", "tools": ANTHROPIC_TOOLS})[2])
        assert side["content"][0]["text"] == "ok" and agent["content"][0]["text"] == "agent"
        assert [r.agent for r in server.requests] == [False, True]


def test_binds_loopback_only_and_a_fresh_port_each_time() -> None:
    with ModelServer() as one, ModelServer() as two:
        assert one.url.startswith("http://127.0.0.1:") and one.port != two.port
        assert one._httpd is not None and one._httpd.server_address[0] == "127.0.0.1"
    with pytest.raises(RuntimeError):
        _ = one.port


def test_usage_validation() -> None:
    with pytest.raises(ValueError):
        Usage(input=10, cached=11)
    with pytest.raises(ValueError):
        Usage(input=-1)


# -- redirect helpers ---------------------------------------------------------------------------------


def test_redirect_helpers(model_server: ModelServer, tmp_path: Path) -> None:
    gemini = gemini_redirect(model_server, tmp_path)
    settings = json.loads((tmp_path / ".gemini" / "settings.json").read_text())
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert gemini.env["GOOGLE_GEMINI_BASE_URL"] == model_server.url and "--skip-trust" in gemini.args

    codex = codex_redirect(model_server, tmp_path)
    joined = " ".join(codex.args)
    assert f'base_url="{model_server.openai_base_url}"' in joined and 'wire_api="responses"' in joined
    assert "request_max_retries=0" in joined and codex.env["CODEX_HOME"] == str(tmp_path / ".codex")

    claude = redirect_for("claude", model_server, tmp_path)
    assert (
        claude.env["ANTHROPIC_BASE_URL"] == model_server.url and claude.env["CLAUDE_CODE_MAX_RETRIES"] == "0"
    )
    assert claude.argv == ["--model", claude.model]
    assert codex.argv[-2:] == ["-m", codex.model]
    assert codex.agent_options() == {"model": codex.model, "env": codex.env, "extra_args": codex.args}
    with pytest.raises(ValueError):
        redirect_for("nope", model_server, tmp_path)


def test_edit_turns_per_cli() -> None:
    assert [t.name for t in edit_file_turns("claude", "/r/a.py", "1", "2")] == ["Read", "Edit"]
    (codex,) = edit_file_turns("codex", "a.py", "1", "2")
    assert codex.name == "apply_patch" and "*** Update File: a.py" in str(codex.arguments)
    (gemini,) = edit_file_turns("gemini", "/r/a.py", "1", "2")
    assert gemini.name == "replace" and gemini.arguments["instruction"]


# -- the leftover-process probe the CLI tests rely on --------------------------------------------------


def test_leftover_probe_finds_a_process_that_escaped_its_group() -> None:
    marker = "probe-" + str(os.getpid())
    env = {**os.environ, MARKER_VAR: marker}
    code = "import os, time; os.setsid(); time.sleep(30)"
    escaped = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 5
        while escaped.pid not in leftover_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftover_processes(marker) == [escaped.pid]
    finally:
        escaped.kill()
        escaped.wait()
    assert leftover_processes(marker) == []


def test_dynamic_turn_sees_the_request_and_queues_the_rest(model_server: ModelServer) -> None:
    def build(request):
        (workdir,) = [p for p in request.paths_under("/work/trees") if p.count("/") == 3]
        return [ToolCall("Read", {"file_path": f"{workdir}/a.py"}), Reply(f"done in {workdir}")]

    model_server.script(Dynamic(build), Reply("last"))
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "cwd: /work/trees/s-42\nsee /work/trees/s-42/a.py."}],
    }
    first = json.loads(post(model_server, "/v1/messages", body)[2])
    assert first["content"][0] == {
        "type": "tool_use",
        "id": first["content"][0]["id"],
        "name": "Read",
        "input": {"file_path": "/work/trees/s-42/a.py"},
    }
    second = json.loads(post(model_server, "/v1/messages", body)[2])
    assert second["content"][0]["text"] == "done in /work/trees/s-42"
    assert model_server.pending == [Reply("last")]
    assert model_server.requests[0].paths_under("/work/trees") == [
        "/work/trees/s-42",
        "/work/trees/s-42/a.py",
    ]


def test_a_failing_dynamic_turn_answers_500_and_is_kept(model_server: ModelServer) -> None:
    model_server.script(Dynamic(lambda request: 1 / 0))
    status, _, text = post(model_server, "/v1/responses", {"model": "m"})
    assert status == 500 and "ZeroDivisionError" in text
    assert model_server.errors and "ZeroDivisionError" in model_server.errors[0]
