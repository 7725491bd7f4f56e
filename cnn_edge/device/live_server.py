"""`cnn-edge infer --camera --serve`: watch a headless camera from a browser.

A small HTTP server (the standard library's `ThreadingHTTPServer`, no web framework) that
runs beside the camera loop and serves:

    /         a self-contained page: the live picture plus a panel of recent predictions,
              FPS and latency percentiles that updates itself (no external assets: the Pi
              may be offline)
    /stream   MJPEG (multipart/x-mixed-replace) of the annotated frames
    /stats    JSON: last prediction, FPS, latency percentiles, frames, uptime, model, backend
    /healthz  "ok", for monitors (open even with a token; says nothing else)

The camera loop hands each frame to `LiveServer.publish` (the `on_image` hook of
`run_camera`), which only stores a reference and a few numbers: drawing and JPEG encoding
happen on the server's own encoder thread, and only while someone watches /stream, at most
`fps` times a second. Every viewer has a small buffer of its own that keeps the newest
frames; a slow or stalled viewer loses frames, it never slows the camera loop or the others.

The library never prints: `LiveServer.url` and `LiveServer.local_only` say what the CLI's
start-up line should. The HTTP plumbing (connection cap, header deadline, routes) is `live_http`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import selectors
import socket
import threading
import time
from base64 import b64encode
from collections import deque
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import numpy as np

from cnn_edge.common.errors import ConfigError
from cnn_edge.device.live_http import Handler, HttpServer, smaller_thread_stacks
from cnn_edge.measure.stats import RollingFps, percentiles

DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServeConfig:
    """What `--serve` listens on and how it streams.

    host: address to listen on. 127.0.0.1 (the default) is this machine only; 0.0.0.0 every
        network interface (other machines can watch: pair it with a token).
    port: TCP port; 0 picks a free one (`LiveServer.port` then says which).
    token: when set, every request except /healthz must carry it, as `?token=...` or the
        header `Authorization: Bearer ...` (or `X-Token: ...`); otherwise 401.
    fps: most frames a second sent to each /stream viewer (the camera loop is not capped).
    jpeg_quality: 1-100, quality of the /stream JPEGs (lower: less bandwidth, more blur).
    model, backend: what /stats and the page say is running (text only).
    max_viewers: /stream clients at once; more get 503 (each costs a thread and bandwidth).
    client_buffer: encoded frames kept per viewer; when it is full the oldest is dropped.
    history: recent predictions (label changes) kept for the page's panel and /stats.
    latency_window: latest frames whose timings give the /stats percentiles.
    client_timeout: seconds a client may take to accept data before its connection is
        closed (a stalled viewer is let go after this).
    header_timeout: seconds a client has for its whole request line and headers, however it
        trickles them (one byte every few seconds would reset a per-read timeout forever).
    max_connections: connections served at once, viewers included; one more is answered 503
        and closed at once, without a thread. Unauthenticated clients cost a thread each
        until `header_timeout`, so this bounds what idle sockets can take from a Pi.
    """

    host: str = DEFAULT_HOST
    port: int = 8080
    token: str | None = None
    fps: float = 15.0
    jpeg_quality: int = 75
    model: str = ""
    backend: str = ""
    max_viewers: int = 8
    client_buffer: int = 2
    history: int = 12
    latency_window: int = 600
    client_timeout: float = 10.0
    header_timeout: float = 5.0
    max_connections: int = 32

    def validate(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--serve port must be 0-65535, got {self.port}")
        if not 0 < self.fps <= 120:
            raise ConfigError(f"--serve-fps must be above 0 and at most 120, got {self.fps:g}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ConfigError(f"--jpeg-quality must be 1-100, got {self.jpeg_quality}")
        if self.token is not None and not self.token.strip():
            raise ConfigError("--token must not be empty")
        if self.max_viewers < 1 or self.client_buffer < 1 or self.history < 1 or self.latency_window < 1:
            raise ConfigError("max_viewers, client_buffer, history and latency_window must be at least 1")
        if self.max_connections <= self.max_viewers:
            raise ConfigError("max_connections must be above max_viewers (viewers would leave no room)")
        if not (self.client_timeout > 0 and self.header_timeout > 0):
            raise ConfigError("client_timeout and header_timeout must be above 0")


def parse_address(spec: str) -> tuple[str, int]:
    """`[HOST:]PORT` -> (host, port); the host defaults to 127.0.0.1; IPv6 as [::1]:8080."""
    spec = spec.strip()
    host, sep, port_text = spec.rpartition(":")
    if not sep:
        host, port_text = DEFAULT_HOST, spec
    host = host.strip("[]") or DEFAULT_HOST
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"--serve takes [HOST:]PORT (e.g. 8080 or 0.0.0.0:8080), got {spec!r}")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def backend_label(backend: str) -> str:
    """The interpreter `load_model(backend=...)` picks, with its version: "litert 1.2.0"."""
    from cnn_edge.edge_runtime.interpreter import available_backends

    found = available_backends()
    names = list(found) if backend == "auto" else [backend]
    for name in names:
        version = found.get(name, "unavailable")
        if not version.startswith("unavailable"):
            return f"{name} {version}"
    return backend


def _page() -> tuple[bytes, str]:
    """The page's bytes and a Content-Security-Policy that allows exactly its inline script."""
    html = resources.files("cnn_edge.device").joinpath("assets/live.html").read_bytes()
    scripts = re.findall(rb"<script>(.*?)</script>", html, flags=re.S)
    hashes = " ".join(f"'sha256-{b64encode(hashlib.sha256(s).digest()).decode()}'" for s in scripts)
    csp = (f"default-src 'none'; img-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
           f"script-src {hashes}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return html, csp


class _Viewer:
    """One /stream client: the newest `size` JPEGs (older ones are dropped, never waited for).

    Its handler waits on the client's socket and a wake-up socket at once, so a viewer that
    leaves is noticed at once (its socket turns readable: end of file or reset), not at the
    next frame it fails to take; viewers that come and go quickly do not pile up.
    """

    def __init__(self, conn: socket.socket, size: int) -> None:
        self.conn = conn
        self.dropped = 0
        self._frames: deque[bytes] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(conn, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)

    def offer(self, jpeg: bytes) -> None:
        """From the encoder thread: never blocks."""
        with self._lock:
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(jpeg)
        try:
            self._wake_w.send(b"\0")
        except OSError:  # already woken (buffer full), or the viewer has just been closed
            pass

    def next(self, timeout: float) -> bytes | None:
        """The next JPEG, or None after `timeout`; `ConnectionError` when the client has gone."""
        with self._lock:
            if self._frames:
                return self._frames.popleft()
        for key, _ in self._selector.select(timeout):
            if key.fileobj is self.conn:
                # A viewer sends nothing after its request: end of file means it left (a reset
                # raises ConnectionResetError here); anything else it sends is ignored.
                if not self.conn.recv(4096):
                    raise ConnectionAbortedError("the viewer left")
            else:
                self._wake_r.recv(4096)
        with self._lock:
            return self._frames.popleft() if self._frames else None

    def close(self) -> None:
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


class LiveServer:
    """The HTTP server and its encoder thread; a context manager that always frees the port.

    with LiveServer(config) as server:
        run_camera(camera_config, on_image=server.publish)
    """

    def __init__(self, config: ServeConfig) -> None:
        config.validate()
        self.config = config
        self._page, self._csp = _page()
        self._token = None if config.token is None else config.token.encode()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._new_frame = threading.Condition(self._lock)
        self._latest: tuple[np.ndarray, tuple[int, int, int, int], Any] | None = None
        self._latest_seq = 0
        self._frames = 0
        self._last_result: Any = None
        self._last_time = 0.0
        self._frame_size: tuple[int, int] | None = None
        self._latencies: deque[float] = deque(maxlen=config.latency_window)
        self._prep: deque[float] = deque(maxlen=config.latency_window)
        self._recent: deque[dict] = deque(maxlen=config.history)
        self._viewers: set[_Viewer] = set()
        self._sockets: set[socket.socket] = set()
        self._encoded = 0
        self._dropped_gone = 0  # frames dropped for viewers that have left
        self._stream_fps = RollingFps(2.0)
        self._started = time.monotonic()
        self._httpd: HttpServer | None = None
        self._threads: list[threading.Thread] = []

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Bind and start serving; `ConfigError` with one line when the address cannot be used."""
        host, port = self.config.host, self.config.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        handler = type("Handler", (Handler,), {"live": self, "timeout": self.config.client_timeout})
        server_cls = type("Server", (HttpServer,), {"address_family": family})
        try:
            self._httpd = server_cls((host, port), handler)
        except OSError as exc:
            raise ConfigError(f"cannot serve on {host}:{port} ({exc.strerror or exc})",
                              hint="choose another port with --serve, or stop the program using it") from None
        self._httpd.slots = threading.BoundedSemaphore(self.config.max_connections)
        smaller_thread_stacks()
        self._started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._encode_loop, name="live-encoder", daemon=True),
            threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                             name="live-http", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def close(self) -> None:
        """Stop serving, end every stream, close the listening socket (idempotent)."""
        self._stopping.set()
        with self._new_frame:
            self._new_frame.notify_all()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:  # unblocks a handler stuck writing to a stalled viewer
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=2.0)
        self._threads = []

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd is not None else self.config.port

    @property
    def local_only(self) -> bool:
        """True when only this machine can connect (a loopback address)."""
        return is_loopback(self.config.host)

    @property
    def url(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    # ----------------------------------------------------------------- camera side

    def publish(self, frame: np.ndarray, roi: tuple[int, int, int, int], result: Any) -> None:
        """The camera loop's `on_image` hook: remember the frame (no copy, no drawing) and its numbers."""
        now = time.monotonic()
        with self._lock:
            changed = self._last_result is None or result.label != self._last_result.label
            self._latest = (frame, roi, result)
            self._latest_seq += 1
            self._frames += 1
            self._last_result = result
            self._last_time = now
            self._frame_size = (int(frame.shape[1]), int(frame.shape[0]))
            self._latencies.append(result.latency_ms)
            self._prep.append(result.preprocess_ms)
            if changed:
                self._recent.append({**result.to_json(), "uptime_s": round(now - self._started, 2)})
            if self._viewers:
                self._new_frame.notify()

    # ----------------------------------------------------------------- encoder

    def _encode_loop(self) -> None:
        import cv2

        from cnn_edge.device.preview import draw_overlay

        period = 1.0 / self.config.fps
        params = [int(cv2.IMWRITE_JPEG_QUALITY), int(self.config.jpeg_quality)]
        sent_seq = 0
        next_due = 0.0
        while not self._stopping.is_set():
            with self._new_frame:
                while not self._stopping.is_set() and (not self._viewers or self._latest_seq == sent_seq):
                    self._new_frame.wait(0.5)
                if self._stopping.is_set():
                    return
            wait = next_due - time.monotonic()
            if wait > 0:  # the --serve-fps cap: sleep, then take the newest frame
                self._stopping.wait(wait)
                continue
            with self._lock:
                assert self._latest is not None
                frame, roi, result = self._latest
                sent_seq = self._latest_seq
            next_due = time.monotonic() + period
            try:
                ok, buf = cv2.imencode(".jpg", draw_overlay(frame.copy(), roi, result), params)
            except cv2.error:  # pragma: no cover - a frame OpenCV cannot draw on: skip it, keep serving
                ok = False
            if not ok:  # pragma: no cover
                continue
            jpeg = buf.tobytes()
            with self._lock:
                viewers = list(self._viewers)
                self._encoded += 1
                self._stream_fps.tick()
            for viewer in viewers:
                viewer.offer(jpeg)

    # ----------------------------------------------------------------- HTTP side

    def stats(self) -> dict:
        """What /stats returns."""
        now = time.monotonic()
        with self._lock:
            result, last_time = self._last_result, self._last_time
            latencies, prep = list(self._latencies), list(self._prep)
            recent = list(self._recent)
            frames, viewers, encoded = self._frames, len(self._viewers), self._encoded
            dropped = self._dropped_gone + sum(v.dropped for v in self._viewers)
            stream_fps = self._stream_fps.fps if viewers else 0.0
            size = self._frame_size
        age = now - last_time if result is not None else None
        uptime = now - self._started
        return {
            "model": self.config.model,
            "backend": self.config.backend,
            "uptime_s": round(uptime, 2),
            "frames": frames,
            # The loop's rolling FPS, or 0 once no frame has come for two seconds (a stalled camera).
            "fps": round(result.fps, 2) if result is not None and age is not None and age < 2.0 else 0.0,
            "last_frame_age_s": None if age is None else round(age, 3),
            "frame_size": None if size is None else list(size),
            "last": None if result is None else result.to_json(),
            "latency_ms": {k: round(v, 4) for k, v in percentiles(latencies).items()},
            "preprocess_ms": {k: round(v, 4) for k, v in percentiles(prep).items()},
            "latency_window": len(latencies),
            "recent": recent[::-1],
            "stream": {
                "viewers": viewers,
                "fps": round(stream_fps, 2),
                "fps_cap": self.config.fps,
                "jpeg_quality": self.config.jpeg_quality,
                "frames_encoded": encoded,
                "frames_dropped": dropped,
            },
        }

    def authorized(self, query: str, headers: Any) -> bool:
        if self._token is None:
            return True
        given = parse_qs(query).get("token", [None])[-1]
        auth = headers.get("Authorization", "")
        if given is None and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if given is None:
            given = headers.get("X-Token")
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    def host_allowed(self, host_header: str | None) -> bool:
        """Served on loopback without a token: only loopback Host names (blocks DNS rebinding)."""
        if not self.local_only or self._token is not None:
            return True
        if not host_header:
            return False
        host = host_header.strip()
        host = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
        return is_loopback(host)

    def add_viewer(self, sock: socket.socket) -> _Viewer | None:
        with self._lock:
            if len(self._viewers) >= self.config.max_viewers or self._stopping.is_set():
                return None
            viewer = _Viewer(sock, self.config.client_buffer)
            self._viewers.add(viewer)
            self._sockets.add(sock)
            self._new_frame.notify()
            return viewer

    def remove_viewer(self, viewer: _Viewer) -> None:
        with self._lock:
            self._viewers.discard(viewer)
            self._sockets.discard(viewer.conn)
            self._dropped_gone += viewer.dropped
        viewer.close()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def page(self) -> tuple[bytes, str]:
        return self._page, self._csp


# Threads started while serving get this stack instead of the C library's default (8 MB on
# Raspberry Pi OS): handlers parse headers and write bytes, the encoder calls OpenCV's JPEG
# encoder; 1 MB leaves them ample room and keeps 32 connections within 32 MB of a 32-bit
# address space. Set once, before any of these threads starts (the setting is process-wide).
