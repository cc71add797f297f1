"""The Anthropic Messages protocol (``POST /v1/messages``), as Claude Code speaks it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gitorch.testing.model_server.protocols.base import Renderer, pieces, sse
from gitorch.testing.model_server.script import ToolCall, Turn, Usage, arguments_obj, turn_text, turn_usage

if TYPE_CHECKING:
    from gitorch.testing.model_server.requests import RecordedRequest
    from gitorch.testing.model_server.server import ModelServer

ERROR_KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class Anthropic(Renderer):
    @staticmethod
    def _usage(usage: Usage, output: int | None = None) -> dict[str, Any]:
        return {
            "input_tokens": usage.input - usage.cached,
            "cache_creation_input_tokens": usage.cache_write,
            "cache_read_input_tokens": usage.cached,
            "output_tokens": usage.output if output is None else output,
        }

    def _blocks(self, server: ModelServer, turn: Turn) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        text = turn_text(turn)
        if text:
            blocks.append({"type": "text", "text": text})
        if isinstance(turn, ToolCall):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": server.next_id("toolu"),
                    "name": turn.name,
                    "input": arguments_obj(turn),
                }
            )
        return blocks

    @staticmethod
    def _stop_reason(turn: Turn) -> str:
        return "tool_use" if isinstance(turn, ToolCall) else "end_turn"

    def stream(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Iterator[str]:
        usage = turn_usage(turn)
        message = {
            "id": server.next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": request.model or "claude-sonnet-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self._usage(usage, output=min(1, usage.output)),
        }
        yield sse({"type": "message_start", "message": message}, "message_start")
        for index, block in enumerate(self._blocks(server, turn)):
            if block["type"] == "text":
                yield sse(
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    },
                    "content_block_start",
                )
                yield sse({"type": "ping"}, "ping")
                for piece in pieces(block["text"]):
                    delta = {"type": "text_delta", "text": piece}
                    yield sse(
                        {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                    )
            else:
                start = {**block, "input": {}}
                yield sse(
                    {"type": "content_block_start", "index": index, "content_block": start},
                    "content_block_start",
                )
                for piece in pieces(json.dumps(block["input"]), 40):
                    delta = {"type": "input_json_delta", "partial_json": piece}
                    yield sse(
                        {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                    )
            yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")
        yield sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": self._stop_reason(turn), "stop_sequence": None},
                "usage": self._usage(usage),
            },
            "message_delta",
        )
        yield sse({"type": "message_stop"}, "message_stop")

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        return {
            "id": server.next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": request.model or "claude-sonnet-4-5",
            "content": self._blocks(server, turn),
            "stop_reason": self._stop_reason(turn),
            "stop_sequence": None,
            "usage": self._usage(turn_usage(turn)),
        }

    def error(self, status: int, message: str) -> Any:
        text = message or ("invalid x-api-key" if status == 401 else "Internal server error")
        return {"type": "error", "error": {"type": ERROR_KINDS.get(status, "api_error"), "message": text}}
