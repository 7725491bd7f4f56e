"""`--debug-quant`: per-layer int8 quantization error, from TensorFlow's QuantizationDebugger.

For each quantized layer output the debugger compares the float and int8 models on the same
inputs. RMSE / scale near 0.29 (= 1/sqrt(12)) is the error of ideal rounding; TensorFlow's
debugger guide treats layers well above that (here: above 0.7) as quantization trouble.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common import atomic
from cnn_edge.common.formats import BY_NAME
from cnn_edge.common.quiet import native_stderr_silenced
from cnn_edge.converter import export

REPORT = "quant_debug.csv"
IDEAL_RMSE_OVER_SCALE = 1 / math.sqrt(12)  # uniform rounding error of one quantization step
FLAG_ABOVE = 0.7
DEBUG_IMAGES = 200  # enough for stable per-layer statistics; the debugger runs both models per image


def run_debugger(saved_model: Path, images: np.ndarray, out_dir: Path, *, worst: int = 5,
                 log: Callable[[str], None] = lambda _m: None) -> tuple[Path, list[dict[str, Any]]]:
    """Write `out_dir/quant_debug.csv` and return (its path, the `worst` layers by RMSE/scale)."""
    tf = export.import_tensorflow()
    images = images[:DEBUG_IMAGES]
    converter = export.make_converter(saved_model, BY_NAME["int8"], "float32", images)
    log(f"Quantization debugger on {len(images)} calibration images")
    with native_stderr_silenced():
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=export.representative_dataset(images))
        debugger.run()
    buf = io.StringIO()
    debugger.layer_statistics_dump(buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    for row in rows:
        scale = float(row.get("scale") or 0)
        mse = float(row.get("mean_squared_error") or 0)
        ratio = math.sqrt(mse) / scale if scale > 0 else float("nan")
        row["rmse_over_scale"] = f"{ratio:.6f}"
        row["flagged"] = str(bool(ratio > FLAG_ABOVE))
    fields = list(rows[0].keys()) if rows else ["tensor_name", "rmse_over_scale", "flagged"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = atomic.write_text(Path(out_dir) / REPORT, out.getvalue())
    ranked = sorted((r for r in rows if not math.isnan(float(r["rmse_over_scale"]))),
                    key=lambda r: float(r["rmse_over_scale"]), reverse=True)
    top = [{"tensor_name": r.get("tensor_name", "?"), "op_name": r.get("op_name", "?"),
            "rmse_over_scale": float(r["rmse_over_scale"]), "flagged": r["flagged"] == "True"}
           for r in ranked[:worst]]
    return path, top
