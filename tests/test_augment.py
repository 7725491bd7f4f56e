"""`cnn-edge train --augment`: seeded, deterministic, training-only, and the model stays the seed's."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import ConfigError
from cnn_edge.trainer import TrainConfig, train
from tests.conftest import MNIST, run_cli


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    from cnn_edge.common.mnist import load_mnist

    return load_mnist(MNIST).x_train[:64]


def test_same_seed_same_batch_other_seed_other_batch(digits: np.ndarray) -> None:
    import tensorflow as tf

    from cnn_edge.trainer.augment import CAMERA, augment_batch

    a = augment_batch(digits, tf.constant([3, 4]), CAMERA).numpy()
    b = augment_batch(digits, tf.constant([3, 4]), CAMERA).numpy()
    c = augment_batch(digits, tf.constant([3, 5]), CAMERA).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == digits.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 255 and np.array_equal(a, np.round(a)), "whole grey levels"
    # Changed, but still the same digits: most of the ink stays where it was.
    assert not np.array_equal(a, digits)
    overlap = ((a > 64) & (digits > 64)).sum() / (digits > 64).sum()
    assert overlap > 0.5, overlap


def test_zero_ranges_leave_the_images_alone(digits: np.ndarray) -> None:
    import tensorflow as tf

    from cnn_edge.trainer.augment import AugmentConfig, augment_batch

    none = AugmentConfig(
        rotate_deg=0,
        shear=0,
        scale=(1, 1),
        aspect=0,
        translate_px=0,
        thickness=(0, 0),
        blur_prob=0,
        noise_prob=0,
        contrast=(1, 1),
        gamma=(1, 1),
        clutter_prob=0,
    )
    out = augment_batch(digits, tf.constant([1, 2]), none).numpy()
    np.testing.assert_allclose(out, digits, atol=1.0)  # only resampling round-off


def test_pipeline_is_seeded_and_reshuffles_each_epoch(digits: np.ndarray) -> None:
    from cnn_edge.trainer.datasets import augmented_dataset

    labels = np.arange(len(digits)) % 10
    cfg = TrainConfig(augment="camera", batch_size=16, seed=5)

    def epochs(ds, n: int = 2) -> list[list[np.ndarray]]:
        return [[x.numpy() for x, _ in ds] for _ in range(n)]

    first, again = (
        epochs(augmented_dataset(digits, labels, cfg)),
        epochs(augmented_dataset(digits, labels, cfg)),
    )
    for e1, e2 in zip(first, again, strict=True):
        for b1, b2 in zip(e1, e2, strict=True):
            np.testing.assert_array_equal(b1, b2)
    assert len(first[0]) == 4 and first[0][-1].shape == (16, 28, 28)
    assert not np.array_equal(first[0][0], first[1][0]), "epoch 2 sees other images than epoch 1"


def test_augmentation_never_reaches_the_model(tmp_path) -> None:
    """Same architecture, parameter count and outputs for the same weights, with or without it."""
    import keras

    from cnn_edge.trainer.models import build_model

    base = dict(train_limit=300, validation_size=200, data=MNIST, verbose=0, epochs=1, seed=3)
    plain = keras.models.load_model(train(TrainConfig(out=tmp_path / "plain", **base)).model_path)
    aug = keras.models.load_model(
        train(TrainConfig(out=tmp_path / "aug", augment="camera", font_digits=0, other_writers=(),
                          **base)).model_path
    )
    assert aug.count_params() == plain.count_params() == build_model("cnn").count_params() == 1_011_466
    assert [type(layer).__name__ for layer in aug.layers] == [type(layer).__name__ for layer in plain.layers]
    assert json.dumps(aug.get_config()) == json.dumps(plain.get_config())
    aug.set_weights(plain.get_weights())
    x = np.random.default_rng(0).integers(0, 256, (8, 28, 28)).astype("float32")
    np.testing.assert_array_equal(aug.predict(x, verbose=0), plain.predict(x, verbose=0))


def test_short_augmented_run_trains_records_and_converts(tmp_path) -> None:
    out = tmp_path / "run"
    cfg = TrainConfig(
        out=out,
        augment="camera",
        font_digits=0,  # the augmentation alone (fonts: tests/test_font_digits.py,
        other_writers=(),  # other writers: tests/test_other_writers.py)
        epochs=3,
        train_limit=600,
        validation_size=500,
        data=MNIST,
        verbose=0,
        seed=1,
    )
    result = train(cfg)
    assert result.test_accuracy > 0.5, "3 augmented epochs on 600 images should be far above 10% chance"
    metrics = json.loads((out / rd.METRICS).read_text())
    assert metrics["config"]["augment"] == "camera"
    assert metrics["augment"]["preset"] == "camera" and metrics["augment"]["rotate_deg"] > 0
    assert metrics["params"] == 1_011_466

    # Same seed, same weights (the augmented pipeline is as reproducible as the plain one).
    import keras

    again = train(TrainConfig(**{**cfg.__dict__, "out": tmp_path / "again"}))
    for wa, wb in zip(
        keras.models.load_model(result.model_path).get_weights(),
        keras.models.load_model(again.model_path).get_weights(),
        strict=True,
    ):
        np.testing.assert_array_equal(wa, wb)

    proc = run_cli("convert", "--run", str(out), "--int8")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    int8 = next(m for m in manifest["models"] if m["format"] == "int8")
    assert int8["accuracy"] > 0.5


def test_resume_keeps_augmenting(tmp_path) -> None:
    base = dict(out=tmp_path / "run", train_limit=300, validation_size=200, data=MNIST, verbose=0)
    train(TrainConfig(epochs=1, augment="light", font_digits=0, other_writers=(), **base))
    resumed = train(TrainConfig(epochs=2, resume=True, **base))  # augment comes from the checkpoint
    assert resumed.epochs_run == 2
    assert json.loads((tmp_path / "run" / rd.METRICS).read_text())["augment"]["preset"] == "light"


def test_unknown_preset_is_one_clear_line(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown --augment-preset 'studio'"):
        train(TrainConfig(out=tmp_path / "x", augment="studio", data=MNIST))
    proc = run_cli("train", "--out", str(tmp_path / "run"), "--augment", "--augment-preset", "studio")
    assert proc.returncode != 0 and "unknown --augment-preset 'studio'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_preset_alone_implies_augment(tmp_path) -> None:
    out = tmp_path / "run"
    proc = run_cli("train", "--out", str(out), "--arch", "softmax", "--augment-preset", "light",
                   "--epochs", "1", "--train-limit", "200", "--validation-size", "200", "--quiet",
                   "--font-digits", "0", "--other-writers", "none")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / rd.METRICS).read_text())["config"]["augment"] == "light"
