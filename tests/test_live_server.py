"""`cnn-edge infer --camera --serve`: the live page, /stream, /stats and /healthz, for real.

Each server is the real CLI in a subprocess, reading a looped MJPG video as its camera, on a
free port of 127.0.0.1; every request goes to loopback only and every loop is bounded.
"""

from __future__ import annotations

import http.client
import json
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import MNIST, sigint_as_at_a_terminal

W, H, VIDEO_FPS = 640, 480, 30.0
BOUNDARY = b"--cnn-edge-frame"


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """Three digit cards, 10 frames each, at 30 FPS: a camera in a darker, textured room."""
    d = np.load(MNIST)
    path = tmp_path_factory.mktemp("live") / "cards.avi"
    rng = np.random.default_rng(0)
    room = cv2.GaussianBlur(rng.uniform(40, 120, (H, W)).astype(np.float32), (0, 0), 5)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), VIDEO_FPS, (W, H))
    for i in range(30):
        frame = room.copy()
        frame[160:320, 250:390] = 215
        glyph = cv2.resize(d["x_test"][i // 10], (110, 110), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        frame[185:295, 265:375] *= 1.0 - 0.8 * glyph / 255.0
        frame += rng.normal(0, 3, frame.shape)
        writer.write(cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A `cnn-edge infer --camera --serve` subprocess; requests go to 127.0.0.1 whatever it binds."""

    def __init__(self, model: Path, video: Path, tmp: Path, *extra: str, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.out, self.err = tmp / f"out-{self.port}.txt", tmp / f"err-{self.port}.txt"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cnn_edge", "infer", "--model", str(model), "--camera",
                 "--source", str(video), "--loop", "--no-display", "--serve", f"{host}:{self.port}", *extra],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, preexec_fn=sigint_as_at_a_terminal,
            )

    def wait_frames(self, n: int = 1, query: str = "", deadline_s: float = 60.0) -> dict:
        """Poll /stats (bounded) until the camera loop has processed `n` frames."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.err.read_text()
            try:
                status, _, body = self.get("/stats" + query, timeout=2)
                if status == 200 and json.loads(body)["frames"] >= n:
                    return json.loads(body)
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"no {n} frames within {deadline_s} s: {self.err.read_text()}")

    def get(self, path: str, method: str = "GET", headers: dict | None = None,
            timeout: float = 5) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def stats(self) -> dict:
        status, _, body = self.get("/stats")
        assert status == 200
        return json.loads(body)

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise


def open_stream(port: int, query: str = "", timeout: float = 10) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", "/stream" + query)
    resp = conn.getresponse()
    assert resp.status == 200, resp.status
    assert resp.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=cnn-edge-frame"
    return resp


def read_jpeg(resp: http.client.HTTPResponse) -> bytes:
    """The next part of an MJPEG response."""
    line = resp.readline()
    while line.strip() == b"":
        line = resp.readline()
    assert line.strip() == BOUNDARY, line
    headers = {}
    while line := resp.readline().strip():
        key, value = line.split(b":", 1)
        headers[key.strip().lower()] = value.strip()
    assert headers[b"content-type"] == b"image/jpeg"
    data = resp.read(int(headers[b"content-length"]))
    assert resp.readline() == b"\r\n"
    return data


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a JPEG"
    return image


def reset_close(sock: socket.socket) -> None:
    """Close with a TCP reset: a viewer whose machine vanished, not a polite goodbye."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.fixture(scope="module")
def served(converted_run, video, tmp_path_factory):
    """One server for the read-only tests: the video played at its own 30 FPS, as a camera."""
    server = Served(converted_run / "model_int8.tflite", video, tmp_path_factory.mktemp("served"),
                    "--realtime", "--serve-fps", "30")
    try:
        server.wait_frames(5)
        yield server
    finally:
        server.stop()


def test_startup_line_stats_and_health(served):
    line = served.err.read_text().splitlines()[0]
    assert line.startswith(f"serving on http://127.0.0.1:{served.port}/ (this machine only")
    status, _, body = served.get("/healthz")
    assert (status, body) == (200, b"ok\n")
    first = served.stats()
    time.sleep(0.5)
    s = served.stats()
    assert {"model", "backend", "uptime_s", "frames", "fps", "last", "latency_ms", "preprocess_ms",
            "recent", "stream", "frame_size"} <= set(s)
    assert s["model"] == "model_int8.tflite"
    assert s["backend"].split()[0] in ("litert", "tflite-runtime")
    assert s["frames"] > first["frames"] and s["uptime_s"] > first["uptime_s"]
    assert s["frame_size"] == [W, H]
    assert set(s["latency_ms"]) == {"p50", "p90", "p99"} and s["latency_ms"]["p50"] > 0
    assert {"frame", "label", "confidence", "latency_ms", "fps"} <= set(s["last"])
    assert s["recent"] and all("label" in r for r in s["recent"])
    # --realtime: the loop runs at the file's 30 FPS, not as fast as it can.
    assert 20 <= s["fps"] <= 40, s["fps"]


def test_stream_sends_jpegs_of_the_frame_size(served):
    resp = open_stream(served.port)
    try:
        images = [decode(read_jpeg(resp)) for _ in range(3)]
    finally:
        resp.close()
    assert all(im.shape == (H, W, 3) for im in images)


def test_page_is_self_contained(served):
    status, headers, body = served.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert "<img" in page and "stats" in page and "stream" in page
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_unknown_paths_bad_methods_and_foreign_hosts(served):
    for path in ("/nope", "/stream/../etc/passwd", "/assets/live.html", "/..%2f..%2fetc/passwd"):
        assert served.get(path)[0] == 404, path
    status, headers, _ = served.get("/stats", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert served.get("/", method="PUT")[0] == 405
    assert served.get("/stream", method="DELETE")[0] == 405
    assert served.get("/nope", method="POST")[0] == 404
    status, headers, body = served.get("/stats", method="HEAD")
    assert status == 200 and body == b""
    # Served on loopback without a token: a page from another site reaching it through DNS
    # rebinding (a foreign Host header) gets nothing; monitors still get /healthz.
    assert served.get("/stats", headers={"Host": "attacker.example:80"})[0] == 403
    assert served.get("/healthz", headers={"Host": "attacker.example:80"})[0] == 200


def test_many_viewers_and_a_stalled_one_do_not_slow_the_loop(served):
    # A viewer that asks for the stream and never reads, with a tiny receive buffer.
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", served.port))
    stalled.sendall(b"GET /stream HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    # One that reads a frame, then vanishes with a reset.
    gone = open_stream(served.port)
    read_jpeg(gone)
    reset_close(gone.fp.raw._sock)
    gone.close()
    results: dict[int, list] = {}

    def viewer(k: int) -> None:
        resp = open_stream(served.port)
        try:
            results[k] = [decode(read_jpeg(resp)).shape for _ in range(15)]
        finally:
            resp.close()

    try:
        threads = [threading.Thread(target=viewer, args=(k,)) for k in range(5)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(0.3)
        during = served.stats()
        for t in threads:
            t.join(timeout=20)
        took = time.monotonic() - t0
        assert sorted(results) == list(range(5)), "a viewer did not get its frames"
        assert all(shapes == [(H, W, 3)] * 15 for shapes in results.values())
        # 15 frames at a 30 FPS cap: about half a second each, side by side, stalled client or not.
        assert took < 10, took
        assert during["stream"]["viewers"] >= 6  # five readers and the stalled one
        assert 20 <= during["fps"] <= 40, during["fps"]
        assert 20 <= served.stats()["fps"] <= 40
    finally:
        stalled.close()


def test_soak_connects_and_disconnects(served):
    """~300 viewers come and go (some politely, some with a reset); the loop and memory stay steady."""
    def cycle(i: int) -> None:
        if i % 25 == 0:
            served.get("/stats")
            return
        resp = open_stream(served.port, timeout=5)
        if i % 10 == 0:
            decode(read_jpeg(resp))
        if i % 2:
            reset_close(resp.fp.raw._sock)
        resp.close()

    for i in range(20):  # warm up: threads, buffers, the allocator's pools
        cycle(i)
    rss0, fps_seen = served.rss_kib(), []
    deadline = time.monotonic() + 30
    n = 0
    while n < 300 and time.monotonic() < deadline:
        cycle(n)
        n += 1
        if n % 50 == 0:
            fps_seen.append(served.stats()["fps"])
    assert n == 300, f"only {n} cycles in 30 s"
    rss1 = served.rss_kib()
    end = time.monotonic() + 5
    while served.stats()["stream"]["viewers"] and time.monotonic() < end:
        time.sleep(0.1)
    assert served.stats()["stream"]["viewers"] == 0, "viewers left behind"
    assert all(20 <= f <= 40 for f in fps_seen), fps_seen
    assert rss1 - rss0 < 16 * 1024, f"RSS grew {rss1 - rss0} KiB over 300 connections"


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium is not installed (Debian: apt-get install chromium)")
def test_page_renders_in_headless_chromium(served):
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom",
             f"http://127.0.0.1:{served.port}/"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )
    dom = res.stdout
    assert res.returncode == 0, res.stderr[-2000:]
    assert f'data-size="{W}x{H}"' in dom, "the stream's picture did not render"
    updates = re.search(r'data-updates="(\d+)"', dom)
    assert updates and int(updates.group(1)) >= 2, "the stats panel did not update itself"
    frames = re.search(r'id="frames">(\d+)<', dom)
    assert frames and int(frames.group(1)) > 0
    assert re.search(r'id="backend">(litert|tflite-runtime)', dom)


def test_token_when_serving_beyond_localhost_and_sigterm(converted_run, video, tmp_path):
    server = Served(converted_run / "model_int8.tflite", video, tmp_path, "--token", "s3cret",
                    "--serve-fps", "30", host="0.0.0.0")
    try:
        server.wait_frames(1, query="?token=s3cret")
        assert "every network interface" in server.err.read_text().splitlines()[0]
        status, _, body = server.get("/healthz")
        assert (status, body) == (200, b"ok\n")
        for path in ("/", "/stats", "/stream", "/stats?token=wrong", "/nope"):
            status, _, body = server.get(path)
            assert status == 401 and b"s3cret" not in body, path
        assert server.get("/stats", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert server.get("/stats?token=s3cret")[0] == 200
        assert server.get("/stats", headers={"Authorization": "Bearer s3cret"})[0] == 200
        assert server.get("/stats", headers={"X-Token": "s3cret"})[0] == 200
        assert server.get("/?token=s3cret")[0] == 200
        resp = open_stream(server.port, "?token=s3cret")
        try:
            assert decode(read_jpeg(resp)).shape == (H, W, 3)
        finally:
            resp.close()
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 143, server.err.read_text()
    assert "(interrupted)" in server.out.read_text() and "Traceback" not in server.err.read_text()


def test_ctrl_c_with_viewers_stops_cleanly_and_frees_the_port(converted_run, video, tmp_path):
    server = Served(converted_run / "model_int8.tflite", video, tmp_path)
    server.wait_frames(5)
    resp = open_stream(server.port)
    read_jpeg(resp)
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    stalled.sendall(b"GET /stream HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    try:
        t0 = time.monotonic()
        code = server.stop(signal.SIGINT)
        took = time.monotonic() - t0
    finally:
        resp.close()
        stalled.close()
    err = server.err.read_text()
    assert code == 130, err
    assert took < 10, took
    assert "Traceback" not in err
    out = server.out.read_text()
    assert re.search(r"summary: \d+ frames in [\d.]+ s \(interrupted\)", out), out[-500:]
    # The port is free: a new server can listen on it.
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", server.port))
        again.listen()


def test_port_in_use_is_one_line(converted_run, video, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = subprocess.run(
            [sys.executable, "-m", "cnn_edge", "infer", "--model", str(converted_run / "model_int8.tflite"),
             "--camera", "--source", str(video), "--no-display", "--serve", str(port)],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().count("\n") == 0 and f"cannot serve on 127.0.0.1:{port}" in res.stderr


def test_serve_needs_the_camera(converted_run, tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "cnn_edge", "infer", "--model", str(converted_run / "model_int8.tflite"),
         str(tmp_path), "--serve", "8080"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 2 and "--camera" in res.stderr


def threads_of(pid: int) -> int:
    return int(re.search(r"Threads:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))


def test_idle_connections_are_capped_without_a_thread_each(served):
    """150 sockets that never send a request: the cap (32) holds threads, the rest get 503 at once."""
    base, frames0 = threads_of(served.proc.pid), served.stats()["frames"]
    socks: list[socket.socket] = []
    try:
        for _ in range(150):
            socks.append(socket.create_connection(("127.0.0.1", served.port), timeout=5))
        busy, peak, end = 0, 0, time.monotonic() + 10
        pending = list(socks)
        while pending and busy < 150 - 32 and time.monotonic() < end:
            readable, _, _ = select.select(pending, [], [], 0.2)
            peak = max(peak, threads_of(served.proc.pid))
            for s in readable:
                pending.remove(s)
                busy += s.recv(200).startswith(b"HTTP/1.0 503")
        peak = max(peak, threads_of(served.proc.pid))
        assert busy >= 150 - 32, f"only {busy} connections refused past the cap"
        assert peak <= base + 32, f"{peak - base} threads more for idle connections (cap 32)"
    finally:
        for s in socks:
            s.close()
    # The camera loop went on meanwhile, and the slots free up once the idle clients leave.
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            stats = served.stats()
            break
        except (OSError, AssertionError):
            time.sleep(0.2)
    assert stats["frames"] > frames0 and 20 <= stats["fps"] <= 40, stats


def test_trickling_clients_are_cut_at_the_header_deadline(served):
    """A byte every half second would reset a per-read timeout forever; the 5 s header deadline holds."""
    clients = [socket.create_connection(("127.0.0.1", served.port), timeout=5) for _ in range(5)]
    still_open = set(clients)
    try:
        end = time.monotonic() + 20
        while still_open and time.monotonic() < end:
            time.sleep(0.5)
            for c in list(still_open):
                try:
                    c.sendall(b"G")
                    readable, _, _ = select.select([c], [], [], 0)
                    if readable and c.recv(200) == b"":
                        still_open.discard(c)
                except OSError:  # reset: the server closed it
                    still_open.discard(c)
        assert not still_open, f"{len(still_open)} trickling clients still connected after 20 s"
    finally:
        for c in clients:
            c.close()
    assert served.get("/healthz")[0] == 200
