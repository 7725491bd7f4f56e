"""The checkpoint a run keeps after every epoch, and the config a `--resume` reads back from it.

`checkpoint.keras` is the model with its optimizer state; `checkpoint.json` the epochs done, the
history so far and the run's config. Both are written atomically, so a run killed at any moment
resumes from its last complete epoch.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnn_edge.common import atomic
from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import RunDirError
from cnn_edge.trainer.config import TrainConfig

EpochEnd = Callable[[int, dict[str, float]], None]


def checkpoint_writer(run: Path, cfg: TrainConfig, history: dict[str, list[float]], model: Any) -> EpochEnd:
    """After each epoch: the model (with optimizer state) and the history so far, atomically."""

    def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        with atomic.atomic_path(run / rd.CHECKPOINT) as tmp:
            model.save(tmp)
        state = {"epoch": epoch + 1, "history": history, "config": config_dict(cfg)}
        atomic.write_json(run / rd.CHECKPOINT_STATE, state)

    return on_epoch_end


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    """The config as JSON values (paths as strings): saved with every checkpoint and in metrics.json."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(cfg).items()}


def config_from_checkpoint(cfg: TrainConfig, run: Path) -> tuple[TrainConfig, int, dict[str, list[float]]]:
    """On --resume: the saved run's own settings, with this call's epochs and verbosity."""
    try:
        state = json.loads((run / rd.CHECKPOINT_STATE).read_text())
        saved = state["config"]
        fields = {f.name for f in dataclasses.fields(TrainConfig)}
        kept = {k: v for k, v in saved.items() if k in fields}
        kept.update(
            out=cfg.out or run,  # a worker's `run` is its scratch; the run is still --out
            data=cfg.data or (Path(saved["data"]) if saved.get("data") else None),
            epochs=cfg.epochs,
            verbose=cfg.verbose,
            # Where it trains is this call's choice (a run may resume on other hardware).
            distribute=cfg.distribute,
            workers=tuple(cfg.workers),
            worker_index=cfg.worker_index,
            worker_timeout=cfg.worker_timeout,
            resume=True,
            force=False,
        )
        return TrainConfig(**kept), int(state["epoch"]), {k: list(v) for k, v in state["history"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunDirError(
            f"cannot resume {run}: {rd.CHECKPOINT_STATE} is unreadable ({exc})", hint="start a new run"
        ) from exc
