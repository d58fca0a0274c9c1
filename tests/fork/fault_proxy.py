"""A local HTTP JSON-RPC proxy for fault injection: forwards to a node, and can stall (hold a
request without answering), drop (close the connection unanswered) or run a hook on the n-th
request before forwarding it (to kill a node, or to land a competing transaction first).

Threads, one per connection; `stop()` closes everything, including stalled requests.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

Hook = Callable[[int, list[str]], None]  # (request number, JSON-RPC methods in it)


@dataclass
class FaultProxy:
    """Forwards to `target`. `mode`: "pass", "stall" or "drop", from request `after` on."""

    target: str
    mode: str = "pass"
    after: int = 0  # requests answered normally before the fault starts
    hook: Hook | None = None
    seen: int = 0
    methods: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # every JSON-RPC request seen
    _server: ThreadingHTTPServer | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    url: str = ""  # set by start(); kept after stop() for assertions

    def start(self) -> FaultProxy:
        proxy = self
        target = urlparse(self.target)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.seen += 1
                n = proxy.seen
                try:
                    payload = json.loads(body)
                    batch = payload if isinstance(payload, list) else [payload]
                    methods = [str(p.get("method")) for p in batch]
                except ValueError:
                    batch, methods = [], []
                proxy.methods.extend(methods)
                proxy.requests.extend(p for p in batch if isinstance(p, dict))
                if proxy.hook is not None:
                    proxy.hook(n, methods)
                if n > proxy.after and proxy.mode == "stall":
                    proxy._release.wait()  # until stop(): the client times out first
                    self.close_connection = True
                    return
                if n > proxy.after and proxy.mode == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                try:
                    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                    conn.request(
                        "POST", target.path or "/", body, {"Content-Type": "application/json"}
                    )
                    resp = conn.getresponse()
                    data = resp.read()
                    status = resp.status
                    conn.close()
                except OSError:  # the node behind is gone: drop, as a dead node would
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
