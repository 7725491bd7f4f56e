"""The programs a device runs: `infer` on files (`files`) or a camera (`sources` read frames,
`camera` runs the loop, `overlay` draws the preview), the live view over HTTP (`live_server`),
`collect` (save labelled samples) and `doctor` (is this device ready?).

Each program has one entry point taking a frozen config and returning a result; all of them
turn pixels into predictions through `cnn_edge.edge_runtime`. Nothing here imports TensorFlow.
"""
