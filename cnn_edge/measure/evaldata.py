"""Labelled images to evaluate on: the shipped evaluation set, an .npz, or a folder of photos.

A folder has one subfolder per class, `0` ... `9` (the layout `cnn-edge collect` writes);
its photos go through the edge runtime's own loader and preprocessing, so the accuracy is
the one a user gets from the camera pipeline. A photo that cannot be read, or in which
preprocessing finds no digit, stays in the set, marked invalid, and counts as a miss for every
model: dropping it would flatter the accuracy. Which photos could not be read, and the phone
photos OpenCV cannot decode at all (HEIC, never listed as images), are kept so a report can
name them rather than leave the user to wonder why the count is short.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_edge.common.errors import DataError, ImageError
from cnn_edge.common.image_folders import labelled_images, labelled_undecodable
from cnn_edge.common.npz import npz_problem


@dataclass(frozen=True)
class EvalData:
    """Images ready for the model and their labels.

    Fields:
        images: (N, 28, 28) uint8 raw pixels, white digit on black (zeros where invalid).
        labels: (N,) int64 class labels 0-9.
        valid: (N,) bool, False where a photo could not be read or held no digit.
        names: (N,) a name per image (file path, or "#index" for arrays).
        source: what was loaded, for reports.
        unreadable: (index, why) of each photo that could not be read (a subset of ~valid).
        undecodable: the class folders' photos in a format OpenCV cannot decode (HEIC), not in
            the set: no label can be checked against a photo nobody can look at.
    """

    images: np.ndarray
    labels: np.ndarray
    valid: np.ndarray
    names: tuple[str, ...]
    source: str
    unreadable: tuple[tuple[int, str], ...] = ()
    undecodable: tuple[Path, ...] = ()

    def __len__(self) -> int:
        return int(len(self.labels))

    def problems(self) -> list[str]:
        """One line each for the photos that could not be read and the HEIC ones left out, for a report."""
        lines = []
        if self.unreadable:
            k, (_, first) = len(self.unreadable), self.unreadable[0]
            lines.append(f"{k} photo(s) could not be read and count as misses (first: {first})")
        if self.undecodable:
            lines.append(f"{len(self.undecodable)} HEIC photo(s) in the class folders were left out: this "
                         "OpenCV cannot decode them; export them as JPEG or PNG "
                         f"(first: {self.undecodable[0]})")
        return lines

    def head(self, limit: int | None) -> EvalData:
        """The first `limit` images (all when None)."""
        if limit is None or limit >= len(self):
            return self
        return EvalData(self.images[:limit], self.labels[:limit], self.valid[:limit], self.names[:limit],
                        f"{self.source} (first {limit})", tuple(u for u in self.unreadable if u[0] < limit),
                        self.undecodable)


def load_eval_data(path: Path | None = None) -> EvalData:
    """The shipped evaluation set (None), an .npz file, or a folder of labelled photos."""
    if path is None:
        from cnn_edge.calibration_data import load_evaluation_set

        images, labels = load_evaluation_set()
        return _from_arrays(images, labels, "shipped evaluation set (MNIST test, 10,000 images)")
    path = Path(path)
    if path.is_dir():
        return load_photo_folder(path)
    if not path.is_file():
        raise DataError(f"data not found: {path}", hint="pass an .npz file or a folder with subfolders 0..9")
    return _load_npz(path)


def _from_arrays(images: np.ndarray, labels: np.ndarray, source: str) -> EvalData:
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{source}: images have shape {images.shape}, expected (N, 28, 28)")
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    if len(labels) != len(images) or len(images) == 0:
        raise DataError(f"{source}: {len(images)} images but {len(labels)} labels")
    if labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{source}: labels must be 0-9, found {labels.min()}..{labels.max()}")
    if images.dtype != np.uint8:
        # float data in 0-1 is the common mistake; the models take raw 0-255 pixels.
        images = np.asarray(images, dtype=np.float32)
        if images.max() <= 1.0:
            images = images * 255.0
        images = np.clip(np.round(images), 0, 255).astype(np.uint8)
    n = len(images)
    return EvalData(images, labels, np.ones(n, bool), tuple(f"#{i}" for i in range(n)), source)


def _load_npz(path: Path) -> EvalData:
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            for ik, lk in (("images", "labels"), ("x_test", "y_test"), ("x", "y")):
                if {ik, lk} <= keys:
                    return _from_arrays(npz[ik], npz[lk], str(path))
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read {path} as .npz ({npz_problem(exc)})",
                        hint="pass an .npz with arrays images and labels") from exc
    raise DataError(f"{path} has arrays {sorted(keys)}, expected images and labels (or x_test and y_test)")


def load_photo_folder(root: Path) -> EvalData:
    """Photos in `root/0` ... `root/9`, loaded and preprocessed by the edge runtime."""
    from cnn_edge.edge_runtime.images import load_image
    from cnn_edge.edge_runtime.preprocess import preprocess

    files = labelled_images(root)
    undecodable = tuple(labelled_undecodable(root))
    if not files:
        if undecodable:
            raise DataError(f"{root}/0 ... {root}/9 hold only {len(undecodable)} HEIC photo(s), which OpenCV "
                            "cannot decode", hint="export them as JPEG or PNG")
        raise DataError(f"no photos in {root}/0 ... {root}/9",
                        hint="put each photo in the subfolder named after its digit "
                             "(as `cnn-edge collect` does)")
    images = np.zeros((len(files), 28, 28), np.uint8)
    valid = np.zeros(len(files), bool)
    unreadable = []
    for i, (p, _) in enumerate(files):
        try:
            digit = preprocess(load_image(p))
        except ImageError as exc:
            unreadable.append((i, str(exc)))
            digit = None
        if digit is not None:
            images[i] = digit
            valid[i] = True
    labels = np.array([c for _, c in files], np.int64)
    return EvalData(images, labels, valid, tuple(str(p) for p, _ in files), f"photos in {root}",
                    tuple(unreadable), undecodable)
