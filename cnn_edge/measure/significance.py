"""Is an accuracy loss real or noise? Paired tests on two models' per-image correctness.

Both models see the same images, so only the images where exactly one of them is right carry
information (the discordant pairs). McNemar's exact test asks whether those split 50/50;
the bootstrap resamples images to give an interval for the loss in percentage points.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Significance:
    """Paired comparison of a model against its reference on the same images.

    Fields:
        n: images compared.
        only_reference_right: images the reference gets right and the model wrong.
        only_model_right: images the model gets right and the reference wrong.
        mcnemar_p: two-sided exact McNemar p-value (1.0 when there is no discordant image).
        loss_pp: reference accuracy minus model accuracy, in percentage points.
        ci_low_pp, ci_high_pp: bootstrap interval of `loss_pp` at `confidence`.
        confidence: e.g. 0.95.
        resamples: bootstrap resamples drawn.
    """

    n: int
    only_reference_right: int
    only_model_right: int
    mcnemar_p: float
    loss_pp: float
    ci_low_pp: float
    ci_high_pp: float
    confidence: float
    resamples: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def significant(self) -> bool:
        """The loss is unlikely to be noise at the 1 - confidence level."""
        return self.mcnemar_p < 1.0 - self.confidence


def mcnemar_exact(only_reference_right: int, only_model_right: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of the discordant counts against p = 1/2."""
    b, c = int(only_reference_right), int(only_model_right)
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    # Exact integer arithmetic: comb() stays exact for any n, the one division rounds once.
    tail = sum(math.comb(n, i) for i in range(k + 1))
    return min(1.0, 2 * tail / 2**n)


def bootstrap_loss_ci(only_reference_right: int, only_model_right: int, n: int, *, confidence: float = 0.95,
                      resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the loss (pp), resampling images with replacement.

    Resampling n images and counting discordant ones is a multinomial draw over
    (reference-only right, model-only right, the rest), so no per-image array is needed.
    """
    if n <= 0:
        return 0.0, 0.0
    b, c = only_reference_right, only_model_right
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, [b / n, c / n, max(0.0, 1.0 - (b + c) / n)], size=resamples)
    losses = 100.0 * (draws[:, 0] - draws[:, 1]) / n
    alpha = (1.0 - confidence) / 2
    lo, hi = np.quantile(losses, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def compare(model_correct: np.ndarray, reference_correct: np.ndarray, *, confidence: float = 0.95,
            resamples: int = 10_000, seed: int = 0) -> Significance:
    """McNemar and bootstrap for two boolean per-image correctness arrays of equal length."""
    m = np.asarray(model_correct, dtype=bool)
    r = np.asarray(reference_correct, dtype=bool)
    if m.shape != r.shape:
        raise ValueError(f"correctness arrays differ in shape: {m.shape} vs {r.shape}")
    n = int(m.size)
    b = int(np.count_nonzero(r & ~m))
    c = int(np.count_nonzero(m & ~r))
    lo, hi = bootstrap_loss_ci(b, c, n, confidence=confidence, resamples=resamples, seed=seed)
    loss = 100.0 * (b - c) / n if n else 0.0
    return Significance(n, b, c, mcnemar_exact(b, c), loss, lo, hi, confidence, resamples)
