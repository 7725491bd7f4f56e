"""Build the tests' prebuilt models with TensorFlow, for test runs in environments without it.

Usage: python ci/build_test_models.py DIR     (in the TensorFlow venv, e.g. .venv-test)

Writes DIR/converted_run: the same run the `converted_run` fixture of tests/conftest.py makes
(seed CNN, 2 epochs on 1,000 images, seed 1; converted to float32 and int8 with default
calibration; keep the two in step when the fixture changes), and DIR/known_pair: the files of
tests/test_evaluate.py's `known_pair` fixture (made by its own `build_known_pair`).
Then `CNN_EDGE_TEST_MODELS=DIR pytest ...` uses them instead of TensorFlow.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(root: Path) -> None:
    from cnn_edge.converter import ConvertConfig, convert
    from cnn_edge.trainer import TrainConfig, train

    out = root / "converted_run"
    tmp = root / "converted_run.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    train(TrainConfig(out=tmp, epochs=2, train_limit=1000, validation_size=1000,
                      data=REPO / "data" / "mnist.npz", verbose=0, seed=1))
    convert(ConvertConfig(run=tmp, formats=("float32", "int8")))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    print(f"test models: {sorted(p.name for p in out.glob('*.tflite'))} in {out}")

    sys.path.insert(0, str(REPO))
    from tests.test_evaluate import build_known_pair

    pair = root / "known_pair"
    shutil.rmtree(pair, ignore_errors=True)
    pair.mkdir(parents=True)
    build_known_pair(pair)
    print(f"test models: {sorted(p.name for p in pair.iterdir() if p.is_file())} in {pair}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
