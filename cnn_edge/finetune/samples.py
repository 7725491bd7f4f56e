"""Read a samples folder (SAMPLES/0 ... SAMPLES/9) into 28x28 inputs, exactly as the runtime makes them.

No TensorFlow here. A sample is either a pair written by `cnn-edge collect` (`stem.png` and
`stem.28x28.png`: the 28x28 is what the runtime's `preprocess` made of the crop at collection
time, with the camera's or the photos' settings) or any other photo, which is put through
`preprocess(image, DEFAULT)` as `cnn-edge infer` does for files.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnn_edge.common.errors import DataError
from cnn_edge.common.image_folders import (
    CLASSES,
    IMAGE_EXTENSIONS,
    INPUT_SUFFIX,
    is_image_file,
    is_twin,
    labelled_undecodable,
    sample_stem,
)

Log = Callable[[str], None]


@dataclass(frozen=True)
class Samples:
    """images (N, 28, 28) uint8 white on black; labels (N,); files[i] the file images[i] came from."""

    images: np.ndarray
    labels: np.ndarray
    files: list[Path]
    sha256: str
    counts: dict[str, int]
    no_digit: list[Path] = field(default_factory=list)


def load_samples(folder: Path, log: Log = lambda _msg: None) -> Samples:
    """Every sample of `folder`; `DataError` with one line for a folder that cannot be used."""
    folder = Path(folder)
    classes = _class_folders(folder, log)
    images, labels, files, no_digit = [], [], [], []
    digest = hashlib.sha256()
    for c in classes:
        for path, is_input in _sample_files(folder / c, log):
            data, digit = _read_sample(path, is_input)
            if digit is None:
                no_digit.append(path)
                continue
            # os.fsencode: a file name that is not UTF-8 (a camera card's) is still hashable.
            digest.update(c.encode() + b"/" + os.fsencode(path.name) + b"\0")
            digest.update(hashlib.sha256(data).digest())
            images.append(np.asarray(digit, dtype=np.uint8))
            labels.append(int(c))
            files.append(path)
    if no_digit:
        log(f"warning: no digit found in {len(no_digit)} photos, which are left out "
            f"(first: {no_digit[0]})")
    heic = labelled_undecodable(folder)
    if heic:
        log(f"warning: {len(heic)} HEIC photos are left out: this OpenCV cannot decode them; export them as "
            f"JPEG or PNG to train on them (first: {heic[0]})")
    if not images:
        raise DataError(f"no usable samples in {folder}: its class folders are empty"
                        + (" or show no digit" if no_digit else ""),
                        hint="collect samples with `cnn-edge collect --out DIR`")
    y = np.asarray(labels, dtype=np.int64)
    counts = {c: int((y == int(c)).sum()) for c in CLASSES}
    return Samples(np.stack(images), y, files, digest.hexdigest(), counts, no_digit)


def _class_folders(folder: Path, log: Log) -> list[str]:
    """The class folders 0-9 present; a folder with none is an error, strays are warned about."""
    _check_link(folder)
    for c in CLASSES:
        _check_link(folder / c)
    if not folder.is_dir():
        raise DataError(f"samples folder {folder} does not exist or is not a folder",
                        hint="collect samples with `cnn-edge collect --out DIR`")
    classes = [c for c in CLASSES if (folder / c).is_dir()]
    loose = [p for p in folder.iterdir() if is_image_file(p)]
    if not classes:
        if loose:
            raise DataError(f"{folder} holds {len(loose)} images but no class folders: they have no labels",
                            hint="put each digit's images in SAMPLES/0 ... SAMPLES/9")
        raise DataError(f"{folder} has no class folders 0-9",
                        hint="put each digit's images in SAMPLES/0 ... SAMPLES/9 (`cnn-edge collect` does)")
    if loose:
        log(f"warning: {len(loose)} images directly in {folder} are ignored (no class folder, no label)")
    others = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in CLASSES)
    if others:
        log(f"warning: folders that are not a digit are ignored: {', '.join(others)}")
    return classes


def _read_sample(path: Path, is_input: bool) -> tuple[bytes, np.ndarray | None]:
    """A sample's bytes and its 28x28: a twin as it is (checked), a photo through the preprocessing."""
    from cnn_edge.common.errors import ImageError
    from cnn_edge.edge_runtime.images import decode_image
    from cnn_edge.edge_runtime.preprocess import DEFAULT, preprocess

    try:
        data = path.read_bytes()
        with np.errstate(over="ignore", invalid="ignore"):  # NaN/inf pixels become 0 there
            image = decode_image(data, name=str(path))
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})",
                        hint="remove or replace the file") from None
    except ImageError as exc:
        raise DataError(f"unreadable sample image: {exc}", hint="remove or replace the file") from None
    if not is_input:
        with np.errstate(over="ignore", invalid="ignore"):
            return data, preprocess(image, DEFAULT)
    if image.ndim == 3:
        image = image[:, :, 0] if np.ptp(image.astype(int), axis=2).max() == 0 else None
    if image is None or image.shape != (28, 28):
        raise DataError(f"{path}: a {INPUT_SUFFIX} file must be a 28x28 grey image",
                        hint="remove it to preprocess its photo again")
    return data, image


def _check_link(path: Path) -> None:
    """A symbolic link that loops or points nowhere is named as such (not "no such file")."""
    if not path.is_symlink():
        return
    try:
        os.stat(path)
    except OSError as exc:
        what = "loops back on itself" if exc.errno == errno.ELOOP else "points to nothing"
        raise DataError(f"{path} is a symbolic link that {what}",
                        hint="remove the link or point it at the real file or folder") from None


def _sample_files(class_dir: Path, log: Log) -> list[tuple[Path, bool]]:
    """(file, is_28x28_input) of every sample in one class folder, none dropped.

    `collect` writes a photo (`stem.png`, or the source's extension) and its 28x28 input
    (`stem.28x28.png`): the pair is one sample, taken as the 28x28. Two photos of one stem
    (`s0.png` and `s0.jpg`) are two samples; which of them a 28x28 beside them was made from
    cannot be told, so then both photos are preprocessed afresh and the 28x28 is not used.
    """
    entries = sorted(class_dir.iterdir())
    for p in entries:
        if p.suffix.lower() in IMAGE_EXTENSIONS:
            _check_link(p)
    entries = [p for p in entries if is_image_file(p)]
    inputs = {sample_stem(p): p for p in entries if is_twin(p)}
    crops: dict[str, list[Path]] = {}
    for p in entries:
        if not is_twin(p):
            crops.setdefault(p.stem, []).append(p)
    files: list[tuple[Path, bool]] = []
    for stem in sorted(set(inputs) | set(crops)):
        photos = crops.get(stem, [])
        if stem in inputs and len(photos) <= 1:
            files.append((inputs[stem], True))
            continue
        if stem in inputs:
            log(f"warning: {inputs[stem]} is ignored: {len(photos)} photos share its name "
                f"({', '.join(p.name for p in photos)}), each is preprocessed as a sample")
        files.extend((p, False) for p in photos)
    return files
