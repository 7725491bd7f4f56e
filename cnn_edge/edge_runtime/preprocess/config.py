"""The preprocessing's sizes and tuning knobs (`PreprocessConfig`, `DEFAULT`, `CAMERA`)."""

from __future__ import annotations

from dataclasses import dataclass

OUT_SIZE = 28
BOX_SIZE = 20
# Real ink on lit paper is darker than its paper by a few dozen grey levels at least.
MIN_INK_LEVELS = 24.0
# In a dim room (the paper's median brightness below DIM_PAPER_LEVELS) the paper itself is a
# few dozen levels and a stroke can be shallower: there a piece counts as ink when it is
# DIM_INK_NOISE_MULTIPLE times the image's own pixel noise deep, and never less than
# DIM_INK_LEVELS (`paper.InkDepth`). Lit paper keeps MIN_INK_LEVELS: there a shallow piece is a
# shadow's edge or the light's falloff, not a stroke.
DIM_PAPER_LEVELS = 80
DIM_INK_LEVELS = 12.0
DIM_INK_NOISE_MULTIPLE = 5.0
# A photo cropped tightly round its digit (`pipeline._as_tight_crop`) is looked at again, padded
# with paper TIGHT_PAD of its longest side wide, when the first look finds no digit, or one that
# touches an edge (within TIGHT_TOUCH of the longest side), or one spanning TIGHT_SPAN of the
# height within TIGHT_EDGE of an edge; the second answer counts when its digit spans TIGHT_SPAN
# of the height (a crop with a margin of up to a fifth of its digit's size).
TIGHT_TOUCH = 0.01
TIGHT_EDGE = 0.15
TIGHT_PAD = 0.15
TIGHT_SPAN = 0.7
# In a crop the digit fills the picture and a marker's stroke can be wider than the paper
# estimate's usual closing (a third of the shorter side): where more than TIGHT_HIDDEN of the
# digit's box lies below an estimate as wide as the picture (`paper.paper_hidden_by_strokes`),
# the crop is looked at with that one, if less than TIGHT_MIDTONES of the picture is 10-30%
# darker than its paper (`paper.only_paper_and_ink`: a crop is paper and ink; a room seen through
# `--no-card` is 32-55% such greys, which the wide estimate would call ink).
TIGHT_HIDDEN = 0.15
TIGHT_MIDTONES = 0.25
# A photo aimed at one digit of a number cuts its neighbours at the frame's edges. When the
# digit's main piece keeps TIGHT_EDGE of the longest side clear of every edge (it was aimed at,
# not cropped), a piece on the border joins it only with its ink within NEIGHBOUR_REACH of the
# usual reach of the digit's ink: a neighbour sits a gap away, a stroke of the digit does not.
NEIGHBOUR_REACH = 0.5
# A piece within STROKE_REACH of the digit's size from its box may be one of its strokes (a 5's
# cap, a 4's detached stroke) and is looked at (`select._grow_with_strokes`).
STROKE_REACH = 0.2
# A pen stroke thinner than a pixel of the shrunk copy the search runs on is averaged with its
# paper there and looks too shallow to be ink (a ballpoint digit in a 1024x768 photo). When the
# earlier looks find no digit, the photo is looked at again with each pixel taking the darkest of
# the block it is shrunk from (`pipeline._as_thin_strokes`); there the noise-based floor of dim
# paper holds on any paper, and the digit's ink must be THIN_NOISE_MULTIPLE times that copy's
# pixel noise deep (the darkest of a block turns a noisy blank page into dark blotches, a few
# sigmas deep; a stroke stands well above them).
THIN_NOISE_MULTIPLE = 8.0
# A digit written in a box printed on a form (or circled) is not part of the box (`frames`). The
# pieces round a digit are a frame when, their gaps up to FRAME_GAP of their extent closed, they
# enclose it in a hole of at least FRAME_HOLE of their box, the digit at least FRAME_INNER of
# their size; a piece counts when it holds the digit's box or lies within FRAME_REACH of the
# digit's size. A digit's own loop (a 0, the bowl of a 6) holds no piece that large.
FRAME_GAP = 0.08
FRAME_HOLE = 0.5
FRAME_INNER = 0.3
FRAME_REACH = 1.0
# A straight line beside the digit's main piece, LINE_LENGTH times as long as its height or width,
# with the digit over its middle (within LINE_MIDDLE of its half length from its centre), is the
# line the digit is written on or underlined with, not one of its strokes: a stroke as long and
# straight (a 9's detached tail) points at the rest of the digit from its end.
LINE_LENGTH = 1.2
LINE_MIDDLE = 0.7
# Such a line outweighs the digit as its main piece only when it lies within LINE_TILT degrees of
# level (a digit is written over a line; a 1 beside a mark is upright).
LINE_TILT = 30.0
# A printed line joined to the digit's ink (the digit sits on it; `joined`) is a band of the piece
# within JOINED_TILT degrees of level, filled along JOINED_FILL of its length, LINE_LENGTH times as
# long as the rest of the piece is tall, under it (JOINED_ABOVE of the rest's pixels above it: not
# a 5's top bar), and at most JOINED_THIN as thick as the rest's strokes are wide and a pixel
# thinner (900 validation photos: the digits' own bars at the bottom of a wide piece, 2s' bases,
# are 0.86 of their pen and thicker).
# A line across the whole photo that runs on past the rest by JOINED_CLEAR of the rest's width on
# both sides is no stroke of a digit (a 2's base ends where its stroke comes down; a twentieth is
# more than a stroke's end sticks out by): it may be up to JOINED_THICK as thick as the pen (a thin
# pen on a ruled page: at the search's resolution the two are a pixel or two apart). Half the
# width, as first written, lost the digits a photo holds off its centre (600 validation photos on
# a line across the photo: 95.00% -> 96.00%, `--augment`).
JOINED_TILT = 15.0
JOINED_FILL = 0.9
JOINED_ABOVE = 0.8
JOINED_THIN = 0.75
JOINED_CLEAR = 0.05
JOINED_THICK = 1.25
# A printed box joined to the digit's ink (a stroke runs into it; `boxed`) is the piece's outline:
# ink at the four corners of its least-area rectangle (within BOX_CORNER of its shorter side),
# which lies within BOX_TILT degrees of level, and along each side a straight band filled along
# JOINED_FILL of at least BOX_SPAN of the piece, at most JOINED_THIN as thick as the rest's pen;
# BOX_LEAST pixels across at least (a speck's corners and bands say nothing: a noise blob 9x8 px
# beside an MNIST 9 passed every other test). Missed in the search's shrunk copy, a box is found
# in the digit's full-resolution cut.
BOX_LEAST = 16
BOX_CORNER = 0.15
BOX_TILT = 25.0
BOX_SPAN = 0.8
# A photo aimed at one digit of a number may show its neighbours whole. Pieces in a row with the
# digit's main piece (as tall within ROW_HEIGHT, overlapping its rows by ROW_OVERLAP of the
# shorter, and a gap away) are the number's digits: the one nearest the photo's centre is the
# digit aimed at, however much ink it holds (by ink alone a neighbouring 8 outweighed a 1), and
# the others are not its strokes (they were grown into it: the model saw the whole number).
ROW_HEIGHT = 0.75
ROW_OVERLAP = 0.5
# A piece one pixel wide in the search's copy is a printed hairline (a ruled page's margin), not a
# digit of the row: a pen's stroke there is wider.
ROW_WIDTH = 2


@dataclass(frozen=True)
class PreprocessConfig:
    """Tuning knobs; the defaults were tuned on the synthetic photo sets (see benchmarks).

    work_size: about the longest side the search runs at. Larger images are shrunk first by a
        whole factor (speed, and kernel sizes that mean the same thing at any resolution; see
        `pixels.resize_max`); a small digit found in a large photo is then re-cut from the
        full-resolution image.
    min_ink: least darkness (0-1, relative to the local paper brightness) that counts as ink;
        keeps sensor noise, JPEG blocks and paper texture out of the digit.
    min_contrast: least median darkness of the digit's ink; below that it is a shadow or a
        smudge, not a pen stroke -> no digit.
    min_digit_frac: least height of the digit, as a fraction of the image's longest side.
    find_card: first look for the paper in the view (a card held up, or a page filling it;
        `cnn_edge.edge_runtime.card`) and answer "no digit" when there is none. The camera
        path turns it on: its search region also holds the room around the card.
    dim_paper: in a dim photo, a stroke shallower than lit paper's floor still counts when it
        is deep against the image's own noise (`paper.InkDepth`): dim photos of digits are
        read instead of "no digit". The camera path turns it off: its region also holds a dim
        room, whose furniture edges would then pass for strokes (300 bare dim rooms: 37 -> 45
        "digit" answers); in front of a camera, turning on a light is the better answer.
    tight_crops: a photo cut tightly round its digit (no paper margin) is looked at again with
        paper around it (`pipeline._as_tight_crop`). The camera path turns it off: its region
        holds a card in a room, never a crop, and most of its frames hold no digit at all.
    thin_strokes: a photo in which no digit was found is looked at again keeping strokes
        thinner than the search's pixels at their full darkness (`pipeline._as_thin_strokes`).
        The camera path turns it off: its region is shrunk by two at most, and most of its
        frames hold no digit, which would each be looked at twice.
    """

    work_size: int = 160
    min_ink: float = 0.12
    min_contrast: float = 0.2
    min_digit_frac: float = 0.03
    find_card: bool = False
    dim_paper: bool = True
    tight_crops: bool = True
    thin_strokes: bool = True


DEFAULT = PreprocessConfig()
CAMERA = PreprocessConfig(find_card=True, dim_paper=False, tight_crops=False, thin_strokes=False)
