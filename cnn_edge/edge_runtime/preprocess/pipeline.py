"""The steps in order: a photo (or a camera region) in, MNIST's 28x28 out, or None."""

from __future__ import annotations

import numpy as np

from cnn_edge.edge_runtime.card import find_paper
from cnn_edge.edge_runtime.pixels import percentiles_u8, resize_max, to_gray_u8
from cnn_edge.edge_runtime.preprocess.config import DEFAULT, MIN_INK_LEVELS, PreprocessConfig
from cnn_edge.edge_runtime.preprocess.fit import fit_and_center, soft_strokes
from cnn_edge.edge_runtime.preprocess.paper import InkDepth, ink_darkness
from cnn_edge.edge_runtime.preprocess.polarity import is_light_on_dark
from cnn_edge.edge_runtime.preprocess.select import select_digit


def preprocess(image: np.ndarray, config: PreprocessConfig = DEFAULT) -> np.ndarray | None:
    """Photo (H,W) grey or (H,W,3) BGR, any dtype -> (28,28) uint8 white-on-black digit, or None."""
    import cv2

    gray = to_gray_u8(image)
    if gray is None or min(gray.shape) < 8:
        return None  # too small to hold a readable digit (a 1x1 image, a thin strip)
    light_paper = False
    if config.find_card:
        paper = find_paper(gray)
        if paper is None:
            return None  # no card or page in view: the room itself holds no digit
        light_paper = paper is not gray  # a card was cut out: bright paper by construction
        gray = paper
    shrunk = resize_max(gray, config.work_size)
    if not light_paper and is_light_on_dark(shrunk[0]):
        gray = cv2.bitwise_not(gray)
        shrunk = (cv2.bitwise_not(shrunk[0]), shrunk[1])
    return _preprocess_gray(gray, config, allow_refine=True, shrunk=shrunk)


def center_roi(frame: np.ndarray, fraction: float) -> tuple[int, int, int, int]:
    """The centred square (x, y, side, side) covering `fraction` of the frame's shorter side."""
    h, w = frame.shape[:2]
    side = max(1, min(h, w, int(round(min(h, w) * fraction))))
    return (w - side) // 2, (h - side) // 2, side, side


def _preprocess_gray(
    gray: np.ndarray,
    cfg: PreprocessConfig,
    allow_refine: bool,
    shrunk: tuple[np.ndarray, float] | None = None,
) -> np.ndarray | None:
    """Dark ink on light paper -> 28x28; `shrunk` is `resize_max(gray)` when the caller has it."""
    import cv2

    small, scale = shrunk if shrunk is not None else resize_max(gray, cfg.work_size)
    h, w = small.shape

    # 1. Polarity was settled once, on the whole view (see `is_light_on_dark`): the image is
    #    dark ink on light paper from here on.
    paper = small

    # 2. Separate ink from paper under uneven light (see `paper.ink_darkness`).
    dark, dark8, bg8 = ink_darkness(paper)

    # 3. Threshold: Otsu between ink and paper, but never below `min_ink`, so that a blank
    #    page's noise (which Otsu happily splits in two) is not called ink. (OpenCV compares
    #    8-bit pixels with the floor of a fractional threshold: the same test as `> thr`.)
    otsu, binary = cv2.threshold(dark8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    thr = max(float(otsu), cfg.min_ink * 255.0)
    if thr > otsu:
        _, binary = cv2.threshold(dark8, thr, 1, cv2.THRESH_BINARY)

    # 4. Find the digit: all of its strokes (a 5's separate bar, a 4 drawn in two strokes,
    #    pen breaks), not just the largest piece; but not specks, borders, or card edges.
    ink_depth = InkDepth(paper, bg8, cfg.dim_paper)  # lit paper's floor, or dim paper's
    keep = select_digit(binary, dark, bg8, paper, cfg, ink_depth)
    if keep is None:
        return None
    x0, y0, x1, y1, mask = keep  # `mask`: the digit's pixels within its box
    bh, bw = y1 - y0, x1 - x0
    if max(bh, bw) < max(5, cfg.min_digit_frac * max(h, w)):
        return None
    box = (slice(y0, y1), slice(x0, x1))
    # Medians and percentiles from 256-bin histograms of whole grey levels: np.median and
    # np.percentile sort, and cost more than the rest of this function together.
    ink8 = dark8[box][mask]
    contrast8, ink60 = percentiles_u8(ink8, (50, 60))
    if contrast8 < cfg.min_contrast * 255.0:
        return None
    # Relative darkness means nothing in the dark: a lens cap's noise is "30% darker" too.
    # Real ink differs from its paper by enough grey levels (`InkDepth`). (Whole grey levels:
    # OpenCV's saturating subtraction is clip(bgf - paper, 0, 255) exactly; and the median is
    # below a level exactly when at least half the pixels are, which a count answers without
    # a histogram; the dim-paper level is only worked out when lit paper's is missed.)
    depth8 = cv2.subtract(bg8[box], paper[box])[mask]
    half = depth8.size * 0.5
    shallow_for_lit_paper = np.count_nonzero(depth8 < MIN_INK_LEVELS) >= half
    if shallow_for_lit_paper and np.count_nonzero(depth8 < ink_depth.dim_levels()) >= half:
        return None

    # A small digit in a big photo: cut it out of the full-resolution image and start again,
    # so its strokes are measured at their real resolution rather than a few shrunk pixels.
    if allow_refine and scale < 1.0 and max(bh, bw) < 0.45 * max(h, w):
        margin = 0.6 * max(bh, bw)
        H, W = gray.shape
        gx0 = max(0, int((x0 - margin) / scale))
        gy0 = max(0, int((y0 - margin) / scale))
        gx1 = min(W, int((x1 + margin) / scale) + 1)
        gy1 = min(H, int((y1 + margin) / scale) + 1)
        return _preprocess_gray(gray[gy0:gy1, gx0:gx1], cfg, allow_refine=False)

    # 5. Grey levels like MNIST's anti-aliased strokes, then MNIST's framing.
    return fit_and_center(soft_strokes(dark[box], mask, thr, ink60))

