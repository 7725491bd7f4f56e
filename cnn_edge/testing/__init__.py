"""Test and benchmark helpers that never ship inside the runtime's imports.

`synthetic_photos` renders camera-like photos, blank scenes and card videos of digits for the
tests, `benchmarks/` and `ci/` (one module per part: glyph sources, photo settings, rendering,
photo sets on disk, card videos); `paper_video` renders a sheet of paper filling the frame. No
module of cnn_edge outside this package imports them (an import-linter contract checks this);
this is the one place that imports OpenCV at load time.
"""
