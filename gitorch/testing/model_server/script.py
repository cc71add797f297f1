"""The script of a model server: the turns a test queues (:class:`Reply`, :class:`ToolCall`,
:class:`Fail`, :class:`Stall`, :class:`Dynamic`) and the token counts they report (:class:`Usage`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitorch.testing.model_server.requests import RecordedRequest


@dataclass(frozen=True)
class Usage:
    """Token counts a turn reports.

    ``input`` counts every prompt token *including* the cached ones (OpenAI and Gemini semantics);
    ``cached`` is the part of ``input`` read from the prompt cache; ``cache_write`` tokens are
    Anthropic-only cache creation tokens, counted on top. Each protocol renders these in its own
    fields (Anthropic reports ``input - cached`` as ``input_tokens``).
    """

    input: int = 0
    cached: int = 0
    output: int = 0
    cache_write: int = 0
    reasoning: int = 0

    def __post_init__(self) -> None:
        if min(self.input, self.cached, self.output, self.cache_write, self.reasoning) < 0:
            raise ValueError("token counts must not be negative")
        if self.cached > self.input:
            raise ValueError("cached tokens are part of input and cannot exceed it")


DEFAULT_USAGE = Usage(input=100, cached=0, output=10)


@dataclass(frozen=True)
class Reply:
    """A final text answer: the model says ``text`` and ends its turn."""

    text: str
    usage: Usage = DEFAULT_USAGE


@dataclass(frozen=True)
class ToolCall:
    """The model calls the CLI's tool ``name`` and stops, waiting for the tool result.

    ``arguments`` is a JSON object for function tools. For Codex's freeform ("custom") tools such as
    ``apply_patch`` pass the raw input string instead; on the Responses protocol the call is then
    sent as a ``custom_tool_call`` when the request declares that tool as custom, and as a function
    call with ``{"input": <string>}`` otherwise. ``text`` is optional prose sent before the call.
    """

    name: str
    arguments: Mapping[str, Any] | str
    usage: Usage = DEFAULT_USAGE
    text: str = ""


@dataclass(frozen=True)
class Fail:
    """Answer with an HTTP error in the protocol's own error shape (401 auth, 429, 500 ...)."""

    status: int = 401
    message: str = ""


@dataclass(frozen=True)
class Stall:
    """Accept the request and never answer, until the server stops.

    With ``after_text`` the response headers and the first text chunk are sent before the stall,
    so the client sees a stream that started and then went silent.
    """

    after_text: str | None = None


@dataclass(frozen=True)
class Dynamic:
    """A turn computed from the request it answers.

    ``build(request)`` returns a turn, or a list of turns: the first answers this request and the
    others go to the front of the queue. Use it when the answer depends on what the CLI sent, for
    example a file path inside a working directory only known at run time
    (:meth:`RecordedRequest.paths_under`).
    """

    build: Callable[[RecordedRequest], Any]


Turn = Reply | ToolCall | Fail | Stall | Dynamic


def turn_text(turn: Turn) -> str:
    if isinstance(turn, Reply):
        return turn.text
    if isinstance(turn, ToolCall):
        return turn.text
    if isinstance(turn, Stall):
        return turn.after_text or ""
    return ""


def turn_usage(turn: Turn) -> Usage:
    return turn.usage if isinstance(turn, Reply | ToolCall) else Usage()


def arguments_json(call: ToolCall) -> str:
    if isinstance(call.arguments, str):
        return json.dumps({"input": call.arguments})
    return json.dumps(dict(call.arguments))


def arguments_obj(call: ToolCall) -> dict[str, Any]:
    if isinstance(call.arguments, str):
        return {"input": call.arguments}
    return dict(call.arguments)
