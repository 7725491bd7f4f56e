"""Stage 2: convert a trained Keras model to TFLite (float32, float16, dynamic, full-integer int8).

Public entry point: `convert(ConvertConfig) -> ConvertResult`. TensorFlow is imported only when
`convert` runs, so importing this package (as the CLI does) stays fast.
"""

from cnn_edge.converter.config import DEFAULT_CALIBRATION_SAMPLES, ConvertConfig, ConvertResult, ModelReport
from cnn_edge.converter.convert import convert

__all__ = ["DEFAULT_CALIBRATION_SAMPLES", "ConvertConfig", "ConvertResult", "ModelReport", "convert"]
