"""Photo sets on disk: a labelled folder of rendered photos or blanks, with labels.csv."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cnn_edge.common.atomic import write_bytes, write_text
from cnn_edge.testing.synthetic_photos.glyphs import GlyphSet, as_glyph_set
from cnn_edge.testing.synthetic_photos.params import DEFAULT, PhotoRanges
from cnn_edge.testing.synthetic_photos.render import (
    BLANK_KINDS,
    blank_photo,
    jpeg_roundtrip,
    render_photo_info,
)


@dataclass(frozen=True)
class SetItem:
    """One written image: its path, the digit in it (None: no digit) and the glyph source."""

    path: Path
    label: int | None
    source: str


LABELS_FILE = "labels.csv"


def make_photo_set(
    out_dir: str | os.PathLike[str],
    glyphs: GlyphSet | np.ndarray | Sequence[np.ndarray],
    labels: Sequence[int] | np.ndarray | None = None,
    n: int | None = None,
    seed: int = 0,
    *,
    ranges: PhotoRanges = DEFAULT,
    layout: str = "csv",
    fmt: str = "jpg",
    **overrides: object,
) -> list[SetItem]:
    """Write `n` photos of glyphs (each glyph at most once while n <= len(glyphs)) and `labels.csv`.

    `glyphs` is a `GlyphSet` (then `labels` is None) or masks plus `labels`. `layout="csv"` writes
    `OUT/00000.jpg ...`; `layout="folders"` writes `OUT/<label>/00000.jpg ...`; both write
    `OUT/labels.csv` (file,label,source, paths relative to OUT) last, so its presence means the
    set is complete. `fmt="jpg"` saves at the photo's drawn JPEG quality (95 when it has none);
    `fmt="png"` saves losslessly after the drawn JPEG round trip. Returns one `SetItem` per image.
    """
    gs = as_glyph_set(glyphs, labels)
    n = len(gs) if n is None else int(n)
    rng = np.random.default_rng(seed)
    order = _glyph_order(rng, len(gs), n)
    items = []
    for i, g in enumerate(order):
        photo = render_photo_info(gs.masks[g], rng, ranges, **overrides)
        label = int(gs.labels[g])
        quality = photo.params.jpeg_quality
        items.append(_write_image(out_dir, i, photo.image, quality, label, gs.sources[g], layout, fmt))
    _write_labels(out_dir, items)
    return items


def make_blank_set(
    out_dir: str | os.PathLike[str],
    n: int,
    seed: int = 0,
    *,
    ranges: PhotoRanges = DEFAULT,
    layout: str = "csv",
    fmt: str = "jpg",
    **overrides: object,
) -> list[SetItem]:
    """Write `n` photos with no digit (see `render_blank`) and `labels.csv` with empty labels.

    In the folders layout they go to `OUT/none/`; the source column names the blank's kind.
    """
    rng = np.random.default_rng(seed)
    items = []
    for i in range(int(n)):
        kind = BLANK_KINDS[int(rng.choice(4, p=[0.4, 0.3, 0.15, 0.15]))]
        image, quality = blank_photo(rng, kind, ranges, **overrides)
        items.append(_write_image(out_dir, i, image, quality, None, f"blank-{kind}", layout, fmt))
    _write_labels(out_dir, items)
    return items


def _glyph_order(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    """Glyph indices for n photos: a random permutation, repeated (reshuffled) if n > count."""
    if count == 0:
        raise ValueError("no glyphs to render")
    rounds = -(-n // count) if n else 0
    return np.concatenate([rng.permutation(count) for _ in range(rounds)] or [np.zeros(0, int)])[:n]


def _write_image(out_dir: str | os.PathLike[str], index: int, image: np.ndarray, quality: int | None,
                 label: int | None, source: str, layout: str, fmt: str) -> SetItem:
    if layout not in ("csv", "folders"):
        raise ValueError(f"layout must be 'csv' or 'folders', not {layout!r}")
    if fmt not in ("jpg", "png"):
        raise ValueError(f"fmt must be 'jpg' or 'png', not {fmt!r}")
    folder = Path(out_dir)
    if layout == "folders":
        folder = folder / ("none" if label is None else str(label))
    path = folder / f"{index:05d}.{fmt}"
    if fmt == "jpg":
        quality = 95 if quality is None else int(quality)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    else:
        ok, buf = cv2.imencode(".png", jpeg_roundtrip(image, quality))
    if not ok:
        raise RuntimeError(f"OpenCV could not encode {path.name}")
    write_bytes(path, buf.tobytes())
    return SetItem(path, label, source)


def _write_labels(out_dir: str | os.PathLike[str], items: Sequence[SetItem]) -> Path:
    out = Path(out_dir)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", "label", "source"])
    for item in items:
        label = "" if item.label is None else item.label
        writer.writerow([item.path.relative_to(out).as_posix(), label, item.source])
    return write_text(out / LABELS_FILE, buf.getvalue())


def read_labels(out_dir: str | os.PathLike[str]) -> list[SetItem]:
    """Read back a set's `labels.csv` (absolute paths; label None for blanks)."""
    out = Path(out_dir)
    with open(out / LABELS_FILE, newline="", encoding="utf-8") as fh:
        return [
            SetItem(out / row["file"], int(row["label"]) if row["label"] else None, row["source"])
            for row in csv.DictReader(fh)
        ]
