"""Save the images two models disagree on, so a user can look at what quantization changed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from cnn_edge.common.atomic import write_bytes, write_text
from cnn_edge.measure.evaldata import EvalData


def save_disagreements(folder: Path, data: EvalData, indices: np.ndarray, model_pred: np.ndarray,
                       reference_pred: np.ndarray) -> Path:
    """Write `disagreements.csv`, `disagreements.npz` and (with OpenCV) one PNG per image.

    PNG names carry the answers (`00042_label7_model1_ref7.png`) so a file browser is enough.
    The .npz keeps the raw pixels for scripts; it and the CSV need only numpy.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["index", "name", "label", "model", "reference", "png"])
    try:
        import cv2
    except ImportError:  # the CSV and .npz still say everything
        cv2 = None
    for i in indices:
        png = f"{i:05d}_label{data.labels[i]}_model{model_pred[i]}_ref{reference_pred[i]}.png"
        if cv2 is not None:
            ok, buf = cv2.imencode(".png", data.images[i])
            if ok:
                write_bytes(folder / png, buf.tobytes())
        writer.writerow([int(i), data.names[i], int(data.labels[i]), int(model_pred[i]),
                         int(reference_pred[i]), png if cv2 is not None else ""])
    write_text(folder / "disagreements.csv", rows.getvalue())
    buf = io.BytesIO()
    np.savez_compressed(buf, indices=indices, images=data.images[indices], labels=data.labels[indices],
                        model=model_pred[indices], reference=reference_pred[indices])
    write_bytes(folder / "disagreements.npz", buf.getvalue())
    return folder
