"""What every protocol renderer has: a streamed answer (server-sent events), a whole one, an error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitorch.testing.model_server.requests import RecordedRequest
    from gitorch.testing.model_server.script import Turn
    from gitorch.testing.model_server.server import ModelServer


class Renderer:
    """Renders a scripted turn in one wire protocol."""

    def stream(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Iterator[str]:
        raise NotImplementedError

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        raise NotImplementedError

    def error(self, status: int, message: str) -> Any:
        """An HTTP error body in this protocol's shape."""
        raise NotImplementedError


def sse(data: Any, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


def pieces(text: str, size: int = 24) -> list[str]:
    """Split text in a few deltas so clients really assemble a stream."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
