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
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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

# Header names whose values are credentials; they are never recorded.
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"})
_SECRET_QUERY = frozenset({"key"})


# --------------------------------------------------------------------------------------------------
# Script
# --------------------------------------------------------------------------------------------------


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


_DEFAULT_USAGE = Usage(input=100, cached=0, output=10)


@dataclass(frozen=True)
class Reply:
    """A final text answer: the model says ``text`` and ends its turn."""

    text: str
    usage: Usage = _DEFAULT_USAGE


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
    usage: Usage = _DEFAULT_USAGE
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
        return _tool_names(self.protocol, self.body)

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The tool declarations as sent (Gemini's are flattened out of ``functionDeclarations``)."""
        return _tools(self.protocol, self.body)

    @property
    def model(self) -> str | None:
        """The model the request asked for."""
        if self.protocol == "gemini":
            return _gemini_model(self.path)
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
        found = re.findall(pattern, _all_strings(self.body) + "\n" + self.raw)
        return list(dict.fromkeys(path.rstrip(".") for path in found))

    def text_contains(self, needle: str) -> bool:
        """True when ``needle`` occurs anywhere in the request body (JSON escapes decoded)."""
        return needle in self.raw or needle in _all_strings(self.body)

    @property
    def tool_results(self) -> list[str]:
        """Text of every tool result the CLI sent back in this request (oldest first)."""
        return _tool_results(self.protocol, self.body)


# --------------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------------


class ModelServer:
    """A threaded HTTP model endpoint on 127.0.0.1, scripted per test.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`). ``turns`` is the queue of
    scripted answers; :meth:`script` adds more. When the queue is empty, agent requests get
    ``default`` (a short :class:`Reply` unless given); set ``default=None`` to answer them with HTTP
    500 instead, which makes an unscripted extra turn fail loudly.
    """

    def __init__(
        self,
        turns: Sequence[Turn] = (),
        *,
        default: Turn | None = Reply("Done."),
        is_agent_request: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        self._turns: list[Turn] = list(turns)
        self.default = default
        self._classify = is_agent_request or self.is_agent_request
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = 0
        #: Errors raised while building :class:`Dynamic` turns (each was answered with HTTP 500).
        self.errors: list[str] = []

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> ModelServer:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        if self._httpd is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"model_server": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="model-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release stalled requests, stop serving and close the socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the OS gave the server."""
        if self._httpd is None:
            raise RuntimeError("the model server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` with no path: the Anthropic and Gemini base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``: the base URL OpenAI-style clients expect."""
        return f"{self.url}/v1"

    # -- script ------------------------------------------------------------------------------------

    def script(self, *turns: Turn) -> ModelServer:
        """Append turns to the queue."""
        with self._lock:
            self._turns.extend(turns)
        return self

    @property
    def pending(self) -> list[Turn]:
        """Turns not consumed yet."""
        with self._lock:
            return list(self._turns)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def agent_requests(self) -> list[RecordedRequest]:
        """The requests that consumed a scripted turn (or the default)."""
        return [request for request in self.requests if request.agent]

    def wait_for_requests(self, count: int = 1, timeout: float = 30.0, *, agent: bool = True) -> bool:
        """Wait until ``count`` (agent) requests arrived; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.agent_requests if agent else self.requests
            if len(seen) >= count:
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def is_agent_request(request: RecordedRequest) -> bool:
        """Default classifier: every generation request takes a scripted turn.

        With the redirect settings of this module, claude, codex and gemini make no generation
        call besides their agent loop (observed with the pinned versions), so every
        ``/messages``, ``/responses``, ``/chat/completions`` or ``:*GenerateContent`` request is a
        turn. For a CLI that makes side calls (titles, classifiers, memory extraction) pass
        ``is_agent_request=ModelServer.advertises_tools``.
        """
        return _is_generation(request)

    @staticmethod
    def advertises_tools(request: RecordedRequest) -> bool:
        """Classifier: only generation requests that send a tool list take a scripted turn.

        Agent loops always send their tools; side calls usually send none.
        """
        return bool(request.tools) and _is_generation(request)

    # -- internals used by the handler ---------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> RecordedRequest:
        agent = request.protocol != "other" and _is_generation(request) and self._classify(request)
        with self._lock:
            request.agent = agent
            if agent:
                turn = self._turns.pop(0) if self._turns else self.default
                while isinstance(turn, Dynamic):
                    try:
                        built = turn.build(request)
                        turns = list(built) if isinstance(built, list | tuple) else [built]
                        if not turns:
                            raise ValueError("the Dynamic turn built no turn")
                    except Exception as exc:  # answer 500 and keep the error for the test to see
                        self.errors.append(f"Dynamic turn failed: {exc!r}")
                        turns = [Fail(500, self.errors[-1])]
                    turn, self._turns[:0] = turns[0], turns[1:]
                request.turn = turn
            self._requests.append(request)
        return request

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._ids += 1
            return f"{prefix}_{self._ids:04d}{uuid.uuid4().hex[:20]}"


def _is_generation(request: RecordedRequest) -> bool:
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


def _protocol(path: str) -> str:
    if path.endswith("/messages") or "/messages/" in path:
        return "anthropic"
    if path.endswith("/responses"):
        return "responses"
    if path.endswith("/chat/completions"):
        return "chat"
    if "/models/" in path and ":" in path.rsplit("/", 1)[-1]:
        return "gemini"
    return "other"


# --------------------------------------------------------------------------------------------------
# HTTP handler
# --------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gitorch-model-server/1"
    model_server: ModelServer  # set on the bound subclass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the per-request stderr log."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802
        self._handle()

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    # -- dispatch ------------------------------------------------------------------------------------

    def _handle(self) -> None:
        split = urlsplit(self.path)
        raw = self._read_body()
        try:
            body: Any = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = None
        headers = {
            name.lower(): ("<redacted>" if name.lower() in _SECRET_HEADERS else value)
            for name, value in self.headers.items()
        }
        query = {k: v for k, v in parse_qs(split.query).items() if k not in _SECRET_QUERY}
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=query,
            headers=headers,
            body=body,
            raw=raw,
            protocol=_protocol(split.path),
        )
        request = self.model_server._record(request)
        try:
            if request.agent:
                self._answer_turn(request, request.turn)
            else:
                self._answer_side(request)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _read_body(self) -> str:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = self._read_chunked()
        else:
            length = int(self.headers.get("content-length") or 0)
            data = self.rfile.read(length) if length else b""
        encoding = self.headers.get("content-encoding", "").lower()
        if encoding == "gzip":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        elif encoding == "zstd":
            data = _zstd_decompress(data)
        return data.decode("utf-8", errors="replace")

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    # -- answers -------------------------------------------------------------------------------------

    def _answer_turn(self, request: RecordedRequest, turn: Turn | None) -> None:
        if turn is None:
            self._send_error(request, 500, "no scripted turn left for this request (gitorch model server)")
            return
        if isinstance(turn, Fail):
            self._send_error(request, turn.status, turn.message)
            return
        if isinstance(turn, Stall) and turn.after_text is None:
            self._stall()
            return
        renderer = _RENDERERS[request.protocol]
        stream = _wants_stream(request)
        if isinstance(turn, Stall) and not stream:
            self._stall()
            return
        if stream:
            events = list(renderer.stream(self.model_server, request, turn))
            if isinstance(turn, Stall):
                # Send the stream up to the event that carries the text, then go silent.
                needle = json.dumps(turn.after_text)[1:-1]
                cut = next((i for i, event in enumerate(events) if needle in event), len(events) - 2)
                events = events[: cut + 1]
            self._start_sse()
            for event in events:
                self._write_chunk(event)
            if isinstance(turn, Stall):
                self._stall()
                return
            self._end_chunks()
        else:
            self._send_json(200, renderer.complete(self.model_server, request, turn))

    def _answer_side(self, request: RecordedRequest) -> None:
        path = request.path
        if request.protocol == "anthropic" and path.endswith("/count_tokens"):
            self._send_json(200, {"input_tokens": max(1, len(request.raw) // 4)})
        elif request.protocol == "gemini" and path.endswith(":countTokens"):
            self._send_json(200, {"totalTokens": max(1, len(request.raw) // 4)})
        elif request.protocol in _RENDERERS and _is_generation(request):
            # A side generation call (title, classifier ...): a short answer that consumes no turn.
            self._answer_turn(request, Reply(_side_answer(request), usage=Usage(0, 0, 0)))
        elif request.method == "GET" and path.rstrip("/").endswith("/models"):
            self._send_json(200, _model_list(request))
        else:
            self._send_json(404, {"error": {"message": f"not found: {path}", "type": "not_found"}})

    def _stall(self) -> None:
        # Hold the connection open without a byte more until the server stops.
        self.model_server._stopping.wait()
        self.close_connection = True

    # -- low-level writers ---------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, request: RecordedRequest, status: int, message: str) -> None:
        self._send_json(status, _error_body(request.protocol, status, message))

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _zstd_decompress(data: bytes) -> bytes:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("a zstd-compressed request body needs the 'zstandard' package") from exc
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def _wants_stream(request: RecordedRequest) -> bool:
    if request.protocol == "gemini":
        return request.path.endswith(":streamGenerateContent")
    return isinstance(request.body, dict) and bool(request.body.get("stream"))


def _side_answer(request: RecordedRequest) -> str:
    # Claude Code asks a small model for a JSON title; a JSON-ish answer keeps it happy.
    if request.text_contains("title") and request.text_contains("JSON"):
        return '{"title": "gitorch test", "isNewTopic": false}'
    return "ok"


def _model_list(request: RecordedRequest) -> Any:
    if request.path.startswith("/v1beta"):
        return {
            "models": [{"name": "models/gemini-2.5-flash", "supportedGenerationMethods": ["generateContent"]}]
        }
    if "anthropic-version" in request.headers:
        return {"data": [], "has_more": False, "first_id": None, "last_id": None}
    return {"object": "list", "data": []}


def _sse(data: Any, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


def _pieces(text: str, size: int = 24) -> list[str]:
    """Split text in a few deltas so clients really assemble a stream."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# --------------------------------------------------------------------------------------------------
# Protocol renderers
# --------------------------------------------------------------------------------------------------


class _Renderer:
    def stream(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Iterator[str]:
        raise NotImplementedError

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        raise NotImplementedError


def _turn_text(turn: Turn) -> str:
    if isinstance(turn, Reply):
        return turn.text
    if isinstance(turn, ToolCall):
        return turn.text
    if isinstance(turn, Stall):
        return turn.after_text or ""
    return ""


def _turn_usage(turn: Turn) -> Usage:
    return turn.usage if isinstance(turn, Reply | ToolCall) else Usage()


def _arguments_json(call: ToolCall) -> str:
    if isinstance(call.arguments, str):
        return json.dumps({"input": call.arguments})
    return json.dumps(dict(call.arguments))


def _arguments_obj(call: ToolCall) -> dict[str, Any]:
    if isinstance(call.arguments, str):
        return {"input": call.arguments}
    return dict(call.arguments)


class _Anthropic(_Renderer):
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
        text = _turn_text(turn)
        if text:
            blocks.append({"type": "text", "text": text})
        if isinstance(turn, ToolCall):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": server._next_id("toolu"),
                    "name": turn.name,
                    "input": _arguments_obj(turn),
                }
            )
        return blocks

    @staticmethod
    def _stop_reason(turn: Turn) -> str:
        return "tool_use" if isinstance(turn, ToolCall) else "end_turn"

    def stream(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Iterator[str]:
        usage = _turn_usage(turn)
        message = {
            "id": server._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": request.model or "claude-sonnet-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self._usage(usage, output=min(1, usage.output)),
        }
        yield _sse({"type": "message_start", "message": message}, "message_start")
        for index, block in enumerate(self._blocks(server, turn)):
            if block["type"] == "text":
                yield _sse(
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    },
                    "content_block_start",
                )
                yield _sse({"type": "ping"}, "ping")
                for piece in _pieces(block["text"]):
                    delta = {"type": "text_delta", "text": piece}
                    yield _sse(
                        {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                    )
            else:
                start = {**block, "input": {}}
                yield _sse(
                    {"type": "content_block_start", "index": index, "content_block": start},
                    "content_block_start",
                )
                for piece in _pieces(json.dumps(block["input"]), 40):
                    delta = {"type": "input_json_delta", "partial_json": piece}
                    yield _sse(
                        {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                    )
            yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
        yield _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": self._stop_reason(turn), "stop_sequence": None},
                "usage": self._usage(usage),
            },
            "message_delta",
        )
        yield _sse({"type": "message_stop"}, "message_stop")

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        return {
            "id": server._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": request.model or "claude-sonnet-4-5",
            "content": self._blocks(server, turn),
            "stop_reason": self._stop_reason(turn),
            "stop_sequence": None,
            "usage": self._usage(_turn_usage(turn)),
        }


class _Responses(_Renderer):
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
        text = _turn_text(turn)
        if text or not isinstance(turn, ToolCall):
            items.append(
                {
                    "id": server._next_id("msg"),
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            )
        if isinstance(turn, ToolCall):
            call_id = server._next_id("call")
            if isinstance(turn.arguments, str) and self._is_custom(request, turn.name):
                items.append(
                    {
                        "id": server._next_id("ctc"),
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
                        "id": server._next_id("fc"),
                        "type": "function_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": turn.name,
                        "arguments": _arguments_json(turn),
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
        rid = server._next_id("resp")

        def event(kind: str, **fields: Any) -> str:
            return _sse({"type": kind, "sequence_number": next(seq), **fields}, kind)

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
                for piece in _pieces(text):
                    yield event("response.output_text.delta", **ids, delta=piece)
                yield event("response.output_text.done", **ids, text=text)
                yield event("response.content_part.done", **ids, part={**part, "text": text})
            elif item["type"] == "function_call":
                yield event("response.output_item.added", output_index=index, item={**item, "arguments": ""})
                ids = {"item_id": item["id"], "output_index": index}
                for piece in _pieces(item["arguments"], 40):
                    yield event("response.function_call_arguments.delta", **ids, delta=piece)
                yield event("response.function_call_arguments.done", **ids, arguments=item["arguments"])
            else:
                yield event("response.output_item.added", output_index=index, item={**item, "input": ""})
                ids = {"item_id": item["id"], "output_index": index}
                for piece in _pieces(item["input"], 40):
                    yield event("response.custom_tool_call_input.delta", **ids, delta=piece)
                yield event("response.custom_tool_call_input.done", **ids, input=item["input"])
            yield event("response.output_item.done", output_index=index, item=item)
        usage = self._usage(_turn_usage(turn))
        yield event("response.completed", response=self._response(request, rid, "completed", items, usage))

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        items = self._items(server, request, turn)
        return self._response(
            request, server._next_id("resp"), "completed", items, self._usage(_turn_usage(turn))
        )


class _Chat(_Renderer):
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
        cid = server._next_id("chatcmpl")
        created = int(time.time())
        model = request.model or "gpt-4o"

        def chunk(choices: list[Any], **extra: Any) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
            return _sse({**body, "choices": choices, **extra})

        yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for piece in _pieces(_turn_text(turn)) if _turn_text(turn) else []:
            yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        finish = "stop"
        if isinstance(turn, ToolCall):
            finish = "tool_calls"
            head = {"index": 0, "id": server._next_id("call"), "type": "function"}
            head["function"] = {"name": turn.name, "arguments": ""}
            yield chunk([{"index": 0, "delta": {"tool_calls": [head]}, "finish_reason": None}])
            for piece in _pieces(_arguments_json(turn), 40):
                delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                yield chunk([{"index": 0, "delta": delta, "finish_reason": None}])
        yield chunk([{"index": 0, "delta": {}, "finish_reason": finish}])
        yield chunk([], usage=self._usage(_turn_usage(turn)))
        yield "data: [DONE]\n\n"

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        message: dict[str, Any] = {"role": "assistant", "content": _turn_text(turn) or None}
        finish = "stop"
        if isinstance(turn, ToolCall):
            finish = "tool_calls"
            message["tool_calls"] = [
                {
                    "id": server._next_id("call"),
                    "type": "function",
                    "function": {"name": turn.name, "arguments": _arguments_json(turn)},
                }
            ]
        return {
            "id": server._next_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model or "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self._usage(_turn_usage(turn)),
        }


class _Gemini(_Renderer):
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
        if _turn_text(turn):
            parts.append({"text": _turn_text(turn)})
        if isinstance(turn, ToolCall):
            call = {"name": turn.name, "args": _arguments_obj(turn), "id": server._next_id("fc")}
            parts.append({"functionCall": call})
        return parts

    def _chunk(self, request: RecordedRequest, parts: list[Any], finish: str | None, usage: Usage) -> Any:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": self._usage(usage),
            "modelVersion": _gemini_model(request.path) or "gemini-2.5-flash",
            "responseId": uuid.uuid4().hex[:22],
        }

    def stream(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Iterator[str]:
        usage = _turn_usage(turn)
        text = _turn_text(turn)
        pieces = _pieces(text) if text else []
        first_usage = Usage(input=usage.input, cached=usage.cached)
        for piece in pieces[:-1]:
            yield _sse(self._chunk(request, [{"text": piece}], None, first_usage))
        last: list[dict[str, Any]] = [{"text": pieces[-1]}] if pieces else []
        if isinstance(turn, ToolCall):
            last += [part for part in self._parts(server, turn) if "functionCall" in part]
        if isinstance(turn, Stall):
            yield _sse(self._chunk(request, last, None, first_usage))
            return
        yield _sse(self._chunk(request, last, "STOP", usage))

    def complete(self, server: ModelServer, request: RecordedRequest, turn: Turn) -> Any:
        return self._chunk(request, self._parts(server, turn), "STOP", _turn_usage(turn))


_RENDERERS: dict[str, _Renderer] = {
    "anthropic": _Anthropic(),
    "responses": _Responses(),
    "chat": _Chat(),
    "gemini": _Gemini(),
}


def _error_body(protocol: str, status: int, message: str) -> Any:
    if protocol == "gemini":
        names = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            429: "RESOURCE_EXHAUSTED",
        }
        text = message or (
            "API key not valid. Please pass a valid API key." if status == 401 else "Internal error"
        )
        return {"error": {"code": status, "message": text, "status": names.get(status, "INTERNAL")}}
    if protocol == "anthropic":
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }
        text = message or ("invalid x-api-key" if status == 401 else "Internal server error")
        return {"type": "error", "error": {"type": kinds.get(status, "api_error"), "message": text}}
    text = message or (
        "Incorrect API key provided (gitorch model server)" if status == 401 else "Internal error"
    )
    code = "invalid_api_key" if status == 401 else None
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": text, "type": kind, "param": None, "code": code}}


# --------------------------------------------------------------------------------------------------
# Request introspection
# --------------------------------------------------------------------------------------------------


def _gemini_model(path: str) -> str | None:
    last = path.rsplit("/models/", 1)
    if len(last) != 2:
        return None
    return last[1].split(":", 1)[0]


def _tools(protocol: str, body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    tools = body.get("tools") or []
    if protocol == "gemini":
        flat: list[dict[str, Any]] = []
        for tool in tools:
            flat.extend(tool.get("functionDeclarations") or [])
        return flat
    return [tool for tool in tools if isinstance(tool, dict)]


def _tool_names(protocol: str, body: Any) -> list[str]:
    names = []
    for tool in _tools(protocol, body):
        name = tool.get("name") or (tool.get("function") or {}).get("name") or tool.get("type")
        if name:
            names.append(str(name))
    return names


def _all_strings(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_all_strings(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_all_strings(v) for v in value)
    return ""


def _tool_results(protocol: str, body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    results: list[str] = []
    if protocol == "anthropic":
        for message in body.get("messages") or []:
            content = message.get("content")
            if isinstance(content, list):
                results += [_all_strings(b.get("content")) for b in content if b.get("type") == "tool_result"]
    elif protocol == "responses":
        for item in body.get("input") or []:
            if isinstance(item, dict) and item.get("type") in (
                "function_call_output",
                "custom_tool_call_output",
            ):
                results.append(_all_strings(item.get("output")))
    elif protocol == "chat":
        results += [
            _all_strings(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "tool"
        ]
    elif protocol == "gemini":
        for content in body.get("contents") or []:
            for part in content.get("parts") or []:
                if "functionResponse" in part:
                    results.append(json.dumps(part["functionResponse"].get("response")))
    return results


# --------------------------------------------------------------------------------------------------
# Per-CLI tool calls
# --------------------------------------------------------------------------------------------------

#: The file tools each CLI advertises in its requests (observed with the versions in
#: ``.ci/agent-clis.txt``), as ``cli -> (edit tool, write tool)``.
AGENT_EDIT_TOOLS: dict[str, tuple[str, str]] = {
    "claude": ("Edit", "Write"),
    "codex": ("apply_patch", "apply_patch"),
    "gemini": ("replace", "write_file"),
    "qwen": ("edit", "write_file"),
}


def codex_apply_patch(changes: Mapping[str, tuple[str, str] | str]) -> str:
    """Build a Codex ``apply_patch`` envelope.

    ``changes`` maps a path (relative to the working root) to ``(old, new)`` for an update of one
    hunk, or to a string for a new file's whole content.
    """
    lines = ["*** Begin Patch"]
    for path, change in changes.items():
        if isinstance(change, str):
            lines.append(f"*** Add File: {path}")
            lines += [f"+{line}" for line in change.splitlines()]
        else:
            old, new = change
            lines += [f"*** Update File: {path}", "@@"]
            lines += [f"-{line}" for line in old.splitlines()]
            lines += [f"+{line}" for line in new.splitlines()]
    lines.append("*** End Patch")
    return "\n".join(lines) + "\n"


def edit_file_turns(
    cli: str, path: str | Path, old: str, new: str, *, usage: Usage = _DEFAULT_USAGE
) -> list[Turn]:
    """The turns that make ``cli`` replace ``old`` with ``new`` in ``path`` through its own edit tool.

    Claude Code and Qwen Code refuse to edit a file they have not read in the session, so for them
    this is a read call followed by an edit call; codex and gemini need one call. Every turn reports
    ``usage``. ``path`` should be absolute for claude and gemini (their tools require it); codex's
    patch takes it relative to its working root. Follow these turns with a :class:`Reply` that
    ends the task.
    """
    if cli == "claude":
        return [
            ToolCall("Read", {"file_path": str(path)}, usage=usage),
            ToolCall("Edit", {"file_path": str(path), "old_string": old, "new_string": new}, usage=usage),
        ]
    if cli == "qwen":
        return [
            ToolCall("read_file", {"file_path": str(path)}, usage=usage),
            ToolCall("edit", {"file_path": str(path), "old_string": old, "new_string": new}, usage=usage),
        ]
    if cli == "codex":
        return [ToolCall("apply_patch", codex_apply_patch({str(path): (old, new)}), usage=usage)]
    if cli == "gemini":
        arguments = {
            "file_path": str(path),
            "old_string": old,
            "new_string": new,
            "instruction": "apply the fix",
        }
        return [ToolCall("replace", arguments, usage=usage)]
    raise ValueError(f"no edit tool known for {cli!r}")


def write_file_call(cli: str, path: str | Path, content: str, *, usage: Usage = _DEFAULT_USAGE) -> ToolCall:
    """The tool call that makes ``cli`` create a new file ``path`` with its own write tool.

    (Overwriting an existing file with claude's ``Write`` needs a ``Read`` of it first, like ``Edit``.)
    """
    if cli == "claude":
        return ToolCall("Write", {"file_path": str(path), "content": content}, usage=usage)
    if cli == "codex":
        return ToolCall("apply_patch", codex_apply_patch({str(path): content}), usage=usage)
    if cli in ("gemini", "qwen"):
        return ToolCall("write_file", {"file_path": str(path), "content": content}, usage=usage)
    raise ValueError(f"no write tool known for {cli!r}")


def structured_answer(cli: str, data: Any, *, usage: Usage = _DEFAULT_USAGE) -> Turn:
    """The turn that answers a CLI run with a JSON schema (``claude --json-schema``,
    ``codex exec --output-schema``) with ``data``.

    Claude Code adds a ``StructuredOutput`` tool when given a schema and ends the run as soon as
    the model calls it (no further request), qwen a ``structured_output`` tool; codex takes the JSON
    as the final text.
    """
    if cli == "claude":
        return ToolCall("StructuredOutput", data, usage=usage)
    if cli == "qwen":  # qwen --json-schema adds a structured_output tool and insists on it being called
        return ToolCall("structured_output", data, usage=usage)
    return Reply(json.dumps(data), usage=usage)


# --------------------------------------------------------------------------------------------------
# Pointing the CLIs at a server
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redirect:
    """What points one CLI at a :class:`ModelServer`: environment variables, extra argv, a model.

    ``args`` are the provider flags alone; :attr:`argv` adds the model flag, and goes right after
    the subcommand (``codex exec <argv> ...``). Files the CLI needs (such as Gemini's
    ``settings.json``) have already been written into the given home directory.
    """

    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    model: str = ""
    model_flag: str = "--model"

    @property
    def argv(self) -> list[str]:
        """Provider flags followed by the model flag."""
        return [*self.args, self.model_flag, self.model] if self.model else list(self.args)

    def agent_options(self) -> dict[str, Any]:
        """Options for gitorch's own agent plugin of this CLI (``ExternalCliAgent.Options``):
        ``model``, ``env`` and ``extra_args``."""
        return {"model": self.model, "env": dict(self.env), "extra_args": list(self.args)}


def minimal_env(home: str | Path, path: str | None = None) -> dict[str, str]:
    """A minimal environment for a CLI subprocess: a fresh ``HOME`` and little else."""
    import os

    home = str(home)
    return {
        "PATH": path if path is not None else os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "TERM": "dumb",
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "XDG_CONFIG_HOME": f"{home}/.config",
        "XDG_CACHE_HOME": f"{home}/.cache",
        "XDG_DATA_HOME": f"{home}/.local/share",
        "XDG_STATE_HOME": f"{home}/.local/state",
        "TMPDIR": f"{home}/tmp",
    }


def claude_redirect(
    server: ModelServer, home: str | Path | None = None, *, model: str = "claude-sonnet-4-5"
) -> Redirect:
    """Environment that points Claude Code at ``server`` (Anthropic Messages protocol).

    ``IS_SANDBOX=1`` lets the bypass permission modes run as root (CI runs as root).
    """
    env = {
        "ANTHROPIC_BASE_URL": server.url,
        "ANTHROPIC_API_KEY": "sk-ant-gitorch-loopback",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "IS_SANDBOX": "1",
        "ANTHROPIC_MODEL": model,
        "ANTHROPIC_SMALL_FAST_MODEL": model,
    }
    return Redirect(env=env, args=[], model=model)


def codex_redirect(
    server: ModelServer, home: str | Path | None = None, *, model: str = "gpt-5.5"
) -> Redirect:
    """``-c`` overrides that point ``codex exec`` at ``server`` through a custom provider.

    ``OPENAI_BASE_URL`` does not redirect codex 0.169; a ``model_providers`` entry with
    ``wire_api="responses"`` and no retries does.
    """
    provider = (
        '{name="gitorch-loopback",'
        f'base_url="{server.openai_base_url}",'
        'env_key="GITORCH_LOOPBACK_API_KEY",wire_api="responses",'
        "request_max_retries=0,stream_max_retries=0,stream_idle_timeout_ms=300000}"
    )
    args = [
        "-c",
        'model_provider="gitorch-loopback"',
        "-c",
        f"model_providers.gitorch-loopback={provider}",
        "-c",
        "check_for_update_on_startup=false",
        "-c",
        "analytics.enabled=false",
    ]
    env = {"GITORCH_LOOPBACK_API_KEY": "sk-gitorch-loopback"}
    if home is not None:
        env["CODEX_HOME"] = str(Path(home) / ".codex")
        (Path(home) / ".codex").mkdir(parents=True, exist_ok=True)
    return Redirect(env=env, args=args, model=model, model_flag="-m")


def gemini_redirect(server: ModelServer, home: str | Path, *, model: str = "gemini-2.5-flash") -> Redirect:
    """Environment (and ``~/.gemini/settings.json``) that point Gemini CLI at ``server``.

    ``GOOGLE_GEMINI_BASE_URL`` alone selects the ``gateway`` auth type, which headless mode
    rejects; the settings file selects ``gemini-api-key``. Telemetry, update checks and the model
    router's classifier are switched off so that the scripted turns meet only agent requests.
    """
    settings_dir = Path(home) / ".gemini"
    settings_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
    }
    (settings_dir / "settings.json").write_text(json.dumps(settings, indent=2))
    env = {
        "GOOGLE_GEMINI_BASE_URL": server.url,
        "GEMINI_API_KEY": "gitorch-loopback-key",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    return Redirect(env=env, args=["--skip-trust"], model=model, model_flag="-m")


def qwen_redirect(server: ModelServer, home: str | Path, *, model: str = "gpt-4o") -> Redirect:
    """Environment, argv and ``~/.qwen/settings.json`` that point Qwen Code at ``server``
    (OpenAI chat completions).

    The settings switch off the managed auto-memory extractor, a sub-agent that otherwise sends a
    second generation request (with its own tools) after every run, and telemetry.
    """
    settings_dir = Path(home) / ".qwen"
    settings_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "memory": {"enableManagedAutoMemory": False},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
    }
    (settings_dir / "settings.json").write_text(json.dumps(settings, indent=2))
    env = {"OPENAI_API_KEY": "sk-gitorch-loopback", "OPENAI_BASE_URL": server.openai_base_url}
    return Redirect(env=env, args=["--auth-type", "openai"], model=model, model_flag="-m")


_REDIRECTS: dict[str, Callable[..., Redirect]] = {
    "claude": claude_redirect,
    "codex": codex_redirect,
    "gemini": gemini_redirect,
    "qwen": qwen_redirect,
}


def redirect_for(cli: str, server: ModelServer, home: str | Path) -> Redirect:
    """The :class:`Redirect` for ``cli`` (``claude``, ``codex``, ``gemini`` or ``qwen``)."""
    try:
        return _REDIRECTS[cli](server, home)
    except KeyError:
        raise ValueError(f"no loopback redirect known for {cli!r}") from None


# --------------------------------------------------------------------------------------------------
# pytest
# --------------------------------------------------------------------------------------------------


def model_server_fixture(name: str = "model_server", **kwargs: Any) -> Any:
    """Build a function-scoped pytest fixture yielding a started :class:`ModelServer`.

    In a conftest: ``model_server = model_server_fixture()``. Keyword arguments go to
    :class:`ModelServer` (``default=None`` makes unscripted agent requests fail with HTTP 500).
    """
    import pytest

    @pytest.fixture(name=name)
    def _fixture() -> Iterator[ModelServer]:
        with ModelServer(**kwargs) as server:
            yield server

    return _fixture
