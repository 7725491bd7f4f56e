"""Pick the calibration images: the shipped class-balanced set, a user .npz, or a folder of images."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_edge.calibration_data import array_sha256, load_calibration_set
from cnn_edge.common.errors import ConfigError, DataError
from cnn_edge.common.image_folders import IMAGE_EXTENSIONS, image_files, undecodable_photos
from cnn_edge.common.npz import npz_problem

# Accepted .npz keys: images key -> its labels key (labels are optional).
KEY_PAIRS = {"images": "labels", "x": "y", "x_calibration": "y_calibration", "x_train": "y_train",
             "x_test": "y_test"}
IMAGE_KEYS = tuple(KEY_PAIRS)


@dataclass(frozen=True)
class CalibrationSet:
    """Raw-pixel images (N, 28, 28) float32 0-255 for the representative dataset, and where they came from."""

    images: np.ndarray
    source: str
    seed: int
    balanced: bool
    sha256: str
    class_counts: list[int] | None


def select(images: np.ndarray, labels: np.ndarray | None, n: int, seed: int) -> tuple[np.ndarray, bool]:
    """Indices of `n` images: class-balanced round-robin when labels are known, else a random subset."""
    if n < 1:
        raise ConfigError(f"--calibration-samples must be at least 1, got {n}")
    if n > len(images):
        raise DataError(f"asked for {n} calibration samples but only {len(images)} images are available",
                        hint=f"pass --calibration-samples {len(images)} or fewer, or more --calibration-data")
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.permutation(len(images))[:n]), False
    # Per class a seeded shuffle; then take the r-th image of every class before any (r+1)-th.
    order = []
    for digit in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        order.extend((rank, int(digit), int(i)) for rank, i in enumerate(idx))
    order.sort()
    return np.array([i for _, _, i in order[:n]]), True


def check_images(images: np.ndarray, source: str) -> np.ndarray:
    """(N, 28, 28) or (N, 28, 28, 1) numeric raw pixels 0-255 -> (N, 28, 28) float32; else DataError."""
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{source}: calibration images have shape {images.shape}, expected (N, 28, 28)",
                        hint="give 28x28 grayscale digits, white on black, raw pixels 0-255")
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise DataError(f"{source}: calibration images have dtype {images.dtype}, expected numbers")
    if len(images) and (not np.isfinite(images).all() or images.min() < 0 or images.max() > 255):
        raise DataError(f"{source}: calibration pixels outside 0-255",
                        hint="give raw pixels 0-255 (the model rescales inside)")
    if len(images) and images.max() <= 1.0:
        # Images already scaled to [0, 1] would calibrate the input range 255 times too small.
        raise DataError(f"{source}: calibration pixels are all within 0-1, they look already normalized",
                        hint="give raw pixels 0-255 (the model rescales inside)")
    return images.astype(np.float32)


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = list(npz.files)
            key = next((k for k in IMAGE_KEYS if k in files), files[0] if len(files) == 1 else None)
            if key is None:
                raise DataError(f"{path} has no images array (found: {', '.join(files) or 'nothing'})",
                                hint=f"store the images under one of: {', '.join(IMAGE_KEYS)}")
            images = npz[key]
            labels = npz[KEY_PAIRS[key]] if KEY_PAIRS.get(key) in files else None
    except DataError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read {path} as .npz ({npz_problem(exc)})",
                        hint="pass --calibration-data with a .npz of images or a folder of images") from exc
    if labels is not None and (labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer)):
        labels = None  # labels only steer class balance; odd ones are ignored rather than fatal
    return images, labels


def _load_folder(path: Path) -> np.ndarray:
    files = image_files(path)
    if not files:
        heic = undecodable_photos(path)
        if heic:
            raise DataError(f"{path} holds only HEIC photos ({len(heic)}), which OpenCV cannot decode",
                            hint="export them as JPEG or PNG")
        raise DataError(f"{path} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))})",
                        hint="pass a folder of digit images or a .npz")
    from cnn_edge.converter.folder_images import image_to_pixels

    return np.stack([image_to_pixels(p) for p in files])


def load_calibration(path: Path | None, n: int, seed: int) -> CalibrationSet:
    """The `n` calibration images to use, chosen reproducibly by `seed`."""
    if n < 1:
        raise ConfigError(f"--calibration-samples must be at least 1, got {n}")
    if path is None:
        images, labels = load_calibration_set()
        source = "cnn_edge.calibration_data/calibration.npz"
    else:
        path = Path(path).expanduser()
        if path.is_dir():
            images, labels = _load_folder(path), None
        elif path.is_file():
            images, labels = _load_npz(path)
        else:
            raise DataError(f"calibration data not found: {path}",
                            hint="pass a .npz file or a folder of images")
        source = str(path)
    images = check_images(np.asarray(images), source)
    idx, balanced = select(images, labels, n, seed)
    chosen = images[idx]
    counts = np.bincount(labels[idx].astype(np.int64), minlength=10).tolist() if labels is not None else None
    return CalibrationSet(chosen, source, seed, balanced, array_sha256(chosen), counts)
