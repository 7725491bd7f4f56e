"""Step 1: which side is the ink? Dark ink on light paper, or light on dark (chalk, MNIST)."""

from __future__ import annotations

import numpy as np

from cnn_edge.edge_runtime.pixels import half, paper_kernel, percentiles_u8


def is_light_on_dark(small: np.ndarray) -> bool:
    """True when the ink is the bright side (chalk on a blackboard, an MNIST-style image).

    Decided once, on the whole view, never on a close crop of the digit. Ink is the long tail
    away from the paper's level; dark ink on light paper is the documented case, so only a
    clearly longer bright tail flips it (a lighting gradient spreads both tails about equally).
    The paper's level must look dark both in the central half and along the border: the centre
    alone is ink when a bold digit fills it (that inverted big bold 8s and 6s), the border
    alone is the desk around a card held to the camera. Both dark is also a strip of paper
    beside a wide dark desk: there the bright side is too wide to be strokes (`_too_wide_for_ink`).
    """
    h, w = small.shape
    p_lo, p_hi = percentiles_u8(small, (0.5, 99.5))
    (centre,) = percentiles_u8(small[h // 4:h - h // 4, w // 4:w - w // 4], (50,))
    ring = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    (border,) = percentiles_u8(ring, (50,))
    if not all(p_hi - level > 2 * (level - p_lo) + 10 for level in (centre, border)):
        return False
    return not _too_wide_for_ink(small, (max(centre, border) + p_hi) / 2)


def _too_wide_for_ink(small: np.ndarray, level: float) -> bool:
    """Whether the pixels brighter than `level` are mostly areas wider than any pen stroke.

    Inverted, they would be the ink; but step 2 (`paper.ink_darkness`) takes for paper whatever
    its closing cannot erase, so it would read such areas as paper and the real paper beside
    them as ink (a paper strip on a dark desk became a bar, or 'no digit'). The same kernel,
    as an opening of the bright side, keeps what is too wide to be a stroke. Measured: of the
    bright side of 2,000 MNIST test digits (28x28 and 280x280) nothing stays; of the 23 bench
    photos of paper beside a dark desk, 44-100%.
    """
    import cv2

    _, bright = cv2.threshold(half(small), level, 1, cv2.THRESH_BINARY)
    wide = cv2.morphologyEx(bright, cv2.MORPH_OPEN, paper_kernel(small.shape))
    return cv2.countNonZero(wide) > 0.25 * cv2.countNonZero(bright)

