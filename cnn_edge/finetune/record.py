"""What a fine-tuned run writes down: its model, history, curves and metrics.json (with lineage)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common import atomic
from cnn_edge.common import run_dir as rd
from cnn_edge.common.checksums import sha256_file
from cnn_edge.finetune.anchors import MixedSet
from cnn_edge.finetune.config import FinetuneConfig, FinetuneResult
from cnn_edge.finetune.samples import Samples


@dataclass(frozen=True)
class Accuracy:
    """The model's accuracy on the held-out samples and on MNIST's test set (fractions)."""

    holdout: float
    mnist: float


@dataclass(frozen=True)
class Fitted:
    """What one fine-tune did: the mix it trained on, what it froze, and the accuracies around it."""

    mixed: MixedSet
    writers: tuple[str, ...]
    frozen: list[str]
    before: Accuracy
    after: Accuracy
    history: dict[str, list[float]]
    train_seconds: float


def config_dict(cfg: FinetuneConfig) -> dict[str, Any]:
    """The config as JSON can hold it (paths as strings)."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(cfg).items()}


def write_run(target: rd.RunTarget, model: Any, fitted: Fitted, cfg: FinetuneConfig, samples: Samples,
              split: tuple[np.ndarray, np.ndarray], warnings: list[str], data: Any) -> FinetuneResult:
    """model.keras, history.json, training_curves.png and metrics.json, each written atomically."""
    from cnn_edge.trainer.curves import plot_training_curves

    run = target.work
    train_idx, held_idx = split
    artifacts = {"model": run / rd.MODEL, "history": run / rd.HISTORY, "curves": run / rd.CURVES,
                 "metrics": run / rd.METRICS}
    with atomic.atomic_path(artifacts["model"]) as tmp:
        model.save(tmp)
    atomic.write_json(artifacts["history"], fitted.history)
    plot_training_curves(fitted.history, artifacts["curves"],
                         title=f"fine-tuned {model.name}: validation = {len(held_idx)} held-out samples")
    atomic.write_json(artifacts["metrics"], metrics(model, fitted, cfg, samples, split, warnings, data))
    final = {name: target.path / path.name for name, path in artifacts.items()}
    mixed, before, after = fitted.mixed, fitted.before, fitted.after
    return FinetuneResult(
        run_dir=target.path, model_path=final["model"], samples_train=len(train_idx),
        samples_holdout=len(held_idx), mnist_images=mixed.mnist_images,
        writer_images=mixed.writer_images, holdout_before=before.holdout,
        holdout_after=after.holdout, mnist_before=before.mnist, mnist_after=after.mnist,
        train_seconds=fitted.train_seconds, warnings=warnings, artifacts=final,
    )


def metrics(model: Any, fitted: Fitted, cfg: FinetuneConfig, samples: Samples,
             split: tuple[np.ndarray, np.ndarray], warnings: list[str], data: Any) -> dict[str, Any]:
    """metrics.json: the accuracies before and after, what was trained on, and the lineage."""
    import keras
    import tensorflow as tf

    train_idx, held_idx = split
    parent_model = Path(cfg.run) / rd.MODEL
    lineage = {
        "kind": "finetune",
        "parent_run": str(Path(cfg.run).resolve()),
        "parent_model_sha256": sha256_file(parent_model),
        "samples": str(Path(cfg.samples).resolve()),
        "samples_sha256": samples.sha256,
        "samples_count": len(samples.labels),
    }
    return {
        "test_accuracy": fitted.after.mnist,
        "holdout_accuracy_before": fitted.before.holdout,
        "holdout_accuracy_after": fitted.after.holdout,
        "mnist_test_accuracy_before": fitted.before.mnist,
        "mnist_test_accuracy_after": fitted.after.mnist,
        "samples_per_class": samples.counts,
        "samples_train": len(train_idx),
        "samples_holdout": len(held_idx),
        "holdout_files": [str(samples.files[i]) for i in held_idx],
        "samples_without_digit": len(samples.no_digit),
        "mnist_images": fitted.mixed.mnist_images,
        "writer_images": fitted.mixed.writer_images,
        # Other writers this model learned (its parent did): a fine-tune of it rehearses them.
        "learned_writers": list(fitted.writers),
        "frozen_layers": fitted.frozen,
        "samples_augment": cfg.augment,
        "params": int(model.count_params()),
        "trainable_params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "epochs": cfg.epochs,
        "train_seconds": round(fitted.train_seconds, 2),
        "warnings": warnings,
        "lineage": lineage,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "data": str(data),
        "config": config_dict(cfg),
    }
