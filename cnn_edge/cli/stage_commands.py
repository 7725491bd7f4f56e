"""Stages 1 and 2 and the fine-tune: `train`, `convert`, `finetune` (TensorFlow, imported when run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnn_edge.cli import render
from cnn_edge.cli.running import given, usage_error, user_errors


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
    other_writers: Annotated[
        str | None,
        typer.Option(
            help="Real handwriting of other writers to learn from, comma-separated: optdigits, pendigits, "
            "semeion (their training writers only; held-out writers never), or none "
            "(default: optdigits,pendigits,semeion with --augment, else none)"
        ),
    ] = None,
    other_writer_copies: Annotated[
        int | None,
        typer.Option(
            help="Varied renders of each of those writers' digits (pen, slant, width); 1 trains a tenth "
            "faster and reads other sources' writers a little worse "
            "(benchmarks/results/other_writers.md) (default: 2)"
        ),
    ] = None,
    distribute: Annotated[
        str,
        typer.Option(help="none, mirrored (every local GPU, else the CPU) or multi-worker (see --workers)"),
    ] = "none",
    workers: Annotated[
        str | None,
        typer.Option(
            help="multi-worker: all workers' host:port, chief first, comma-separated (default: TF_CONFIG)"
        ),
    ] = None,
    worker_index: Annotated[
        int | None, typer.Option(help="multi-worker: this machine's place in --workers (0 = chief)")
    ] = None,
) -> None:
    """Train the MNIST CNN (or the softmax baseline) and write model, curves and metrics."""
    from cnn_edge.trainer import TrainConfig
    from cnn_edge.trainer import train as run_training
    from cnn_edge.trainer.other_writers import parse_parts

    augment = augment or augment_preset is not None  # a preset alone implies --augment
    cfg = TrainConfig(
        out=out, arch=arch, hidden_units=hidden_units, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, lr_schedule=lr_schedule, data=data, train_limit=train_limit,
        validation=validation, validation_size=validation_size, seed=seed, force=force, resume=resume,
        verbose=2 if quiet else 1, augment=(augment_preset or "camera") if augment else None,
        font_digits=font_digits, distribute=distribute,
        other_writers=None if other_writers is None else parse_parts(other_writers),
        **given(other_writer_copies=other_writer_copies),
        workers=tuple(w.strip() for w in workers.split(",") if w.strip()) if workers else (),
        worker_index=worker_index,
    )
    with user_errors():
        result = run_training(cfg, log=render.out)
    render.train_result(result)


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
    from cnn_edge.converter import ConvertConfig
    from cnn_edge.converter import convert as run_convert

    if run is None and model is None:
        raise usage_error("pass --run DIR (with model.keras) or --model PATH")
    extra = {"float16": float16, "dynamic": dynamic, "int8": int8}
    cfg = ConvertConfig(
        run=run if run is not None else model.parent, model=model,
        formats=("float32", *(name for name, on in extra.items() if on)), io=io,
        calibration_data=calibration_data, seed=seed, debug_quant=debug_quant,
        **given(calibration_samples=calibration_samples),
    )
    with user_errors():
        result = run_convert(cfg, log=render.out)
    render.convert_result(result, seed)


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
    writers_ratio: Annotated[
        float | None,
        typer.Option(help="Images of the other writers the parent learned (train --other-writers) "
                     "mixed in per sample, so it keeps them (default: chosen by measurement, see "
                     "benchmarks/results/finetune_writers.md)"),
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
    augment: Annotated[
        str | None,
        typer.Option(help="Augment the samples in every batch with the trainer's preset: light, camera "
                     "or none (default: light, see benchmarks/results/finetune_writers.md)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds the split, the MNIST draw and training")] = 0,
    data: Annotated[Path | None, typer.Option(help="mnist.npz (default: as for train)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch progress")] = False,
) -> None:
    """Fine-tune a model's dense layers on your samples (mixed with what it knew); writes a new run."""
    from cnn_edge.finetune import FinetuneConfig
    from cnn_edge.finetune import finetune as run_finetune

    cfg = FinetuneConfig(
        run=run, samples=samples, out=out, train_conv=train_conv, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, holdout=holdout, seed=seed, data=data, force=force,
        verbose=0 if quiet else 2,
        **given(mnist_ratio=mnist_ratio, writers_ratio=writers_ratio, augment=augment),
    )
    with user_errors():
        result = run_finetune(cfg, log=render.out)
    render.finetune_result(result)
