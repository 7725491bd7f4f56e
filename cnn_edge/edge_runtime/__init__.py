"""Stage 3's library: what a device needs to turn pixels into a prediction, without TensorFlow.

`interpreter` loads a .tflite model in LiteRT or tflite-runtime (quantization included),
`images` decodes image files, `preprocess` turns a photo into MNIST's 28x28, `card` finds a card
or page held up to a camera, `classify` runs preprocess + model on one picture. The programs
that use it live in `cnn_edge.device`, the measurements in `cnn_edge.measure`.
"""
