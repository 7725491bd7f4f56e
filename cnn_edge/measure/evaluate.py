"""`cnn-edge evaluate`: accuracy loss of a .tflite model against its reference, and its latency.

numpy + the interpreter only (no TensorFlow), so it runs on the Raspberry Pi itself. The
reference defaults to the float32 model named in the `manifest.json` beside the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common import limits as lim
from cnn_edge.common.checksums import sha256_file
from cnn_edge.common.errors import ConfigError, DataError, ModelError
from cnn_edge.common.run_dir import MANIFEST
from cnn_edge.measure.evaldata import EvalData, load_eval_data
from cnn_edge.measure.latency import LatencyReport, measure_model
from cnn_edge.measure.significance import Significance, compare
from cnn_edge.measure.sysinfo import SystemInfo, peak_rss_bytes, system_info

REFERENCE_FORMAT = "float32"


@dataclass(frozen=True)
class EvaluateConfig:
    """What to evaluate and how.

    Fields:
        model: the .tflite model to evaluate.
        reference: the model to compare with; None = the float32 model in the manifest beside
            `model` (no comparison when there is none, or when `model` is that float32 model).
        data: an .npz (images, labels) or a folder with subfolders 0..9; None = shipped set.
        limit: evaluate on the first N images only (quick checks).
        backend: interpreter backend ("auto", "litert", "tflite-runtime").
        threads: interpreter threads; None = all cores this process may use.
        warmup: untimed invokes before timing.
        runs: timed single-image invokes (0 skips latency).
        save_disagreements: folder to write the images the two models disagree on.
        max_accuracy_loss: gate in percentage points; needs a reference.
        confidence: level of the bootstrap interval (and of "significant").
        resamples: bootstrap resamples.
        seed: bootstrap seed (same seed, same interval).
        markdown: also write the report as Markdown to this file (atomically).
    """

    model: Path
    reference: Path | None = None
    data: Path | None = None
    limit: int | None = None
    backend: str = "auto"
    threads: int | None = None
    warmup: int = 10
    runs: int = 200
    save_disagreements: Path | None = None
    max_accuracy_loss: float | None = None
    confidence: float = 0.95
    resamples: int = 10_000
    seed: int = 0
    markdown: Path | None = None


@dataclass(frozen=True)
class ModelEvaluation:
    """Accuracy and latency of one model on the evaluation data."""

    path: Path
    format: str | None
    size_bytes: int
    accuracy: float
    per_class_accuracy: tuple[float | None, ...]
    predictions: np.ndarray = field(repr=False)
    latency: LatencyReport | None
    backend: str
    backend_version: str
    threads: int


@dataclass(frozen=True)
class EvaluateResult:
    """Everything `evaluate` found; `to_dict()` is the `--json` output.

    Fields:
        model, reference: per-model results (reference None without one).
        reference_source: "--reference", "manifest", or None.
        data_source, images: what was evaluated on.
        invalid_images: photos with no digit to read (each a miss); unreadable_images: how many of
            those are files that could not be read at all (damaged, or a format OpenCV lacks).
        agreement: fraction of images where both models predict the same class.
        accuracy_loss_pp: reference accuracy minus model accuracy, in points (None without reference).
        significance: McNemar and bootstrap figures (None without reference).
        disagreements: indices of the images the models disagree on.
        disagreements_dir: where they were saved, if asked.
        max_accuracy_loss, gate_passed: the gate (None when not asked).
        system: the machine; peak_rss_bytes: process peak resident memory.
        notes: things the user should know (e.g. an unreadable manifest).
    """

    model: ModelEvaluation
    reference: ModelEvaluation | None
    reference_source: str | None
    data_source: str
    images: int
    invalid_images: int
    unreadable_images: int
    agreement: float | None
    accuracy_loss_pp: float | None
    significance: Significance | None
    disagreements: tuple[int, ...]
    disagreements_dir: Path | None
    max_accuracy_loss: float | None
    gate_passed: bool | None
    system: SystemInfo
    peak_rss_bytes: int | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """One flat JSON object: the keys the issue names first, details after."""
        m, r = self.model, self.reference
        lat = m.latency
        rlat = r.latency if r else None
        return {
            "model": str(m.path),
            "reference": str(r.path) if r else None,
            "reference_source": self.reference_source,
            "accuracy": m.accuracy,
            "reference_accuracy": r.accuracy if r else None,
            "accuracy_loss_pp": self.accuracy_loss_pp,
            "agreement": self.agreement,
            "latency_ms": lat.stats.to_dict() if lat else None,
            "reference_latency_ms": rlat.stats.to_dict() if rlat else None,
            "model_size_bytes": m.size_bytes,
            "reference_size_bytes": r.size_bytes if r else None,
            "backend": m.backend,
            "backend_version": m.backend_version,
            "threads": m.threads,
            "format": m.format,
            "reference_format": r.format if r else None,
            "data": self.data_source,
            "images": self.images,
            "invalid_images": self.invalid_images,
            "unreadable_images": self.unreadable_images,
            "per_class_accuracy": list(m.per_class_accuracy),
            "reference_per_class_accuracy": list(r.per_class_accuracy) if r else None,
            "disagreements": len(self.disagreements),
            "disagreement_indices": list(self.disagreements),
            "disagreements_dir": str(self.disagreements_dir) if self.disagreements_dir else None,
            "significance": self.significance.to_dict() if self.significance else None,
            "latency": _latency_details(lat),
            "reference_latency": _latency_details(rlat),
            "max_accuracy_loss_pp": self.max_accuracy_loss,
            "gate_passed": self.gate_passed,
            "peak_rss_bytes": self.peak_rss_bytes,
            "system": self.system.to_dict(),
            "notes": list(self.notes),
        }


def _latency_details(lat: LatencyReport | None) -> dict[str, Any] | None:
    if lat is None:
        return None
    return {"count": lat.stats.count, "warmup": lat.warmup, "init_ms": lat.init_ms,
            "first_inference_ms": lat.first_inference_ms, "model_rss_bytes": lat.model_rss_bytes}


def _read_manifest(model: Path, notes: list[str]) -> dict[str, Any] | None:
    path = model.parent / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
        if isinstance(manifest, dict) and isinstance(manifest.get("models"), list):
            return manifest
        notes.append(f"{path} has no model list; ignored")
    except (OSError, ValueError) as exc:
        notes.append(f"{path} is unreadable ({exc}); ignored")
    return None


def _format_of(path: Path, manifest: dict[str, Any] | None) -> str | None:
    for entry in (manifest or {}).get("models", []):
        if isinstance(entry, dict) and entry.get("file") == path.name:
            return entry.get("format")
    return None


def _check_sha256(path: Path, manifest: dict[str, Any]) -> None:
    """`ModelError` if the manifest lists `path` with a sha256 its bytes do not have."""
    for entry in manifest.get("models", []):
        if not (isinstance(entry, dict) and entry.get("file") == path.name and entry.get("sha256")):
            continue
        try:
            digest = sha256_file(path)
        except OSError:
            return  # a missing or unreadable model is reported when it is loaded
        if digest != entry["sha256"]:
            raise ModelError(
                f"{path} does not match {path.parent / MANIFEST} (sha256 {digest[:12]}..., the manifest "
                f"says {str(entry['sha256'])[:12]}...): the manifest describes other model files",
                hint="re-run `cnn-edge convert` for this run, or pass --reference explicitly",
            )


def resolve_reference(cfg: EvaluateConfig, notes: list[str]) -> tuple[Path | None, str | None]:
    """(reference path, where it came from); (None, None) when there is nothing to compare with.

    A reference taken from the manifest is only trusted when the manifest still describes the
    files beside it: a sha256 mismatch of the model or the reference is a `ModelError`.
    """
    if cfg.reference is not None:
        return Path(cfg.reference), "--reference"
    model = Path(cfg.model)
    manifest = _read_manifest(model, notes)
    for entry in (manifest or {}).get("models", []):
        if isinstance(entry, dict) and entry.get("format") == REFERENCE_FORMAT and entry.get("file"):
            ref = model.parent / entry["file"]
            if ref.resolve() == model.resolve():
                return None, None  # the model is the reference itself
            _check_sha256(model, manifest)
            _check_sha256(ref, manifest)
            return ref, "manifest"
    return None, None


def validate_config(cfg: EvaluateConfig) -> None:
    if cfg.warmup < 0 or cfg.runs < 0:
        raise ConfigError("--warmup and --runs must be 0 or more")
    if cfg.limit is not None and cfg.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {cfg.limit}")
    if cfg.max_accuracy_loss is not None and cfg.max_accuracy_loss < 0:
        raise ConfigError(f"--max-accuracy-loss must be 0 or more, got {cfg.max_accuracy_loss}")
    lim.check_float("--max-accuracy-loss", cfg.max_accuracy_loss, 0.0, lim.MAX_LOSS_PP)
    lim.check_int("--warmup", cfg.warmup, 0, lim.MAX_TIMED_RUNS)
    lim.check_int("--runs", cfg.runs, 0, lim.MAX_TIMED_RUNS)
    lim.check_threads(cfg.threads)
    if not 0.5 <= cfg.confidence < 1.0:
        raise ConfigError(f"confidence must be in [0.5, 1), got {cfg.confidence}")


def evaluate_one(path: Path, data: EvalData, cfg: EvaluateConfig, fmt: str | None) -> ModelEvaluation:
    """Load (timed), time single invokes, then classify every image of `data`."""
    first_image = data.images[int(np.argmax(data.valid))]
    model, latency = measure_model(path, image=first_image, warmup=cfg.warmup, runs=cfg.runs,
                                   backend=cfg.backend, threads=cfg.threads)
    if cfg.runs == 0:
        latency = None
    preds = model.predict(data.images)
    preds = np.where(data.valid, preds, -1)  # an unreadable photo is a miss for every model
    correct = preds == data.labels
    per_class = tuple(float(correct[data.labels == c].mean()) if np.any(data.labels == c) else None
                      for c in range(10))
    return ModelEvaluation(Path(path), fmt, Path(path).stat().st_size, float(correct.mean()), per_class,
                           preds, latency, model.backend, model.backend_version, model.threads)


def evaluate(cfg: EvaluateConfig) -> EvaluateResult:
    """Evaluate `cfg.model` (and its reference) on the data; see `EvaluateConfig`."""
    validate_config(cfg)
    notes: list[str] = []
    ref_path, ref_source = resolve_reference(cfg, notes)
    if cfg.max_accuracy_loss is not None and ref_path is None:
        raise ConfigError(
            "--max-accuracy-loss needs a reference model to measure the loss against",
            hint="pass --reference model_float32.tflite, or keep the manifest.json beside the model",
        )
    data = load_eval_data(cfg.data).head(cfg.limit)
    if not data.valid.any():
        raise DataError(f"{data.source}: no image holds a readable digit"
                        + (f" ({data.problems()[0]})" if data.unreadable else ""))
    notes += data.problems()
    manifest = _read_manifest(Path(cfg.model), [])
    model = evaluate_one(Path(cfg.model), data, cfg, _format_of(Path(cfg.model), manifest))
    reference = None
    if ref_path is not None:
        ref_manifest = _read_manifest(ref_path, [])
        reference = evaluate_one(ref_path, data, cfg, _format_of(ref_path, ref_manifest))

    agreement = loss = sig = None
    disagree: tuple[int, ...] = ()
    saved = None
    if reference is not None:
        differs = model.predictions != reference.predictions
        disagree = tuple(int(i) for i in np.flatnonzero(differs))
        agreement = float(1.0 - differs.mean())
        sig = compare(model.predictions == data.labels, reference.predictions == data.labels,
                      confidence=cfg.confidence, resamples=cfg.resamples, seed=cfg.seed)
        loss = 100.0 * (reference.accuracy - model.accuracy)
        if cfg.save_disagreements is not None:
            from cnn_edge.measure.disagreements import save_disagreements

            saved = save_disagreements(cfg.save_disagreements, data, np.array(disagree, np.int64),
                                       model.predictions, reference.predictions)
    elif cfg.save_disagreements is not None:
        notes.append("no reference model: no disagreements to save")
    gate = None if cfg.max_accuracy_loss is None or loss is None else bool(loss <= cfg.max_accuracy_loss)
    result = EvaluateResult(
        model=model, reference=reference, reference_source=ref_source, data_source=data.source,
        images=len(data), invalid_images=int((~data.valid).sum()), unreadable_images=len(data.unreadable),
        agreement=agreement,
        accuracy_loss_pp=loss, significance=sig, disagreements=disagree, disagreements_dir=saved,
        max_accuracy_loss=cfg.max_accuracy_loss, gate_passed=gate, system=system_info(),
        peak_rss_bytes=peak_rss_bytes(), notes=tuple(notes),
    )
    if cfg.markdown is not None:
        from cnn_edge.common.atomic import write_text
        from cnn_edge.measure.evaluate_report import to_markdown

        write_text(cfg.markdown, to_markdown(result))
    return result
