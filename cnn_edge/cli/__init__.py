"""The `cnn-edge` command line, the layer above every stage.

Each command parses its options, calls one library function and prints through `render`
(tables in `tables`); `running` turns the project's errors into one line and an exit code.
Commands are grouped by the package they drive: `stage_commands` (train, convert, finetune),
`device_commands` (infer, collect, doctor), `measure_commands` (evaluate, benchmark),
`deploy_commands` (deploy, bundle); `app` assembles them. Heavy libraries (TensorFlow, LiteRT,
OpenCV) are imported inside the commands, never at module level, so `--help` is fast on a Pi.
"""

from cnn_edge.cli.app import app, main

__all__ = ["app", "main"]
