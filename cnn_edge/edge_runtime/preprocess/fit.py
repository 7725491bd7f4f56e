"""Step 5: fit the digit into MNIST's 20x20 box and centre it by mass in 28x28."""

from __future__ import annotations

import numpy as np

from cnn_edge.edge_runtime.preprocess.config import BOX_SIZE, OUT_SIZE


def fit_and_center(digit: np.ndarray) -> np.ndarray | None:
    """Fit the digit's box into 20x20 keeping the aspect ratio; centre of mass at (14, 14)."""
    import cv2

    h, w = digit.shape
    s = BOX_SIZE / max(h, w)
    nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
    interp = cv2.INTER_AREA if s < 1.0 else cv2.INTER_LINEAR_EXACT  # exact: same on ARM and x86
    box = cv2.resize(digit, (nw, nh), interpolation=interp)
    m = cv2.moments(box, binaryImage=False)
    if m["m00"] <= 0:
        return None
    cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
    # Shift so the centre of mass lands on the centre; like MNIST, part of a lopsided digit
    # may end up nearer the edge than the 4-pixel margin.
    ox = int(round(OUT_SIZE / 2 - cx))
    oy = int(round(OUT_SIZE / 2 - cy))
    ox = min(max(ox, 0), OUT_SIZE - nw)
    oy = min(max(oy, 0), OUT_SIZE - nh)
    out = np.zeros((OUT_SIZE, OUT_SIZE), np.uint8)
    out[oy:oy + nh, ox:ox + nw] = box
    return out



def soft_strokes(crop: np.ndarray, mask: np.ndarray, thr: float, ink60: int) -> np.ndarray:
    """Grey levels like MNIST's anti-aliased strokes, as uint8, from the digit box's darkness `crop`.

    Darkness maps from the threshold's half (0) to the typical ink darkness `ink60` (255), and
    everything but the digit (`mask`, grown by a pixel) is blanked.
    """
    import cv2

    lo = 0.5 * thr / 255.0
    hi = max(ink60 / 255.0, lo + 0.05)
    m = cv2.dilate(mask.view(np.uint8), None)  # None: OpenCV's 3x3 square
    # soft = clip((crop - lo) / (hi - lo), 0, 1) * m * 255, in place (float32 throughout)
    soft = crop - lo
    np.divide(soft, hi - lo, out=soft)
    np.clip(soft, 0.0, 1.0, out=soft)
    np.multiply(soft, m, out=soft)
    np.multiply(soft, 255.0, out=soft)
    return soft.astype(np.uint8)
