"""Real handwriting by writers other than MNIST's (four UCI sets), and THE writer split.

The files ship in `data/other_writers/` (README there: donors, licence CC BY 4.0, sha256). Every
load checks the file's sha256 against `SHA256` below, so a truncated or altered copy is a clear
`DataError`, never silently different training data.

The split lives here and nowhere else. Each sample of each set has one role:
- "test": writers held out. Never trained on, never tuned on; read once per recipe by the
  benchmarks. optdigits `windep` (13 writers), pendigits writers 30-43 (14 writers), semeion
  `cycle_block_inferred` 5 (398 digits, the file's last run of sequences), mfeat as a whole
  (2,000 Dutch map numerals, no writer information).
- "val": the training writers' own validation part, for tuning a recipe: optdigits `cv`,
  pendigits writers 27-29, semeion block 4. Not trained on either.
- "train": the rest (optdigits `tra` + `wdep` of the 30 training writers, pendigits writers 0-26,
  semeion blocks 0-3). Only these reach a training batch (`cnn_edge.trainer.writer_images`).

Importing this module needs numpy only.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_edge.common.checksums import sha256_file
from cnn_edge.common.errors import DataError

ENV_VAR = "CNN_EDGE_OTHER_WRITERS"  # a folder holding the four .npz (default: the checkout's)
REPO_DIR = Path(__file__).resolve().parents[2] / "data" / "other_writers"
SETS = ("optdigits", "pendigits", "semeion", "mfeat")
FILES = {
    "optdigits": "optdigits_orig.npz",
    "pendigits": "pendigits_orig.npz",
    "semeion": "semeion.npz",
    "mfeat": "mfeat_pix.npz",
}
SHA256 = {
    "optdigits_orig.npz": "d8ae22206bcba04683e758f1a514290643a3500566221783708ef67b65d53f1b",
    "semeion.npz": "43dff9a3a8f95eb594677d58d4ed5877d23eda9aa54816d33adb95bfc426085e",
    "pendigits_orig.npz": "e57b9d7dd8b39e7dfc93e17668ba14774f734de34b199dd6c148ab6e2b017e27",
    "mfeat_pix.npz": "a9b12d3d35a415beb791347aaebdd1065f4446c40df2839e76d9d93d0ab49950",
}
ROLES = ("train", "val", "test")
# Sets whose training part can join `cnn-edge train` (mfeat has no writers to split: test only).
TRAINABLE = ("optdigits", "pendigits", "semeion")
# The split, in words, for metrics.json and the benchmarks' results.
HELD_OUT = {
    "optdigits": "windep: 13 writers (split 3)",
    "pendigits": "writers 30-43 (14 writers)",
    "semeion": "cycle_block_inferred 5 (398 digits)",
    "mfeat": "all 2,000 (no writer information)",
}
PENDIGITS_VAL_WRITERS = (27, 28, 29)
PENDIGITS_TEST_FIRST_WRITER = 30
SEMEION_VAL_BLOCK, SEMEION_TEST_BLOCK = 4, 5
_OPTDIGITS_ROLE = {0: "train", 1: "val", 2: "train", 3: "test"}  # tra, cv, wdep, windep


@dataclass(frozen=True, eq=False)
class WriterSet:
    """One set as shipped: bitmaps (N, H, W) uint8 ink high, labels (N,), role of each sample.

    `fields` keeps every other array of the file (pendigits' trajectories and writer ids, ...).
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    role: np.ndarray
    fields: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.y)

    def indices(self, role: str) -> np.ndarray:
        """Row numbers (into the file) of the samples with this role."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        return np.flatnonzero(self.role == role)


def parse_parts(text: str) -> tuple[str, ...]:
    """"optdigits,pendigits" -> ("optdigits", "pendigits"); "none" or "" -> () (checked by train)."""
    names = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    return () if names in ((), ("none",)) else names


def data_dir() -> Path:
    """Where the four files are: $CNN_EDGE_OTHER_WRITERS, else the checkout's data/other_writers."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else REPO_DIR


def load_set(name: str, directory: Path | None = None) -> WriterSet:
    """Load one set after checking its sha256; every sample gets its role in the writer split."""
    if name not in SETS:
        raise DataError(f"unknown other-writers set {name!r}", hint=f"choose from: {', '.join(SETS)}")
    path = (directory or data_dir()) / FILES[name]
    _check_sha256(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            fields = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {path}: {exc}", hint="restore it from the repository") from exc
    x, y = fields.pop("x"), fields.pop("y").astype(np.int64)
    return WriterSet(name, x, y, _roles(name, y, fields), fields)


def _check_sha256(path: Path) -> None:
    if not path.is_file():
        raise DataError(
            f"other writers' digits not found: {path}",
            hint=f"run from a checkout (data/other_writers/) or point {ENV_VAR} at a folder of the four .npz",
        )
    digest = sha256_file(path)
    if digest != SHA256[path.name]:
        raise DataError(
            f"{path} is not the shipped file (sha256 {digest[:12]}..., expected {SHA256[path.name][:12]}...)",
            hint="restore it from the repository (git checkout -- data/other_writers)",
        )


def _roles(name: str, y: np.ndarray, fields: dict[str, np.ndarray]) -> np.ndarray:
    """The role ("train", "val", "test") of every sample: the one place the split is made."""
    role = np.full(len(y), "test", dtype="<U5")
    if name == "optdigits":
        for split, r in _OPTDIGITS_ROLE.items():
            role[fields["split"] == split] = r
    elif name == "pendigits":
        writer = fields["writer"]
        role[writer < PENDIGITS_TEST_FIRST_WRITER] = "train"
        role[np.isin(writer, PENDIGITS_VAL_WRITERS)] = "val"
    elif name == "semeion":
        block = fields["cycle_block_inferred"]
        role[block < SEMEION_VAL_BLOCK] = "train"
        role[block == SEMEION_VAL_BLOCK] = "val"
    return role
