"""Ink masks as the edge runtime sees them: a perfect scan of the glyph, then the runtime's preprocess.

Extra training images (handwriting fonts, other writers' digits) are made this way, so their
framing is exactly what the runtime makes of a photo on the device.
"""

from __future__ import annotations

import numpy as np


def clean_scan(glyph: np.ndarray) -> np.ndarray:
    """A glyph mask as a perfect scan, no camera: dark ink on white, a margin of half its size around.

    What the training fonts and the benchmarks' "clean" rows feed to `preprocess`.
    """
    return 255 - np.pad(glyph, max(glyph.shape) // 2)
