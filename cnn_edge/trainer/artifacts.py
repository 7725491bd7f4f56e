"""What a finished run leaves: model.keras, history.json, training_curves.png and metrics.json."""

from __future__ import annotations

from typing import Any

from cnn_edge.common import atomic
from cnn_edge.common import run_dir as rd
from cnn_edge.trainer.checkpoints import config_dict
from cnn_edge.trainer.config import TrainConfig, TrainResult


def write_artifacts(
    target: rd.RunTarget,
    cfg: TrainConfig,
    model: Any,
    history: dict[str, list[float]],
    test: tuple[float, float],
    facts: dict[str, Any],
) -> TrainResult:
    """Write each artifact atomically into `target.work`; the result names them at `target.path`.

    `facts` (what was trained on, how long, where) go into metrics.json as they are.
    """
    import keras
    import tensorflow as tf

    from cnn_edge.trainer.curves import plot_training_curves

    test_loss, test_accuracy = test
    names = {"model": rd.MODEL, "history": rd.HISTORY, "curves": rd.CURVES, "metrics": rd.METRICS}
    work = {key: target.work / name for key, name in names.items()}
    with atomic.atomic_path(work["model"]) as tmp:
        model.save(tmp)
    atomic.write_json(work["history"], history)
    plot_training_curves(history, work["curves"], title=f"{model.name}: {model.count_params():,} parameters")
    metrics = {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "params": int(model.count_params()),
        "epochs": len(history.get("loss", [])),
        **facts,
        "final_val_accuracy": history.get("val_accuracy", [None])[-1],
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "augment": _augment_dict(cfg.augment),
        "config": config_dict(cfg),
    }
    atomic.write_json(work["metrics"], metrics)
    return TrainResult(
        run_dir=target.path,
        model_path=target.path / rd.MODEL,
        test_accuracy=float(test_accuracy),
        test_loss=float(test_loss),
        params=int(model.count_params()),
        epochs_run=metrics["epochs"],
        train_seconds=facts["train_seconds"],
        history=history,
        artifacts={key: target.path / name for key, name in names.items()},
    )


def _augment_dict(name: str | None) -> dict[str, Any] | None:
    """The preset's name and every range it used, for metrics.json (None: no augmentation)."""
    if name is None:
        return None
    from cnn_edge.trainer.augment import preset

    return {"preset": name, **preset(name).as_dict()}
