"""Configuration and result of `cnn-edge benchmark` (plain data: importing this is cheap)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BenchmarkConfig:
    """What to benchmark and how hard.

    Fields:
        run: run directory with the models (model.keras and the files of `cnn_edge.common.formats`).
        photos: optional folder of labelled photos (subfolders 0..9) for a real-handwriting column.
        limit: accuracy on the first N evaluation images only (None: all 10,000).
        warmup: untimed invokes per model before timing.
        runs: timed single-image invokes per model and thread setting.
        batch: images per invoke for the throughput column.
        batch_sweep: batch sizes of the int8 batch sweep.
        thread_sweep: run the int8 thread sweep 1..cores.
        keras: include the Keras/SavedModel row when TensorFlow is importable.
        plots: write the PNGs (needs matplotlib; skipped with a note otherwise).
        backend: interpreter backend for the TFLite rows.
    """

    run: Path
    photos: Path | None = None
    limit: int | None = None
    warmup: int = 20
    runs: int = 300
    batch: int = 64
    batch_sweep: tuple[int, ...] = (1, 8, 32, 128)
    thread_sweep: bool = True
    keras: bool = True
    plots: bool = True
    backend: str = "auto"


@dataclass
class Row:
    """One model of the table; `error` set means the row failed and its figures are None."""

    name: str
    file: str
    size_bytes: int | None = None
    accuracy: float | None = None
    accuracy_change_pp: float | None = None
    photos_accuracy: float | None = None
    p50_1t_ms: float | None = None
    p90_1t_ms: float | None = None
    p50_all_ms: float | None = None
    p90_all_ms: float | None = None
    throughput_ips: float | None = None
    speedup_vs_float32: float | None = None
    init_ms: float | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    samples_1t_ms: list[float] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class BenchmarkResult:
    """The table, the int8 sweeps, the files written, and the machine."""

    run: Path
    rows: list[Row]
    thread_sweep: list[dict[str, Any]]
    batch_sweep: list[dict[str, Any]]
    confusion_int8: list[list[int]] | None
    missing_formats: list[str]
    notes: list[str]
    system: dict[str, Any]
    backend: str
    backend_version: str
    cores: int
    images: int
    photos: int | None
    files: dict[str, Path]
