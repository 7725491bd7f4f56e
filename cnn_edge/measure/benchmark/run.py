"""`benchmark(BenchmarkConfig) -> BenchmarkResult`: every model of a run in one table.

Rows come from `cnn_edge.common.formats.FORMATS` (one loop, no per-format code) plus the Keras row.
Latencies of all rows are timed round-robin in one pass (see `latency.round_robin`), so the
speed-ups compare models measured under the same machine load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common import limits as lim
from cnn_edge.common.errors import CnnEdgeError, ConfigError, RunDirError
from cnn_edge.common.formats import BY_NAME, FORMATS, REFERENCE, ExportFormat
from cnn_edge.common.platform import usable_cores
from cnn_edge.edge_runtime.interpreter import load_model
from cnn_edge.measure.benchmark.config import BenchmarkConfig, BenchmarkResult, Row
from cnn_edge.measure.benchmark.keras_row import tensorflow_available
from cnn_edge.measure.evaldata import EvalData, load_eval_data, load_photo_folder
from cnn_edge.measure.latency import batched_throughput, round_robin, single_invoke, time_calls
from cnn_edge.measure.stats import percentiles
from cnn_edge.measure.sysinfo import system_info

KERAS = "keras"
TF_THREADS_NOTE = "TensorFlow's thread pools are fixed at start-up: timed at its default (all cores)"


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200]


def _accuracy(preds: np.ndarray, data: EvalData) -> float:
    return float((np.where(data.valid, preds, -1) == data.labels).mean())


def _validate(cfg: BenchmarkConfig) -> None:
    if not Path(cfg.run).is_dir():
        raise RunDirError(f"run directory not found: {cfg.run}",
                          hint="pass --run with a folder made by `cnn-edge train`")
    if cfg.runs < 1 or cfg.warmup < 0 or cfg.batch < 1 or any(b < 1 for b in cfg.batch_sweep):
        raise ConfigError("--runs and --batch must be at least 1, --warmup at least 0")
    lim.check_int("--runs", cfg.runs, 1, lim.MAX_TIMED_RUNS)
    lim.check_int("--warmup", cfg.warmup, 0, lim.MAX_TIMED_RUNS)
    lim.check_int("--batch", cfg.batch, 1, lim.MAX_BATCH)


@dataclass
class _Timed:
    """What the latency pass times (one call per row, 1 thread and all cores) and the rows' labels."""

    one_thread: dict[str, Any] = field(default_factory=dict)
    all_cores: dict[str, Any] = field(default_factory=dict)
    preds: dict[str, np.ndarray] = field(default_factory=dict)
    backend: str = ""
    version: str = ""


def benchmark(cfg: BenchmarkConfig, log: Callable[[str], None] = lambda _m: None) -> BenchmarkResult:
    """Measure every model in `cfg.run`; write benchmark.json, benchmark.md and the PNGs."""
    _validate(cfg)
    run = Path(cfg.run)
    data = load_eval_data(None).head(cfg.limit)
    photos = load_photo_folder(Path(cfg.photos)) if cfg.photos else None
    image = data.images[0]
    cores = usable_cores()
    notes: list[str] = photos.problems() if photos else []

    timed = _Timed()
    missing = [f.name for f in FORMATS if not (run / f.filename).is_file()]
    rows = [_format_row(fmt, cfg, data, photos, cores, timed, log)
            for fmt in FORMATS if (run / fmt.filename).is_file()]
    keras_row = _keras_row(cfg, run, data, photos, image, notes, log)
    runner = None
    if keras_row is not None:
        row, runner = keras_row
        rows.insert(0, row)
        if runner is not None:
            timed.preds[KERAS] = runner.logits(data.images).argmax(axis=1)
            timed.all_cores[KERAS] = runner.single_call(image)
    try:
        timed_int8 = _time_latencies(rows, timed, cfg, cores, log)
        _relative_figures(rows)
        thread_sweep = _thread_sweep(run, cfg, image, cores) if cfg.thread_sweep and timed_int8 else []
        batch_sweep = _batch_sweep(run, cfg, data, cores) if timed_int8 else []
    finally:
        if runner is not None:
            runner.close()
    confusion = _confusion(timed.preds["int8"], data) if "int8" in timed.preds else None

    result = BenchmarkResult(
        run=run, rows=rows, thread_sweep=thread_sweep, batch_sweep=batch_sweep, confusion_int8=confusion,
        missing_formats=missing, notes=notes, system=system_info().to_dict(), backend=timed.backend,
        backend_version=timed.version, cores=cores, images=len(data), photos=len(photos) if photos else None,
        files={},
    )
    from cnn_edge.measure.benchmark.report import write_outputs

    return write_outputs(result, plots=cfg.plots)


def _format_row(fmt: ExportFormat, cfg: BenchmarkConfig, data: EvalData, photos: EvalData | None, cores: int,
                timed: _Timed, log: Callable[[str], None]) -> Row:
    """One .tflite's row: load time, accuracy, throughput; its single invokes are left in `timed`.

    A model that fails to load or run gets its error in the row; the other rows still run.
    """
    path = Path(cfg.run) / fmt.filename
    row = Row(fmt.name, fmt.filename, size_bytes=path.stat().st_size)
    log(f"{fmt.name}: accuracy and loading")
    try:
        t0 = time.perf_counter()
        m1 = load_model(path, backend=cfg.backend, threads=1)
        row.init_ms = (time.perf_counter() - t0) * 1e3
        mall = load_model(path, backend=cfg.backend, threads=cores)
        timed.preds[fmt.name] = mall.predict(data.images)
        row.accuracy = _accuracy(timed.preds[fmt.name], data)
        if photos is not None:
            row.photos_accuracy = _accuracy(mall.predict(photos.images), photos)
        row.throughput_ips = batched_throughput(mall, data.images, batch=cfg.batch)
        timed.one_thread[fmt.name] = single_invoke(m1, data.images[0])
        timed.all_cores[fmt.name] = single_invoke(mall, data.images[0])
        timed.backend, timed.version = m1.backend, m1.backend_version
    except (CnnEdgeError, ValueError, RuntimeError) as exc:
        row.error = _error_text(exc)
    return row


def _time_latencies(rows: list[Row], timed: _Timed, cfg: BenchmarkConfig, cores: int,
                    log: Callable[[str], None]) -> bool:
    """Every row's single-image latency, round-robin, on 1 thread and on all cores; whether int8 ran."""
    log("latency: 1 thread (round robin over the formats)")
    t1 = round_robin(timed.one_thread, warmup=cfg.warmup, runs=cfg.runs)
    log(f"latency: {cores} threads")
    tall = round_robin(timed.all_cores, warmup=cfg.warmup, runs=cfg.runs)
    by_name = {r.name: r for r in rows}
    for name, samples in t1.items():
        p = percentiles(samples, (50, 90))
        by_name[name].p50_1t_ms, by_name[name].p90_1t_ms = p["p50"], p["p90"]
        by_name[name].samples_1t_ms = [float(x) for x in samples]
    for name, samples in tall.items():
        p = percentiles(samples, (50, 90))
        by_name[name].p50_all_ms, by_name[name].p90_all_ms = p["p50"], p["p90"]
    return "int8" in t1


def _keras_row(cfg: BenchmarkConfig, run: Path, data: EvalData, photos: EvalData | None, image: np.ndarray,
               notes: list[str], log: Callable[[str], None]) -> tuple[Row, Any] | None:
    """(row, runner) for model.keras; None when the row is skipped (no TensorFlow, no model.keras)."""
    keras_path = run / "model.keras"
    if not cfg.keras:
        return None
    if not tensorflow_available():
        notes.append("TensorFlow is not installed: the Keras row is skipped (TFLite rows need only LiteRT)")
        return None
    if not keras_path.is_file():
        notes.append(f"no {keras_path.name} in the run: the Keras row is skipped")
        return None
    row = Row(KERAS, keras_path.name, size_bytes=keras_path.stat().st_size, notes=[TF_THREADS_NOTE])
    log("keras: exporting a SavedModel and measuring")
    try:
        from cnn_edge.measure.benchmark.keras_row import SavedModelRunner

        t0 = time.perf_counter()
        runner = SavedModelRunner(keras_path)
        row.init_ms = (time.perf_counter() - t0) * 1e3
        row.accuracy = _accuracy(runner.logits(data.images).argmax(axis=1), data)
        if photos is not None:
            row.photos_accuracy = _accuracy(runner.logits(photos.images).argmax(axis=1), photos)
        batch = data.images[: cfg.batch]
        times = time_calls(runner.batch_call(batch), warmup=2, runs=max(1, 512 // len(batch)))
        row.throughput_ips = float(len(batch) * len(times) / (times.sum() / 1e3))
        return row, runner
    except Exception as exc:  # TensorFlow raises many types; the row shows it instead of a crash
        row.error = _error_text(exc)
        return row, None


def _relative_figures(rows: list[Row]) -> None:
    """Accuracy change against Keras (or float32 without it) and speed-up against float32."""
    by_name = {r.name: r for r in rows}
    base = by_name.get(KERAS) if by_name.get(KERAS) and by_name[KERAS].accuracy is not None else None
    ref = by_name.get(REFERENCE)
    for r in rows:
        if base is not None and r.accuracy is not None:
            r.accuracy_change_pp = 100.0 * (r.accuracy - base.accuracy)
        mine = r.p50_1t_ms if r.p50_1t_ms is not None else r.p50_all_ms
        if ref is not None and ref.p50_1t_ms and mine:
            r.speedup_vs_float32 = ref.p50_1t_ms / mine


def _thread_sweep(run: Path, cfg: BenchmarkConfig, image: np.ndarray, cores: int) -> list[dict[str, Any]]:
    path = run / BY_NAME["int8"].filename
    fns = {n: single_invoke(load_model(path, backend=cfg.backend, threads=n), image)
           for n in range(1, cores + 1)}
    samples = round_robin(fns, warmup=cfg.warmup, runs=cfg.runs)
    return [{"threads": n, **percentiles(s, (50, 90))} for n, s in samples.items()]


def _batch_sweep(run: Path, cfg: BenchmarkConfig, data: EvalData, cores: int) -> list[dict[str, Any]]:
    model = load_model(run / BY_NAME["int8"].filename, backend=cfg.backend, threads=cores)
    return [{"batch": b, "threads": cores, "images_per_s": batched_throughput(model, data.images, batch=b)}
            for b in cfg.batch_sweep]


def _confusion(preds: np.ndarray, data: EvalData) -> list[list[int]]:
    cm = np.zeros((10, 10), np.int64)
    ok = preds >= 0
    np.add.at(cm, (data.labels[ok], preds[ok]), 1)
    return cm.tolist()
