"""Glyph sources: ink masks of digits (white ink on black, uint8, any size), each with its source.

MNIST's writers (`mnist_glyphs`), scikit-learn's 13 other writers (`sklearn_glyphs`, its 8x8
digits rebuilt as the 32x32 bitmaps they count) and OpenCV's Hershey fonts (`hershey_glyphs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np


@dataclass(frozen=True, eq=False)
class GlyphSet:
    """Digit ink masks with their labels and where each came from.

    `masks[i]` is a 2-D uint8 array, ink 255 on background 0, of any size (the renderer crops to
    the ink and rescales). `sources[i]` names the writer population, e.g. "mnist" or "sklearn".
    """

    masks: tuple[np.ndarray, ...]
    labels: np.ndarray
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (len(self.masks) == len(self.labels) == len(self.sources)):
            raise ValueError(
                f"masks, labels and sources differ in length: {len(self.masks)}, "
                f"{len(self.labels)}, {len(self.sources)}"
            )

    def __len__(self) -> int:
        return len(self.masks)

    def take(self, indices: Sequence[int] | np.ndarray) -> GlyphSet:
        """The samples at `indices`, in that order."""
        idx = [int(i) for i in indices]
        masks, sources = tuple(self.masks[i] for i in idx), tuple(self.sources[i] for i in idx)
        return GlyphSet(masks, self.labels[idx], sources)

    @staticmethod
    def concat(*sets: GlyphSet) -> GlyphSet:
        """All samples of `sets`, one after the other."""
        return GlyphSet(
            tuple(m for s in sets for m in s.masks),
            np.concatenate([s.labels for s in sets]).astype(np.int64),
            tuple(src for s in sets for src in s.sources),
        )


def as_glyph_set(
    glyphs: GlyphSet | np.ndarray | Sequence[np.ndarray],
    labels: Sequence[int] | np.ndarray | None = None,
    source: str = "custom",
) -> GlyphSet:
    """Accept a `GlyphSet`, or masks plus labels (an (N, H, W) array or a list of 2-D arrays)."""
    if isinstance(glyphs, GlyphSet):
        if labels is not None:
            raise ValueError("labels come with a GlyphSet; pass labels=None")
        return glyphs
    if labels is None:
        raise ValueError("labels are required when glyphs are plain arrays")
    masks = tuple(np.asarray(g, dtype=np.uint8) for g in glyphs)
    if any(m.ndim != 2 for m in masks):
        raise ValueError("every glyph mask must be a 2-D array")
    return GlyphSet(masks, np.asarray(labels, dtype=np.int64).reshape(-1), (source,) * len(masks))


def mnist_glyphs(images: np.ndarray, labels: Sequence[int] | np.ndarray, source: str = "mnist") -> GlyphSet:
    """MNIST-style digits (N, 28, 28) uint8, white on black, e.g. `load_mnist().x_test`, as glyphs.

    The 28x28 arrays are kept as they are: the renderer upsamples and re-sharpens them into crisp
    ink at whatever size the digit is drawn, which keeps 10,000 glyphs at 8 MB.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"expected (N, H, W) images, got shape {images.shape}")
    return as_glyph_set(images.astype(np.uint8, copy=False), labels, source)


def sklearn_glyphs(size: int = 96, smooth: float = 2.0) -> GlyphSet:
    """scikit-learn's 1,797 digits by 13 writers who are not MNIST's, rebuilt as the bitmaps they were.

    Each 8x8 image counts the inked pixels (0-16) in the 4x4 blocks of a 32x32 bitmap of the
    scanned digit (UCI optdigits). `sklearn_glyphs` rebuilds a 32x32 bitmap with exactly those
    counts, inking in each block the pixels where a smooth interpolation of the counts is highest,
    so every stroke the data records is there and none is invented; it is then drawn `size` pixels
    high with its pixel staircase rounded off by a Gaussian of `smooth` pixels (2 at 96: two
    thirds of a bitmap pixel; counted back into 4x4 blocks, the result is off by 0.15 of 16 pixels
    a block on average). An earlier renderer thinned the blurred data to centre lines and redrew
    them with a round pen; it dropped faint strokes (a 9's loop, an 8's waist) and lost at least one
    inked block in 73% of the glyphs (benchmarks/results/edge_runtime.md).
    Requires scikit-learn (a dev/test dependency). Built once per process (well under a second).
    """
    masks, labels = _sklearn_glyph_arrays(int(size), float(smooth))
    return GlyphSet(masks, labels.copy(), ("sklearn",) * len(masks))


@lru_cache(maxsize=4)
def _sklearn_glyph_arrays(size: int, smooth: float) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # optional: only benchmarks and tests need these digits
        raise ImportError(
            "sklearn_glyphs needs scikit-learn: pip install scikit-learn (or the project's [dev] extra)"
        ) from exc
    digits = load_digits()
    counts = np.rint(digits.images).astype(np.int64)
    masks = tuple(crop_to_ink(np.pad(_draw_bitmap(bitmap_from_block_counts(c), size, smooth), 4))
                  for c in counts)
    return masks, digits.target.astype(np.int64)


def bitmap_from_block_counts(counts: np.ndarray, block: int = 4) -> np.ndarray:
    """A boolean bitmap whose `block` x `block` tiles hold exactly `counts` (H, W) inked pixels.

    Within a tile, the pixels inked are those where a cubic interpolation of the counts (lightly
    blurred) is highest: ink gathers towards the neighbouring ink, so strokes stay connected.
    """
    h, w = counts.shape
    n = block * block
    if counts.min() < 0 or counts.max() > n:
        raise ValueError(f"block counts must lie in 0..{n}")
    padded = np.pad(counts.astype(np.float32), 1)
    field = cv2.resize(padded, ((w + 2) * block, (h + 2) * block), interpolation=cv2.INTER_CUBIC)
    field = cv2.GaussianBlur(field[block:-block, block:-block], (0, 0), 1.0)
    tiles = field.reshape(h, block, w, block).transpose(0, 2, 1, 3).reshape(h, w, n)
    rank = np.argsort(np.argsort(-tiles, axis=2, kind="stable"), axis=2, kind="stable")
    inked = rank < counts[:, :, None]
    return inked.reshape(h, w, block, block).transpose(0, 2, 1, 3).reshape(h * block, w * block)


def _draw_bitmap(bitmap: np.ndarray, size: int, smooth: float) -> np.ndarray:
    """The bitmap drawn `size` pixels high, its edges rounded by a Gaussian of `smooth` pixels."""
    scale = size / bitmap.shape[0]
    big = bitmap.astype(np.float32) * 255.0
    big = cv2.resize(big, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    if smooth > 0:
        big = cv2.GaussianBlur(big, (0, 0), smooth)
    # A steep ramp about half ink: crisp but anti-aliased edges, the renderer re-sharpens anyway.
    return np.clip((big - 127.5) * 4.0 + 127.5, 0, 255).astype(np.uint8)


HERSHEY_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
)


def hershey_glyphs(per_digit: int = 20, seed: int = 0) -> GlyphSet:
    """Digits in OpenCV's built-in Hershey fonts (print and script), with random slant and weight.

    Not handwriting, but a third, dependency-free population of digit shapes: printed-style digits
    a user may also write (a 1 with a flag and a foot, a closed 4). Source name "hershey".
    """
    rng = np.random.default_rng(seed)
    masks, labels = [], []
    for digit in range(10):
        for _ in range(per_digit):
            font = HERSHEY_FONTS[int(rng.integers(len(HERSHEY_FONTS)))]
            if rng.random() < 0.3:
                font |= cv2.FONT_ITALIC
            thickness, shear = int(rng.integers(4, 10)), float(rng.uniform(-0.25, 0.15))
            masks.append(_hershey_digit(str(digit), font, thickness, shear))
            labels.append(digit)
    return GlyphSet(tuple(masks), np.array(labels, dtype=np.int64), ("hershey",) * len(masks))


def _hershey_digit(text: str, font: int, thickness: int, shear: float) -> np.ndarray:
    canvas = np.zeros((160, 160), np.uint8)
    cv2.putText(canvas, text, (35, 125), font, 3.0, 255, thickness, cv2.LINE_AA)
    slant = np.float32([[1, shear, -shear * 80], [0, 1, 0]])  # shear about the middle row
    canvas = cv2.warpAffine(canvas, slant, (160, 160), flags=cv2.INTER_LINEAR)
    return crop_to_ink(canvas)


def crop_to_ink(mask: np.ndarray, level: int = 32, pad: int = 2) -> np.ndarray:
    """Crop to the bounding box of pixels >= `level`, keeping `pad` pixels around it."""
    ys, xs = np.nonzero(mask >= level)
    if len(ys) == 0:
        return mask
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, mask.shape[0])
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, mask.shape[1])
    return np.ascontiguousarray(mask[y0:y1, x0:x1])


def in_printed_box(glyph: np.ndarray, line: float = 0.04, width: float = 1.0,
                   margin: float = 0.35) -> np.ndarray:
    """`glyph` written in a box printed on a form: a rectangle round it, not touching it.

    The box is (1 + `margin`) times the digit's height tall and `width` times as wide as tall (at
    least the digit's width plus the same margin), its line `line` of its height thick, in the
    glyph's ink (the photo gives both the same pen, the harder case: a printed box is often lighter).
    """
    ink = crop_to_ink(np.asarray(glyph, dtype=np.uint8), pad=0)
    h, w = ink.shape
    box_h = int(round((1 + margin) * h))
    box_w = max(int(round(width * box_h)), int(round(w + margin * h)))
    canvas = np.zeros((box_h, box_w), np.uint8)
    y, x = (box_h - h) // 2, (box_w - w) // 2
    canvas[y:y + h, x:x + w] = ink
    thick = max(1, int(round(line * box_h)))
    cv2.rectangle(canvas, (thick // 2, thick // 2), (box_w - 1 - thick // 2, box_h - 1 - thick // 2),
                  int(ink.max()), thick)
    return canvas


def underlined(glyph: np.ndarray, line: float = 0.04, length: float = 1.5, gap: float = 0.15) -> np.ndarray:
    """`glyph` written over a line (a form's field, a line it is written on): a straight line
    `length` times the digit's height long, `gap` of it below the ink, `line` of it thick."""
    ink = crop_to_ink(np.asarray(glyph, dtype=np.uint8), pad=0)
    h, w = ink.shape
    thick = max(1, int(round(line * h)))
    width = max(w, int(round(length * h)))
    canvas = np.zeros((h + int(round(gap * h)) + thick, width), np.uint8)
    canvas[:h, (width - w) // 2:(width - w) // 2 + w] = ink
    canvas[-thick:, :] = int(ink.max())
    return canvas
