"""Measurement: how accurate and how fast a .tflite model is, and on what machine.

`evaluate` (accuracy loss against a reference, significance, latency; `cnn-edge evaluate`), its
data (`evaldata`), latency timing (`latency`), statistics (`stats`, `significance`), system
information (`sysinfo`), and `benchmark` (every format of a run in one table). Nothing here
imports TensorFlow except the benchmark's optional Keras row.
"""
