"""The `cnn-edge` command line: parse options, call one library function, print the result.

Heavy libraries (TensorFlow, LiteRT, OpenCV) are imported inside the commands, never at
module level, so `cnn-edge --help` is fast on a Raspberry Pi.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from cnn_edge.common.errors import CnnEdgeError

app = typer.Typer(
    name="cnn-edge",
    help="Train the MNIST CNN, convert it to int8 TFLite, and run it on a Raspberry Pi.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def err(message: str) -> None:
    """One line on stderr."""
    typer.echo(message, err=True)


def plain_console(piped_width: int | None = None):  # -> rich.console.Console (imported lazily)
    """A rich console that prints every string as it is, and wide enough when piped.

    Markup off: rich would take "[edge]" in an install hint, or a bracket in a path, for a style
    tag and drop it. Piped into a file, `piped_width` columns keep each table row on one line.
    """
    from rich.console import Console

    console = Console(markup=False, highlight=False)
    if piped_width and not console.is_terminal:
        console = Console(markup=False, highlight=False, width=piped_width)
    return console


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the project's errors into one clear line and their exit code; Ctrl-C into 130."""
    try:
        yield
    except CnnEdgeError as exc:
        err(f"error: {str(exc).strip() or type(exc).__name__}")  # never an empty line
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err("interrupted")
        raise typer.Exit(130) from None


def _version(value: bool) -> None:
    if value:
        from cnn_edge import __version__

        typer.echo(f"cnn-edge {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit")
    ] = False,
) -> None:
    """Train the MNIST CNN, convert it to int8 TFLite, and run it on a Raspberry Pi."""


@app.command()
def train(
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default: first free runs/train, runs/train2, ...)")
    ] = None,
    arch: Annotated[str, typer.Option(help="cnn (the seed CNN) or softmax (regression baseline)")] = "cnn",
    hidden_units: Annotated[
        int, typer.Option(help="Units of the CNN's dense layer (the seed's variants: 128, 1024)")
    ] = 128,
    epochs: Annotated[
        int | None,
        typer.Option(help="Passes over the training images (default: 10; 20 with --augment)"),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Images per Adam step")] = 128,
    learning_rate: Annotated[float, typer.Option(help="Adam learning rate")] = 1e-3,
    lr_schedule: Annotated[str, typer.Option(help="cosine (decay to 0 over the run) or constant")] = "cosine",
    data: Annotated[
        Path | None,
        typer.Option(help="mnist.npz (default: $CNN_EDGE_DATA, then the repository's data/mnist.npz)"),
    ] = None,
    train_limit: Annotated[
        int | None, typer.Option(help="Train on the first N images only (quick runs)")
    ] = None,
    validation: Annotated[
        str, typer.Option(help="holdout (last --validation-size training images) or test")
    ] = "holdout",
    validation_size: Annotated[int, typer.Option(help="Size of the holdout validation slice")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed and data give the same weights)")] = 42,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing run directory")] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out from its last complete epoch")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="One line per epoch instead of a progress bar")
    ] = False,
    augment: Annotated[
        bool,
        typer.Option(
            "--augment",
            help="Make the training images look like the camera's digits (rotation, slant, stroke "
            "width, blur, noise, contrast, border clutter), on the fly; the model is unchanged",
        ),
    ] = False,
    augment_preset: Annotated[
        str | None,
        typer.Option(help="Augmentation ranges: camera or light (implies --augment) (default: camera)"),
    ] = None,
    font_digits: Annotated[
        int | None,
        typer.Option(
            help="Add N varied copies of each digit of the shipped handwriting fonts to the training "
            "images: other writers' shapes (closed 4s, flagged 1s) (default: 16 with --augment, else 0)"
        ),
    ] = None,
) -> None:
    """Train the MNIST CNN (or the softmax baseline) and write model, curves and metrics."""
    from cnn_edge.trainer import TrainConfig
    from cnn_edge.trainer import train as run_training
    from cnn_edge.trainer.config import AUGMENT_EPOCHS, AUGMENT_FONT_DIGITS

    augment = augment or augment_preset is not None
    if epochs is None:
        epochs = AUGMENT_EPOCHS if augment else 10
    if font_digits is None:
        font_digits = AUGMENT_FONT_DIGITS if augment else 0

    cfg = TrainConfig(
        out=out,
        arch=arch,
        hidden_units=hidden_units,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        lr_schedule=lr_schedule,
        data=data,
        train_limit=train_limit,
        validation=validation,
        validation_size=validation_size,
        seed=seed,
        force=force,
        resume=resume,
        verbose=2 if quiet else 1,
        augment=(augment_preset or "camera") if augment else None,
        font_digits=font_digits,
    )
    with user_errors():
        result = run_training(cfg, log=typer.echo)
    typer.echo(
        f"test accuracy {result.test_accuracy:.2%} (loss {result.test_loss:.4f}), "
        f"{result.params:,} parameters, {result.epochs_run} epochs in {result.train_seconds:.0f} s"
    )
    for name, path in result.artifacts.items():
        typer.echo(f"  {name:<8} {path}")


@app.command()
def convert(
    run: Annotated[
        Path | None,
        typer.Option(
            help="Run directory: reads model.keras, writes the .tflite files and manifest.json "
            "(default: the folder of --model)"
        ),
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Any saved Keras model (default: RUN/model.keras)")
    ] = None,
    int8: Annotated[
        bool, typer.Option("--int8", help="Also write model_int8.tflite: full-integer int8, calibrated")
    ] = False,
    float16: Annotated[
        bool, typer.Option("--float16", help="Also write model_float16.tflite (float16 weights)")
    ] = False,
    dynamic: Annotated[
        bool, typer.Option("--dynamic", help="Also write model_dynamic.tflite (dynamic-range int8 weights)")
    ] = False,
    io: Annotated[
        str, typer.Option(help="Input/output dtype of the int8 model: int8, uint8 or float32")
    ] = "int8",
    calibration_samples: Annotated[
        int | None,
        typer.Option(
            help="Calibration images for int8 (default: chosen by measurement, see "
            "benchmarks/results/convert.md)"
        ),
    ] = None,
    calibration_data: Annotated[
        Path | None,
        typer.Option(
            help="A .npz of 28x28 images (optional labels), or a folder of digit images "
            "(default: the shipped class-balanced set)"
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Picks the calibration images (same seed, same bytes)")] = 0,
    debug_quant: Annotated[
        bool,
        typer.Option(
            "--debug-quant", help="Write a per-layer int8 quantization error report (CSV), print worst layers"
        ),
    ] = False,
) -> None:
    """Convert a trained model to TFLite (float32, and int8/float16/dynamic), verified in LiteRT."""
    from cnn_edge.converter import DEFAULT_CALIBRATION_SAMPLES, ConvertConfig
    from cnn_edge.converter import convert as run_convert

    if run is None and model is None:
        err("error: pass --run DIR (with model.keras) or --model PATH")
        raise typer.Exit(2)
    extra = {"float16": float16, "dynamic": dynamic, "int8": int8}
    cfg = ConvertConfig(
        run=run if run is not None else model.parent,
        model=model,
        formats=("float32", *(name for name, on in extra.items() if on)),
        io=io,
        calibration_samples=(
            DEFAULT_CALIBRATION_SAMPLES if calibration_samples is None else calibration_samples
        ),
        calibration_data=calibration_data,
        seed=seed,
        debug_quant=debug_quant,
    )
    with user_errors():
        result = run_convert(cfg, log=typer.echo)
    from rich.table import Table

    ref = result.models["float32"]
    table = Table(title=f"cnn-edge convert: {result.run_dir}")
    for col in ("format", "bytes", "vs float32", "accuracy", "loss"):
        table.add_column(col, justify="left" if col == "format" else "right")
    if result.keras_accuracy is not None:
        table.add_row("keras", "", "", f"{result.keras_accuracy:.2%}", "")
    for name, m in result.models.items():
        loss = result.accuracy_loss_pp(name)
        table.add_row(
            name,
            f"{m.size_bytes:,}",
            f"{m.size_bytes / ref.size_bytes:.1%}",
            "" if m.accuracy is None else f"{m.accuracy:.2%}",
            "" if loss is None or name == "float32" else f"{loss:+.2f} pp",
        )
    console = plain_console()
    console.print(table)
    if "int8" in result.models:
        loss = result.accuracy_loss_pp("int8")
        loss_text = "" if loss is None else f", accuracy loss {loss:+.2f} pp"
        console.print(
            f"int8 is {result.size_ratio('int8'):.1%} of float32{loss_text} "
            f"({result.calibration_samples} calibration images, seed {seed})",
        )
    if result.debug_quant_csv is not None:
        console.print(f"per-layer quantization report: {result.debug_quant_csv}")
        for layer in result.worst_layers:
            flag = "  <- above 0.7" if layer["flagged"] else ""
            # A fused op's tensor name lists every folded op; the first says enough.
            short = layer["tensor_name"].split(";")[0]
            console.print(
                f"  rmse/scale {layer['rmse_over_scale']:.3f}  {layer['op_name']:<16} {short}{flag}",
            )
    console.print(
        f"files: {', '.join(m.path.name for m in result.models.values())} and manifest.json "
        f"in {result.run_dir}",
    )


@app.command()
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
    import json

    if not camera and (serve is not None or realtime):
        err("error: --serve and --realtime work with --camera only")
        raise typer.Exit(2)
    if camera:
        if paths:
            err("error: give image paths or --camera, not both")
            raise typer.Exit(2)
        from cnn_edge.device.camera import CameraConfig

        cfg = CameraConfig(
            model=model,
            source=source,
            roi=roi,
            find_card=card,
            display=not no_display,
            frames=frames,
            loop=loop,
            realtime=realtime,
            smooth=smooth,
            backend=backend,
            threads=threads,
        )

        def show_frame(r) -> None:
            if json_out:
                typer.echo(json.dumps(r.to_json()))
            elif r.frame % 30 == 0 or r.label != getattr(show_frame, "last", None):
                conf = "" if r.confidence is None else f" ({r.confidence:.0%})"
                label = "no digit" if r.label is None else str(r.label)
                typer.echo(f"frame {r.frame:>6}  {label}{conf}  {r.fps:.1f} FPS  {r.latency_ms:.2f} ms")
            show_frame.last = r.label

        from cnn_edge.device.camera import run_camera

        with sigterm_as_ctrl_c() as terminated:
            try:
                if serve is None:
                    with user_errors():
                        summary = run_camera(cfg, on_frame=show_frame, on_notice=err)
                else:
                    summary = _serve_camera(cfg, serve, serve_fps, jpeg_quality, token, show_frame)
            except typer.Exit as exc:
                # Stopped by SIGTERM before the loop ran (loading the model): 143, as below.
                raise typer.Exit(143 if terminated and exc.exit_code == 130 else exc.exit_code) from None
        exit_interrupted = 143 if terminated else 130
        typer.echo(f"summary: {summary.text()}", err=json_out)
        if summary.interrupted:
            raise typer.Exit(exit_interrupted)
        if summary.source_failed:
            raise typer.Exit(1)  # every frame read was still reported above
        return

    from cnn_edge.device.files import InferFilesConfig, infer_files

    cfg_files = InferFilesConfig(
        model=model,
        paths=tuple(paths or ()),
        backend=backend,
        threads=threads,
        save_preprocessed=save_preprocessed,
    )
    def show_record(rec) -> None:
        # The table's header comes with its first row, so a model error prints only its line.
        if not json_out and not getattr(show_record, "started", False):
            typer.echo(f"{'label':>5}  {'conf':>6}  {'model ms':>8}  {'prep ms':>7}  source")
            show_record.started = True
        if json_out:
            typer.echo(json.dumps(rec.to_json()))
        elif rec.error is not None:
            typer.echo(f"{'error':>5}  {'':>6}  {'':>8}  {'':>7}  {rec.error}")
        else:
            p = rec.prediction
            label = "-" if p.label is None else str(p.label)
            conf = "no digit" if p.confidence is None else f"{p.confidence:.1%}"
            typer.echo(f"{label:>5}  {conf:>6}  {p.latency_ms:8.3f}  {p.preprocess_ms:7.2f}  {rec.source}")

    with user_errors():
        result = infer_files(cfg_files, on_record=show_record)
    if result.failed:
        err(f"{result.failed} of {len(result.records)} files could not be processed")
        raise typer.Exit(1)


def _serve_camera(cfg, address: str, fps: float, quality: int, token: str | None, show_frame):
    """`infer --camera --serve`: the camera loop with the live server beside it; the summary."""
    from cnn_edge.device.camera import run_camera
    from cnn_edge.device.live_server import LiveServer, ServeConfig, backend_label, parse_address

    with user_errors():
        host, port = parse_address(address)
        scfg = ServeConfig(host=host, port=port, token=token, fps=fps, jpeg_quality=quality,
                           model=cfg.model.name, backend=backend_label(cfg.backend))
        with LiveServer(scfg) as server:
            if server.local_only:
                err(f"serving on {server.url} (this machine only; --serve 0.0.0.0:{server.port} "
                    "lets other machines watch)")
            else:
                where = f"serving on {server.url} (port {server.port} on every network interface"
                err(f"{where}; the token goes in the URL: ?token=...)" if token else
                    f"{where}; no --token: anyone who can reach this machine can watch)")
            return run_camera(cfg, on_frame=show_frame, on_notice=err, on_image=server.publish)


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[list[int]]:
    """SIGTERM (a service manager stopping a camera run) ends it like Ctrl-C: the loop stops,
    the camera is released and the summary printed. The yielded list records that it came."""
    import signal

    terminated: list[int] = []

    def on_sigterm(signum: int, frame: object) -> None:
        terminated.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield terminated
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
def evaluate(
    model: Annotated[Path, typer.Option(help="The .tflite model to evaluate")],
    reference: Annotated[
        Path | None,
        typer.Option(
            help="Model to compare with (default: the float32 model in the manifest beside --model)"
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="An .npz (images, labels) or a folder with subfolders 0..9 "
            "(default: the shipped 10,000 test images)"
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate on the first N images only")] = None,
    threads: Annotated[int | None, typer.Option(help="Interpreter threads (default: all cores)")] = None,
    backend: Annotated[str, typer.Option(help="auto, litert or tflite-runtime")] = "auto",
    warmup: Annotated[int, typer.Option(help="Untimed invokes before timing")] = 10,
    runs: Annotated[int, typer.Option(help="Timed single-image invokes (0: no latency)")] = 200,
    save_disagreements: Annotated[
        Path | None, typer.Option(help="Folder for the images the two models disagree on")
    ] = None,
    max_accuracy_loss: Annotated[
        float | None, typer.Option(help="Gate: exit 1 when the loss exceeds this many percentage points")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of the table")
    ] = False,
    markdown: Annotated[
        Path | None, typer.Option(help="Also write the report as Markdown to this file")
    ] = None,
) -> None:
    """Accuracy loss of a .tflite model against its reference, with significance and latency."""
    import json

    from cnn_edge.measure.evaluate import EvaluateConfig
    from cnn_edge.measure.evaluate import evaluate as run_evaluate

    cfg = EvaluateConfig(
        model=model,
        reference=reference,
        data=data,
        limit=limit,
        backend=backend,
        threads=threads,
        warmup=warmup,
        runs=runs,
        save_disagreements=save_disagreements,
        max_accuracy_loss=max_accuracy_loss,
    )
    with user_errors():
        result = run_evaluate(cfg)
        if markdown is not None:
            from cnn_edge.common.atomic import write_text
            from cnn_edge.measure.evaluate_report import to_markdown

            write_text(markdown, to_markdown(result))
    d = result.to_dict()
    if json_out:
        typer.echo(json.dumps(d))
    else:
        from cnn_edge.report_tables import evaluate_summary, evaluate_table

        console = plain_console()
        console.print(evaluate_table(d))
        for line in evaluate_summary(d):
            console.print(line)
    if result.gate_passed is False:
        raise typer.Exit(1)


@app.command()
def benchmark(
    run: Annotated[Path, typer.Option(help="Run directory with model.keras and the converted .tflite files")],
    photos: Annotated[
        Path | None,
        typer.Option(
            help="Folder of labelled photos (subfolders 0..9) for a real-handwriting accuracy column"
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Accuracy on the first N evaluation images only")] = None,
    runs: Annotated[int, typer.Option(help="Timed single-image invokes per model and thread setting")] = 300,
    warmup: Annotated[int, typer.Option(help="Untimed invokes per model before timing")] = 20,
    batch: Annotated[int, typer.Option(help="Images per invoke for the throughput column")] = 64,
    keras: Annotated[
        bool, typer.Option(help="Include the Keras (TensorFlow SavedModel) row when TensorFlow is installed")
    ] = True,
    plots: Annotated[bool, typer.Option(help="Write the PNG pictures (needs matplotlib)")] = True,
    backend: Annotated[str, typer.Option(help="auto, litert or tflite-runtime")] = "auto",
    json_out: Annotated[
        bool, typer.Option("--json", help="Print benchmark.json instead of the table")
    ] = False,
) -> None:
    """Every model of a run in one table: size, accuracy, latency, throughput, speed-up; sweeps and PNGs."""
    import json

    from cnn_edge.measure.benchmark import BenchmarkConfig
    from cnn_edge.measure.benchmark import benchmark as run_benchmark
    from cnn_edge.measure.benchmark.report import to_dict

    cfg = BenchmarkConfig(
        run=run,
        photos=photos,
        limit=limit,
        runs=runs,
        warmup=warmup,
        batch=batch,
        keras=keras,
        plots=plots,
        backend=backend,
    )
    with user_errors():
        result = run_benchmark(cfg, log=(lambda _m: None) if json_out else err)
    if json_out:
        typer.echo(json.dumps(to_dict(result)))
        _fail_on_broken_models(result)
        return
    from cnn_edge.report_tables import benchmark_table

    console = plain_console(piped_width=200)  # piped: do not squeeze 12 columns into 80 characters
    console.print(benchmark_table(result))
    for row in result.rows:
        for note in row.notes:
            console.print(f"{row.name}: {note}")
    for note in result.notes:
        console.print(note)
    for name, path in result.files.items():
        console.print(f"  {name:<14} {path}")
    _fail_on_broken_models(result)


def _fail_on_broken_models(result) -> None:
    """A model file of the run that could not be measured: one line, exit 1 (the others are kept)."""
    broken = [row for row in result.rows if row.error]
    if broken:
        what = "; ".join(f"{row.file}: {row.error}" for row in broken)
        err(f"error: {len(broken)} of {len(result.rows)} models could not be measured ({what})")
        raise typer.Exit(1)


@app.command()
def doctor(
    camera: Annotated[str, typer.Option(help="Camera to try: an index, or picamera2")] = "0",
    no_camera: Annotated[bool, typer.Option("--no-camera", help="Skip the camera check")] = False,
    backend: Annotated[
        str, typer.Option(help="Backend for the tiny-model check: auto, litert or tflite-runtime")
    ] = "auto",
    json_out: Annotated[bool, typer.Option("--json", help="Print the checks as one JSON object")] = False,
) -> None:
    """Is this device ready? Python, numpy, backends, OpenCV, camera, and a shipped tiny model's accuracy."""
    import json

    from cnn_edge.device.doctor import DoctorConfig
    from cnn_edge.device.doctor import doctor as run_doctor

    with user_errors():
        result = run_doctor(DoctorConfig(camera=None if no_camera else camera, backend=backend))
    if json_out:
        typer.echo(json.dumps(result.to_dict()))
    else:
        from cnn_edge.report_tables import doctor_table

        plain_console(piped_width=200).print(doctor_table(result))
        typer.echo("ready" if result.ready else "NOT ready: see the failed checks above")
    if not result.ready:
        raise typer.Exit(1)


@app.command()
def deploy(
    run: Annotated[Path, typer.Option(help="The converted run to deploy (manifest.json and .tflite files)")],
    to: Annotated[
        str, typer.Option(help="USER@HOST[:PATH] or an ~/.ssh/config alias [PATH: ~/cnn-edge/RUN_NAME]")
    ],
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", metavar="FORMAT", help="Models to copy (default: float32, int8)"),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Run doctor and evaluate on the device after the copy")
    ] = True,
    ssh_config: Annotated[Path | None, typer.Option(help="ssh_config file to use (ssh -F)")] = None,
    ssh_option: Annotated[
        list[str] | None,
        typer.Option("--ssh-option", "-o", metavar="KEY=VALUE", help="Extra ssh option, repeatable"),
    ] = None,
    accept_new_host_key: Annotated[
        bool, typer.Option("--accept-new-host-key", help="Trust a first-seen host key (a changed one never)")
    ] = False,
    remote_cnn_edge: Annotated[
        str | None,
        typer.Option(help="cnn-edge on the device (default: on PATH, in ~/.local/bin, ~/cnn-edge-venv/bin)"),
    ] = None,
    eval_limit: Annotated[
        int | None, typer.Option(help="Evaluate on the first N images on both sides (default: all 10,000)")
    ] = None,
    eval_runs: Annotated[int, typer.Option(help="Timed single-image invokes for the latency figures")] = 200,
    camera: Annotated[
        str | None, typer.Option(help="Also check this camera on the device (index or picamera2)")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the result and report as one JSON object")
    ] = False,
) -> None:
    """Copy a run's edge bundle to a device over SSH, verify it, and measure it there."""
    import json

    from cnn_edge.deploy import DEFAULT_FORMATS, DeployConfig
    from cnn_edge.deploy import deploy as run_deploy

    cfg = DeployConfig(
        run=run, to=to, formats=tuple(formats) if formats else DEFAULT_FORMATS, check=check,
        ssh_config=ssh_config, ssh_options=tuple(ssh_option or ()), accept_new_host_key=accept_new_host_key,
        remote_cnn_edge=remote_cnn_edge, eval_limit=eval_limit, eval_runs=eval_runs, camera=camera,
        progress=err,
    )
    with user_errors():
        result = run_deploy(cfg)
    if json_out:
        typer.echo(json.dumps(result.to_dict()))
        return
    copied = ", ".join(result.copied) if result.copied else "nothing (all files were already there)"
    typer.echo(f"{result.destination}:{result.remote_path}: copied {copied}; sha256 verified")
    if result.report is not None:
        from cnn_edge.report_tables import deploy_table

        plain_console(piped_width=120).print(deploy_table(result.report))
        failed = result.report["summary"]["device"].get("failed_checks") or []
        if failed:
            typer.echo(f"device not ready: {', '.join(failed)} failed (run cnn-edge doctor there)")
        for note in result.report.get("notes", []):
            typer.echo(f"note: {note}")
        typer.echo(f"report: {result.report_path}")


@app.command()
def bundle(
    run: Annotated[Path, typer.Option(help="The converted run to pack (manifest.json and .tflite files)")],
    out: Annotated[Path, typer.Option(help="The .tar.gz to write")],
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", metavar="FORMAT", help="Models to include (default: float32, int8)"),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object")] = False,
) -> None:
    """Pack a run's edge bundle (models, manifest, README, SHA256SUMS) as a .tar.gz for any device."""
    import json

    from cnn_edge.deploy import DEFAULT_FORMATS, BundleConfig, make_bundle

    with user_errors():
        result = make_bundle(
            BundleConfig(run=run, out=out, formats=tuple(formats) if formats else DEFAULT_FORMATS)
        )
    if json_out:
        typer.echo(json.dumps(result.to_dict()))
        return
    for f in result.files:
        typer.echo(f"  {result.top_dir}/{f.name}  {f.size_bytes:,} B")
    typer.echo(f"wrote {result.out} ({result.size_bytes:,} B, sha256 {result.sha256[:12]}...); "
               f"on the device: tar -xzf {result.out.name} && cd {result.top_dir} && sha256sum -c SHA256SUMS")


@app.command()
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
        result = run_collect(cfg, log=typer.echo)
    for problem in result.problems:
        err(f"skipped: {problem}")
    typer.echo(result.summary_text())
    if result.stop_reason == "interrupted":
        raise typer.Exit(130)
    if result.problems:
        raise typer.Exit(1)


@app.command()
def finetune(
    run: Annotated[Path, typer.Option(help="The trained run to start from (read only)")] = ...,
    samples: Annotated[
        Path, typer.Option(help="Samples folder SAMPLES/0 ... SAMPLES/9 (cnn-edge collect)")
    ] = ...,
    out: Annotated[Path, typer.Option(help="The new run directory")] = ...,
    mnist_ratio: Annotated[
        float | None,
        typer.Option(help="MNIST images mixed in per sample (default: chosen by measurement, see "
                     "benchmarks/results/finetune.md)"),
    ] = None,
    train_conv: Annotated[
        bool, typer.Option("--train-conv", help="Also train the convolutional layers (default: frozen)")
    ] = False,
    epochs: Annotated[int, typer.Option(help="Passes over samples + MNIST images")] = 15,
    batch_size: Annotated[int, typer.Option(help="Images per Adam step")] = 64,
    learning_rate: Annotated[float, typer.Option(help="Adam learning rate (cosine-decayed)")] = 3e-4,
    holdout: Annotated[
        float, typer.Option(help="Fraction of each class's samples held out to measure")
    ] = 0.25,
    seed: Annotated[int, typer.Option(help="Seeds the split, the MNIST draw and training")] = 0,
    data: Annotated[Path | None, typer.Option(help="mnist.npz (default: as for train)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch progress")] = False,
) -> None:
    """Fine-tune a trained model's dense layers on your samples (mixed with MNIST); writes a new run."""
    from cnn_edge.finetune import FinetuneConfig
    from cnn_edge.finetune import finetune as run_finetune
    from cnn_edge.finetune.config import DEFAULT_MNIST_RATIO

    cfg = FinetuneConfig(
        run=run, samples=samples, out=out,
        mnist_ratio=DEFAULT_MNIST_RATIO if mnist_ratio is None else mnist_ratio,
        train_conv=train_conv, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
        holdout=holdout, seed=seed, data=data, force=force, verbose=0 if quiet else 2,
    )
    with user_errors():
        r = run_finetune(cfg, log=typer.echo)
    typer.echo(
        f"held-out samples ({r.samples_holdout}): {r.holdout_before:.2%} -> {r.holdout_after:.2%}; "
        f"MNIST test: {r.mnist_before:.2%} -> {r.mnist_after:.2%} "
        f"({r.samples_train} samples + {r.mnist_images} MNIST images, {r.train_seconds:.0f} s)"
    )
    for name, path in r.artifacts.items():
        typer.echo(f"  {name:<8} {path}")
    typer.echo(f"next: cnn-edge convert --run {r.run_dir} --int8")


def main() -> None:  # pragma: no cover - `python -m cnn_edge`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
