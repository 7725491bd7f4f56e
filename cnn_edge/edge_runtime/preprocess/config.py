"""The preprocessing's sizes and tuning knobs (`PreprocessConfig`, `DEFAULT`, `CAMERA`)."""

from __future__ import annotations

from dataclasses import dataclass

OUT_SIZE = 28
BOX_SIZE = 20
# Real ink on lit paper is darker than its paper by a few dozen grey levels at least.
MIN_INK_LEVELS = 24.0


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
    """

    work_size: int = 160
    min_ink: float = 0.12
    min_contrast: float = 0.2
    min_digit_frac: float = 0.03
    find_card: bool = False


DEFAULT = PreprocessConfig()
CAMERA = PreprocessConfig(find_card=True)
