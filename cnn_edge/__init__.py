"""cnn-edge: train the MNIST CNN, convert it to int8 TFLite, run it on a Raspberry Pi."""

import os as _os

from cnn_edge.common.limits import MAX_IMAGE_PIXELS as _MAX_PIXELS
from cnn_edge.common.limits import MAX_IMAGE_PIXELS_ENV as _MAX_PIXELS_ENV

__version__ = "0.1.0"

# OpenCV reads its decoded-image pixel limit (default 2^30) once, when cv2 is imported, and
# any cnn_edge module may import cv2: so it is set here, to the limit the image loader applies
# to the formats whose headers it reads (edge_runtime/image_header.py). The project's own
# variable, when set, wins over an OPENCV_IO_MAX_IMAGE_PIXELS inherited from a parent process.
_limit = _os.environ.get(_MAX_PIXELS_ENV, "").strip()
if _limit.isdigit() and int(_limit) > 0:
    _os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] = _limit
else:
    _os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(_MAX_PIXELS))
