"""`convert()`: a trained Keras model -> verified TFLite models, measured, with a manifest."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.calibration_data import array_sha256, load_evaluation_set
from cnn_edge.common import atomic
from cnn_edge.common import limits as lim
from cnn_edge.common.checksums import sha256_file
from cnn_edge.common.errors import ConfigError, RunDirError
from cnn_edge.common.formats import BY_NAME, FORMATS, IO_TYPES, REFERENCE, ExportFormat
from cnn_edge.common.run_dir import MANIFEST, MODEL, remove_stale_temps
from cnn_edge.converter import export, manifest, verify
from cnn_edge.converter.calibration import CalibrationSet, load_calibration
from cnn_edge.converter.config import ConvertConfig, ConvertResult, ModelReport

Log = Callable[[str], None]


def validate_config(cfg: ConvertConfig) -> tuple[str, ...]:
    """Reject options that cannot work before anything heavy is imported; return formats in table order."""
    unknown = [f for f in cfg.formats if f not in BY_NAME]
    if unknown:
        raise ConfigError(f"unknown format {unknown[0]!r}", hint=f"choose from: {', '.join(BY_NAME)}")
    if cfg.io not in IO_TYPES:
        raise ConfigError(f"unknown --io {cfg.io!r}", hint=f"choose one of: {', '.join(IO_TYPES)}")
    if cfg.calibration_samples < 1:
        raise ConfigError(f"--calibration-samples must be at least 1, got {cfg.calibration_samples}")
    lim.check_int("--calibration-samples", cfg.calibration_samples, 1, lim.MAX_CALIBRATION)
    lim.check_seed(cfg.seed)
    if cfg.run.exists() and not cfg.run.is_dir():
        raise RunDirError(f"{cfg.run} is not a directory", hint="pass --run with a run directory")
    wanted = {REFERENCE, *cfg.formats}
    return tuple(f.name for f in FORMATS if f.name in wanted)


def _calibration_record(cal: CalibrationSet | None) -> dict[str, Any] | None:
    if cal is None:
        return None
    return {"source": cal.source, "samples": int(len(cal.images)), "seed": cal.seed,
            "class_balanced": cal.balanced, "class_counts": cal.class_counts, "sha256": cal.sha256}


def _switch_in(run: Path, staged: atomic.StagedFiles, doc: dict[str, Any]) -> Path:
    """Put the verified models in place together, the manifest last; return the manifest's path.

    The old manifest goes first: for the few renames' time the run has no manifest, so a run
    killed right then is refused by every reader ("convert it first") rather than read as a
    manifest over models of another conversion. Before this point the run is wholly the old
    one; after it, wholly the new one.
    """
    with contextlib.suppress(FileNotFoundError):
        (run / MANIFEST).unlink()
    staged.commit()
    return atomic.write_json(run / MANIFEST, doc)


def convert(cfg: ConvertConfig, log: Log = lambda _msg: None) -> ConvertResult:
    """Convert as `cfg` says: write each format's .tflite and manifest.json atomically in `cfg.run`.

    Every model is loaded back in LiteRT and checked before it replaces an older file; with
    `cfg.evaluate` each is measured on the 10,000 shipped test images.
    """
    start = time.perf_counter()
    names = validate_config(cfg)
    model_path = Path(cfg.model) if cfg.model is not None else Path(cfg.run) / MODEL
    formats = [BY_NAME[n] for n in names]
    # Calibration problems are the user's most likely mistake: report them before loading TensorFlow.
    cal = None
    if any(f.needs_calibration for f in formats) or cfg.debug_quant:
        cal = load_calibration(cfg.calibration_data, cfg.calibration_samples, cfg.seed)
    keras_model = export.load_keras_model(model_path)
    tf = export.import_tensorflow()
    run = Path(cfg.run)
    run.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(run)  # left by a conversion killed with SIGKILL

    evaluation = load_evaluation_set() if cfg.evaluate else None
    keras_accuracy = _keras_accuracy(keras_model, evaluation, model_path, log)
    reports: dict[str, ModelReport] = {}
    entries: list[dict[str, Any]] = []
    predictions: dict[str, np.ndarray] = {}
    debug_csv, worst = None, []
    staged = atomic.StagedFiles()  # every new model waits here until all are verified
    with staged, tempfile.TemporaryDirectory(prefix="cnn-edge-savedmodel-") as tmp:
        saved = export.export_saved_model(keras_model, Path(tmp) / "saved_model")
        for fmt in formats:
            entry, report = _convert_one(fmt, saved, cfg, cal, staged, evaluation, predictions, log)
            entries.append(entry)
            reports[fmt.name] = report
        if cfg.debug_quant:
            from cnn_edge.converter.debug_quant import run_debugger

            debug_csv, worst = run_debugger(saved, cal.images, run, log=log)
        doc = _manifest(cfg, model_path, keras_accuracy, entries, cal, evaluation, tf.__version__)
        manifest_path = _switch_in(run, staged, doc)
    for report in reports.values():
        log(f"  wrote {report.path}")
    # Older files of formats not asked for this time are left alone (they may be wanted) but
    # the manifest no longer describes them: say so rather than delete them.
    stale = [f.filename for f in FORMATS if f.name not in names and (run / f.filename).exists()]
    if stale:
        log(f"note: {', '.join(stale)} left from an earlier conversion; manifest.json does not describe them")
    return ConvertResult(run_dir=run, manifest_path=manifest_path, models=reports,
                         keras_accuracy=keras_accuracy,
                         calibration_samples=len(cal.images) if cal is not None else 0,
                         debug_quant_csv=debug_csv, worst_layers=worst, seconds=time.perf_counter() - start)


Evaluation = tuple[np.ndarray, np.ndarray]  # the shipped test images and their labels


def _keras_accuracy(keras_model: Any, evaluation: Evaluation | None, model_path: Path,
                    log: Log) -> float | None:
    """The Keras model's own accuracy on the test images: what each .tflite is compared with."""
    if evaluation is None:
        return None
    images, labels = evaluation
    logits = keras_model.predict(images.astype(np.float32), batch_size=500, verbose=0)
    accuracy = float((np.argmax(logits, axis=1) == labels).mean())
    log(f"Keras model {model_path}: accuracy {accuracy:.2%} on {len(labels):,} test images")
    return accuracy


def _convert_one(fmt: ExportFormat, saved: Path, cfg: ConvertConfig, cal: CalibrationSet | None,
                 staged: atomic.StagedFiles, evaluation: Evaluation | None,
                 predictions: dict[str, np.ndarray], log: Log) -> tuple[dict[str, Any], ModelReport]:
    """One format: convert, stage, verify in LiteRT, measure; its manifest entry and report.

    `predictions` collects each format's labels, so later formats are compared with the float
    reference (converted first: formats come in table order).
    """
    log(f"Converting {fmt.name}: {fmt.description}")
    blob = export.convert_format(saved, fmt, cfg.io, cal.images if cal is not None else None)
    target = Path(cfg.run) / fmt.filename
    tmp_file = staged.path(target)
    atomic.write_bytes(tmp_file, blob)
    # Verify the temporary file, so a failing model never replaces a good one.
    tfl = verify.verify(tmp_file, fmt, cfg.io, display_name=fmt.filename)
    sha = export.sha256_bytes(blob)
    io = cfg.io if fmt.settings.io_type_option else None
    entry = manifest.model_entry(fmt, fmt.filename, len(blob), sha, tfl, io, None, None)
    acc = agree = None
    if evaluation is not None:
        acc, predictions[fmt.name] = verify.accuracy(tfl, *evaluation)
        agree = float((predictions[fmt.name] == predictions[REFERENCE]).mean())
    measured = f", accuracy {acc:.2%}" if acc is not None else ""
    log(f"  converted {fmt.filename} ({len(blob):,} bytes{measured})")
    return (entry | {"accuracy": acc, "agreement_with_float32": agree},
            ModelReport(fmt.name, target, len(blob), sha, acc, agree))


def _manifest(cfg: ConvertConfig, model_path: Path, keras_accuracy: float | None,
              entries: list[dict[str, Any]], cal: CalibrationSet | None, evaluation: Evaluation | None,
              tf_version: str) -> dict[str, Any]:
    """manifest.json's document: the source model, every converted model, calibration and evaluation."""
    run = Path(cfg.run)
    # Relative to the run when inside it, so a copied or moved run keeps an identical manifest.
    shown = model_path.relative_to(run) if model_path.resolve().parent == run.resolve() else model_path
    source = {"path": str(shown), "sha256": sha256_file(model_path), "accuracy": keras_accuracy}
    evaluated = None
    if evaluation is not None:
        evaluated = {"source": "cnn_edge.calibration_data/evaluation.npz (MNIST test set)",
                     "images": int(len(evaluation[1])), "sha256": array_sha256(*evaluation)}
    reproducibility = {
        "byte_identical": True,
        "determined_by": ["source_model.sha256", "calibration.sha256 (images and their order)",
                          "tensorflow_version", "format settings in cnn_edge.common.formats", "io"],
        "note": "converting the same model with the same calibration images, seed and TensorFlow "
                "version gives byte-identical .tflite files (checked by tests/test_convert.py)",
    }
    return manifest.build_manifest(source=source, models=entries, calibration=_calibration_record(cal),
                                   evaluation=evaluated, tf_version=tf_version,
                                   reproducibility=reproducibility, lineage=manifest.read_lineage(model_path))
