"""Turn a photo of a handwritten digit into an MNIST-like 28x28 input, the way MNIST was made.

MNIST digits are white on black, anti-aliased, their bounding box fitted into 20x20 with the
aspect ratio kept, and the 20x20 box placed so the centre of mass sits at the middle of a
28x28 image. A phone photo or camera frame is none of that: dark ink on light paper, any
size and place, uneven light, noise, JPEG blocks, a card edge or the table around it. The
steps below bring one to the other; each exists because a photo broke the step before it.

`preprocess` is pure numpy + OpenCV (no model), and returns None rather than a guess when
there is no digit to be seen: blank paper, a 1x1 image, pure noise.

The steps, one module each: `polarity` (1), `paper` (2), the threshold and checks in `pipeline`
(3), `select` (4, with `joined`: a printed line the digit sits on, or a printed box it touches
(`boxed`), is erased from its piece, both told from the pen by thickness (`bands`); `frames`: a
box, circle or line printed round the digit is left out, and `row`: of a number's digits in
view, the one aimed at is read), `fit` (5);
`pipeline.preprocess` runs them in order. The camera path first finds the card or page
(`cnn_edge.edge_runtime.card`).
"""

from cnn_edge.edge_runtime.pixels import percentiles_u8, to_gray_u8, use_one_opencv_thread
from cnn_edge.edge_runtime.preprocess.config import BOX_SIZE, CAMERA, DEFAULT, OUT_SIZE, PreprocessConfig
from cnn_edge.edge_runtime.preprocess.pipeline import center_roi, preprocess

__all__ = ["BOX_SIZE", "CAMERA", "DEFAULT", "OUT_SIZE", "PreprocessConfig", "center_roi", "percentiles_u8",
           "preprocess", "to_gray_u8", "use_one_opencv_thread"]
