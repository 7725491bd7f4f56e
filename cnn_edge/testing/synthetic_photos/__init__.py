"""Synthetic camera photos of handwritten digits: dark ink on light paper, as a phone or webcam sees it.

We have no camera and no real photos, so the edge runtime's preprocessing (photo -> MNIST-like 28x28)
is measured on images made here. One module per part (this package re-exports their public
names):

* `glyphs`, glyph sources: ink masks (white ink on black, uint8, any size) of digits by MNIST's writers
  (`mnist_glyphs`), by scikit-learn's 13 other writers (`sklearn_glyphs`, its 8x8 digits rebuilt as
  the 32x32 bitmaps they count) and OpenCV's built-in Hershey fonts (`hershey_glyphs`,
  printed/script style). Each sample carries its source name. `in_printed_box` writes a glyph in
  a box printed on a form, `underlined` over a line.
* `params` and `render`: `render_photo` puts one glyph on paper at a random size, place, angle, ink, lighting,
  blur, noise, JPEG quality and frame size, drawn from a `PhotoRanges` (presets `EASY`, `DEFAULT`,
  `HARD`; one photo's draw is a `PhotoParams`); `render_blank` makes photos with no digit in
  them.
* `ruled`: `on_a_rule` photographs the glyph sitting on a line across the whole photo (a ruled
  page's, a form's rule), the line's ink joined to the digit's.
* `numbers`: `number_photos` writes the digit in a number (between two others) and photographs it
  aimed at it, with and without its neighbours.
* `sets` and `video`: `make_photo_set`/`make_blank_set` write a labelled folder of images,
  `make_card_video` an MJPG video of digit cards held up in the middle of the frame, with the
  label of every frame.

Everything random goes through one `np.random.Generator`, so a seed gives the same pixels. Only
numpy and OpenCV are needed; scikit-learn only for `sklearn_glyphs`.

Known limit: scikit-learn's digits are 8x8 reductions of box-filling 32x32 bitmaps; many 1s
carry a long flag, some 4s are closed and some 9s have small loops or curled tails. Cut straight
to 28x28 (no camera at all), the default MNIST int8 model reads about 95% of them and a
`train --augment` model about 97.4%: the ceiling for any preprocessing on photos of them; MNIST
test glyphs reach 99.4% the same way.
"""

from cnn_edge.testing.synthetic_photos.glyphs import (
    HERSHEY_FONTS,
    GlyphSet,
    as_glyph_set,
    bitmap_from_block_counts,
    hershey_glyphs,
    in_printed_box,
    mnist_glyphs,
    sklearn_glyphs,
    underlined,
)
from cnn_edge.testing.synthetic_photos.numbers import number_photos
from cnn_edge.testing.synthetic_photos.params import (
    DEFAULT,
    EASY,
    FRAME_SIZES,
    FRAME_WEIGHTS,
    HARD,
    PRESETS,
    PhotoParams,
    PhotoRanges,
    Range,
    Size,
    sample_params,
)
from cnn_edge.testing.synthetic_photos.render import (
    BLANK_KINDS,
    Photo,
    jpeg_roundtrip,
    render_blank,
    render_photo,
    render_photo_info,
)
from cnn_edge.testing.synthetic_photos.ruled import on_a_rule
from cnn_edge.testing.synthetic_photos.sets import (
    LABELS_FILE,
    SetItem,
    make_blank_set,
    make_photo_set,
    read_labels,
)
from cnn_edge.testing.synthetic_photos.video import VideoRanges, make_card_video
from cnn_edge.trainer.scans import clean_scan  # the benchmarks' clean rows use it from here

__all__ = [
    "BLANK_KINDS", "DEFAULT", "EASY", "FRAME_SIZES", "FRAME_WEIGHTS", "HARD", "HERSHEY_FONTS", "LABELS_FILE",
    "PRESETS", "GlyphSet", "Photo", "PhotoParams", "PhotoRanges", "Range", "SetItem", "Size", "VideoRanges",
    "as_glyph_set", "bitmap_from_block_counts", "clean_scan", "hershey_glyphs", "in_printed_box",
    "jpeg_roundtrip", "make_blank_set", "make_card_video", "make_photo_set", "mnist_glyphs", "number_photos",
    "on_a_rule", "read_labels", "render_blank", "render_photo", "render_photo_info", "sample_params",
    "sklearn_glyphs", "underlined",
]
