"""Synthetic camera photos of handwritten digits: dark ink on light paper, as a phone or webcam sees it.

We have no camera and no real photos, so the edge runtime's preprocessing (photo -> MNIST-like 28x28)
is measured on images made here. Three parts:

* Glyph sources: ink masks (white ink on black, uint8, any size) of digits by MNIST's writers
  (`mnist_glyphs`), by scikit-learn's 13 other writers (`sklearn_glyphs`, its 8x8 digits rebuilt as
  the 32x32 bitmaps they count) and OpenCV's built-in Hershey fonts (`hershey_glyphs`,
  printed/script style). Each sample carries its source name.
* Rendering: `render_photo` puts one glyph on paper at a random size, place, angle, ink, lighting,
  blur, noise, JPEG quality and frame size, drawn from a `PhotoRanges` (presets `EASY`, `DEFAULT`,
  `HARD`); `render_blank` makes photos with no digit in them.
* Files: `make_photo_set`/`make_blank_set` write a labelled folder of images, `make_card_video` an
  MJPG video of digit cards held up in the middle of the frame, with the label of every frame.

Everything random goes through one `np.random.Generator`, so a seed gives the same pixels. Only
numpy and OpenCV are needed; scikit-learn only for `sklearn_glyphs`.

Known limit: scikit-learn's digits are 8x8 reductions of box-filling 32x32 bitmaps; many 1s
carry a long flag, some 4s are closed and some 9s have small loops or curled tails. Cut straight
to 28x28 (no camera at all), the default MNIST int8 model reads about 95% of them and a
`train --augment` model about 97.4%: the ceiling for any preprocessing on photos of them; MNIST
test glyphs reach 99.4% the same way.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from cnn_edge.common.atomic import atomic_path, write_bytes, write_text
from cnn_edge.trainer.scans import clean_scan  # noqa: F401 (the benchmarks' clean rows use it from here)

Size = tuple[int, int]  # (width, height), OpenCV's order
Range = tuple[float, float]

# ------------------------------------------------------------------------------------------------
# Glyphs
# ------------------------------------------------------------------------------------------------


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
    masks = tuple(_crop_to_ink(np.pad(_draw_bitmap(bitmap_from_block_counts(c), size, smooth), 4))
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
    return _crop_to_ink(canvas)


def _crop_to_ink(mask: np.ndarray, level: int = 32, pad: int = 2) -> np.ndarray:
    """Crop to the bounding box of pixels >= `level`, keeping `pad` pixels around it."""
    ys, xs = np.nonzero(mask >= level)
    if len(ys) == 0:
        return mask
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, mask.shape[0])
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, mask.shape[1])
    return np.ascontiguousarray(mask[y0:y1, x0:x1])


# ------------------------------------------------------------------------------------------------
# Photo parameters
# ------------------------------------------------------------------------------------------------

FRAME_SIZES: tuple[Size, ...] = (
    (640, 480), (1280, 720), (320, 240), (480, 640), (800, 600), (720, 1280), (1024, 768), (960, 540),
)
# Small frames dominate: they are what webcams and the Pi stream, and they render fastest.
FRAME_WEIGHTS: tuple[float, ...] = (0.30, 0.12, 0.18, 0.12, 0.10, 0.04, 0.06, 0.08)


@dataclass(frozen=True)
class PhotoRanges:
    """How much each photo may vary; every field is (low, high) or a probability.

    Lengths relative to the digit (blur, stroke) are fractions of the digit's height in pixels, so
    a setting means the same legibility at any frame size. Light values are reflectances (0..1).
    """

    frame_sizes: tuple[Size, ...] = FRAME_SIZES
    frame_weights: tuple[float, ...] = FRAME_WEIGHTS
    digit_height: Range = (0.15, 0.70)  # of the frame height; also at least `min_digit_px`
    min_digit_px: int = 28  # below this a user would move the paper closer
    aspect: Range = (0.85, 1.15)  # width stretch of the glyph
    rotation_deg: Range = (-12.0, 12.0)  # paper not square to the camera
    perspective: Range = (0.0, 0.06)  # corner jitter, fraction of digit size (camera tilt)
    margin: float = 0.02  # min gap between digit and frame edge, fraction of the frame's short side
    stroke_scale: Range = (0.75, 1.3)  # pen width relative to the glyph's own
    paper_brightness: Range = (0.75, 0.97)
    paper_tint: float = 0.025  # max per-channel deviation (cream, grey, bluish paper)
    paper_texture: Range = (0.0, 0.04)  # amplitude of blotchy fibre texture
    ink_darkness: Range = (0.6, 0.95)  # share of light the ink absorbs (pencil ~0.6, marker ~0.95)
    ink_unevenness: Range = (0.0, 0.25)  # ballpoint skips and pressure changes
    blue_ink_prob: float = 0.3
    exposure: Range = (0.6, 1.15)  # overall light; 1.0 puts white paper near 255 (some clip)
    gradient: Range = (0.0, 0.45)  # light falling off across the frame
    vignette: Range = (0.0, 0.35)  # corners darker than the centre
    shadow_prob: float = 0.25
    shadow_strength: Range = (0.15, 0.45)  # a phone's or hand's soft shadow
    color_temperature: float = 0.1  # max red-vs-blue gain shift (warm lamp +, cold daylight -)
    defocus: Range = (0.0, 0.02)  # Gaussian sigma, fraction of digit height
    motion_prob: float = 0.25
    motion: Range = (0.01, 0.05)  # motion blur length, fraction of digit height
    read_noise: Range = (1.0, 6.0)  # Gaussian sensor noise std, in 0-255 units
    shot_noise: Range = (0.0, 0.5)  # signal-dependent noise: variance = shot * value
    jpeg_prob: float = 0.9
    jpeg_quality: tuple[int, int] = (40, 95)
    grey_prob: float = 0.2  # single-channel output (grey cameras, scanned greys)
    lines_prob: float = 0.12  # ruled or squared paper
    line_contrast: Range = (0.04, 0.14)
    card_edge_prob: float = 0.1  # the paper ends and the desk shows beside the digit
    desk_brightness: Range = (0.1, 0.5)


DEFAULT = PhotoRanges()
EASY = replace(
    DEFAULT,
    digit_height=(0.3, 0.6), rotation_deg=(-5.0, 5.0), perspective=(0.0, 0.02), stroke_scale=(0.9, 1.2),
    ink_darkness=(0.8, 0.95), ink_unevenness=(0.0, 0.1), exposure=(0.8, 1.05), gradient=(0.0, 0.2),
    vignette=(0.0, 0.15), shadow_prob=0.0, defocus=(0.0, 0.008), motion_prob=0.0, read_noise=(1.0, 3.0),
    shot_noise=(0.0, 0.2), jpeg_quality=(75, 95), lines_prob=0.0, card_edge_prob=0.0,
)
HARD = replace(
    DEFAULT,
    digit_height=(0.12, 0.8), rotation_deg=(-20.0, 20.0), perspective=(0.0, 0.1), stroke_scale=(0.65, 1.6),
    ink_darkness=(0.45, 0.95), ink_unevenness=(0.0, 0.4), exposure=(0.4, 1.15), gradient=(0.0, 0.6),
    vignette=(0.0, 0.5), shadow_prob=0.4, shadow_strength=(0.2, 0.55), defocus=(0.0, 0.03), motion_prob=0.4,
    motion=(0.02, 0.08), read_noise=(2.0, 10.0), shot_noise=(0.0, 1.0), jpeg_quality=(30, 90),
    lines_prob=0.25, card_edge_prob=0.25,
)
PRESETS = {"easy": EASY, "default": DEFAULT, "hard": HARD}


@dataclass(frozen=True)
class PhotoParams:
    """One photo's concrete settings, drawn by `sample_params`; see `PhotoRanges` for meanings."""

    frame_size: Size
    digit_height: float  # fraction of the frame height
    min_digit_px: int
    aspect: float
    rotation_deg: float
    corner_jitter: tuple[float, ...]  # 8 values, fractions of the digit size
    centre: tuple[float, float]  # fractions of the free room for the digit, 0..1 each
    margin: float  # min gap to the frame edge, fraction of the short side
    stroke_scale: float
    paper_bgr: tuple[float, float, float]
    paper_texture: float
    ink_bgr: tuple[float, float, float]  # reflectance of fully absorbing ink
    ink_darkness: float
    ink_unevenness: float
    exposure: float
    gradient: float
    gradient_angle: float
    vignette: float
    shadow: float  # 0 = none
    shadow_angle: float
    shadow_offset: float  # where the shadow edge crosses, -0.5..0.5 of the frame diagonal
    cast_bgr: tuple[float, float, float]
    defocus: float  # sigma, fraction of digit height
    motion: float  # length, fraction of digit height; 0 = none
    motion_angle: float
    read_noise: float
    shot_noise: float
    jpeg_quality: int | None  # None = no JPEG compression
    grey: bool
    lines: str | None  # None, "ruled" or "grid"
    line_contrast: float
    line_spacing: float  # fraction of digit height
    card_edge: bool
    desk_bgr: tuple[float, float, float]

    @property
    def digit_px(self) -> float:
        """The digit's height in pixels (before it is shrunk to fit a narrow frame)."""
        return max(self.digit_height * self.frame_size[1], float(self.min_digit_px))


def sample_params(rng: np.random.Generator, ranges: PhotoRanges = DEFAULT) -> PhotoParams:
    """Draw one photo's settings from `ranges`."""
    r = ranges
    weights = np.asarray(r.frame_weights, dtype=np.float64)
    frame = r.frame_sizes[int(rng.choice(len(r.frame_sizes), p=weights / weights.sum()))]
    paper = _uniform(rng, r.paper_brightness)
    blue = rng.random() < r.blue_ink_prob
    # Ink reflectance: blue ballpoint absorbs red and green more than blue; "black" is never perfect.
    ink = (0.55, 0.28, 0.18) if blue else tuple(float(v) for v in rng.uniform(0.02, 0.12, 3))
    lines = None
    if rng.random() < r.lines_prob:
        lines = "grid" if rng.random() < 0.4 else "ruled"
    return PhotoParams(
        frame_size=(int(frame[0]), int(frame[1])),
        digit_height=_uniform(rng, r.digit_height),
        min_digit_px=r.min_digit_px,
        aspect=_uniform(rng, r.aspect),
        rotation_deg=_uniform(rng, r.rotation_deg),
        corner_jitter=tuple(float(v) for v in rng.uniform(-1, 1, 8) * _uniform(rng, r.perspective)),
        centre=(float(rng.random()), float(rng.random())),
        margin=r.margin,
        stroke_scale=_uniform(rng, r.stroke_scale),
        paper_bgr=tuple(float(np.clip(paper + v, 0, 1)) for v in rng.uniform(-r.paper_tint, r.paper_tint, 3)),
        paper_texture=_uniform(rng, r.paper_texture),
        ink_bgr=ink,
        ink_darkness=_uniform(rng, r.ink_darkness),
        ink_unevenness=_uniform(rng, r.ink_unevenness),
        exposure=_uniform(rng, r.exposure),
        gradient=_uniform(rng, r.gradient),
        gradient_angle=float(rng.uniform(0, 2 * np.pi)),
        vignette=_uniform(rng, r.vignette),
        shadow=_uniform(rng, r.shadow_strength) if rng.random() < r.shadow_prob else 0.0,
        shadow_angle=float(rng.uniform(0, 2 * np.pi)),
        shadow_offset=float(rng.uniform(-0.4, 0.4)),
        cast_bgr=_cast(rng, r.color_temperature),
        defocus=_uniform(rng, r.defocus),
        motion=_uniform(rng, r.motion) if rng.random() < r.motion_prob else 0.0,
        motion_angle=float(rng.uniform(0, np.pi)),
        read_noise=_uniform(rng, r.read_noise),
        shot_noise=_uniform(rng, r.shot_noise),
        jpeg_quality=_jpeg_quality(rng, r),
        grey=bool(rng.random() < r.grey_prob),
        lines=lines,
        line_contrast=_uniform(rng, r.line_contrast),
        line_spacing=float(rng.uniform(0.5, 1.2)),
        card_edge=bool(rng.random() < r.card_edge_prob),
        desk_bgr=tuple(float(v) for v in _uniform(rng, r.desk_brightness) * rng.uniform(0.7, 1.2, 3)),
    )


def _cast(rng: np.random.Generator, temperature: float) -> tuple[float, float, float]:
    """Per-channel gains (B, G, R) of the light: warm/cold along blue-red, a trace of green."""
    t = float(rng.uniform(-temperature, temperature))
    return (1 - t, 1 + float(rng.uniform(-0.02, 0.02)), 1 + t)


def _jpeg_quality(rng: np.random.Generator, r: PhotoRanges) -> int | None:
    if rng.random() >= r.jpeg_prob:
        return None
    return int(rng.integers(r.jpeg_quality[0], r.jpeg_quality[1] + 1))


def _uniform(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


# ------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Photo:
    """A rendered photo before JPEG compression, with what was drawn where.

    `image` is (H, W, 3) BGR uint8, or (H, W) when `params.grey`. `bbox` is the digit's ink box
    (x0, y0, x1, y1) in pixels, None for a blank.
    """

    image: np.ndarray
    params: PhotoParams
    bbox: tuple[int, int, int, int] | None


def render_photo(glyph: np.ndarray, rng: np.random.Generator, ranges: PhotoRanges = DEFAULT,
                 **overrides: object) -> np.ndarray:
    """A photo of `glyph` (ink mask, white on black) written on paper, as a camera delivers it.

    Settings are drawn from `ranges`; keyword `overrides` fix any `PhotoParams` field (e.g.
    `frame_size=(640, 480)`, `grey=False`, `jpeg_quality=None`). Returns BGR uint8 (H, W, 3), or
    (H, W) grey when the drawn `grey` is true, JPEG-compressed at the drawn quality.
    """
    photo = render_photo_info(glyph, rng, ranges, **overrides)
    return jpeg_roundtrip(photo.image, photo.params.jpeg_quality)


def render_photo_info(glyph: np.ndarray, rng: np.random.Generator, ranges: PhotoRanges = DEFAULT,
                      **overrides: object) -> Photo:
    """Like `render_photo`, but uncompressed and with the settings and the digit's box."""
    params = replace(sample_params(rng, ranges), **overrides)
    w, h = params.frame_size
    alpha = _place_ink(glyph, params)
    bbox = _bbox(alpha)
    reflect = _paper(params, rng, avoid=bbox)
    reflect = _apply_ink(reflect, alpha, params, rng)
    return Photo(_camera(reflect, params, rng), params, bbox)


def render_blank(rng: np.random.Generator, kind: str | None = None, ranges: PhotoRanges = DEFAULT,
                 **overrides: object) -> np.ndarray:
    """A photo with no digit: kind "paper", "lined" (a faint ruled line or grid), "noise" or "dark".

    `kind=None` picks one (paper 40%, lined 30%, noise 15%, dark 15%). Paper kinds get the same
    light, blur, noise and JPEG as `render_photo`, but never a card edge (the desk would be a
    large dark shape that no runtime could tell from a fat stroke). Same return type as there.
    """
    return jpeg_roundtrip(*_render_blank(rng, kind, ranges, **overrides))


BLANK_KINDS = ("paper", "lined", "noise", "dark")


def _render_blank(rng: np.random.Generator, kind: str | None, ranges: PhotoRanges,
                  **overrides: object) -> tuple[np.ndarray, int | None]:
    if kind is None:
        kind = BLANK_KINDS[int(rng.choice(4, p=[0.4, 0.3, 0.15, 0.15]))]
    if kind not in BLANK_KINDS:
        raise ValueError(f"unknown blank kind {kind!r}; expected one of {', '.join(BLANK_KINDS)}")
    params = replace(sample_params(rng, ranges), card_edge=False, **overrides)
    if kind in ("paper", "lined"):
        params = replace(params, lines=(params.lines or "ruled") if kind == "lined" else None)
        reflect = _paper(params, rng, avoid=None)
        return _camera(reflect, params, rng), params.jpeg_quality
    w, h = params.frame_size
    # A lens cap or a dark room (dark), or a high-gain sensor seeing nothing in particular (noise).
    if kind == "dark":
        level, sigma = rng.uniform(2, 35), rng.uniform(1, 4)
    else:
        level, sigma = rng.uniform(60, 170), rng.uniform(8, 25)
    img = level + sigma * rng.standard_normal((h, w, 3), dtype=np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if params.grey:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img, params.jpeg_quality


def jpeg_roundtrip(image: np.ndarray, quality: int | None) -> np.ndarray:
    """Encode and decode as JPEG at `quality` (None: return `image` unchanged)."""
    if quality is None:
        return image
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    flag = cv2.IMREAD_GRAYSCALE if image.ndim == 2 else cv2.IMREAD_COLOR
    return cv2.imdecode(buf, flag)


def _place_ink(glyph: np.ndarray, p: PhotoParams) -> np.ndarray:
    """Ink coverage (0..1 float32, frame-sized) of the glyph at its size, angle and place."""
    w, h = p.frame_size
    mask = _crop_to_ink(np.asarray(glyph, dtype=np.uint8), level=int(np.max(glyph)) // 4 + 1, pad=0)
    digit_h = p.digit_px
    digit_w = digit_h * mask.shape[1] / mask.shape[0] * p.aspect
    # Corners of the digit box around its centre, tilted, then jittered for perspective.
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * [digit_w / 2, digit_h / 2]
    corners = corners + np.reshape(p.corner_jitter, (4, 2)) * [digit_w, digit_h]
    a = math.radians(p.rotation_deg)
    corners = corners @ np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    # Shrink if the tilted box would not fit (tall digits in portrait frames), then place it.
    margin = p.margin * min(w, h)
    span = corners.max(axis=0) - corners.min(axis=0)
    fit = min(1.0, (w - 2 * margin) / span[0], (h - 2 * margin) / span[1])
    corners, span = corners * fit, span * fit
    room = np.array([w, h]) - 2 * margin - span
    offset = margin - corners.min(axis=0) + room * np.array(p.centre)
    dst = (corners + offset).astype(np.float32)
    stroke = _stroke_mask(mask, (digit_w * fit, digit_h * fit), p.stroke_scale)
    sh, sw = stroke.shape
    src = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
    homography = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(stroke, homography, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)


def _stroke_mask(mask: np.ndarray, size: tuple[float, float], stroke_scale: float) -> np.ndarray:
    """Rescale a soft ink mask to `size` (w, h) as crisp ink with its pen width scaled.

    Thresholding the smoothly rescaled mask gives sharp outlines at any magnification; a signed
    distance to that outline moves it in or out to thicken or thin the pen, and leaves a one-pixel
    anti-aliased edge. Small digits are worked at twice the size and averaged down.
    """
    super_ = 2 if size[1] < 160 else 1
    tw, th = max(int(round(size[0] * super_)), 2), max(int(round(size[1] * super_)), 2)
    interp = cv2.INTER_AREA if th < mask.shape[0] else cv2.INTER_CUBIC
    big = cv2.resize(mask, (tw, th), interpolation=interp)
    pad = max(int(0.1 * th), 2)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    inside = (big >= 128).astype(np.uint8)
    signed = cv2.distanceTransform(inside, cv2.DIST_L2, 5) - cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    # A typical pen stroke is ~12% of the digit height; scale its half-width.
    offset = (stroke_scale - 1.0) * 0.06 * th
    ink = np.clip(signed + offset + 0.5, 0.0, 1.0).astype(np.float32)
    if super_ > 1:
        ink = cv2.resize(ink, (ink.shape[1] // super_, ink.shape[0] // super_), interpolation=cv2.INTER_AREA)
    return ink[pad // super_: ink.shape[0] - pad // super_, pad // super_: ink.shape[1] - pad // super_]


def _bbox(alpha: np.ndarray, level: float = 0.25) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(alpha >= level)
    if len(ys) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _paper(p: PhotoParams, rng: np.random.Generator, avoid: tuple[int, int, int, int] | None) -> np.ndarray:
    """Paper reflectance (H, W, 3 float32): tint, fibre texture, optional lines and desk edge."""
    w, h = p.frame_size
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = p.paper_bgr
    if p.paper_texture > 0:
        paper *= (1 + p.paper_texture * _smooth_noise(rng, (h, w), cell=max(min(w, h) // 60, 2)))[..., None]
    if p.lines:
        paper = _draw_lines(paper, p, rng)
    if p.card_edge and avoid is not None:
        paper = _draw_card_edge(paper, p, rng, avoid)
    return paper


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Noise in -1..1 (roughly) with blobs of about `cell` pixels: made small, scaled up smoothly."""
    h, w = shape
    small = rng.standard_normal((h // cell + 2, w // cell + 2), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(-2.5, 2.5) / 2.5


def _draw_lines(paper: np.ndarray, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    """Faint ruled lines (or a grid) along the paper's tilt, in grey-blue like an exercise book."""
    h, w = paper.shape[:2]
    spacing = max(p.line_spacing * p.digit_px, 8.0)
    thickness = max(1, int(round(min(w, h) / 400)))
    lines = np.zeros((h, w), np.float32)
    diag = int(math.hypot(w, h))
    a = math.radians(p.rotation_deg)
    along, across = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    start = float(rng.uniform(0, spacing))
    directions = [(along, across), (across, along)] if p.lines == "grid" else [(along, across)]
    for line_dir, step_dir in directions:
        for k in np.arange(-diag / 2 + start, diag / 2, spacing):
            centre = np.array([w / 2, h / 2]) + step_dir * k
            p0, p1 = centre - line_dir * diag, centre + line_dir * diag
            cv2.line(lines, _pt(p0), _pt(p1), 1.0, thickness, cv2.LINE_AA, shift=4)
    colour = np.array([0.85, 0.75, 0.65], np.float32) if rng.random() < 0.6 else np.full(3, 0.7, np.float32)
    # Multiply: a line darkens the paper by `line_contrast` at most, tinted.
    return paper * (1 - p.line_contrast * lines[..., None] * (1.6 - colour))


def _pt(xy: np.ndarray) -> tuple[int, int]:
    """A point in OpenCV's 4-bit fixed point (`shift=4`), for sub-pixel anti-aliased lines."""
    return int(round(xy[0] * 16)), int(round(xy[1] * 16))


def _draw_card_edge(paper: np.ndarray, p: PhotoParams, rng: np.random.Generator,
                    avoid: tuple[int, int, int, int]) -> np.ndarray:
    """Where the paper ends: the desk beyond a straight edge on a side with room beside the digit."""
    h, w = paper.shape[:2]
    x0, y0, x1, y1 = avoid
    gap = 0.15 * p.digit_px
    rooms = {"left": x0 - gap, "right": w - x1 - gap, "top": y0 - gap, "bottom": h - y1 - gap}
    side, room = max(rooms.items(), key=lambda kv: kv[1])
    if room < 0.05 * min(w, h):
        return paper
    depth = float(rng.uniform(0.2, 0.7)) * room  # how much desk shows, measured from the frame edge
    tilt = math.tan(math.radians(float(rng.uniform(-8, 8))))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if side in ("left", "right"):
        edge = depth + tilt * (ys - h / 2)
        dist = edge - (xs if side == "left" else (w - 1 - xs))
    else:
        edge = depth + tilt * (xs - w / 2)
        dist = edge - (ys if side == "top" else (h - 1 - ys))
    desk = np.clip(dist + 0.5, 0, 1)[..., None]  # 1 on the desk, anti-aliased edge
    texture = 1 + 0.15 * _smooth_noise(rng, (h, w), cell=max(min(w, h) // 30, 2))
    desk_colour = np.array(p.desk_bgr, np.float32) * texture[..., None]
    return paper * (1 - desk) + desk_colour * desk


def _apply_ink(paper: np.ndarray, alpha: np.ndarray, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    """Ink absorbs a share of the light the paper would reflect, a little unevenly along strokes.

    Works in place on the digit's box only: elsewhere there is no ink, and frames are large.
    """
    box = _bbox(alpha, level=1e-3)
    if box is None:
        return paper
    x0, y0, x1, y1 = box
    strength = alpha[y0:y1, x0:x1] * p.ink_darkness
    if p.ink_unevenness > 0:
        cell = max(int(p.digit_px / 8), 2)
        strength *= 1 - p.ink_unevenness * (0.5 + 0.5 * _smooth_noise(rng, (y1 - y0, x1 - x0), cell))
    absorb = 1 - np.array(p.ink_bgr, np.float32)
    paper[y0:y1, x0:x1] *= 1 - strength[..., None] * absorb
    return paper


def _camera(reflect: np.ndarray, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    """Light, optics and sensor: reflectance (H, W, 3) -> uint8 BGR (or grey) image.

    Works in place on `reflect` (float32 arrays of a 1280x720 frame are 11 MB each).
    """
    h, w = reflect.shape[:2]
    img = reflect
    img *= _illumination(p, (h, w))[..., None]
    img *= np.array(p.cast_bgr, np.float32) * 255.0
    img = _blur(img, p)
    img = _sensor_noise(img, p, rng)
    np.clip(img, 0, 255, out=img)
    img = img.astype(np.uint8)  # truncation after +0.5 rounding inside _sensor_noise
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if p.grey else img


def _illumination(p: PhotoParams, shape: tuple[int, int]) -> np.ndarray:
    """Light falling on each pixel: exposure x gradient x vignette x shadow (float32, H x W)."""
    h, w = shape
    # Coordinates in units of the frame's half-diagonal, centred, computed on a coarse grid and
    # resized: the light field is smooth, and this keeps a 1280x720 frame cheap.
    gh, gw = max(h // 8, 2), max(w // 8, 2)
    half_diag = math.hypot(w, h) / 2
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    ys = (ys * (h / gh) - h / 2) / half_diag
    xs = (xs * (w / gw) - w / 2) / half_diag
    ramp = xs * math.cos(p.gradient_angle) + ys * math.sin(p.gradient_angle)  # -1..1
    light = p.exposure * (1 - p.gradient * (ramp + 1) / 2) * (1 - p.vignette * (xs**2 + ys**2))
    if p.shadow > 0:
        d = xs * math.cos(p.shadow_angle) + ys * math.sin(p.shadow_angle) - p.shadow_offset
        light *= 1 - p.shadow / (1 + np.exp(-d / 0.06))  # soft-edged half-plane
    return cv2.resize(light.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _blur(img: np.ndarray, p: PhotoParams) -> np.ndarray:
    """Defocus (Gaussian) plus optional motion blur (a line kernel), sized to the digit."""
    sigma = 0.4 + p.defocus * p.digit_px  # 0.4 px: no lens is perfectly sharp
    img = cv2.GaussianBlur(img, (0, 0), sigma)
    length = p.motion * p.digit_px
    if length >= 1.5:
        k = int(math.ceil(length)) | 1
        kernel = np.zeros((k, k), np.float32)
        c = k // 2
        dx, dy = math.cos(p.motion_angle) * length / 2, math.sin(p.motion_angle) * length / 2
        cv2.line(kernel, _pt(np.array([c - dx, c - dy])), _pt(np.array([c + dx, c + dy])), 1.0, 1,
                 cv2.LINE_AA, shift=4)
        img = cv2.filter2D(img, -1, kernel / kernel.sum())
    return img


def _sensor_noise(img: np.ndarray, p: PhotoParams, rng: np.random.Generator) -> np.ndarray:
    """Read noise plus shot noise (variance grows with the signal), in place. Colour noise is
    coarser, as a camera's demosaicing and denoising leave it."""
    h, w = img.shape[:2]
    std = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    np.maximum(std, 0, out=std)
    std *= p.shot_noise
    std += p.read_noise**2
    np.sqrt(std, out=std)
    luma = rng.standard_normal((h, w), dtype=np.float32)
    luma *= std
    luma += 0.5  # so that the truncating cast to uint8 rounds
    chroma = rng.standard_normal(((h + 1) // 2, (w + 1) // 2, 3), dtype=np.float32)
    chroma = cv2.resize(chroma, (w, h), interpolation=cv2.INTER_LINEAR)
    chroma *= 0.5 * std[..., None]
    img += luma[..., None]
    img += chroma
    return img


# ------------------------------------------------------------------------------------------------
# Photo sets on disk
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetItem:
    """One written image: its path, the digit in it (None: no digit) and the glyph source."""

    path: Path
    label: int | None
    source: str


LABELS_FILE = "labels.csv"


def make_photo_set(
    out_dir: str | os.PathLike[str],
    glyphs: GlyphSet | np.ndarray | Sequence[np.ndarray],
    labels: Sequence[int] | np.ndarray | None = None,
    n: int | None = None,
    seed: int = 0,
    *,
    ranges: PhotoRanges = DEFAULT,
    layout: str = "csv",
    fmt: str = "jpg",
    **overrides: object,
) -> list[SetItem]:
    """Write `n` photos of glyphs (each glyph at most once while n <= len(glyphs)) and `labels.csv`.

    `glyphs` is a `GlyphSet` (then `labels` is None) or masks plus `labels`. `layout="csv"` writes
    `OUT/00000.jpg ...`; `layout="folders"` writes `OUT/<label>/00000.jpg ...`; both write
    `OUT/labels.csv` (file,label,source, paths relative to OUT) last, so its presence means the
    set is complete. `fmt="jpg"` saves at the photo's drawn JPEG quality (95 when it has none);
    `fmt="png"` saves losslessly after the drawn JPEG round trip. Returns one `SetItem` per image.
    """
    gs = as_glyph_set(glyphs, labels)
    n = len(gs) if n is None else int(n)
    rng = np.random.default_rng(seed)
    order = _glyph_order(rng, len(gs), n)
    items = []
    for i, g in enumerate(order):
        photo = render_photo_info(gs.masks[g], rng, ranges, **overrides)
        label = int(gs.labels[g])
        quality = photo.params.jpeg_quality
        items.append(_write_image(out_dir, i, photo.image, quality, label, gs.sources[g], layout, fmt))
    _write_labels(out_dir, items)
    return items


def make_blank_set(
    out_dir: str | os.PathLike[str],
    n: int,
    seed: int = 0,
    *,
    ranges: PhotoRanges = DEFAULT,
    layout: str = "csv",
    fmt: str = "jpg",
    **overrides: object,
) -> list[SetItem]:
    """Write `n` photos with no digit (see `render_blank`) and `labels.csv` with empty labels.

    In the folders layout they go to `OUT/none/`; the source column names the blank's kind.
    """
    rng = np.random.default_rng(seed)
    items = []
    for i in range(int(n)):
        kind = BLANK_KINDS[int(rng.choice(4, p=[0.4, 0.3, 0.15, 0.15]))]
        image, quality = _render_blank(rng, kind, ranges, **overrides)
        items.append(_write_image(out_dir, i, image, quality, None, f"blank-{kind}", layout, fmt))
    _write_labels(out_dir, items)
    return items


def _glyph_order(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    """Glyph indices for n photos: a random permutation, repeated (reshuffled) if n > count."""
    if count == 0:
        raise ValueError("no glyphs to render")
    rounds = -(-n // count) if n else 0
    return np.concatenate([rng.permutation(count) for _ in range(rounds)] or [np.zeros(0, int)])[:n]


def _write_image(out_dir: str | os.PathLike[str], index: int, image: np.ndarray, quality: int | None,
                 label: int | None, source: str, layout: str, fmt: str) -> SetItem:
    if layout not in ("csv", "folders"):
        raise ValueError(f"layout must be 'csv' or 'folders', not {layout!r}")
    if fmt not in ("jpg", "png"):
        raise ValueError(f"fmt must be 'jpg' or 'png', not {fmt!r}")
    folder = Path(out_dir)
    if layout == "folders":
        folder = folder / ("none" if label is None else str(label))
    path = folder / f"{index:05d}.{fmt}"
    if fmt == "jpg":
        quality = 95 if quality is None else int(quality)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    else:
        ok, buf = cv2.imencode(".png", jpeg_roundtrip(image, quality))
    if not ok:
        raise RuntimeError(f"OpenCV could not encode {path.name}")
    write_bytes(path, buf.tobytes())
    return SetItem(path, label, source)


def _write_labels(out_dir: str | os.PathLike[str], items: Sequence[SetItem]) -> Path:
    out = Path(out_dir)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", "label", "source"])
    for item in items:
        label = "" if item.label is None else item.label
        writer.writerow([item.path.relative_to(out).as_posix(), label, item.source])
    return write_text(out / LABELS_FILE, buf.getvalue())


def read_labels(out_dir: str | os.PathLike[str]) -> list[SetItem]:
    """Read back a set's `labels.csv` (absolute paths; label None for blanks)."""
    out = Path(out_dir)
    with open(out / LABELS_FILE, newline="", encoding="utf-8") as fh:
        return [
            SetItem(out / row["file"], int(row["label"]) if row["label"] else None, row["source"])
            for row in csv.DictReader(fh)
        ]


# ------------------------------------------------------------------------------------------------
# Card video
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoRanges:
    """How the held-up cards vary. Fractions of the frame height unless said otherwise."""

    card_height: Range = (0.28, 0.38)  # the runtime's default region fits a card of ~1/3 height
    card_aspect: Range = (0.7, 1.0)  # width / height
    digit_on_card: Range = (0.55, 0.75)  # digit height / card height
    offset: Range = (-0.04, 0.04)  # where the card is held, from the frame centre
    rotation_deg: Range = (-8.0, 8.0)
    jitter: Range = (0.005, 0.02)  # hand tremor amplitude
    jitter_rotation_deg: float = 2.0
    stroke_scale: Range = (0.9, 1.5)  # markers on cards run thicker than pens
    ink_darkness: Range = (0.8, 0.95)
    thumb_prob: float = 0.5  # a thumb over the card's bottom margin
    light_swing: Range = (0.0, 0.15)  # slow exposure change over the video
    exposure: Range = (0.7, 1.05)
    background_blur: Range = (1.5, 4.0)  # the room behind is out of focus, sigma in pixels
    read_noise: Range = (1.5, 5.0)
    mjpg_quality: int = 85


def make_card_video(
    path: str | os.PathLike[str],
    glyphs: GlyphSet | np.ndarray | Sequence[np.ndarray],
    labels: Sequence[int] | np.ndarray | None = None,
    frames_per_card: int = 30,
    size: Size = (640, 480),
    fps: float = 30.0,
    seed: int = 0,
    *,
    gap_frames: int = 0,
    ranges: VideoRanges = VideoRanges(),  # noqa: B008  (frozen, so a shared default is safe)
) -> list[int | None]:
    """Write an MJPG .avi of digit cards held up in the middle of the frame, one card per glyph.

    Each card is shown for `frames_per_card` frames with hand tremor, a slight tilt, changing
    light, a cluttered out-of-focus room behind and sensor noise; `gap_frames` frames of the bare
    room follow each card. Returns the label of every frame (None in gaps). Written atomically.
    """
    gs = as_glyph_set(glyphs, labels)
    rng = np.random.default_rng(seed)
    w, h = size
    room = _room_background(rng, (h, w), ranges)
    light_phase, light_swing = float(rng.uniform(0, 2 * np.pi)), _uniform(rng, ranges.light_swing)
    exposure = _uniform(rng, ranges.exposure)
    lamp = replace(sample_params(rng, DEFAULT), frame_size=(w, h), exposure=1.0, shadow=0.0)
    gradient = _illumination(lamp, (h, w))  # fixed for the video: the room's lamps do not move
    per_frame: list[int | None] = []
    target = Path(path)
    with atomic_path(target) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), float(fps), (w, h))
        if not writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write MJPG video to {target}")
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, ranges.mjpg_quality)
        try:
            t = 0
            for mask, label in zip(gs.masks, gs.labels, strict=True):
                card = _Card.make(mask, rng, ranges, (h, w))
                for f in range(frames_per_card + gap_frames):
                    shown = f < frames_per_card
                    light = exposure * (1 + light_swing * math.sin(light_phase + t / fps * 0.8)) * gradient
                    scene = card.draw(room, f / fps, (h, w)) if shown else room
                    writer.write(_video_camera(scene, light, rng, ranges))
                    per_frame.append(int(label) if shown else None)
                    t += 1
        finally:
            writer.release()
    return per_frame


def _room_background(rng: np.random.Generator, shape: tuple[int, int], r: VideoRanges) -> np.ndarray:
    """A desk/room-like reflectance image: a grainy base, furniture-like shapes, out of focus."""
    h, w = shape
    base = _muted_colour(rng, 0.2, 0.6)
    grain = _smooth_noise(rng, (h, max(w // 12, 2)), cell=3)  # streaks like wood grain or fabric
    shade = 1 + 0.25 * cv2.resize(grain, (w, h)) + 0.2 * _smooth_noise(rng, (h, w), h // 6)
    room = base * shade[..., None]
    for _ in range(int(rng.integers(6, 14))):
        colour = tuple(float(v) for v in _muted_colour(rng, 0.05, 0.9))
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        kind = rng.random()
        if kind < 0.45:  # books, screens, boxes
            rw, rh = int(rng.uniform(0.05, 0.35) * w), int(rng.uniform(0.05, 0.35) * h)
            box = cv2.boxPoints(((cx, cy), (rw, rh), float(rng.uniform(-30, 30)))).astype(np.int32)
            cv2.fillConvexPoly(room, box, colour, cv2.LINE_AA)
        elif kind < 0.8:  # mugs, lamps, plants
            axes = (int(rng.uniform(0.03, 0.12) * w), int(rng.uniform(0.03, 0.15) * h))
            cv2.ellipse(room, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        else:  # cables, shelf edges
            x2, y2 = int(rng.uniform(0, w)), int(rng.uniform(0, h))
            cv2.line(room, (cx, cy), (x2, y2), colour, int(rng.integers(2, 8)), cv2.LINE_AA)
    return cv2.GaussianBlur(np.clip(room, 0, 1), (0, 0), _uniform(rng, r.background_blur))


def _muted_colour(rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """A BGR colour of brightness in [low, high] with the modest saturation of real rooms."""
    grey = rng.uniform(low, high)
    return np.clip(grey * (1 + rng.uniform(-0.35, 0.35, 3)), 0, 1).astype(np.float32)


@dataclass(frozen=True, eq=False)
class _Card:
    """One card: its face (reflectance), its rest pose, and the tremor that moves it."""

    face: np.ndarray  # (ch, cw, 3) float32
    centre: tuple[float, float]  # pixels
    rotation: float  # degrees
    tremor: np.ndarray  # (axis x/y/angle, amplitude/frequency Hz/phase, 3 sinusoids)
    thumb: tuple[float, float] | None  # position along the bottom edge (0..1), size (of card width)
    skin: tuple[float, float, float]

    @staticmethod
    def make(mask: np.ndarray, rng: np.random.Generator, r: VideoRanges, frame: tuple[int, int]) -> _Card:
        h, w = frame
        ch = _uniform(rng, r.card_height) * h
        cw = ch * _uniform(rng, r.card_aspect)
        face_params = replace(
            sample_params(rng, DEFAULT),
            frame_size=(int(round(cw)), int(round(ch))),
            digit_height=_uniform(rng, r.digit_on_card),
            rotation_deg=float(rng.uniform(-4, 4)),
            corner_jitter=(0.0,) * 8,
            centre=(float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.35, 0.65))),
            stroke_scale=_uniform(rng, r.stroke_scale),
            paper_bgr=tuple(float(v) for v in rng.uniform(0.86, 0.97, 3)),
            ink_darkness=_uniform(rng, r.ink_darkness),
            lines=None, card_edge=False,
        )
        alpha = _place_ink(mask, face_params)
        face = _apply_ink(_paper(face_params, rng, avoid=None), alpha, face_params, rng)
        # Tremor: per axis, 3 sinusoids of 0.3-4 Hz whose amplitudes add up to about `jitter`.
        amp = np.array([_uniform(rng, r.jitter) * h] * 2 + [r.jitter_rotation_deg])
        tremor = np.stack([
            rng.dirichlet(np.ones(3), 3) * amp[:, None],
            rng.uniform(0.3, 4.0, (3, 3)),
            rng.uniform(0, 2 * np.pi, (3, 3)),
        ], axis=1)
        thumb = None
        if rng.random() < r.thumb_prob:
            thumb = (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.25, 0.35)))
        return _Card(
            face=face,
            centre=(w / 2 + _uniform(rng, r.offset) * h, h / 2 + _uniform(rng, r.offset) * h),
            rotation=_uniform(rng, r.rotation_deg),
            tremor=tremor,
            thumb=thumb,
            skin=tuple(float(v) for v in np.array([0.45, 0.55, 0.75]) * rng.uniform(0.5, 1.1)),
        )

    def _wobble(self, t: float, axis: int) -> float:
        """Hand tremor on `axis` (0: x, 1: y, 2: angle) at `t` seconds: a sum of slow sinusoids."""
        amp, freq, phase = self.tremor[axis]
        return float(np.sum(amp * np.sin(2 * np.pi * freq * t + phase)))

    def draw(self, room: np.ndarray, t: float, frame: tuple[int, int]) -> np.ndarray:
        """The room with the card (and thumb) at time `t` seconds."""
        h, w = frame
        ch, cw = self.face.shape[:2]
        cx, cy = self.centre[0] + self._wobble(t, 0), self.centre[1] + self._wobble(t, 1)
        angle = math.radians(self.rotation + self._wobble(t, 2))
        rot = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
        corners = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
        dst = (corners @ rot + [cx, cy]).astype(np.float32)
        src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
        hom = cv2.getPerspectiveTransform(src, dst)
        face = cv2.warpPerspective(self.face, hom, (w, h), flags=cv2.INTER_LINEAR)
        cover = cv2.warpPerspective(np.ones((ch, cw), np.float32), hom, (w, h), flags=cv2.INTER_LINEAR)
        scene = room * (1 - cover[..., None]) + face * cover[..., None]
        if self.thumb is not None:
            self._draw_thumb(scene, dst, angle)
        return scene

    def _draw_thumb(self, scene: np.ndarray, corners: np.ndarray, angle: float) -> None:
        """A thumb holding the card: an ellipse whose tip covers part of the bottom margin."""
        along, size = self.thumb
        cw = float(np.linalg.norm(corners[2] - corners[3]))
        axes = (int(size * cw / 2), int(size * cw * 1.2))
        bottom = corners[3] + (corners[2] - corners[3]) * along
        down = np.array([-math.sin(angle), math.cos(angle)])  # the card's "down" in the frame
        centre = bottom + down * axes[1] * 0.6  # so the thumb's tip covers the bottom margin
        cv2.ellipse(scene, (int(centre[0]), int(centre[1])), axes, math.degrees(angle), 0, 360,
                    self.skin, -1, cv2.LINE_AA)


def _video_camera(scene: np.ndarray, light: np.ndarray, rng: np.random.Generator,
                  r: VideoRanges) -> np.ndarray:
    """Light, a little softness and noise for one video frame (uint8 BGR)."""
    img = scene * (light[..., None] * 255.0)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    noise = rng.standard_normal(img.shape[:2], dtype=np.float32) * _uniform(rng, r.read_noise)
    return np.clip(img + noise[..., None] + 0.5, 0, 255).astype(np.uint8)


__all__ = [
    "BLANK_KINDS", "DEFAULT", "EASY", "HARD", "PRESETS", "GlyphSet", "Photo", "PhotoParams", "PhotoRanges",
    "SetItem", "VideoRanges", "as_glyph_set", "hershey_glyphs", "jpeg_roundtrip", "make_blank_set",
    "make_card_video", "make_photo_set", "mnist_glyphs", "read_labels", "render_blank", "render_photo",
    "render_photo_info", "sample_params", "sklearn_glyphs",
]
