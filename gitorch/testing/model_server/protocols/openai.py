"""The two OpenAI protocols: Responses (``POST /v1/responses``, Codex) and chat completions
(``POST /v1/chat/completions``: Copilot BYOK, opencode, qwen, aider)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gitorch.testing.model_server.protocols.base import Renderer, pieces, sse
from gitorch.testing.model_server.script import ToolCall, Turn, Usage, arguments_json, turn_text, turn_usage

if TYPE_CHECKING:
    from gitorch.testing.model_server.requests import RecordedRequest
    from gitorch.testing.model_server.server import ModelServer


def openai_error(status: int, message: str) -> Any:
    """An error body in OpenAI's shape (both protocols, and requests of no known protocol)."""
    text = message or (
        "Incorrect API key provided (gitorch model server)" if status == 401 else "Internal error"
    )
    code = "invalid_api_key" if status == 401 else None
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": text, "type": kind, "param": None, "code": code}}


class OpenAIRenderer(Renderer):
    def error(self, status: int, message: str) -> Any:
        return openai_error(status, message)


class Responses(OpenAIRenderer):
    @staticmethod
    def _usage(usage: Usage) -> dict[str, Any]:
        return {
            "input_tokens": usage.input,
            "input_tokens_details": {"cached_tokens": usage.cached},
            "output_tokens": usage.output,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning},
            "total_tokens": usage.input + usage.output,
        }

    @staticmethod
    def _is_custom(request: RecordedRequest, name: str) -> bool:
        return any(tool.get("type") == "custom" and tool.get("name") == name for tool in request.tools)

    def _items(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        text = turn_text(turn)
        if text or not isinstance(turn, ToolCall):
            items.append(
                {
                    "id": server.next_id("msg"),
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            )
        if isinstance(turn, ToolCall):
            call_id = server.next_id("call")
            if isinstance(turn.arguments, str) and self._is_custom(request, turn.name):
                items.append(
                    {
                        "id": server.next_id("ctc"),
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": turn.name,
                        "input": turn.arguments,
                    }
                )
            else:
                items.append(
                    {
                        "id": server.next_id("fc"),
                        "type": "function_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": turn.name,
                        "arguments": arguments_json(turn),
                    }
                )
        return items

    def _response(
        self, request: RecordedRequest, rid: str, status: str, output: list[Any], usage: Any
    ) -> Any:
        return {
            "id": rid,
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "model": request.model or "gpt-5",
            "output": output,
            "usage": usage,
        }

    def stream(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Iterator[str]:
        seq = iter(range(1_000_000))
        rid = server.next_id("resp")

        def event(kind: str, **fields: Any) -> str:
            return sse({"type": kind, "sequence_number": next(seq), **fields}, kind)

        yield event("response.created", response=self._response(request, rid, "in_progress", [], None))
        yield event("response.in_progress", response=self._response(request, rid, "in_progress", [], None))
        items = self._items(server, request, turn)
        for index, item in enumerate(items):
            if item["type"] == "message":
                text = item["content"][0]["text"]
                started = {**item, "status": "in_progress", "content": []}
                yield event("response.output_item.added", output_index=index, item=started)
                part = {"type": "output_text", "text": "", "annotations": []}
                ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
                yield event("response.content_part.added", **ids, part=part)
                for piece in pieces(text):
                    yield event("response.output_text.delta", **ids, delta=piece)
                yield event("response.output_text.done", **ids, text=text)
                yield event("response.content_part.done", **ids, part={**part, "text": text})
            elif item["type"] == "function_call":
                yield event("response.output_item.added", output_index=index, item={**item, "arguments": ""})
                ids = {"item_id": item["id"], "output_index": index}
                for piece in pieces(item["arguments"], 40):
                    yield event("response.function_call_arguments.delta", **ids, delta=piece)
                yield event("response.function_call_arguments.done", **ids, arguments=item["arguments"])
            else:
                yield event("response.output_item.added", output_index=index, item={**item, "input": ""})
                ids = {"item_id": item["id"], "output_index": index}
                for piece in pieces(item["input"], 40):
                    yield event("response.custom_tool_call_input.delta", **ids, delta=piece)
                yield event("response.custom_tool_call_input.done", **ids, input=item["input"])
            yield event("response.output_item.done", output_index=index, item=item)
        usage = self._usage(turn_usage(turn))
        yield event("response.completed", response=self._response(request, rid, "completed", items, usage))

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        items = self._items(server, request, turn)
        return self._response(
            request, server.next_id("resp"), "completed", items, self._usage(turn_usage(turn))
        )




class Chat(OpenAIRenderer):
    @staticmethod
    def _usage(usage: Usage) -> dict[str, Any]:
        return {
            "prompt_tokens": usage.input,
            "completion_tokens": usage.output,
            "total_tokens": usage.input + usage.output,
            "prompt_tokens_details": {"cached_tokens": usage.cached},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
        }

    def stream(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Iterator[str]:
        cid = server.next_id("chatcmpl")
        created = int(time.time())
        model = request.model or "gpt-4o"

        def chunk(choices: list[Any], **extra: Any) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
            return sse({**body, "choices": choices, **extra})

        yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for piece in pieces(turn_text(turn)) if turn_text(turn) else []:
            yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        finish = "stop"
        if isinstance(turn, ToolCall):
            finish = "tool_calls"
            head = {"index": 0, "id": server.next_id("call"), "type": "function"}
            head["function"] = {"name": turn.name, "arguments": ""}
            yield chunk([{"index": 0, "delta": {"tool_calls": [head]}, "finish_reason": None}])
            for piece in pieces(arguments_json(turn), 40):
                delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                yield chunk([{"index": 0, "delta": delta, "finish_reason": None}])
        yield chunk([{"index": 0, "delta": {}, "finish_reason": finish}])
        yield chunk([], usage=self._usage(turn_usage(turn)))
        yield "data: [DONE]\n\n"

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        message: dict[str, Any] = {"role": "assistant", "content": turn_text(turn) or None}
        finish = "stop"
        if isinstance(turn, ToolCall):
            finish = "tool_calls"
            message["tool_calls"] = [
                {
                    "id": server.next_id("call"),
                    "type": "function",
                    "function": {"name": turn.name, "arguments": arguments_json(turn)},
                }
            ]
        return {
            "id": server.next_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model or "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self._usage(turn_usage(turn)),
        }
