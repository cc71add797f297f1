"""The Gemini protocol (``:streamGenerateContent?alt=sse`` and ``:generateContent``), as Gemini CLI
speaks it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gitorch.testing.model_server.protocols.base import Renderer, pieces, sse
from gitorch.testing.model_server.requests import gemini_model
from gitorch.testing.model_server.script import (
    Stall,
    ToolCall,
    Turn,
    Usage,
    arguments_obj,
    turn_text,
    turn_usage,
)

if TYPE_CHECKING:
    from gitorch.testing.model_server.requests import RecordedRequest
    from gitorch.testing.model_server.server import ModelServer

ERROR_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
}


class Gemini(Renderer):
    @staticmethod
    def _usage(usage: Usage) -> dict[str, Any]:
        meta = {
            "promptTokenCount": usage.input,
            "candidatesTokenCount": usage.output,
            "totalTokenCount": usage.input + usage.output + usage.reasoning,
        }
        if usage.cached:
            meta["cachedContentTokenCount"] = usage.cached
        if usage.reasoning:
            meta["thoughtsTokenCount"] = usage.reasoning
        return meta

    def _parts(self, server: ModelServer, turn: Turn) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if turn_text(turn):
            parts.append({"text": turn_text(turn)})
        if isinstance(turn, ToolCall):
            call = {"name": turn.name, "args": arguments_obj(turn), "id": server.next_id("fc")}
            parts.append({"functionCall": call})
        return parts

    def _chunk(self, request: RecordedRequest, parts: list[Any], finish: str | None, usage: Usage) -> Any:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": self._usage(usage),
            "modelVersion": gemini_model(request.path) or "gemini-2.5-flash",
            "responseId": uuid.uuid4().hex[:22],
        }

    def stream(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Iterator[str]:
        usage = turn_usage(turn)
        text = turn_text(turn)
        deltas = pieces(text) if text else []
        first_usage = Usage(input=usage.input, cached=usage.cached)
        for piece in deltas[:-1]:
            yield sse(self._chunk(request, [{"text": piece}], None, first_usage))
        last: list[dict[str, Any]] = [{"text": deltas[-1]}] if deltas else []
        if isinstance(turn, ToolCall):
            last += [part for part in self._parts(server, turn) if "functionCall" in part]
        if isinstance(turn, Stall):
            yield sse(self._chunk(request, last, None, first_usage))
            return
        yield sse(self._chunk(request, last, "STOP", usage))

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        return self._chunk(request, self._parts(server, turn), "STOP", turn_usage(turn))

    def error(self, status: int, message: str) -> Any:
        text = message or (
            "API key not valid. Please pass a valid API key." if status == 401 else "Internal error"
        )
        return {"error": {"code": status, "message": text, "status": ERROR_STATUSES.get(status, "INTERNAL")}}
