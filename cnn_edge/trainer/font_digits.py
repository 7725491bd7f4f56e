"""Digits of handwriting fonts as extra training images: shapes MNIST's writers rarely drew.

MNIST's writers (American census staff and students) seldom close a 4's top, flag a 1 or curl a
9's tail; other writers do, and a model trained on MNIST alone misreads them on photos (measured:
benchmarks/results/augment.md). The repository ships the digits 0-9 of 147 handwriting fonts
(school scripts of many countries, fonts made from people's own handwriting; licences in
`assets/font_digits.json`, built by `scripts/build_font_digits.py`) as 64x64 ink masks.

`font_training_images` turns each glyph into several MNIST-like 28x28 images: a random pen
(thinner or bolder), slant, rotation and width, then exactly the edge runtime's own
`preprocess` of a clean scan, so they look like what the runtime feeds the model. Every fifth
font (`font % 5 == 0`) is never trained on: benchmarks read those as writers the model never saw.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_edge.common.errors import DataError

ASSET = Path(__file__).resolve().parent / "assets" / "font_digits.npz"
HELD_OUT_EVERY = 5  # fonts with index % 5 == 0 are kept out of training
_WORK = 128  # side the glyph is varied at before the runtime's preprocessing


@dataclass(frozen=True)
class FontDigits:
    """The shipped glyphs: masks (N, 64, 64) uint8 ink 255 on 0, labels (N,), font index (N,)."""

    masks: np.ndarray
    labels: np.ndarray
    font: np.ndarray
    font_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def split(self, held_out: bool) -> FontDigits:
        """The glyphs of the held-out fonts (True) or of the training fonts (False)."""
        keep = (self.font % HELD_OUT_EVERY == 0) == held_out
        return FontDigits(self.masks[keep], self.labels[keep], self.font[keep], self.font_names)


def load_font_digits(path: Path = ASSET) -> FontDigits:
    """Load the glyph file, checking it is what `scripts/build_font_digits.py` writes."""
    try:
        with np.load(path, allow_pickle=False) as data:
            masks, labels, font = data["masks"], data["labels"], data["font"]
            names = tuple(str(n) for n in data["fonts"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"cannot read the font digits {path}: {exc}",
            hint="reinstall cnn-edge, or rebuild the file with scripts/build_font_digits.py",
        ) from exc
    if masks.ndim != 3 or not (len(masks) == len(labels) == len(font)) or labels.max(initial=0) > 9:
        raise DataError(f"{path} does not hold digit masks with labels 0-9",
                        hint="rebuild it with scripts/build_font_digits.py")
    return FontDigits(masks, labels.astype(np.int64), font.astype(np.int64), names)


def font_training_images(
    per_glyph: int, seed: int, glyphs: FontDigits | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`per_glyph` varied 28x28 images (uint8, white on black) of each training font's digits, and labels.

    Same seed, same images. A variant the runtime would answer "no digit" for (a pen so thin the
    strokes break up) is left out rather than trained on as a blank.
    """
    from cnn_edge.edge_runtime.preprocess import DEFAULT, preprocess
    from cnn_edge.testing.synthetic_photos import clean_scan

    glyphs = (glyphs or load_font_digits()).split(held_out=False)
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for mask, label in zip(glyphs.masks, glyphs.labels, strict=True):
        for _ in range(per_glyph):
            varied = vary_glyph(mask, rng)
            digit = preprocess(clean_scan(varied), DEFAULT)
            if digit is not None:
                images.append(digit)
                labels.append(label)
    if not images:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
    return np.stack(images), np.asarray(labels, np.uint8)


def vary_glyph(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One glyph drawn with another pen and hand: stroke width, rotation, slant and width changed.

    Ranges: a pen up to 3 px (of 128) thinner or 5 px bolder, since fonts' pens run from hairline
    to marker while MNIST's strokes are about an eighth of the digit's height; +-10 degrees;
    slant +-0.25; width +-20%. The camera augmentation adds its own on top in training.
    """
    import cv2

    m = cv2.resize(mask, (_WORK, _WORK), interpolation=cv2.INTER_CUBIC)
    k = int(rng.integers(-3, 6))
    if k > 0:
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    elif k < 0:
        thinner = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (1 - 2 * k, 1 - 2 * k)))
        if thinner.max() > 128:  # a hairline font would vanish
            m = thinner
    angle, slant = rng.uniform(-10, 10), rng.uniform(-0.25, 0.25)
    stretch = float(np.exp(rng.uniform(-0.2, 0.2)))
    c = _WORK / 2
    rotate = np.vstack([cv2.getRotationMatrix2D((c, c), angle, 1.0), [0, 0, 1]])
    shape = np.array(
        [[stretch, slant, c - stretch * c - slant * c], [0, 1 / stretch, c - c / stretch], [0, 0, 1]]
    )
    return cv2.warpAffine(m, (rotate @ shape)[:2], (_WORK, _WORK), flags=cv2.INTER_LINEAR, borderValue=0)
