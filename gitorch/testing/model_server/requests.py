"""What the model server received: :class:`RecordedRequest` (credentials removed) and what it says."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitorch.testing.model_server.script import Turn

# Header names whose values are credentials; they are never recorded.
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"})
SECRET_QUERY = frozenset({"key"})


@dataclass
class RecordedRequest:
    """One request the server received, without credentials.

    ``headers`` keep every header except credentials (their values become ``"<redacted>"``);
    ``body`` is the parsed JSON body (``None`` when absent or not JSON); ``protocol`` is one of
    ``anthropic``, ``responses``, ``chat``, ``gemini`` or ``other``; ``turn`` is the scripted turn
    that answered it (``None`` for side requests); ``agent`` tells whether it consumed a turn.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw: str
    protocol: str
    agent: bool = False
    turn: Turn | None = None
    time: float = field(default_factory=time.time)

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools this request advertised to the model, in order."""
        return tool_names_of(self.protocol, self.body)

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The tool declarations as sent (Gemini's are flattened out of ``functionDeclarations``)."""
        return tools_of(self.protocol, self.body)

    @property
    def model(self) -> str | None:
        """The model the request asked for."""
        if self.protocol == "gemini":
            return gemini_model(self.path)
        if isinstance(self.body, dict):
            model = self.body.get("model")
            return str(model) if model is not None else None
        return None

    def paths_under(self, directory: str | Path) -> list[str]:
        """Absolute paths inside ``directory`` mentioned anywhere in the request, in order, unique.

        Every CLI states its working directory in its first request (system prompt or environment
        context), so ``paths_under(worktrees_dir)[0]`` finds a working directory made at run time.
        """
        prefix = str(directory).rstrip("/")
        pattern = re.escape(prefix) + r"/[^\s\"'<>`()\[\]{},;:|\\]+"
        found = re.findall(pattern, all_strings(self.body) + "\n" + self.raw)
        return list(dict.fromkeys(path.rstrip(".") for path in found))

    def text_contains(self, needle: str) -> bool:
        """True when ``needle`` occurs anywhere in the request body (JSON escapes decoded)."""
        return needle in self.raw or needle in all_strings(self.body)

    @property
    def tool_results(self) -> list[str]:
        """Text of every tool result the CLI sent back in this request (oldest first)."""
        return tool_results_of(self.protocol, self.body)


def is_generation(request: RecordedRequest) -> bool:
    if request.method != "POST":
        return False
    path = request.path
    return (
        path.endswith("/messages")
        or path.endswith("/responses")
        or path.endswith("/chat/completions")
        or path.endswith(":streamGenerateContent")
        or path.endswith(":generateContent")
    )


def protocol_of(path: str) -> str:
    if path.endswith("/messages") or "/messages/" in path:
        return "anthropic"
    if path.endswith("/responses"):
        return "responses"
    if path.endswith("/chat/completions"):
        return "chat"
    if "/models/" in path and ":" in path.rsplit("/", 1)[-1]:
        return "gemini"
    return "other"


def gemini_model(path: str) -> str | None:
    last = path.rsplit("/models/", 1)
    if len(last) != 2:
        return None
    return last[1].split(":", 1)[0]


def tools_of(protocol: str, body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    tools = body.get("tools") or []
    if protocol == "gemini":
        flat: list[dict[str, Any]] = []
        for tool in tools:
            flat.extend(tool.get("functionDeclarations") or [])
        return flat
    return [tool for tool in tools if isinstance(tool, dict)]


def tool_names_of(protocol: str, body: Any) -> list[str]:
    names = []
    for tool in tools_of(protocol, body):
        name = tool.get("name") or (tool.get("function") or {}).get("name") or tool.get("type")
        if name:
            names.append(str(name))
    return names


def all_strings(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(all_strings(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(all_strings(v) for v in value)
    return ""


def tool_results_of(protocol: str, body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    results: list[str] = []
    if protocol == "anthropic":
        for message in body.get("messages") or []:
            content = message.get("content")
            if isinstance(content, list):
                results += [all_strings(b.get("content")) for b in content if b.get("type") == "tool_result"]
    elif protocol == "responses":
        for item in body.get("input") or []:
            if isinstance(item, dict) and item.get("type") in (
                "function_call_output",
                "custom_tool_call_output",
            ):
                results.append(all_strings(item.get("output")))
    elif protocol == "chat":
        results += [
            all_strings(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "tool"
        ]
    elif protocol == "gemini":
        for content in body.get("contents") or []:
            for part in content.get("parts") or []:
                if "functionResponse" in part:
                    results.append(json.dumps(part["functionResponse"].get("response")))
    return results
