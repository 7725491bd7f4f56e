"""Synthetic photos: reproducible, well-formed, dark ink on light paper, blanks without blobs,
readable videos and complete photo sets. Real OpenCV; small frames to stay fast."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from cnn_edge.testing import synthetic_photos as sp
from cnn_edge.testing.synthetic_photos import glyphs as glyph_sources

from .conftest import MNIST

SMALL = {"frame_size": (320, 240)}


def _disc_glyphs() -> sp.GlyphSet:
    """Two hand-made glyphs (a ring "0" and a bar "1"), so most tests need neither MNIST nor sklearn."""
    zero = np.zeros((28, 28), np.uint8)
    cv2.ellipse(zero, (14, 14), (7, 10), 0, 0, 360, 255, 3, cv2.LINE_AA)
    one = np.zeros((28, 28), np.uint8)
    cv2.line(one, (14, 4), (14, 24), 255, 3, cv2.LINE_AA)
    return sp.as_glyph_set(np.stack([zero, one]), [0, 1], source="test")


@pytest.fixture(scope="module")
def glyphs() -> sp.GlyphSet:
    return _disc_glyphs()


def test_same_seed_same_pixels(glyphs: sp.GlyphSet) -> None:
    a = sp.render_photo(glyphs.masks[0], np.random.default_rng(7))
    b = sp.render_photo(glyphs.masks[0], np.random.default_rng(7))
    c = sp.render_photo(glyphs.masks[0], np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


@pytest.mark.parametrize("seed", range(12))
def test_shape_dtype_and_frame_size(glyphs: sp.GlyphSet, seed: int) -> None:
    photo = sp.render_photo(glyphs.masks[seed % 2], np.random.default_rng(seed))
    assert photo.dtype == np.uint8
    assert photo.ndim in (2, 3)
    if photo.ndim == 3:
        assert photo.shape[2] == 3
    assert (photo.shape[1], photo.shape[0]) in sp.FRAME_SIZES


def test_overrides_fix_parameters(glyphs: sp.GlyphSet) -> None:
    img = sp.render_photo(glyphs.masks[0], np.random.default_rng(0), frame_size=(200, 100), grey=True)
    assert img.shape == (100, 200)
    img = sp.render_photo(glyphs.masks[0], np.random.default_rng(0), frame_size=(200, 100), grey=False)
    assert img.shape == (100, 200, 3)


@pytest.mark.parametrize("preset", ["easy", "default", "hard"])
def test_ink_darker_than_paper_at_the_digit(glyphs: sp.GlyphSet, preset: str) -> None:
    rng = np.random.default_rng(3)
    for i in range(8):
        photo = sp.render_photo_info(glyphs.masks[i % 2], rng, sp.PRESETS[preset], **SMALL)
        grey = photo.image if photo.image.ndim == 2 else cv2.cvtColor(photo.image, cv2.COLOR_BGR2GRAY)
        x0, y0, x1, y1 = photo.bbox
        h = y1 - y0
        # Compare the darkest ink with the paper just around the box (outside it, inside the frame).
        ring = grey[max(y0 - h // 4, 0):y1 + h // 4, max(x0 - h // 4, 0):x1 + h // 4].astype(np.float32)
        ink = np.percentile(grey[y0:y1, x0:x1], 5)
        paper = np.percentile(ring, 90)
        assert ink < paper - 25, (preset, i, ink, paper, photo.params)


def test_digit_size_and_position_vary(glyphs: sp.GlyphSet) -> None:
    rng = np.random.default_rng(5)
    infos = [sp.render_photo_info(glyphs.masks[0], rng, **SMALL) for _ in range(20)]
    heights = [(p.bbox[3] - p.bbox[1]) / 240 for p in infos]
    centres_x = [(p.bbox[0] + p.bbox[2]) / 2 / 320 for p in infos]
    assert min(heights) < 0.3 and max(heights) > 0.45
    assert 0.1 <= min(heights) and max(heights) <= 0.8
    assert min(centres_x) < 0.4 and max(centres_x) > 0.6
    for p in infos:  # the whole digit is in the frame
        assert p.bbox[0] >= 0 and p.bbox[1] >= 0 and p.bbox[2] <= 320 and p.bbox[3] <= 240


def _dark_blob_area(image: np.ndarray) -> int:
    """Area of the largest region clearly darker than its surroundings (light-normalized)."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    grey = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 1.5)
    background = cv2.GaussianBlur(grey, (0, 0), 25)
    # Darker than the surroundings by a quarter, and by at least 20 grey levels (dark frames).
    dark = (grey < np.minimum(background * 0.75, background - 20)).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(dark)
    return int(stats[1:, cv2.CC_STAT_AREA].max()) if n > 1 else 0


@pytest.mark.parametrize("kind", sp.BLANK_KINDS)
def test_blank_has_no_dark_blob(kind: str) -> None:
    rng = np.random.default_rng(11)
    for _ in range(4):
        img = sp.render_blank(rng, kind, **SMALL)
        assert img.dtype == np.uint8 and img.shape[:2] == (240, 320)
        assert _dark_blob_area(img) < 30, kind


def test_dark_blob_check_sees_a_digit(glyphs: sp.GlyphSet) -> None:
    img = sp.render_photo(glyphs.masks[0], np.random.default_rng(0), sp.EASY, **SMALL)
    assert _dark_blob_area(img) > 100


def test_sklearn_glyphs_look_like_strokes() -> None:
    pytest.importorskip("sklearn")
    gs = sp.sklearn_glyphs()
    assert len(gs) == 1797 and set(gs.sources) == {"sklearn"}
    assert sorted(set(gs.labels.tolist())) == list(range(10))
    for m in gs.masks[:50]:
        assert m.dtype == np.uint8 and m.ndim == 2 and m.shape[0] >= 30
        ink = m >= 128
        # Pen strokes, not a filled blob: ink covers a minority of the digit's box.
        assert 0.1 < ink.mean() < 0.65


def test_block_count_bitmap_has_exactly_the_counts() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        counts = rng.integers(0, 17, (8, 8)) * (rng.random((8, 8)) < 0.5)
        bitmap = sp.bitmap_from_block_counts(counts)
        assert bitmap.shape == (32, 32) and bitmap.dtype == bool
        assert (bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3)) == counts).all()
    with pytest.raises(ValueError):
        sp.bitmap_from_block_counts(np.full((8, 8), 17))


def test_sklearn_glyphs_keep_every_stroke_the_data_records() -> None:
    """Counted back into the 8x8 blocks, each glyph has ink wherever the data has 4+ of 16 pixels
    inked (the earlier thin-and-redraw renderer lost such a block in 73% of the glyphs)."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    counts = np.rint(load_digits().images[:200]).astype(int)
    lost = 0
    for c in counts:
        bitmap = sp.bitmap_from_block_counts(c)
        full = glyph_sources._draw_bitmap(bitmap, 96, 2.0)  # the default size and smoothing, not yet cropped
        back = (full >= 128).reshape(8, 12, 8, 12).sum(axis=(1, 3)) / 9.0
        lost += int(((c >= 4) & (back < 1)).sum())
    assert lost <= 2


def test_mnist_and_hershey_glyphs() -> None:
    x = np.zeros((3, 28, 28), np.uint8)
    x[:, 8:20, 12:16] = 255
    gs = sp.mnist_glyphs(x, [1, 1, 1])
    assert len(gs) == 3 and gs.sources == ("mnist",) * 3
    he = sp.hershey_glyphs(per_digit=2)
    assert len(he) == 20 and all(m.max() == 255 for m in he.masks)
    both = sp.GlyphSet.concat(gs, he)
    assert len(both) == 23 and both.sources[-1] == "hershey"


@pytest.mark.parametrize("layout", ["csv", "folders"])
def test_photo_set_layout_and_labels(tmp_path, glyphs: sp.GlyphSet, layout: str) -> None:
    items = sp.make_photo_set(tmp_path, glyphs, n=5, seed=1, layout=layout, **SMALL)
    assert len(items) == 5
    with open(tmp_path / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == [i.path.relative_to(tmp_path).as_posix() for i in items]
    for row, item in zip(rows, items, strict=True):
        assert int(row["label"]) == item.label and row["source"] == "test"
        if layout == "folders":
            assert item.path.parent.name == str(item.label)
        img = cv2.imread(str(item.path), cv2.IMREAD_UNCHANGED)
        assert img is not None and img.shape[:2] == (240, 320)
    assert sp.read_labels(tmp_path) == items
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind
    again = sp.make_photo_set(tmp_path / "again", glyphs, n=5, seed=1, layout=layout, **SMALL)
    assert [p.path.read_bytes() for p in again] == [p.path.read_bytes() for p in items]


def test_photo_set_accepts_arrays_and_png(tmp_path) -> None:
    g = _disc_glyphs()
    items = sp.make_photo_set(tmp_path, np.stack(g.masks), g.labels, n=3, seed=2, fmt="png", **SMALL)
    assert all(i.path.suffix == ".png" for i in items)
    assert [i.label for i in items][:2] in ([0, 1], [1, 0])


def test_blank_set(tmp_path) -> None:
    items = sp.make_blank_set(tmp_path, 4, seed=0, layout="folders", **SMALL)
    assert all(i.label is None and i.path.parent.name == "none" for i in items)
    assert all(i.source.startswith("blank-") for i in items)
    assert [i.label for i in sp.read_labels(tmp_path)] == [None] * 4


def test_card_video_frames_and_labels(tmp_path, glyphs: sp.GlyphSet) -> None:
    path = tmp_path / "cards.avi"
    labels = sp.make_card_video(path, glyphs, frames_per_card=6, size=(320, 240), seed=4, gap_frames=2)
    assert labels == [0] * 6 + [None] * 2 + [1] * 6 + [None] * 2
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    assert len(frames) == len(labels)
    assert all(f.shape == (240, 320, 3) and f.dtype == np.uint8 for f in frames)
    # The card is light paper with dark ink in the middle; the gap frames show the room only.
    centre = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)[80:160, 110:210] for f in frames]
    assert np.percentile(centre[0], 90) > np.percentile(centre[0], 5) + 60
    assert not np.array_equal(frames[0], frames[1])  # the hand moves, the light and noise change


def test_a_number_photo_and_its_pair_differ_only_by_the_neighbours():
    """`number_photos`: the digit between two others, aimed at; its pair shares every draw, so the
    middle of the frame (the digit) is the same pixels and only the sides (the cut neighbours) differ."""
    x = np.load(MNIST)["x_test"]
    among, alone, params = sp.number_photos([x[0], x[1], x[2]], np.random.default_rng(3), ranges=sp.EASY,
                                            grey=True, defocus=0.0, motion=0.0)
    assert among.shape == alone.shape and among.ndim == 2
    w = among.shape[1]
    assert np.array_equal(among[:, w // 3:2 * w // 3], alone[:, w // 3:2 * w // 3])
    for side in (among[:, :w // 6], among[:, -w // 6:]):  # a neighbour's cut ink on each side
        assert side.min() < np.median(alone) - 60
    with pytest.raises(ValueError, match="three glyphs"):
        sp.number_photos([x[0], x[1]], np.random.default_rng(3))


def test_a_digit_on_a_rule_shares_its_photos_draws_and_sits_on_a_line_across_it():
    """`on_a_rule`: the same draws as `render_photo` for the same seed (paper, light, noise), plus a
    straight line in the digit's ink from one side of the frame to the other, through the
    digit's lowest ink."""
    x = np.load(MNIST)["x_test"]
    fixed = dict(grey=True, defocus=0.0, motion=0.0, jpeg_quality=None, rotation_deg=0.0)
    ruled = sp.on_a_rule(x[0], np.random.default_rng(5), ranges=sp.EASY, **fixed)
    plain = sp.render_photo(x[0], np.random.default_rng(5), ranges=sp.EASY, **fixed)
    assert ruled.shape == plain.shape and ruled.ndim == 2
    darker = plain.astype(int) - ruled.astype(int) > 40  # the line's ink, where the digit has none
    rows = np.flatnonzero(darker.any(axis=1))
    assert darker[:, :5].any() and darker[:, -5:].any()  # from edge to edge
    assert rows.max() - rows.min() <= 12  # level (the paper not turned), a few pixels thick
    digit_rows = np.flatnonzero((np.median(plain) - plain > 60).any(axis=1))
    assert digit_rows.min() < rows.min() <= digit_rows.max() + 2  # under the digit, touching it
