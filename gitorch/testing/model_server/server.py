"""The model server itself: :class:`ModelServer` (the queue of turns, the recorded requests) and its
HTTP handler, which answers agent requests with the next turn rendered in the request's protocol and
side requests (token counts, model lists, titles) without consuming a turn."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gitorch.testing.model_server.protocols import RENDERERS, error_body
from gitorch.testing.model_server.requests import (
    SECRET_HEADERS,
    SECRET_QUERY,
    RecordedRequest,
    is_generation,
    protocol_of,
)
from gitorch.testing.model_server.script import Dynamic, Fail, Reply, Stall, Turn, Usage

# What an agent request gets once the scripted turns are used up, unless the server says otherwise.
DONE = Reply("Done.")


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
        default: Turn | None = DONE,
        is_agent_request: Callable[[RecordedRequest], bool] | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self._turns: list[Turn] = list(turns)
        #: Seconds every agent request waits before its answer starts (a model with a fixed time per
        #: call); requests wait side by side, not one after the other.
        self.latency_s = latency_s
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
        return is_generation(request)

    @staticmethod
    def advertises_tools(request: RecordedRequest) -> bool:
        """Classifier: only generation requests that send a tool list take a scripted turn.

        Agent loops always send their tools; side calls usually send none.
        """
        return bool(request.tools) and is_generation(request)

    # -- internals used by the handler ---------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> RecordedRequest:
        agent = request.protocol != "other" and is_generation(request) and self._classify(request)
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

    def next_id(self, prefix: str) -> str:
        """A fresh id for a message, a response or a tool call (``msg_0001…``)."""
        with self._lock:
            self._ids += 1
            return f"{prefix}_{self._ids:04d}{uuid.uuid4().hex[:20]}"




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
            name.lower(): ("<redacted>" if name.lower() in SECRET_HEADERS else value)
            for name, value in self.headers.items()
        }
        query = {k: v for k, v in parse_qs(split.query).items() if k not in SECRET_QUERY}
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=query,
            headers=headers,
            body=body,
            raw=raw,
            protocol=protocol_of(split.path),
        )
        request = self.model_server._record(request)
        if request.agent and self.model_server.latency_s > 0:
            self.model_server._stopping.wait(self.model_server.latency_s)
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
        renderer = RENDERERS[request.protocol]
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
        elif request.protocol in RENDERERS and is_generation(request):
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
        self._send_json(status, error_body(request.protocol, status, message))

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
