"""Configuration and result of `cnn-edge convert` (plain data: importing this is cheap)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cnn_edge.common.formats import DEFAULT_IO

# Chosen by measurement (benchmarks/calibration_sweep.py, benchmarks/results/convert.md).
DEFAULT_CALIBRATION_SAMPLES = 1000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class ConvertConfig:
    """What to convert and where to write it.

    Fields:
        run: run directory; models and manifest.json are written here.
        model: Keras model to convert; None means `run/model.keras`.
        formats: export format names from `cnn_edge.common.formats.FORMATS`; float32 is always added
            (it is the reference the others are measured against).
        io: input/output dtype of full-integer formats: "int8", "uint8" or "float32".
        calibration_samples: images fed to the int8 calibration.
        calibration_data: a .npz with images (and optional labels), or a folder of images;
            None uses the class-balanced set shipped in `cnn_edge.calibration_data`.
        seed: picks which calibration images are used (same seed, same model bytes).
        debug_quant: write a per-layer quantization error report (int8 only).
        evaluate: measure every model's accuracy on the 10,000 shipped test images.
    """

    run: Path
    model: Path | None = None
    formats: tuple[str, ...] = ("float32",)
    io: str = DEFAULT_IO
    calibration_samples: int = DEFAULT_CALIBRATION_SAMPLES
    calibration_data: Path | None = None
    seed: int = DEFAULT_SEED
    debug_quant: bool = False
    evaluate: bool = True


@dataclass(frozen=True)
class ModelReport:
    """One written TFLite model, as verified and measured."""

    format: str
    path: Path
    size_bytes: int
    sha256: str
    accuracy: float | None
    agreement_with_float32: float | None


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion wrote and measured."""

    run_dir: Path
    manifest_path: Path
    models: dict[str, ModelReport]
    keras_accuracy: float | None
    calibration_samples: int
    debug_quant_csv: Path | None = None
    worst_layers: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def size_ratio(self, fmt: str, reference: str = "float32") -> float:
        """Size of `fmt` as a fraction of `reference`."""
        return self.models[fmt].size_bytes / self.models[reference].size_bytes

    def accuracy_loss_pp(self, fmt: str, reference: str = "float32") -> float | None:
        """Accuracy of `reference` minus that of `fmt`, in percentage points."""
        a, b = self.models[reference].accuracy, self.models[fmt].accuracy
        return None if a is None or b is None else (a - b) * 100
