"""The per-frame fast path (`invoke_pixels`, the softmax table) answers exactly like the generic one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnn_edge.edge_runtime.classify import Classifier
from cnn_edge.edge_runtime.interpreter import (
    QuantParams,
    dequantize,
    load_model,
    pixel_table,
    quantize,
    softmax,
    softmax_table,
)

from .conftest import MNIST

QUANTS = [
    QuantParams(np.dtype(np.int8), 1.0, -128),  # the converter's int8 input
    QuantParams(np.dtype(np.int8), 0.1953125, 3),
    QuantParams(np.dtype(np.int8), 0.0371, -17),
    QuantParams(np.dtype(np.uint8), 1.0, 0),
    QuantParams(np.dtype(np.uint8), 0.5, 128),
]


@pytest.mark.parametrize("q", QUANTS, ids=str)
def test_pixel_table_is_quantize_for_every_pixel_value(q):
    pixels = np.arange(256, dtype=np.uint8)
    coded = np.frombuffer(pixels.tobytes().translate(pixel_table(q)), q.dtype)
    np.testing.assert_array_equal(coded, quantize(pixels.astype(np.float32), q))


def test_no_tables_for_float_or_wide_tensors():
    assert pixel_table(QuantParams(np.dtype(np.float32), 0.0, 0)) is None
    assert softmax_table(QuantParams(np.dtype(np.float32), 0.0, 0)) is None
    assert softmax_table(QuantParams(np.dtype(np.int16), 0.01, 0)) is None
    assert softmax_table(QuantParams(np.dtype(np.int8), 10.0, 0)) is None  # would underflow


@pytest.mark.parametrize("q", QUANTS[1:], ids=str)
def test_softmax_table_is_softmax_of_dequantize_on_all_256_values(q):
    codes = np.arange(256, dtype=np.uint8).view(q.dtype)
    table = np.array(softmax_table(q))
    expected = softmax(dequantize(codes, q).astype(np.float64))
    np.testing.assert_allclose(table / table.sum(), expected, rtol=1e-12, atol=0)
    # ...and on random 10-class outputs, indexed by their raw bytes as `classify_digit` does.
    rng = np.random.default_rng(0)
    for _ in range(200):
        raw = rng.integers(np.iinfo(q.dtype).min, np.iinfo(q.dtype).max + 1, 10).astype(q.dtype)
        scores = np.array([table[b] for b in raw.tobytes()])
        np.testing.assert_allclose(scores / scores.sum(), softmax(dequantize(raw, q).astype(np.float64)),
                                   rtol=1e-12, atol=1e-300)


@pytest.fixture(scope="module")
def digits() -> list[np.ndarray]:
    x = np.load(MNIST)["x_test"][:200]
    extra = [np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)]
    return [*x, *extra, np.asfortranarray(x[0]), x[1].T]  # also non-contiguous layouts


@pytest.mark.parametrize("name", ["model_int8.tflite", "model_float32.tflite"])
def test_invoke_pixels_equals_set_tensor_path(converted_run, digits, name):
    model = load_model(converted_run / name, threads=1)
    for d in digits:
        raw, seconds = model.invoke_pixels(d)
        raw = raw.reshape(-1).copy()
        ref, _ = model.invoke_one(model.prepare_input(d))
        np.testing.assert_array_equal(raw, ref)
        np.testing.assert_array_equal(model.prepare_one(d), model.prepare_input(d))
        assert seconds > 0
    # A batch run in between (the interpreter resized) does not disturb the batch-1 path.
    model.predict(np.stack(digits[:8]))
    np.testing.assert_array_equal(model.invoke_pixels(digits[0])[0].reshape(-1),
                                  model.invoke_one(model.prepare_input(digits[0]))[0])


def _reference_prediction(model, digit) -> list[tuple[int, float]]:
    """The generic path: quantize, invoke, dequantize, float softmax, stable top-3."""
    raw, _ = model.invoke_one(model.prepare_input(digit))
    logits = dequantize(raw, model.output_quant)[:10].tolist()
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    order = sorted(range(10), key=exps.__getitem__, reverse=True)[:3]
    return [(i, exps[i] / sum(exps)) for i in order]


@pytest.mark.parametrize("name", ["model_int8.tflite", "model_float32.tflite"])
def test_classify_digit_matches_the_generic_path(converted_run, digits, name):
    clf = Classifier(load_model(converted_run / name, threads=1))
    for d in digits:
        pred = clf.classify_digit(d)
        ref = _reference_prediction(clf.model, d)
        assert [lab for lab, _ in pred.top3] == [lab for lab, _ in ref]
        assert pred.label == ref[0][0]
        assert pred.confidence == pytest.approx(ref[0][1], abs=1e-6)
        assert pred.top3[0][1] == pred.confidence
        for (_, p), (_, r) in zip(pred.top3, ref, strict=True):
            assert p == pytest.approx(r, abs=1e-6)
        assert pred.to_json()["top3"][0]["label"] == pred.label


def test_no_digit_prediction_has_empty_top3(converted_run):
    clf = Classifier(load_model(converted_run / "model_int8.tflite", threads=1))
    pred = clf.classify(np.full((64, 64), 200, np.uint8))
    assert pred.label is None and pred.confidence is None and pred.top3 == []
    assert pred.to_json()["top3"] == []
