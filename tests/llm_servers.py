"""Scripted LLM servers on 127.0.0.1 for the backend tests.

:class:`ScriptedLLMServer` speaks the OpenAI chat-completions protocol
(``POST /v1/chat/completions``, JSON or SSE when ``stream`` is true) or the
Ollama one (``POST /api/chat``, NDJSON lines when streaming). Each request takes
the next :class:`Reply` from the script: its text in small pieces, after an
optional delay. Requests are recorded so tests can check what planqa sent.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str
    delay_s: float = 0.0  # before the first byte
    piece_chars: int = 4  # characters per streamed piece
    piece_delay_s: float = 0.005


def dead_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ScriptedLLMServer:
    def __init__(self, protocol: str, replies: list[Reply]):
        assert protocol in ("openai", "ollama")
        self.protocol = protocol
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        port = self.httpd.server_address[1]
        return f"http://127.0.0.1:{port}/v1" if self.protocol == "openai" else f"http://127.0.0.1:{port}"

    def __enter__(self) -> ScriptedLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # cuts the delays short
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def _next(self, body: dict, headers: dict[str, str]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            return self.replies.pop(0) if self.replies else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                path = "/v1/chat/completions" if server.protocol == "openai" else "/api/chat"
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != path:
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                reply = server._next(body, {k.lower(): v for k, v in self.headers.items()})
                if reply is None:
                    return self._send(500, {"error": {"message": "script exhausted"}})
                if reply.delay_s and server.stopping.wait(reply.delay_s):
                    return None
                pieces = [reply.text[i:i + reply.piece_chars] for i in range(0, len(reply.text), reply.piece_chars)]
                model = body.get("model", "")
                if not body.get("stream", server.protocol == "ollama"):  # Ollama streams unless told not to
                    return self._send(200, self._whole(model, reply.text))
                self.send_response(200)
                kind = "text/event-stream" if server.protocol == "openai" else "application/x-ndjson"
                self.send_header("Content-Type", kind)
                self.send_header("Connection", "close")
                self.end_headers()
                for line in self._stream_lines(model, pieces):
                    self.wfile.write(line.encode("utf-8"))
                    self.wfile.flush()
                    if reply.piece_delay_s and server.stopping.wait(reply.piece_delay_s):
                        return None
                self.close_connection = True
                return None

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _whole(self, model: str, text: str) -> dict:
                if server.protocol == "ollama":
                    return {"model": model, "created_at": "2026-01-01T00:00:00Z", "done": True, "done_reason": "stop",
                            "message": {"role": "assistant", "content": text}}
                return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

            def _stream_lines(self, model: str, pieces: list[str]) -> list[str]:
                if server.protocol == "ollama":
                    lines = [{"model": model, "created_at": "2026-01-01T00:00:00Z", "done": False,
                              "message": {"role": "assistant", "content": p}} for p in pieces]
                    lines.append({"model": model, "created_at": "2026-01-01T00:00:00Z", "done": True,
                                  "done_reason": "stop", "message": {"role": "assistant", "content": ""},
                                  "prompt_eval_count": 1, "eval_count": len(pieces)})
                    return [json.dumps(x, ensure_ascii=False) + "\n" for x in lines]

                def chunk(delta: dict, finish: str | None = None) -> str:
                    data = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

                return ([chunk({"role": "assistant", "content": ""})] + [chunk({"content": p}) for p in pieces]
                        + [chunk({}, "stop"), "data: [DONE]\n\n"])

        return Handler
