"""Rebuild the shipped calibration and evaluation sets from `mnist.npz`, byte for byte.

    python -m cnn_edge.calibration_data.build [--data mnist.npz] [--out DIR] [--check]

Deterministic: a fixed seed picks the images, and the .npz files are written with fixed zip
timestamps (numpy's own savez stamps the current time, which would change the file bytes).
`--check` rebuilds in memory and compares with the shipped files instead of writing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

from cnn_edge.calibration_data import CHECKSUMS_FILE, HERE, array_sha256
from cnn_edge.common import atomic
from cnn_edge.common.errors import CnnEdgeError
from cnn_edge.common.mnist import load_mnist

SEED = 20240601
PER_CLASS = 200  # 2,000 images: twice the largest size in the calibration sweep
POOL = 55_000  # first 55,000 training images; the last 5,000 are train's default holdout
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def balanced_round_robin(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices: `per_class` random images of each class, ordered 0, 1, ..., 9, 0, 1, ..."""
    rng = np.random.default_rng(seed)
    picks = []
    for digit in range(10):
        candidates = np.flatnonzero(labels == digit)
        if len(candidates) < per_class:
            raise ValueError(f"only {len(candidates)} images of digit {digit}, need {per_class}")
        picks.append(np.sort(rng.choice(candidates, per_class, replace=False)))
    return np.stack(picks, axis=1).reshape(-1)  # row r holds the r-th pick of every class


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """A compressed .npz with fixed timestamps, so equal arrays give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def build(data: Path | None = None) -> dict[str, tuple[bytes, dict]]:
    """file name -> (npz bytes, checksum record) for calibration.npz and evaluation.npz."""
    mnist = load_mnist(data, allow_download=False)
    idx = balanced_round_robin(mnist.y_train[:POOL], PER_CLASS, SEED)
    sets = {
        "calibration": (mnist.x_train[idx], mnist.y_train[idx],
                        f"{len(idx)} class-balanced MNIST training images (seed {SEED}, first {POOL})"),
        "evaluation": (mnist.x_test, mnist.y_test, "the 10,000 MNIST test images, in order"),
    }
    out = {}
    for key, (images, labels, about) in sets.items():
        blob = npz_bytes(images=images, labels=labels)
        out[key] = (blob, {
            "file": f"{key}.npz",
            "file_sha256": hashlib.sha256(blob).hexdigest(),
            "arrays_sha256": array_sha256(images, labels),
            "images": int(len(images)),
            "class_counts": np.bincount(labels, minlength=10).tolist(),
            "about": about,
        })
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn_edge.calibration_data.build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="mnist.npz (default: the usual lookup)")
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write (default: the package)")
    parser.add_argument("--check", action="store_true", help="compare with the shipped files, write nothing")
    args = parser.parse_args(argv)
    try:
        built = build(args.data)
    except CnnEdgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    record = {"seed": SEED, "per_class": PER_CLASS, "pool": POOL,
              "source_mnist_sha256": hashlib.sha256(Path(load_mnist(args.data, allow_download=False).source)
                                                    .read_bytes()).hexdigest(),
              **{k: rec for k, (_, rec) in built.items()}}
    if args.check:
        bad = [rec["file"] for _, rec in built.values()
               if not (HERE / rec["file"]).is_file()
               or hashlib.sha256((HERE / rec["file"]).read_bytes()).hexdigest() != rec["file_sha256"]]
        print("shipped files match" if not bad else f"differ from a rebuild: {', '.join(bad)}")
        return 1 if bad else 0
    for blob, rec in built.values():
        atomic.write_bytes(args.out / rec["file"], blob)
        print(f"wrote {args.out / rec['file']} ({len(blob):,} bytes, sha256 {rec['file_sha256'][:12]}...)")
    atomic.write_json(args.out / CHECKSUMS_FILE.name, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
