"""The seed's models, built with Keras. Import only from code that already needs TensorFlow.

Both models take raw 28x28 pixels (0-255, white digit on black) and rescale inside the
graph, so the converted TFLite model takes the camera's pixels as they are and its int8
input quantization maps pixel p to p - 128 exactly (scale 1, zero point -128).
"""

from __future__ import annotations

from typing import Any

from cnn_edge.common.errors import ConfigError
from cnn_edge.trainer.config import ARCHES


def build_model(arch: str = "cnn", hidden_units: int = 128, dropout: float = 0.5) -> Any:
    """Return an uncompiled `keras.Model` producing 10 logits."""
    import keras
    from keras import layers

    if arch not in ARCHES:
        raise ConfigError(f"unknown arch {arch!r}", hint=f"choose one of: {', '.join(ARCHES)}")
    inputs = keras.Input(shape=(28, 28), dtype="float32", name="pixels")
    if arch == "softmax":
        x = layers.Flatten(name="flatten")(inputs)
        x = layers.Rescaling(1.0 / 255, name="scale")(x)
        logits = layers.Dense(10, name="logits")(x)
        return keras.Model(inputs, logits, name="softmax_regression")
    x = layers.Reshape((28, 28, 1), name="to_nhwc")(inputs)
    x = layers.Rescaling(1.0 / 255, name="scale")(x)
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.Flatten(name="flatten")(x)
    # Dropout layers are identity at inference (training=False) and vanish in the TFLite export.
    x = layers.Dropout(dropout, name="dropout1")(x)
    x = layers.Dense(hidden_units, activation="relu", name="dense")(x)
    x = layers.Dropout(dropout, name="dropout2")(x)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, logits, name="mnist_cnn")


def compile_model(model: Any, learning_rate: float, schedule: str = "constant", total_steps: int = 1) -> None:
    """Adam, sparse categorical cross-entropy on logits, accuracy.

    With schedule "cosine" the step size decays from `learning_rate` to 0 over `total_steps`:
    the last epochs then fine-tune instead of bouncing around the minimum.
    """
    import keras

    rate = learning_rate
    if schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, total_steps))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def summary_text(model: Any) -> str:
    """Keras' model summary as a string (the CLI prints it before training)."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=100)
    return "\n".join(lines)
