"""The programs a device runs: `infer` on files (`files`, with `globbing` for patterns) or a
camera (`sources` read frames, `camera` runs the loop, `preview` draws the window), the live view
over HTTP (`serve` runs it beside the camera; `live_server` holds frames, viewers and stats,
`live_http` speaks HTTP for it), `collect` (save labelled samples) and `doctor` (is this device
ready?).

Each program has one entry point taking a frozen config and returning a result; all of them
turn pixels into predictions through `cnn_edge.edge_runtime`. Nothing here imports TensorFlow.
"""
