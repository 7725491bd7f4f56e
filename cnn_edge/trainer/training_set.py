"""The images `cnn-edge train` adds to MNIST's training slice, each with where it came from.

MNIST's own validation and test images are never touched here; the extra images are added to the
training slice only: handwriting fonts (training fonts only, `font_digits`) and the training
writers of other people's handwriting (`other_writers`' "train" role only). Provenance travels
with every image so a test can prove no held-out writer reaches a batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_edge.trainer.config import TrainConfig

MNIST, FONT = "mnist", "font"
# Other writers' images use a seed of their own, so adding them leaves the font images unchanged.
_WRITERS_SEED_OFFSET = 7_919


@dataclass(frozen=True, eq=False)
class ExtraImages:
    """Extra training images (N, 28, 28) uint8 with labels, source name and row in the source."""

    x: np.ndarray
    y: np.ndarray
    source: np.ndarray  # "font", "optdigits", "pendigits", "semeion"
    row: np.ndarray  # glyph number (fonts' training glyphs) or row in the set's .npz

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> dict[str, int]:
        """Images per source, for the log and metrics.json."""
        names, n = np.unique(self.source, return_counts=True)
        return {str(k): int(v) for k, v in zip(names, n, strict=True)}


def extra_training_images(cfg: TrainConfig) -> ExtraImages:
    """Fonts (`cfg.font_digits` copies), then other writers (`cfg.other_writers` x `other_writer_copies`)."""
    xs, ys, sources, rows = [], [], [], []
    if cfg.font_digits:
        from cnn_edge.trainer.font_digits import font_training_images

        x_font, y_font = font_training_images(cfg.font_digits, cfg.seed)
        xs.append(x_font)
        ys.append(y_font)
        sources.append(np.full(len(x_font), FONT))
        rows.append(np.full(len(x_font), -1))  # fonts are held out by font index in font_digits
    if cfg.other_writers and cfg.other_writer_copies:
        from cnn_edge.trainer.other_writers import TRAINABLE
        from cnn_edge.trainer.writer_images import training_images

        x_w, y_w, part, row = training_images(
            tuple(cfg.other_writers), cfg.other_writer_copies, cfg.seed + _WRITERS_SEED_OFFSET
        )
        xs.append(x_w)
        ys.append(y_w)
        sources.append(np.asarray(TRAINABLE, dtype="<U9")[part])
        rows.append(row)
    if not xs:
        return ExtraImages(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), np.zeros(0, "<U9"),
                           np.zeros(0, np.int64))
    return ExtraImages(
        np.concatenate(xs), np.concatenate(ys).astype(np.uint8),
        np.concatenate(sources).astype("<U9"), np.concatenate(rows).astype(np.int64),
    )
