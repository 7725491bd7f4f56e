"""`cnn-edge benchmark`: Keras and every TFLite format of a run in one table, with sweeps and plots.

TensorFlow is imported only for the Keras row and only when installed; matplotlib only for the PNGs.
"""

from cnn_edge.measure.benchmark.config import BenchmarkConfig, BenchmarkResult, Row
from cnn_edge.measure.benchmark.run import benchmark

__all__ = ["BenchmarkConfig", "BenchmarkResult", "Row", "benchmark"]
