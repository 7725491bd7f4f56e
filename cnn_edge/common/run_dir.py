"""Run directories: pick a free one, refuse to overwrite, and know what a run contains.

A run is created with a small marker file (`RUN_MARKER`), so `--force` can tell a cnn-edge run
it may replace from a folder of the user's own files, which it never deletes. Replacing a run
is atomic as a whole: the new run is built in a hidden sibling folder and switched in at the
end (old run renamed aside, new one renamed in, old one deleted), so a run killed at any
moment leaves the old run as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cnn_edge.common import atomic
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
RUN_MARKER = ".cnn-edge-run"

# What cnn-edge itself writes into a run (train, convert, benchmark, deploy): a folder made of
# these and nothing else, with one of `_OLD_RUN_SIGNS`, is a run from before the marker existed.
_RUN_FILES = re.compile(
    r"(model\.keras|history\.json|training_curves\.png|metrics\.json|checkpoint\.keras|checkpoint\.json"
    r"|manifest\.json|model_[a-z0-9]+\.tflite|benchmark[a-z0-9_]*\.(json|md|png)|quant_debug\.csv"
    r"|device-[A-Za-z0-9._-]+\.json|\.cnn-edge-run)"
)
_OLD_RUN_SIGNS = (METRICS, MODEL, CHECKPOINT_STATE)
# A temporary file from before `atomic.TEMP_MARK`: `.NAME.` + mkstemp's 8 random characters.
_OLD_TEMP = re.compile(r"\.(.+)\.[a-z0-9_]{8}(\.[A-Za-z0-9]+)?")
_NEW, _OLD = ".cnn-edge-new-", ".cnn-edge-old-"


def next_free_run_dir(root: Path = RUNS_ROOT, stem: str = "train") -> Path:
    """`runs/train`, then `runs/train2`, `runs/train3`, ... : the first that does not exist."""
    candidate = root / stem
    n = 2
    while candidate.exists():
        candidate = root / f"{stem}{n}"
        n += 1
    return candidate


def is_temp_file(name: str) -> bool:
    """A temporary file an atomic write left behind (killed writer), now or before the marker."""
    if atomic.is_temp_name(name):
        return True
    old = _OLD_TEMP.fullmatch(name)
    return bool(old and _RUN_FILES.fullmatch(old.group(1)))


def is_run_dir(path: Path) -> bool:
    """Is `path` a cnn-edge run (its marker; or, made before the marker, only a run's own files)?"""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        return False
    if (path / RUN_MARKER).is_file():
        return True
    names = [p.name for p in path.iterdir()]
    own = all((path / n).is_file() and not (path / n).is_symlink()
              and (_RUN_FILES.fullmatch(n) or is_temp_file(n)) for n in names)
    return own and any(n in names for n in _OLD_RUN_SIGNS)


def remove_stale_temps(run: Path) -> list[Path]:
    """Delete the temporary files a killed train/convert left in `run` (no live writer there)."""
    return atomic.remove_stale_temps(run, is_temp_file)


def check_replaceable(out: Path, inputs: Iterable[Path | None]) -> None:
    """`--force` may replace `out` only if it is a run, and holds none of the command's inputs."""
    real = Path(out).resolve()
    for given in inputs:
        if given is None:
            continue
        inp = Path(given).resolve()
        if inp == real or inp.is_relative_to(real):
            raise RunDirError(
                f"--out {out} holds this command's input {given}: --force will not delete it",
                hint="pass another --out",
            )
    if not is_run_dir(Path(out)):
        raise RunDirError(
            f"{out} is not a cnn-edge run (it holds other files): --force replaces runs only",
            hint="pass another --out, or move its files away first",
        )


@dataclass(frozen=True)
class RunTarget:
    """Where a run is being written (`work`) and where it ends up (`path`).

    For a new run both are the same folder. When `--force` replaces a run, `work` is a hidden
    sibling and `commit()` switches it in; `discard()` drops it and leaves the old run.
    """

    path: Path
    work: Path

    @property
    def staged(self) -> bool:
        return self.work != self.path

    def commit(self) -> Path:
        """Make the written run the run at `path` (atomic for a replaced one); return `path`."""
        if not self.staged:
            return self.path
        if not self.path.exists() or (self.path.is_dir() and not any(self.path.iterdir())):
            os.replace(self.work, self.path)  # nothing to set aside (a rename onto an empty folder)
            return self.path
        aside = Path(tempfile.mkdtemp(prefix=f".{self.path.name}{_OLD}", dir=self.path.parent))
        os.replace(self.path, aside / "run")
        os.replace(self.work, self.path)
        shutil.rmtree(aside, ignore_errors=True)
        return self.path

    def discard(self) -> None:
        """Forget a replacement that did not finish (the old run stays); a new run is kept."""
        if self.staged:
            shutil.rmtree(self.work, ignore_errors=True)


def _write_marker(folder: Path, kind: str) -> None:
    atomic.write_text(folder / RUN_MARKER, json.dumps({"made_by": "cnn-edge", "kind": kind}) + "\n")


def recover_interrupted_switch(out: Path) -> None:
    """Undo what a killed process left beside `out`: half-built runs, and an old run set aside.

    A replacement killed while building leaves `.OUT.cnn-edge-new-*` (deleted here). Killed in
    the instant between its two renames, `out` is missing and the old run waits in
    `.OUT.cnn-edge-old-*/run`: it is put back. Call only where no other process writes `out`.
    """
    parent = out.parent
    if not parent.is_dir():
        return
    for p in parent.iterdir():
        if p.name.startswith(f".{out.name}{_NEW}") and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(f".{out.name}{_OLD}") and p.is_dir() and not p.is_symlink():
            if not out.exists() and (p / "run").is_dir():
                os.replace(p / "run", out)
            shutil.rmtree(p, ignore_errors=True)


def create_run(out: Path | None, *, force: bool, inputs: Iterable[Path | None] = (), kind: str = "train",
               stage_new: bool = False) -> RunTarget:
    """The run to write at `out` (default: the first free runs/trainN); never overwrite without `force`.

    An existing non-empty `out` is replaced only with `force`, only if it is a run and holds none
    of `inputs`; the new run is then built beside it. `stage_new` builds a new run beside its
    place too (a command with no resume has nothing to gain from a half-written run).
    """
    out = next_free_run_dir() if out is None else Path(out)
    recover_interrupted_switch(out)
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{out} exists and is not a directory", hint="pass another --out")
    replace = out.exists() and any(out.iterdir())
    if replace:
        if not force:
            raise RunDirError(
                f"run directory {out} already exists",
                hint="pass --force to replace it, --resume to continue it, or another --out",
            )
        check_replaceable(out, inputs)
    if replace or stage_new:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}{_NEW}", dir=out.parent))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(work, 0o777 & ~mask)  # mkdtemp's 0700 would become the run's own mode
    else:
        work = out
        work.mkdir(parents=True, exist_ok=True)
    _write_marker(work, kind)
    return RunTarget(path=out, work=work)


def resume_run(out: Path | None) -> Path:
    """The run to continue in place (its checkpoints are atomic), cleared of a killed writer's temps."""
    if out is None:
        raise RunDirError("--resume needs --out DIR naming the run to continue")
    out = Path(out)
    if not (out / CHECKPOINT_STATE).is_file():
        raise RunDirError(
            f"nothing to resume in {out}: no {CHECKPOINT_STATE}",
            hint="start a new run without --resume",
        )
    remove_stale_temps(out)
    return out

