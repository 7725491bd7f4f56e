"""Step 2: the paper's own brightness under uneven light, so ink is measured against its local paper."""

from __future__ import annotations

import numpy as np

from cnn_edge.edge_runtime.pixels import paper_at_half


def ink_darkness(paper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pixel's darkness relative to its local paper: (dark 0-1 float32, dark as uint8, paper >= 8).

    The paper's own brightness is `pixels.paper_at_half` (a closing wider than any stroke, at
    half resolution: the paper varies slowly). A shadow dims paper and ink alike, so the ratio
    stays put where a global threshold would swallow half the page.
    """
    import cv2

    h, w = paper.shape
    bg = paper_at_half(paper)
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
