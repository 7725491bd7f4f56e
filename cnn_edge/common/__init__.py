"""Shared contracts: what several stages must agree on, each defined here and nowhere else.

Errors (`errors`), atomic artifact writes (`atomic`), sha256 (`checksums`), the export formats and
their file names (`formats`), the run folder's layout (`run_dir`), the samples folder and what
counts as an image in a folder (`image_folders`), platform facts such as 32-bit ARM and thread
defaults (`platform`), finding MNIST (`mnist`), .npz problems (`npz`), native log silencing
(`quiet`). These modules import nothing else from cnn_edge but each other, and no TensorFlow.
"""
