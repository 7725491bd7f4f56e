"""`cnn-edge infer --camera --serve`: the camera loop with the live HTTP view beside it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cnn_edge.device.camera import CameraConfig, CameraSummary, FrameResult, run_camera
from cnn_edge.device.live_server import LiveServer, ServeConfig, backend_label


def serve_camera(cfg: CameraConfig, serve: ServeConfig, on_frame: Callable[[FrameResult], None],
                 on_notice: Callable[[str], None]) -> CameraSummary:
    """Run the camera as `run_camera` does while `serve` publishes every frame; the summary.

    The server's page and /stats name the model file and the backend actually chosen; where it
    listens (and whether other machines can watch) is said once through `on_notice`.
    """
    serve = dataclasses.replace(serve, model=cfg.model.name, backend=backend_label(cfg.backend))
    with LiveServer(serve) as server:
        on_notice(_where(server, serve.token is not None))
        return run_camera(cfg, on_frame=on_frame, on_notice=on_notice, on_image=server.publish)


def _where(server: LiveServer, has_token: bool) -> str:
    if server.local_only:
        return (f"serving on {server.url} (this machine only; --serve 0.0.0.0:{server.port} "
                "lets other machines watch)")
    where = f"serving on {server.url} (port {server.port} on every network interface"
    if has_token:
        return f"{where}; the token goes in the URL: ?token=...)"
    return f"{where}; no --token: anyone who can reach this machine can watch)"
