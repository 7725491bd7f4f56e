"""Photo -> Prediction: preprocessing plus one interpreter call, each timed on its own.

`latency_ms` is the model's share only (set input + invoke + read output), so it compares
across machines and with `benchmark` figures; `preprocess_ms` is the image work before it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from cnn_edge.edge_runtime.interpreter import NUM_CLASSES, TfliteModel, dequantize
from cnn_edge.edge_runtime.preprocess import DEFAULT, PreprocessConfig, preprocess


@dataclass(frozen=True)
class Prediction:
    """What the model saw and said about one image.

    label, confidence: the top class and its softmax probability; None when no digit was found
        (the model is then not run at all, rather than made to guess).
    top3: [(label, probability), ...] best first; empty when there is no digit.
    latency_ms: interpreter set-input + invoke + read-output time (0 when not run).
    preprocess_ms: time spent turning the image into the 28x28 input.
    digit: the 28x28 uint8 input the model saw (None when no digit), for --save-preprocessed.
    """

    label: int | None
    confidence: float | None
    top3: list[tuple[int, float]]
    latency_ms: float
    preprocess_ms: float
    digit: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 6),
            "latency_ms": round(self.latency_ms, 4),
            "preprocess_ms": round(self.preprocess_ms, 4),
            "top3": [{"label": lab, "confidence": round(p, 6)} for lab, p in self.top3],
        }


class Classifier:
    """A loaded model plus the preprocessing settings; `classify(image)` is the per-frame call."""

    def __init__(self, model: TfliteModel, preprocess_config: PreprocessConfig = DEFAULT) -> None:
        self.model = model
        self.preprocess_config = preprocess_config
        # Warm up: the first OpenCV call and the first invoke pay one-off set-up costs
        # (thread pools, XNNPACK packing) that would otherwise land in the first image's timings.
        blank = np.zeros((64, 64), np.uint8)
        blank[20:44, 30:34] = 255
        self.classify(blank)

    def classify(self, image: np.ndarray) -> Prediction:
        """A photo (grey or BGR, any size) -> Prediction; label None when no digit is found."""
        t0 = time.perf_counter()
        digit = preprocess(image, self.preprocess_config)
        pre_ms = (time.perf_counter() - t0) * 1e3
        if digit is None:
            return Prediction(None, None, [], 0.0, pre_ms, None)
        return self.classify_digit(digit, preprocess_ms=pre_ms)

    def classify_digit(self, digit: np.ndarray, preprocess_ms: float = 0.0) -> Prediction:
        """An already MNIST-like 28x28 uint8 input -> Prediction (no preprocessing)."""
        tensor = self.model.prepare_one(digit)
        raw, seconds = self.model.invoke_one(tensor)
        # Ten numbers: plain Python floats are several times cheaper than numpy calls here,
        # and this runs once per camera frame (the runtime's overhead budget is ~10% of invoke).
        logits = dequantize(raw, self.model.output_quant)[:NUM_CLASSES].tolist()
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = sum(exps)
        order = sorted(range(len(exps)), key=exps.__getitem__, reverse=True)[:3]
        top3 = [(i, exps[i] / total) for i in order]
        return Prediction(top3[0][0], top3[0][1], top3, seconds * 1e3, preprocess_ms, digit)
