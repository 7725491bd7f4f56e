"""Grey uint8 images: conversion from any image array, shrinking, fast percentiles, the paper's
own brightness (a closing that holds at the edges), OpenCV threads.

Shared by the preprocessing steps and the card finder (`card`), which both work on grey uint8.
"""

from __future__ import annotations

import numpy as np


def use_one_opencv_thread() -> None:
    """Run OpenCV's functions single-threaded, process-wide (the edge runtime's setting).

    The runtime hands OpenCV small images (a ~288x288 camera region, a 28x28 digit): there its
    thread pool costs more than it saves. Measured on 2 cores: the camera region 1.06 -> 0.93 ms,
    640x480 photos 1.19 -> 1.10 ms, output identical on 1,857 bench images. The cores are better
    left to the camera thread and the interpreter.
    """
    import cv2

    cv2.setNumThreads(0)


def to_gray_u8(image: np.ndarray) -> np.ndarray | None:
    """Any 2-D or 3-D (1/3/4 channel) array of any numeric dtype -> uint8 grey; None if it is not an image."""
    import cv2

    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.size == 0 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        return None
    if a.dtype != np.uint8:
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) or np.iscomplexobj(a):
            return None
        a = _scale_to_u8(a)
    if a.ndim == 3:
        # OpenCV reads a camera frame's region in place (rows may be strided, pixels may not):
        # only a 4-channel image needs its first three channels copied out.
        bgr = a if a.shape[2] == 3 else np.ascontiguousarray(a[:, :, :3])
        a = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(a)


def _scale_to_u8(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint16:
        return (a >> 8).astype(np.uint8)
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    f = a.astype(np.float64)
    finite = np.isfinite(f)
    if not finite.all():
        f = np.where(finite, f, 0.0)
    lo, hi = float(f.min()), float(f.max())
    if np.issubdtype(a.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        f = f * 255.0  # float images conventionally hold 0..1
    elif lo < 0.0 or hi > 255.0:
        # Halved first: hi - lo overflows to inf (and the pixels to NaN) near the float's limits.
        # A span so small that 255/span overflows (subnormal numbers) is a flat image.
        gain = 255.0 / (hi / 2 - lo / 2) if hi > lo else np.inf
        f = (f / 2 - lo / 2) * gain if np.isfinite(gain) else np.zeros_like(f)
    return np.clip(f + 0.5, 0, 255).astype(np.uint8)


def resize_max(gray: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """`gray` shrunk to a long side near `size` (never above it), and the scale.

    Shrinking by a whole factor k makes each output pixel the plain mean of a k x k block:
    OpenCV's fast INTER_AREA path, bit-exact on every CPU and 20-30x cheaper than a fractional
    INTER_AREA (the camera region's 288 -> 160 px alone cost about a fifth of the whole
    preprocessing). k is the nearest whole factor, so the long side lands between 0.75 and 1
    x `size` (a 640x480 photo: exactly 160x120 as before; the camera's 288 px region: 144). At
    most k-1 rows and columns at the far edges are dropped to make the sizes divide, so a point
    of the small image maps back by dividing by the scale. An image less than 1.5x too large
    takes one bilinear step to `size` instead.
    """
    import cv2

    h, w = gray.shape
    k = int(max(h, w) / size + 0.5)
    if k < 2:
        if max(h, w) <= size:
            return gray, 1.0
        # Less than 1.5x too large (a card cut out of the camera's region): bilinear, bit-exact
        # on every CPU, does not alias at so small a step, and the search then runs on `size`.
        scale = size / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        return cv2.resize(gray, (nw, nh), interpolation=cv2.INTER_LINEAR_EXACT), scale
    nh, nw = max(1, h // k), max(1, w // k)
    block = gray[: nh * k, : nw * k]
    return cv2.resize(block, (nw, nh), interpolation=cv2.INTER_AREA), 1.0 / k


def shrink_to(gray: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """`gray` shrunk to a long side of exactly `size`, and the scale (the paper search's view).

    A whole-factor block mean first (OpenCV's fast INTER_AREA path), then one bilinear step for
    the rest: 288 -> 144 -> 128 px costs a sixth of a fractional INTER_AREA 288 -> 128 and
    differs from it by a grey level or two; the search judges outlines, not detail.
    """
    import cv2

    h, w = gray.shape
    scale = min(1.0, size / max(h, w))
    if scale >= 1.0:
        return gray, 1.0
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    k = min(h // nh, w // nw)
    if k < 2:
        return cv2.resize(gray, (nw, nh), interpolation=cv2.INTER_AREA), scale
    block = cv2.resize(gray[: h // k * k, : w // k * k], (w // k, h // k), interpolation=cv2.INTER_AREA)
    if block.shape == (nh, nw):
        return block, scale
    # The rest is less than 2x: bilinear (bit-exact on every CPU) no longer aliases there.
    return cv2.resize(block, (nw, nh), interpolation=cv2.INTER_LINEAR_EXACT), scale


def percentiles_u8(gray: np.ndarray, ps: tuple[float, ...]) -> list[int]:
    """Percentiles of a uint8 image (a 256-bin histogram: ~10x faster than np.percentile here)."""
    hist = np.bincount(gray.ravel(), minlength=256).cumsum()
    total = hist[-1]
    return [int(np.searchsorted(hist, total * p / 100.0)) for p in ps]


def closing_to_the_edge(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A morphological closing that also holds at the image's edges.

    OpenCV's default border lets both halves of a closing ignore what lies outside, so within a
    kernel of an edge the closing keeps the dilation's brighter values: paper that darkens
    towards the edge (vignetting, a shadow, a gradient) comes out darker than its "paper", a
    band of ink along the edge, which swallowed digits near it and joined big ones to it. The
    image continued outward (edge pixels repeated) keeps the closing of a gradient the gradient.
    """
    import cv2

    ry, rx = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = cv2.copyMakeBorder(image, ry, ry, rx, rx, cv2.BORDER_REPLICATE)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)
    return closed[ry:ry + image.shape[0], rx:rx + image.shape[1]]


def half(small: np.ndarray) -> np.ndarray:
    """`small` at half resolution, where the paper is estimated (it varies slowly)."""
    import cv2

    h, w = small.shape
    return cv2.resize(small, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def paper_kernel(shape: tuple[int, int], widest_stroke: int | None = None) -> np.ndarray:
    """The paper estimate's square kernel, wider than any stroke, for the half-resolution image of `shape`.

    `widest_stroke` (pixels of the image of `shape`): where the caller knows how wide a stroke may
    be (a photo cropped to its digit); otherwise a sixth of the image's shorter side at half
    resolution, a third at full (a digit framed by a camera is a third of the view or less).
    """
    import cv2

    k = max(3, ((widest_stroke or min(shape) // 3) // 2) | 1)
    return cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))


def paper_at_half(small: np.ndarray, widest_stroke: int | None = None) -> np.ndarray:
    """The paper's own brightness, ink painted over, at half the resolution of `small`.

    A morphological closing wider than any stroke: it erases the dark strokes but, unlike a plain
    max filter, keeps the edges of big dark areas (a shadow, the desk beside a card). Used by the
    photo path to measure ink against its local paper (`preprocess.paper.ink_darkness`) and by
    the card search to tell a page under a shadow from a room (`card._light_step`).
    """
    return closing_to_the_edge(half(small), paper_kernel(small.shape, widest_stroke))
