"""Photo -> Prediction: preprocessing plus one interpreter call, each timed on its own.

`latency_ms` is the model's share only (set input + invoke + read output), so it compares
across machines and with `benchmark` figures; `preprocess_ms` is the image work before it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from cnn_edge.common.errors import ModelError
from cnn_edge.edge_runtime.interpreter import NUM_CLASSES, TfliteModel, dequantize, softmax_table
from cnn_edge.edge_runtime.preprocess import DEFAULT, PreprocessConfig, preprocess, use_one_opencv_thread


@dataclass(slots=True)
class Prediction:
    """What the model saw and said about one image.

    label, confidence: the top class and its softmax probability; None when no digit was found
        (the model is then not run at all, rather than made to guess).
    latency_ms: interpreter set-input + invoke + read-output time (0 when not run).
    preprocess_ms: time spent turning the image into the 28x28 input.
    digit: the 28x28 uint8 input the model saw (None when no digit), for --save-preprocessed.
    scores: softmax numerators per class (exp of the logit minus a constant; empty when there
        is no digit): `top3` is worked out from them when asked for, since the camera loop,
        which runs once per frame, never asks.

    Not frozen: a frozen dataclass's __init__ alone costs ~5% of an int8 invoke.
    """

    label: int | None
    confidence: float | None
    latency_ms: float
    preprocess_ms: float
    digit: np.ndarray | None = field(default=None, repr=False, compare=False)
    scores: list[float] = field(default_factory=list, repr=False)

    @property
    def top3(self) -> list[tuple[int, float]]:
        """[(label, probability), ...] best first (ties: the lower label); empty when there is no digit."""
        scores = self.scores
        total = sum(scores)
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:3]
        return [(i, scores[i] / total) for i in order]

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
        self._softmax_table = softmax_table(model.output_quant)
        use_one_opencv_thread()
        # Warm up: the first OpenCV call and the first invoke pay one-off set-up costs
        # (thread pools, XNNPACK packing) that would otherwise land in the first image's timings.
        blank = np.zeros((64, 64), np.uint8)
        blank[20:44, 30:34] = 255
        try:
            self.classify(blank)
        except ModelError:
            pass  # a model with non-finite outputs: each image it is given reports that as its error

    def classify(self, image: np.ndarray) -> Prediction:
        """A photo (grey or BGR, any size) -> Prediction; label None when no digit is found."""
        t0 = time.perf_counter()
        digit = preprocess(image, self.preprocess_config)
        pre_ms = (time.perf_counter() - t0) * 1e3
        if digit is None:
            return Prediction(None, None, 0.0, pre_ms, None)
        return self.classify_digit(digit, preprocess_ms=pre_ms)

    def classify_digit(self, digit: np.ndarray, preprocess_ms: float = 0.0) -> Prediction:
        """An already MNIST-like 28x28 uint8 input -> Prediction (no preprocessing)."""
        raw, seconds = self.model.invoke_pixels(digit)
        # Ten numbers, once per camera frame, against a budget of ~10% of a ~40 us invoke:
        # plain Python on lists, as every numpy call between two invokes costs a few us.
        table = self._softmax_table
        if table is not None:  # 8-bit output: one look-up per byte gives softmax's numerators
            scores = list(map(table.__getitem__, raw.tobytes()))
        else:
            scores = self._scores(raw)
        top = max(scores)  # the first of equal scores, as a stable sort would rank them
        total = sum(scores)
        if not math.isfinite(total):  # a NaN or +inf logit: no class can be claimed (one check per image)
            raise ModelError(
                f"{self.model.path} gave a non-finite output (NaN or infinity) for this image",
                hint="the model's weights are damaged: convert it again with `cnn-edge convert`",
            )
        return Prediction(scores.index(top), top / total, seconds * 1e3, preprocess_ms, digit, scores)

    def _scores(self, raw: np.ndarray) -> list[float]:
        """exp(logit - the largest logit) per class, from any output: softmax's numerators."""
        q = self.model.output_quant
        if raw.dtype == np.float32 and not q.is_quantized:  # already logits: skip the numpy call
            logits = raw.reshape(-1).tolist()
        else:
            logits = dequantize(raw, q).reshape(-1)[:NUM_CLASSES].tolist()
        top = max(logits)
        return [math.exp(v - top) for v in logits]
