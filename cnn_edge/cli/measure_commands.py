"""Measurement: `evaluate` (accuracy loss, significance, latency) and `benchmark` (every format)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnn_edge.cli import render
from cnn_edge.cli.running import user_errors


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
    from cnn_edge.measure.evaluate import EvaluateConfig
    from cnn_edge.measure.evaluate import evaluate as run_evaluate

    cfg = EvaluateConfig(model=model, reference=reference, data=data, limit=limit, backend=backend,
                         threads=threads, warmup=warmup, runs=runs, save_disagreements=save_disagreements,
                         max_accuracy_loss=max_accuracy_loss, markdown=markdown)
    with user_errors():
        result = run_evaluate(cfg)
    if json_out:
        render.json_line(result.to_dict())
    else:
        render.evaluate_result(result.to_dict())
    if result.gate_passed is False:
        raise typer.Exit(1)


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
    from cnn_edge.measure.benchmark import BenchmarkConfig
    from cnn_edge.measure.benchmark import benchmark as run_benchmark
    from cnn_edge.measure.benchmark.report import to_dict

    cfg = BenchmarkConfig(run=run, photos=photos, limit=limit, runs=runs, warmup=warmup, batch=batch,
                          keras=keras, plots=plots, backend=backend)
    with user_errors():
        result = run_benchmark(cfg, log=(lambda _m: None) if json_out else render.err)
    if json_out:
        render.json_line(to_dict(result))
    else:
        render.benchmark_result(result)
    if render.broken_models(result):
        raise typer.Exit(1)
