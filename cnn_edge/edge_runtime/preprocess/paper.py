"""Step 2: the paper's own brightness under uneven light, so ink is measured against its local paper."""

from __future__ import annotations

import numpy as np

from cnn_edge.edge_runtime.pixels import closing_to_the_edge


def half(small: np.ndarray) -> np.ndarray:
    """`small` at half resolution, where step 2 estimates the paper (it varies slowly)."""
    import cv2

    h, w = small.shape
    return cv2.resize(small, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def paper_kernel(shape: tuple[int, int]) -> np.ndarray:
    """Step 2's square kernel, wider than any stroke, for the half-resolution image of `shape`."""
    import cv2

    k = max(3, (min(shape) // 6) | 1)
    return cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))


def ink_darkness(paper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pixel's darkness relative to its local paper: (dark 0-1 float32, dark as uint8, paper >= 8).

    The paper's own brightness is estimated with a morphological closing wider than any stroke
    (it erases the dark strokes but, unlike a plain max filter, keeps the edges of big dark
    areas: a shadow, the desk beside a card). A shadow dims paper and ink alike, so the ratio
    stays put where a global threshold would swallow half the page. Done at half resolution:
    the paper varies slowly.
    """
    import cv2

    h, w = paper.shape
    bg = closing_to_the_edge(half(paper), paper_kernel((h, w)))
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
