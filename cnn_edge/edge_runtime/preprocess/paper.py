"""Step 2: the paper's own brightness under uneven light, so ink is measured against its local paper."""

from __future__ import annotations

import numpy as np

from cnn_edge.edge_runtime.pixels import paper_at_half, percentiles_u8
from cnn_edge.edge_runtime.preprocess.config import (
    DIM_INK_LEVELS,
    DIM_INK_NOISE_MULTIPLE,
    DIM_PAPER_LEVELS,
    MIN_INK_LEVELS,
    TIGHT_HIDDEN,
    TIGHT_MIDTONES,
)


def ink_darkness(paper: np.ndarray, paper_half: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pixel's darkness relative to its local paper: (dark 0-1 float32, dark as uint8, paper >= 8).

    The paper's own brightness is `pixels.paper_at_half` (a closing wider than any stroke, at
    half resolution: the paper varies slowly), or `paper_half` where the caller has one. A
    shadow dims paper and ink alike, so the ratio stays put where a global threshold would
    swallow half the page.
    """
    import cv2

    h, w = paper.shape
    bg = paper_at_half(paper) if paper_half is None else paper_half
    # INTER_LINEAR_EXACT: plain INTER_LINEAR rounds differently on aarch64 (NEON) than on
    # x86, which flipped camera labels under Pi emulation; the exact variant agrees bit for bit.
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR_EXACT)
    bg8 = cv2.max(bg, 8)  # np.maximum(bg, 8), at a third of the cost on uint8
    bgf = bg8.astype(np.float32)
    # dark = clip(1 - paper / bgf, 0, 1), in place (this runs on every pixel); 1 - a ratio
    # of non-negatives is at most 1, so only the lower bound can bite.
    dark = paper.astype(np.float32)
    np.divide(dark, bgf, out=dark)
    np.subtract(1.0, dark, out=dark)
    np.maximum(dark, 0.0, out=dark)
    dark8 = (dark * 255.0).astype(np.uint8)
    return dark, dark8, bg8


class InkDepth:
    """How many grey levels below its paper a pen stroke reaches in this image.

    On lit paper, `MIN_INK_LEVELS`: a dark frame's noise (a lens cap) can be "30% darker" than
    its surroundings, but never that many levels, and a shallower piece on lit paper is a
    shadow's edge. In a dim room (the paper's median below `DIM_PAPER_LEVELS`) the paper is only
    a few dozen levels and a stroke's depth can fall below that, so a shallower piece still
    counts when it is `DIM_INK_NOISE_MULTIPLE` times the image's pixel noise deep (and
    `DIM_INK_LEVELS` at least). Worked out only for such a piece: most photos never pay for it.
    `any_paper`: the noise decides on lit paper too (the thin-stroke look, whose own noise gate
    keeps a shadow's edge out; `pipeline._as_thin_strokes`).
    """

    def __init__(self, paper: np.ndarray, paper_light: np.ndarray, dim_paper: bool = True,
                 any_paper: bool = False) -> None:
        self._paper = paper  # the image, dark ink on light paper
        self._paper_light = paper_light  # its paper's brightness (`ink_darkness`' third array)
        self._dim_levels: float | None = None if dim_paper else MIN_INK_LEVELS
        self._lit_floor = not any_paper

    def enough(self, levels: float) -> bool:
        """Whether ink `levels` deep (a piece's mean, or the digit's median) is a pen stroke."""
        if levels >= MIN_INK_LEVELS:
            return True
        return levels >= DIM_INK_LEVELS and levels >= self.dim_levels()

    def dim_levels(self) -> float:
        """The depth a stroke reaches here: lit paper's floor, or dim paper's noise-based one."""
        if (self._dim_levels is None and self._lit_floor
                and percentiles_u8(self._paper_light, (50.0,))[0] >= DIM_PAPER_LEVELS):
            self._dim_levels = MIN_INK_LEVELS  # lit paper
        if self._dim_levels is None:
            noise_floor = DIM_INK_NOISE_MULTIPLE * pixel_noise(self._paper)
            self._dim_levels = min(MIN_INK_LEVELS, max(DIM_INK_LEVELS, noise_floor))
        return self._dim_levels


def pixel_noise(gray: np.ndarray) -> float:
    """The image's pixel noise (standard deviation, grey levels) from neighbouring pixels.

    Neighbours differ by noise alone on paper, which is most of the image: the median absolute
    difference of horizontal neighbours, scaled as for Gaussian noise (sqrt(2) sigma for a
    difference, 0.6745 sigma for a median absolute value), ignores the strokes' edges.
    """
    import cv2

    diff = cv2.absdiff(gray[:, 1:], gray[:, :-1])
    (median,) = percentiles_u8(diff, (50.0,))
    return float(median) / (0.6745 * np.sqrt(2.0))


def paper_hidden_by_strokes(small: np.ndarray, box: tuple[int, int, int, int],
                            usual_half: np.ndarray) -> bool:
    """Whether the usual paper estimate (`usual_half`, `paper_at_half(small)`) took strokes for
    paper within the digit's `box` (`small`'s pixels): more than TIGHT_HIDDEN of it lies
    MIN_INK_LEVELS below an estimate as wide as the picture, which sees past a stroke of any width
    (a thick marker's, in a crop)."""
    import cv2

    x0, y0, x1, y1 = (max(0, v) // 2 for v in box)  # the estimates are at half resolution
    usual = usual_half[y0:y1 + 1, x0:x1 + 1]
    least = TIGHT_HIDDEN * usual.size
    # No closing rises above the brightest pixel it closes, which the usual one keeps (it never
    # lowers one): where the usual estimate is within MIN_INK_LEVELS of its own brightest
    # (most photos), the wide one, five times the cost, cannot lie that far above it.
    if np.count_nonzero(usual < int(usual_half.max()) - MIN_INK_LEVELS) <= least:
        return False
    wide = paper_at_half(small, min(small.shape))[y0:y1 + 1, x0:x1 + 1]
    return np.count_nonzero(cv2.subtract(wide, usual) > MIN_INK_LEVELS) > least


def only_paper_and_ink(small: np.ndarray) -> bool:
    """Whether, against an estimate as wide as the picture, it is paper and ink and little between
    (less than TIGHT_MIDTONES of it 10-30% darker than the paper), as a crop round a digit is; a
    room's furniture and walls are all shades of grey."""
    import cv2

    h, w = small.shape
    wide = cv2.resize(paper_at_half(small, min(h, w)), (w, h), interpolation=cv2.INTER_LINEAR_EXACT)
    ratio = small.astype(np.float32) / np.maximum(wide, 8).astype(np.float32)
    between = np.count_nonzero((ratio > 0.7) & (ratio < 0.9))
    return between < TIGHT_MIDTONES * ratio.size
