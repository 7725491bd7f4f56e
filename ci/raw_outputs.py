"""Raw output tensors of a .tflite model for fixed 28x28 inputs, through cnn_edge's own loader.

Usage: python raw_outputs.py MODEL DIGITS_NPY [PNG_DIR] OUT_NPZ

Run by ci/pi-emulation.sh on x86 and under QEMU on aarch64 with the SAME inputs (raw MNIST digits
and the 28x28 PNGs x86's `infer --save-preprocessed` wrote), so any difference in the int8 output
comes from the interpreter's kernels, not from OpenCV. One image per invoke, as the camera does.
Writes OUT_NPZ with `raw` (N, 10) in the model's output dtype, `names`, `scale`, `zero_point`, `backend`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from cnn_edge.edge_runtime.interpreter import load_model


def main(argv: list[str]) -> None:
    if len(argv) not in (3, 4):
        sys.exit(__doc__)
    model_path, digits_path, out = argv[0], argv[1], argv[-1]
    images = list(np.load(digits_path))
    names = [f"digits[{i}]" for i in range(len(images))]
    if len(argv) == 4:
        for png in sorted(Path(argv[2]).glob("*.png")):
            img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
            if img is None or img.shape != (28, 28):
                sys.exit(f"raw_outputs: {png} is not a 28x28 greyscale image")
            images.append(img)
            names.append(png.name)
    model = load_model(model_path)
    raw = np.stack([model.invoke_one(model.prepare_one(img))[0].copy() for img in images])
    q = model.output_quant
    np.savez(out, raw=raw, names=np.array(names), scale=q.scale, zero_point=q.zero_point,
             backend=f"{model.backend} {model.backend_version}")


if __name__ == "__main__":
    main(sys.argv[1:])
