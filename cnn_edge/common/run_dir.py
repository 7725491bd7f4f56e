"""Run directories: pick a free one, refuse to overwrite, and know what a run contains."""

from __future__ import annotations

import shutil
from pathlib import Path

from cnn_edge.common.errors import RunDirError

RUNS_ROOT = Path("runs")

# File names inside a run directory, shared by every stage that reads a run.
MODEL = "model.keras"
HISTORY = "history.json"
CURVES = "training_curves.png"
METRICS = "metrics.json"
CHECKPOINT = "checkpoint.keras"
CHECKPOINT_STATE = "checkpoint.json"
# Written by `convert`: every model's sha256, size, dtypes and accuracy (the formats' file names
# are in `cnn_edge.common.formats`).
MANIFEST = "manifest.json"


def next_free_run_dir(root: Path = RUNS_ROOT, stem: str = "train") -> Path:
    """`runs/train`, then `runs/train2`, `runs/train3`, ... : the first that does not exist."""
    candidate = root / stem
    n = 2
    while candidate.exists():
        candidate = root / f"{stem}{n}"
        n += 1
    return candidate


def prepare_run_dir(out: Path | None, *, force: bool, resume: bool) -> Path:
    """Return the run directory to write, creating it; never overwrite one without `force`."""
    if out is None:
        if resume:
            raise RunDirError("--resume needs --out DIR naming the run to continue")
        out = next_free_run_dir()
    out = Path(out)
    if resume:
        if not (out / CHECKPOINT_STATE).is_file():
            raise RunDirError(
                f"nothing to resume in {out}: no {CHECKPOINT_STATE}",
                hint="start a new run without --resume",
            )
        return out
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out} exists and is not a directory", hint="pass another --out")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise RunDirError(
                f"run directory {out} already exists",
                hint="pass --force to replace it, --resume to continue it, or another --out",
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out
