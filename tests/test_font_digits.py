"""The shipped handwriting-font digits and the training images made from them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import ConfigError, DataError
from cnn_edge.trainer import TrainConfig, train
from cnn_edge.trainer.font_digits import ASSET, HELD_OUT_EVERY, font_training_images, load_font_digits

from .conftest import MNIST


def test_shipped_glyphs_are_ten_digits_per_font_with_licences() -> None:
    g = load_font_digits()
    n_fonts = len(g.font_names)
    assert n_fonts >= 100 and g.masks.shape == (10 * n_fonts, 64, 64) and g.masks.dtype == np.uint8
    for f in range(n_fonts):
        assert sorted(g.labels[g.font == f].tolist()) == list(range(10))
    listing = json.loads(ASSET.with_suffix(".json").read_text())
    assert [f["name"] for f in listing["fonts"]] == list(g.font_names)
    assert all(f["license"] for f in listing["fonts"])
    # Ink on blank: every glyph has strokes and a clear background.
    ink = (g.masks >= 128).mean(axis=(1, 2))
    assert ink.min() > 0.02 and ink.max() < 0.6


def test_held_out_fonts_are_never_training_fonts() -> None:
    g = load_font_digits()
    held, trained = g.split(held_out=True), g.split(held_out=False)
    assert set(held.font.tolist()).isdisjoint(trained.font.tolist())
    assert len(held) + len(trained) == len(g) and (held.font % HELD_OUT_EVERY == 0).all()
    assert 0.15 < len(held) / len(g) < 0.25


def test_training_images_look_like_mnist_and_are_seeded() -> None:
    g = load_font_digits()
    few = g.split(held_out=False)
    few = type(few)(few.masks[:60], few.labels[:60], few.font[:60], few.font_names)  # six fonts
    x, y = font_training_images(2, seed=0, glyphs=few)
    assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and len(x) == len(y)
    assert len(x) >= 110 and set(y.tolist()) == set(range(10))
    again, _ = font_training_images(2, seed=0, glyphs=few)
    other, _ = font_training_images(2, seed=1, glyphs=few)
    np.testing.assert_array_equal(x, again)
    assert len(other) != len(x) or not np.array_equal(other, x)
    # MNIST's framing: ink inside the central 20x20 box (+1 px of rounding), mass near the centre.
    for img in x:
        rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
        assert rows[-1] - rows[0] < 22 and cols[-1] - cols[0] < 22
        total = img.sum(dtype=np.float64)
        cy = (img.sum(axis=1) * np.arange(28)).sum() / total
        cx = (img.sum(axis=0) * np.arange(28)).sum() / total
        assert abs(cy - 13.5) < 1.5 and abs(cx - 13.5) < 1.5


def test_a_damaged_glyph_file_is_one_clear_error(tmp_path) -> None:
    bad = tmp_path / "font_digits.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="cannot read the font digits"):
        load_font_digits(bad)


def test_training_with_font_digits_adds_them_to_training_only(tmp_path) -> None:
    out = tmp_path / "run"
    cfg = TrainConfig(out=out, arch="softmax", epochs=1, train_limit=300, validation_size=200,
                      data=MNIST, verbose=0, font_digits=1)
    train(cfg)
    metrics = json.loads((out / rd.METRICS).read_text())
    n_train_glyphs = len(load_font_digits().split(held_out=False))
    assert 0.9 * n_train_glyphs <= metrics["font_digit_images"] <= n_train_glyphs
    assert metrics["train_images"] == 300 + metrics["font_digit_images"]
    assert metrics["validation_images"] == 200 and metrics["config"]["font_digits"] == 1
    with pytest.raises(ConfigError, match="--font-digits"):
        train(TrainConfig(out=tmp_path / "bad", font_digits=-1, data=MNIST, verbose=0))
