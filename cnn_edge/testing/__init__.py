"""Test and benchmark helpers that never ship inside the runtime's imports.

`synthetic_photos` renders camera-like photos, blank scenes and card videos of digits for the
tests, `benchmarks/` and `ci/`. No module of cnn_edge outside this package imports it (an
import-linter contract checks this); it is the one place that imports OpenCV at load time.
"""
