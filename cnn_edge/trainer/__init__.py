"""Stage 1: train the seed's MNIST CNN (or the softmax baseline) in TensorFlow/Keras.

Public entry point: `train(TrainConfig) -> TrainResult`. TensorFlow is imported only when
`train` runs, so importing this package (as the CLI does) stays fast.
"""

from cnn_edge.trainer.config import TrainConfig, TrainResult
from cnn_edge.trainer.training import train

__all__ = ["TrainConfig", "TrainResult", "train"]
