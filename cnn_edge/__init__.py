"""cnn-edge: train the MNIST CNN, convert it to int8 TFLite, run it on a Raspberry Pi."""

__version__ = "0.1.0"
