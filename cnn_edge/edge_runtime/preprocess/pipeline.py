"""The steps in order: a photo (or a camera region) in, MNIST's 28x28 out, or None."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnn_edge.edge_runtime.card import find_paper
from cnn_edge.edge_runtime.pixels import paper_at_half, percentiles_u8, resize_max, to_gray_u8
from cnn_edge.edge_runtime.preprocess.config import (
    DEFAULT,
    MIN_INK_LEVELS,
    THIN_NOISE_MULTIPLE,
    TIGHT_EDGE,
    TIGHT_PAD,
    TIGHT_SPAN,
    TIGHT_TOUCH,
    PreprocessConfig,
)
from cnn_edge.edge_runtime.preprocess.fit import fit_and_center, soft_strokes
from cnn_edge.edge_runtime.preprocess.paper import (
    InkDepth,
    ink_darkness,
    only_paper_and_ink,
    paper_hidden_by_strokes,
    pixel_noise,
)
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
    paper_half = paper_at_half(shrunk[0])  # step 2's paper estimate, also asked whether strokes hid it
    found = _preprocess_gray(gray, config, allow_refine=True, shrunk=shrunk, paper_half=paper_half)
    if config.tight_crops and (found is None or _could_be_tight_crop(found.box, gray.shape)
                               or _strokes_hid_paper(shrunk, paper_half, found.box)):
        found = _as_tight_crop(shrunk, paper_half, config) or found
    if found is None and config.thin_strokes:
        found = _as_thin_strokes(gray, shrunk[1], config)
    return None if found is None else found.digit


class _Found(NamedTuple):
    """The 28x28 input, and the digit's box (x0, y0, x1, y1) in the grey image it was cut from."""

    digit: np.ndarray
    box: tuple[int, int, int, int]


def _could_be_tight_crop(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> bool:
    """Whether a digit found at `box` may be (part of) a tightly cropped one: it touches an edge
    (a fragment of a crop's digit does), or it comes within TIGHT_EDGE of the image's longest
    side to an edge and spans TIGHT_SPAN of the height, as a crop's digit does (a full photo's
    digit is smaller: it is not looked at twice)."""
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    gap = min(x0, y0, w - x1, h - y1)
    return gap <= TIGHT_TOUCH * max(h, w) or (y1 - y0 >= TIGHT_SPAN * h and gap <= TIGHT_EDGE * max(h, w))


def _as_tight_crop(shrunk: tuple[np.ndarray, float], paper_half: np.ndarray, cfg: PreprocessConfig,
                   ) -> _Found | None:
    """A second look at a photo cropped tightly round its digit: the same steps with paper around it.

    Cut to the digit (by a user, or a data set), the strokes run into the image's edge: the paper
    around them, which step 2 measures ink against, is missing there, and a stroke along the edge
    looks like the desk or a card's rim to step 4. With the photo's paper continued round it both
    work as on a full photo. Taken only when the digit found then spans the picture as a crop's
    digit does (TIGHT_SPAN of its height, half that of its width): a dash or a ruled line reaching
    across an empty page does not. Looked at in the shrunk copy the search runs on (`shrunk`,
    with its scale; `paper_half`, its usual paper estimate): such a digit is big there, and a
    48-megapixel photo is never copied whole. A crop's digit fills it, so a marker's strokes may
    be wider than the usual paper estimate sees past (the digit came out hollow, or in pieces):
    when that look finds nothing, or a digit on paper that its strokes hid
    (`paper.paper_hidden_by_strokes`), it is taken again with an estimate as wide as the crop.
    Not always: on a whole view a room's furniture is wider than the usual estimate too, and the
    wide one would call it ink.
    """
    small, scale = shrunk
    usual = _padded_look(small, cfg, widest_stroke=None)
    if (usual is None or paper_hidden_by_strokes(small, usual.box, paper_half)) and only_paper_and_ink(small):
        usual = _padded_look(small, cfg, widest_stroke=min(small.shape)) or usual
    return None if usual is None else _Found(usual.digit, _unshrunk(usual.box, scale))


def _strokes_hid_paper(shrunk: tuple[np.ndarray, float], paper_half: np.ndarray,
                       box: tuple[int, int, int, int]) -> bool:
    """Whether the first look's digit (`box`, full-image pixels) may be a piece of a crop's digit
    whose strokes the usual paper estimate (`paper_half`) took for paper
    (`paper.paper_hidden_by_strokes`)."""
    small, scale = shrunk
    x0, y0, x1, y1 = box
    in_small = (int(x0 * scale), int(y0 * scale), int(np.ceil(x1 * scale)), int(np.ceil(y1 * scale)))
    return paper_hidden_by_strokes(small, in_small, paper_half) and only_paper_and_ink(small)


def _padded_look(small: np.ndarray, cfg: PreprocessConfig, widest_stroke: int | None) -> _Found | None:
    """`_as_tight_crop`'s look with a paper estimate wider than `widest_stroke` (None: the usual);
    the digit's box in `small`'s pixels."""
    import cv2

    h, w = small.shape
    pad = max(2, int(round(TIGHT_PAD * max(h, w))))
    # The paper continues outward as it is at the edge (strokes erased, shadows and falloff
    # kept): a constant border would make a shadowed edge of a whole photo look like ink.
    paper = cv2.resize(paper_at_half(small, widest_stroke), (w, h), interpolation=cv2.INTER_LINEAR_EXACT)
    padded = cv2.copyMakeBorder(paper, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    padded[pad:pad + h, pad:pad + w] = small
    padded_half = None if widest_stroke is None else paper_at_half(padded, widest_stroke)
    found = _preprocess_gray(padded, cfg, allow_refine=False, shrunk=(padded, 1.0), paper_half=padded_half)
    if found is None:
        return None
    x0, y0, x1, y1 = (v - pad for v in found.box)
    if y1 - y0 < TIGHT_SPAN * h or x1 - x0 < 0.5 * TIGHT_SPAN * w:
        return None
    return _Found(found.digit, (x0, y0, x1, y1))


def _as_thin_strokes(gray: np.ndarray, scale: float, cfg: PreprocessConfig) -> _Found | None:
    """Another look at a photo in which the earlier looks found no digit: its strokes may be
    thinner than a pixel of the shrunk copy the search runs on.

    Shrunk by k, a pixel is the mean of a k x k block, so a ballpoint stroke 1.5 px of 6 is a
    quarter as deep there as on the paper and fails the depth a stroke needs. Here each pixel
    first takes the darkest of its k x k neighbourhood (an erosion), so a thin stroke keeps its
    depth through the mean and shows a pixel or two wide, as MNIST's strokes are. The darkest of
    a block also turns a noisy page's grain into dark blotches: the digit's ink must stand
    THIN_NOISE_MULTIPLE times that copy's pixel noise deep (`_deep_enough`). A photo
    no larger than the work size has nothing averaged away and is not looked at again.
    """
    import cv2

    k = round(1 / scale)
    if k < 2:
        return None
    darkest = cv2.erode(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    return _preprocess_gray(darkest, cfg, allow_refine=True, thin=True)


def _deep_enough(depth8: np.ndarray, ink_depth: InkDepth, noise_of: np.ndarray | None) -> bool:
    """Whether the digit's pixels (`depth8`: how far below their paper, whole grey levels) are ink.

    Relative darkness means nothing in the dark: a lens cap's noise is "30% darker" too. Real ink
    differs from its paper by enough grey levels (`InkDepth`). (OpenCV's saturating subtraction
    gives clip(bgf - paper, 0, 255) exactly; the median is below a level exactly when at least
    half the pixels are, which a count answers without a histogram; the dim-paper level is only
    worked out when lit paper's is missed.) `noise_of`: the thin-stroke look's first pass, whose
    median depth must be THIN_NOISE_MULTIPLE times that image's pixel noise (else blotches of a
    grainy page's darkest pixels, not strokes; judged before any re-cut).
    """
    half = depth8.size * 0.5
    shallow_for_lit_paper = np.count_nonzero(depth8 < MIN_INK_LEVELS) >= half
    if shallow_for_lit_paper and np.count_nonzero(depth8 < ink_depth.dim_levels()) >= half:
        return False
    return noise_of is None or percentiles_u8(depth8, (50,))[0] >= THIN_NOISE_MULTIPLE * pixel_noise(noise_of)


def _refine_crop(box: tuple[int, int, int, int], frame: tuple[int, int, int, int] | None, scale: float,
                 shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Where a small digit found in the shrunk copy (`box`) is cut out of the full image: with
    paper round it, and the whole of a frame round it (a box on a form; a frame cut by the crop's
    edge is no longer closed, and its sides would join the digit)."""
    x0, y0, x1, y1 = box
    margin = 0.6 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
    if frame is not None:
        pad = 0.05 * max(frame[2] - frame[0], frame[3] - frame[1]) + 1
        x0, y0 = min(x0, frame[0] - pad), min(y0, frame[1] - pad)
        x1, y1 = max(x1, frame[2] + pad), max(y1, frame[3] + pad)
    H, W = shape[:2]
    return (max(0, int(x0 / scale)), max(0, int(y0 / scale)),
            min(W, int(x1 / scale) + 1), min(H, int(y1 / scale) + 1))


def _unshrunk(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    """A box found in a copy shrunk by `scale`, in the original image's pixels (rounded outward)."""
    x0, y0, x1, y1 = box
    return int(x0 / scale), int(y0 / scale), int(np.ceil(x1 / scale)), int(np.ceil(y1 / scale))


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
    thin: bool = False,
    paper_half: np.ndarray | None = None,
) -> _Found | None:
    """Dark ink on light paper -> 28x28; `shrunk` is `resize_max(gray)` when the caller has it,
    `paper_half` its paper estimate (`paper_at_half`); `thin`: the thin-stroke look's rules
    (`_as_thin_strokes`)."""
    import cv2

    small, scale = shrunk if shrunk is not None else resize_max(gray, cfg.work_size)
    h, w = small.shape

    # 1. Polarity was settled once, on the whole view (see `is_light_on_dark`): the image is
    #    dark ink on light paper from here on.
    paper = small

    # 2. Separate ink from paper under uneven light (see `paper.ink_darkness`).
    dark, dark8, bg8 = ink_darkness(paper, paper_half)

    # 3. Threshold: Otsu between ink and paper, but never below `min_ink`, so that a blank
    #    page's noise (which Otsu happily splits in two) is not called ink. (OpenCV compares
    #    8-bit pixels with the floor of a fractional threshold: the same test as `> thr`.)
    otsu, binary = cv2.threshold(dark8, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    thr = max(float(otsu), cfg.min_ink * 255.0)
    if thr > otsu:
        _, binary = cv2.threshold(dark8, thr, 1, cv2.THRESH_BINARY)

    # 4. Find the digit: all of its strokes (a 5's separate bar, a 4 drawn in two strokes,
    #    pen breaks), not just the largest piece; but not specks, borders, or card edges.
    ink_depth = InkDepth(paper, bg8, cfg.dim_paper, any_paper=thin)  # lit paper's floor, or dim paper's
    keep = select_digit(binary, dark, bg8, paper, cfg, ink_depth)
    if keep is None:
        return None
    x0, y0, x1, y1, mask, frame = keep  # `mask`: the digit's pixels within its box
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
    depth8 = cv2.subtract(bg8[box], paper[box])[mask]
    if not _deep_enough(depth8, ink_depth, noise_of=small if thin and allow_refine else None):
        return None

    # A small digit in a big photo: cut it out of the full-resolution image and start again,
    # so its strokes are measured at their real resolution rather than a few shrunk pixels.
    if allow_refine and scale < 1.0 and max(bh, bw) < 0.45 * max(h, w):
        gx0, gy0, gx1, gy1 = _refine_crop((x0, y0, x1, y1), frame, scale, gray.shape)
        found = _preprocess_gray(gray[gy0:gy1, gx0:gx1], cfg, allow_refine=False, thin=thin)
        if found is None:
            return None
        fx0, fy0, fx1, fy1 = found.box
        return _Found(found.digit, (fx0 + gx0, fy0 + gy0, fx1 + gx0, fy1 + gy0))

    # 5. Grey levels like MNIST's anti-aliased strokes, then MNIST's framing.
    digit = fit_and_center(soft_strokes(dark[box], mask, thr, ink60))
    if digit is None:
        return None
    return _Found(digit, _unshrunk((x0, y0, x1, y1), scale))  # the search ran on a shrunk copy

