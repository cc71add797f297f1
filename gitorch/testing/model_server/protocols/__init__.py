"""The wire protocols the model server speaks, one renderer each, by protocol name."""

from __future__ import annotations

from typing import Any

from gitorch.testing.model_server.protocols.anthropic import Anthropic
from gitorch.testing.model_server.protocols.base import Renderer
from gitorch.testing.model_server.protocols.gemini import Gemini
from gitorch.testing.model_server.protocols.openai import Chat, Responses, openai_error

RENDERERS: dict[str, Renderer] = {
    "anthropic": Anthropic(),
    "responses": Responses(),
    "chat": Chat(),
    "gemini": Gemini(),
}


def error_body(protocol: str, status: int, message: str) -> Any:
    """An HTTP error body in ``protocol``'s own shape (OpenAI's for a request of no known protocol)."""
    renderer = RENDERERS.get(protocol)
    return renderer.error(status, message) if renderer is not None else openai_error(status, message)
