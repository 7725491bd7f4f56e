"""A folder of digit images -> 28x28 uint8 calibration images, via the edge runtime's own preprocessing.

Calibrating on images prepared exactly as the Pi prepares camera frames keeps the int8
input/activation ranges matched to what the model will see there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnn_edge.common.errors import DataError


def image_to_pixels(path: Path) -> np.ndarray:
    """One image file -> (28, 28) uint8 white-on-black digit; DataError if no digit is found."""
    from cnn_edge.edge_runtime.images import load_image
    from cnn_edge.edge_runtime.preprocess import preprocess

    digit = preprocess(load_image(path))  # ImageError (a CnnEdgeError) if the file is unreadable
    if digit is None:
        raise DataError(f"{path}: no digit found in this calibration image",
                        hint="remove it from the folder or use images of single handwritten digits")
    return np.asarray(digit, dtype=np.uint8)
