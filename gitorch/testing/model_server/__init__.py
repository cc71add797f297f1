"""A scripted model endpoint on 127.0.0.1 that the real agent CLIs can be pointed at.

The server speaks the four streaming protocols the coding CLIs use, each with its real event
sequence and a final usage block:

- Anthropic Messages (``POST /v1/messages``), used by Claude Code;
- OpenAI Responses (``POST /v1/responses``), used by Codex;
- OpenAI chat completions (``POST /v1/chat/completions``), used by Copilot BYOK, opencode, qwen, aider;
- Gemini (``POST /v1beta/models/<m>:streamGenerateContent?alt=sse`` and ``:generateContent``), used
  by Gemini CLI.

A test scripts the model with a queue of turns (:class:`Reply`, :class:`ToolCall`, :class:`Fail`,
:class:`Stall`). Each *agent* request (by default every generation request, see
:meth:`ModelServer.is_agent_request`) takes the next turn; other requests the CLIs make on their
own (token counting, model lists, probes, telemetry) get a minimal JSON answer or a 404 and never
consume a turn. Every request is recorded (:class:`RecordedRequest`) with its credentials removed,
so a test can assert what the CLI sent.

The server binds to 127.0.0.1 on a port the OS picks and never opens a connection of its own::

    with ModelServer([Reply("hello", usage=Usage(1234, cached=1000, output=7))]) as server:
        env = {**minimal_env(home), **claude_redirect(server, home).env}
        subprocess.run(["claude", "-p", "hi", "--output-format", "json"], env=env, ...)
        assert server.agent_requests[0].text_contains("hi")

:func:`model_server_fixture` builds a pytest fixture; :func:`claude_redirect`,
:func:`codex_redirect` and :func:`gemini_redirect` return the environment and argv that point each
CLI at a server.

The package, one module per concern: :mod:`.script` (the turns), :mod:`.requests` (what was
received), :mod:`.server` (the server and its HTTP handler), :mod:`.protocols` (one renderer per wire
protocol), :mod:`.cli_turns` (turns that drive a CLI's own tools), :mod:`.redirect` (pointing a CLI
at the server) and :mod:`.fixture`.
"""

from __future__ import annotations

from gitorch.testing.model_server.cli_turns import (
    AGENT_EDIT_TOOLS,
    codex_apply_patch,
    edit_file_turns,
    structured_answer,
    write_file_call,
)
from gitorch.testing.model_server.fixture import model_server_fixture
from gitorch.testing.model_server.redirect import (
    Redirect,
    claude_redirect,
    codex_redirect,
    gemini_redirect,
    minimal_env,
    qwen_redirect,
    redirect_for,
)
from gitorch.testing.model_server.requests import RecordedRequest
from gitorch.testing.model_server.script import Dynamic, Fail, Reply, Stall, ToolCall, Turn, Usage
from gitorch.testing.model_server.server import ModelServer

__all__ = [
    "AGENT_EDIT_TOOLS",
    "Dynamic",
    "Fail",
    "ModelServer",
    "RecordedRequest",
    "Redirect",
    "Reply",
    "Stall",
    "ToolCall",
    "Turn",
    "Usage",
    "claude_redirect",
    "codex_apply_patch",
    "codex_redirect",
    "edit_file_turns",
    "gemini_redirect",
    "minimal_env",
    "qwen_redirect",
    "model_server_fixture",
    "redirect_for",
    "structured_answer",
    "write_file_call",
]
