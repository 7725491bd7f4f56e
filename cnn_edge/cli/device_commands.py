"""What runs on a device: `infer` (files or a camera, optionally served over HTTP), `collect`, `doctor`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnn_edge.cli import render
from cnn_edge.cli.running import usage_error, user_errors


def infer(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Image files, folders and globs", show_default=False)
    ] = None,
    model: Annotated[Path, typer.Option("--model", "-m", help="The .tflite model to run")] = ...,
    camera: Annotated[bool, typer.Option("--camera", help="Read a camera instead of files")] = False,
    source: Annotated[str, typer.Option(help="Camera index, video file, stream URL or picamera2")] = "0",
    roi: Annotated[float, typer.Option(help="Side of the centred search square / frame height")] = 0.6,
    no_display: Annotated[bool, typer.Option("--no-display", help="Never open a preview window")] = False,
    card: Annotated[
        bool,
        typer.Option(
            "--card/--no-card",
            help="Camera: find the card (or page) in the region first; frames without one are 'no digit'",
        ),
    ] = True,
    frames: Annotated[int | None, typer.Option(help="Stop after N camera frames")] = None,
    loop: Annotated[
        bool,
        typer.Option("--loop", help="Camera from a video file: replay it from the start when it ends"),
    ] = False,
    realtime: Annotated[
        bool,
        typer.Option("--realtime", help="Camera from a video file: play it at its own frame rate"),
    ] = False,
    serve: Annotated[
        str | None,
        typer.Option(
            metavar="[HOST:]PORT",
            help="Camera: serve a live page, /stream (MJPEG), /stats (JSON) and /healthz over HTTP; "
            "HOST defaults to 127.0.0.1 (this machine only), 0.0.0.0 lets other machines watch",
        ),
    ] = None,
    serve_fps: Annotated[float, typer.Option(help="--serve: most frames a second sent to a viewer")] = 15.0,
    jpeg_quality: Annotated[int, typer.Option(help="--serve: JPEG quality of the stream (1-100)")] = 75,
    token: Annotated[
        str | None,
        typer.Option(help="--serve: require this token (?token=... or 'Authorization: Bearer ...'); "
                     "/healthz stays open", envvar="CNN_EDGE_TOKEN", show_envvar=True),
    ] = None,
    smooth: Annotated[int, typer.Option(help="Report the majority label of the last K frames")] = 1,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    save_preprocessed: Annotated[
        Path | None, typer.Option(help="Write each image's 28x28 model input (PNG) to this folder")
    ] = None,
    backend: Annotated[str, typer.Option(help="auto, litert or tflite-runtime")] = "auto",
    threads: Annotated[int | None, typer.Option(help="Interpreter threads (default: all cores)")] = None,
) -> None:
    """Run a .tflite model on photos of handwritten digits, or on a camera (no TensorFlow needed)."""
    if not camera and (serve is not None or realtime):
        raise usage_error("--serve and --realtime work with --camera only")
    if not camera:
        _infer_files(model, paths or [], backend, threads, save_preprocessed, json_out)
        return
    if paths:
        raise usage_error("give image paths or --camera, not both")
    from cnn_edge.device.camera import CameraConfig

    cfg = CameraConfig(model=model, source=source, roi=roi, find_card=card, display=not no_display,
                       frames=frames, loop=loop, realtime=realtime, smooth=smooth, backend=backend,
                       threads=threads)
    _infer_camera(cfg, serve, serve_fps, jpeg_quality, token, json_out)


def _infer_files(model: Path, paths: list[str], backend: str, threads: int | None,
                 save_preprocessed: Path | None, json_out: bool) -> None:
    """`infer PATHS`: one record per file; exit 1 when any file could not be processed."""
    from cnn_edge.device.files import InferFilesConfig, infer_files

    cfg = InferFilesConfig(model=model, paths=tuple(paths), backend=backend, threads=threads,
                           save_preprocessed=save_preprocessed)
    with user_errors():
        result = infer_files(cfg, on_record=render.RecordPrinter(json_out))
    if result.failed:
        render.err(f"{result.failed} of {len(result.records)} files could not be processed")
        raise typer.Exit(1)


def _infer_camera(cfg, serve: str | None, serve_fps: float, jpeg_quality: int, token: str | None,
                  json_out: bool) -> None:
    """`infer --camera [--serve]`: frames until the source ends or Ctrl-C/SIGTERM; then the summary."""
    from cnn_edge.common.signals import sigterm_raises

    with sigterm_raises(KeyboardInterrupt) as terminated:
        try:
            with user_errors():
                on_frame = render.FramePrinter(json_out)
                summary = _run_camera(cfg, serve, serve_fps, jpeg_quality, token, on_frame)
        except typer.Exit as exc:
            # Stopped by SIGTERM before the loop ran (loading the model): 143, as below.
            raise typer.Exit(143 if terminated and exc.exit_code == 130 else exc.exit_code) from None
    render.camera_summary(summary, json_out)
    if summary.interrupted:
        raise typer.Exit(143 if terminated else 130)
    if summary.source_failed:
        raise typer.Exit(1)  # every frame read was still reported above


def _run_camera(cfg, serve: str | None, serve_fps: float, jpeg_quality: int, token: str | None, on_frame):
    """The camera loop alone, or with the live server beside it."""
    if serve is None:
        from cnn_edge.device.camera import run_camera

        return run_camera(cfg, on_frame=on_frame, on_notice=render.err)
    from cnn_edge.device.live_server import ServeConfig, parse_address
    from cnn_edge.device.serve import serve_camera

    host, port = parse_address(serve)
    scfg = ServeConfig(host=host, port=port, token=token, fps=serve_fps, jpeg_quality=jpeg_quality)
    return serve_camera(cfg, scfg, on_frame=on_frame, on_notice=render.err)


def collect(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Samples folder: DIR/0 ... DIR/9")
    ] = Path("samples"),
    source: Annotated[str, typer.Option(help="Camera index, video file, stream URL or picamera2")] = "0",
    from_path: Annotated[
        Path | None, typer.Option("--from", help="A photo or a folder of photos of one digit (needs --label)")
    ] = None,
    label: Annotated[
        int | None, typer.Option(help="The digit shown; with a camera: collect headless (no preview)")
    ] = None,
    count: Annotated[int, typer.Option(help="Headless camera: samples to save")] = 20,
    interval: Annotated[float, typer.Option(help="Headless camera: least seconds between samples")] = 0.5,
    roi: Annotated[float, typer.Option(help="Side of the centred region / frame height")] = 0.6,
    card: Annotated[
        bool, typer.Option("--card/--no-card", help="Camera: find the card in the region first (as infer)")
    ] = True,
    no_display: Annotated[bool, typer.Option("--no-display", help="Never open a preview window")] = False,
    max_frames: Annotated[
        int | None, typer.Option(help="Headless camera: give up after reading N frames")
    ] = None,
) -> None:
    """Save labelled samples of your own digits (crop + 28x28 input), one folder per class."""
    from cnn_edge.device.collect import CollectConfig
    from cnn_edge.device.collect import collect as run_collect

    cfg = CollectConfig(out=out, source=source, from_path=from_path, label=label, count=count,
                        interval=interval, roi=roi, find_card=card, display=not no_display,
                        max_frames=max_frames)
    with user_errors():
        result = run_collect(cfg, log=render.out)
    render.collect_result(result)
    if result.stop_reason == "interrupted":
        raise typer.Exit(130)
    if result.problems:
        raise typer.Exit(1)


def doctor(
    camera: Annotated[str, typer.Option(help="Camera to try: an index, or picamera2")] = "0",
    no_camera: Annotated[bool, typer.Option("--no-camera", help="Skip the camera check")] = False,
    backend: Annotated[
        str, typer.Option(help="Backend for the tiny-model check: auto, litert or tflite-runtime")
    ] = "auto",
    json_out: Annotated[bool, typer.Option("--json", help="Print the checks as one JSON object")] = False,
) -> None:
    """Is this device ready? Python, numpy, backends, OpenCV, camera, and a shipped tiny model's accuracy."""
    from cnn_edge.device.doctor import DoctorConfig
    from cnn_edge.device.doctor import doctor as run_doctor

    with user_errors():
        result = run_doctor(DoctorConfig(camera=None if no_camera else camera, backend=backend))
    if json_out:
        render.json_line(result.to_dict())
    else:
        render.doctor_result(result)
    if not result.ready:
        raise typer.Exit(1)
