"""The live view's HTTP side: a capped thread-per-connection server and its request handler.

`LiveServer` (`live_server`) owns the frames, viewers, token and stats; this module only speaks
HTTP for it: at most `max_connections` threads (503 at once past that, from the accepting
thread), one deadline for a request's line and headers (a slow client cannot hold a thread),
GET and HEAD on four routes, and an MJPEG stream per viewer.
"""

from __future__ import annotations

import http.server
import io
import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from cnn_edge.device.live_server import LiveServer

BOUNDARY = "cnn-edge-frame"
ROUTES = ("/", "/stream", "/stats", "/healthz")
ALLOWED_METHODS = "GET, HEAD"
THREAD_STACK_BYTES = 1024 * 1024
_BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
         b"Retry-After: 5\r\nConnection: close\r\n\r\nbusy\n")


def smaller_thread_stacks() -> None:
    """Lower the stack of threads started from now on to THREAD_STACK_BYTES (never raise it)."""
    try:
        if threading.stack_size() == 0:  # the platform default, not a size someone chose
            threading.stack_size(THREAD_STACK_BYTES)
    except (ValueError, RuntimeError):  # a platform that cannot change it: keep its default
        pass


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 32
    slots: threading.BoundedSemaphore  # max_connections; set by LiveServer.start

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread per connection while a slot is free; past the cap, 503 at once and no thread."""
        if not self.slots.acquire(blocking=False):
            try:
                request.setblocking(False)  # never wait on a client from the accepting thread
                request.send(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # the thread did not start: give the slot back
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanishes mid-response is normal here: never print a traceback."""


class _DeadlineReader(socket.SocketIO):
    """The request's socket reader: each read may wait only what is left of one overall deadline."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        super().__init__(sock, "rb")
        self.deadline: float | None = time.monotonic() + seconds

    def readinto(self, b: Any) -> int | None:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("request headers not complete in time")
            self._sock.settimeout(left)
        return super().readinto(b)


class Handler(http.server.BaseHTTPRequestHandler):
    live: LiveServer  # set on the subclass LiveServer.start makes
    server_version = "cnn-edge"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # the library never prints
        pass

    def setup(self) -> None:
        super().setup()
        # Requests are read through a reader with one deadline for the request line and headers.
        self.rfile.close()
        self._reader = _DeadlineReader(self.connection, self.live.config.header_timeout)
        self.rfile = io.BufferedReader(self._reader)

    def parse_request(self) -> bool:
        ok = super().parse_request()
        # Headers are in: from here on only the per-operation `timeout` applies (a viewer's stream).
        self._reader.deadline = None
        self.connection.settimeout(self.timeout)
        return ok

    # Every method but GET and HEAD: 405 on a known path, 404 elsewhere.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        path = urlsplit(self.path).path
        if path not in ROUTES:
            self._send(404, b"not found\n")
        else:
            self._send(405, b"method not allowed\n", extra={"Allow": ALLOWED_METHODS})

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    def _route(self, head: bool) -> None:
        url = urlsplit(self.path)
        path, live = url.path, self.live
        if path == "/healthz":
            self._send(200, b"ok\n", head=head)
            return
        if not live.host_allowed(self.headers.get("Host")):
            self._send(403, b"forbidden\n", head=head)
            return
        if not live.authorized(url.query, self.headers):
            self._send(401, b"token required\n", head=head, extra={"WWW-Authenticate": "Bearer"})
            return
        if path == "/":
            body, csp = live.page
            self._send(200, body, "text/html; charset=utf-8", head=head,
                       extra={"Content-Security-Policy": csp, "Referrer-Policy": "no-referrer"})
        elif path == "/stats":
            body = json.dumps(live.stats()).encode()
            self._send(200, body, "application/json", head=head)
        elif path == "/stream":
            self._stream(head)
        else:
            self._send(404, b"not found\n", head=head)

    def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8", head: bool = False,
              extra: dict[str, str] | None = None) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if not head:
                self.wfile.write(body)
        except OSError:  # the client went away
            pass

    def _stream(self, head: bool) -> None:
        live = self.live
        if head:
            self._send(200, b"", f"multipart/x-mixed-replace; boundary={BOUNDARY}", head=True)
            return
        viewer = live.add_viewer(self.connection)
        if viewer is None:
            self._send(503, b"too many viewers\n", extra={"Retry-After": "5"})
            return
        try:
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            while not live.stopping:
                jpeg = viewer.next(timeout=0.5)
                if jpeg is None:
                    continue
                self.wfile.write(b"--" + BOUNDARY.encode() + b"\r\nContent-Type: image/jpeg\r\n"
                                 b"Content-Length: " + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
        except OSError:  # disconnected, reset, or too slow for `client_timeout`
            pass
        finally:
            live.remove_viewer(viewer)
            self.close_connection = True
