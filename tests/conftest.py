"""Shared fixtures: real but tiny models, trained in seconds on the repository's MNIST."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MNIST = REPO / "data" / "mnist.npz"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run `cnn-edge ARGS...` in a subprocess of this interpreter, capturing text output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cnn_edge", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def sigint_as_at_a_terminal() -> None:
    """Popen's preexec_fn for the Ctrl-C tests: the child gets SIGINT's default disposition.

    A script that starts the suite in the background (`.ci/run &`, nohup) hands every child
    SIGINT *ignored*, and Python then installs no KeyboardInterrupt handler, so a test's Ctrl-C
    would do nothing. A user pressing Ctrl-C at a terminal has the default; so do these tests.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_training(out: Path, *train_args: str) -> tuple[int, str]:
    """Start `cnn-edge train --out OUT ARGS...`, press Ctrl-C once its first checkpoint exists.

    Returns the exit code and stderr of the interrupted run.
    """
    import signal
    import time

    from cnn_edge.common import run_dir as rd

    proc = subprocess.Popen(
        [sys.executable, "-m", "cnn_edge", "train", "--out", str(out), *train_args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_as_at_a_terminal,
    )
    deadline = time.monotonic() + 120
    while not (out / rd.CHECKPOINT_STATE).exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory with a seed CNN trained for 2 epochs on 1,000 images (about 85% accuracy).

    Shared by every test that needs a trained Keras model; treat it as read-only.
    """
    from cnn_edge.trainer import TrainConfig, train

    out = tmp_path_factory.mktemp("runs") / "tiny"
    train(
        TrainConfig(out=out, epochs=2, train_limit=1000, validation_size=1000, data=MNIST, verbose=0, seed=1)
    )
    return out


# CNN_EDGE_TEST_MODELS=DIR: take the converted run from DIR/converted_run instead of training one,
# so the edge-runtime tests run where TensorFlow is not installed (ci/tflite-runtime-env.sh builds
# DIR with the TensorFlow venv first: `python ci/build_test_models.py DIR`).
TEST_MODELS_ENV = "CNN_EDGE_TEST_MODELS"


def prebuilt_models(name: str) -> Path | None:
    """DIR/name when $CNN_EDGE_TEST_MODELS=DIR is set (an error if it is missing there), else None."""
    root = os.environ.get(TEST_MODELS_ENV)
    if not root:
        return None
    path = Path(root) / name
    if not path.exists():
        raise FileNotFoundError(f"${TEST_MODELS_ENV} is set but {path} does not exist")
    return path


@pytest.fixture(scope="session")
def converted_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `tiny_run` converted with --int8: model_float32.tflite, model_int8.tflite, manifest.json.

    Default calibration (shipped class-balanced set, default size and seed), int8 input/output.
    Treat it as read-only. With $CNN_EDGE_TEST_MODELS set, the prebuilt run there (no TensorFlow).
    """
    prebuilt = prebuilt_models("converted_run")
    if prebuilt is not None:
        return prebuilt
    from cnn_edge.converter import ConvertConfig, convert

    tiny_run = request.getfixturevalue("tiny_run")
    out = tmp_path_factory.mktemp("converted") / "tiny"
    shutil.copytree(tiny_run, out)
    convert(ConvertConfig(run=out, formats=("float32", "int8")))
    return out


@pytest.fixture()
def deployable_run(converted_run: Path, tmp_path: Path) -> Path:
    """A writable copy of the converted tiny run's edge files (deploy saves its reports into it)."""
    out = tmp_path / "tiny-run"
    out.mkdir()
    for name in ("manifest.json", "model_float32.tflite", "model_int8.tflite"):
        shutil.copy2(converted_run / name, out / name)
    return out


@pytest.fixture(scope="module")
def sshd_ready() -> None:
    """Skip without OpenSSH's server, or fail where CI promised it ($CNN_EDGE_REQUIRE_SSHD, .ci/run)."""
    from tests import sshd

    reason = sshd.unavailable_reason()
    if reason and os.environ.get("CNN_EDGE_REQUIRE_SSHD"):
        pytest.fail(f"CNN_EDGE_REQUIRE_SSHD is set but {reason}")
    if reason:
        pytest.skip(reason)
