"""`cnn-edge train`: the seed's models, a short real training run, resume, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import ConfigError, DataError, RunDirError
from cnn_edge.trainer import TrainConfig, train
from tests.conftest import MNIST, interrupt_training, run_cli


@pytest.mark.parametrize(
    ("arch", "hidden", "layer_params", "total"),
    [
        (
            "cnn",
            128,
            {"conv1": 320, "pool1": 0, "conv2": 18_496, "flatten": 0, "dense": 991_360, "logits": 1_290},
            1_011_466,
        ),
        ("cnn", 1024, {"dense": 7_930_880, "logits": 10_250}, 7_959_946),
        ("softmax", 128, {"logits": 7_850}, 7_850),
    ],
)
def test_parameter_counts_match_the_seed(
    arch: str, hidden: int, layer_params: dict[str, int], total: int
) -> None:
    from cnn_edge.trainer.models import build_model

    model = build_model(arch, hidden)
    assert model.count_params() == total
    for name, count in layer_params.items():
        assert model.get_layer(name).count_params() == count, name


def test_dropout_acts_only_in_training() -> None:
    from cnn_edge.trainer.models import build_model

    model = build_model("cnn")
    x = np.random.default_rng(0).integers(0, 256, (4, 28, 28)).astype("float32")
    train_a = np.asarray(model(x, training=True))
    train_b = np.asarray(model(x, training=True))
    assert not np.allclose(train_a, train_b)
    infer_a = np.asarray(model(x, training=False))
    infer_b = np.asarray(model(x, training=False))
    np.testing.assert_array_equal(infer_a, infer_b)


def test_validation_matches_keras_and_is_traced_once_per_run() -> None:
    """The per-epoch validation gives Keras' own loss and accuracy, and is traced once, not every
    epoch (a graph rebuilt each epoch cost time and once swallowed a Ctrl-C in its __del__)."""
    import keras

    from cnn_edge.trainer.loop import evaluator
    from cnn_edge.trainer.models import build_model

    model = build_model("cnn")
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (700, 28, 28)).astype("float32")
    y = rng.integers(0, 10, 700)

    class CountingTraces:
        """Python code inside a tf.function runs only while it is being traced."""

        traces = 0

        def __call__(self, images, training: bool):
            CountingTraces.traces += 1
            return model(images, training=training)

    validate = evaluator(CountingTraces(), batch_size=512)  # a full batch and a short last one
    results = [validate(x, y) for _epoch in range(4)]
    logits = np.asarray(model(x, training=False))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    assert results[0][0] == pytest.approx(float(loss), rel=1e-4)
    assert results[0][1] == pytest.approx(float(np.mean(logits.argmax(-1) == y)))
    assert results == [results[0]] * 4
    assert CountingTraces.traces <= 2, "traced again on later epochs"


def test_short_run_learns_and_writes_every_artifact(tiny_run) -> None:
    metrics = json.loads((tiny_run / rd.METRICS).read_text())
    assert metrics["test_accuracy"] > 0.6, "2 epochs on 1,000 images should be far above 10% chance"
    assert metrics["params"] == 1_011_466
    assert metrics["epochs"] == 2
    assert metrics["train_seconds"] > 0
    assert metrics["tensorflow_version"]
    history = json.loads((tiny_run / rd.HISTORY).read_text())
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert len(history[key]) == 2, key
    assert (tiny_run / rd.MODEL).stat().st_size > 1_000_000
    assert (tiny_run / rd.CURVES).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    hidden = [p.name for p in tiny_run.glob(".*")]
    assert hidden == [rd.RUN_MARKER], "no temporary files left behind, only the run's marker"


def test_same_seed_gives_same_weights(tmp_path) -> None:
    import keras

    weights = []
    for name in ("a", "b"):
        cfg = TrainConfig(
            out=tmp_path / name,
            arch="softmax",
            epochs=1,
            train_limit=300,
            validation_size=200,
            data=MNIST,
            verbose=0,
            seed=7,
        )
        weights.append(keras.models.load_model(train(cfg).model_path).get_weights())
    for wa, wb in zip(*weights, strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_resume_continues_from_last_epoch(tmp_path) -> None:
    out = tmp_path / "run"
    base = dict(out=out, arch="softmax", train_limit=300, validation_size=200, data=MNIST, verbose=0)
    train(TrainConfig(epochs=1, **base))
    resumed = train(TrainConfig(epochs=3, resume=True, **base))
    assert resumed.epochs_run == 3
    assert len(json.loads((out / rd.HISTORY).read_text())["loss"]) == 3
    with pytest.raises(ConfigError, match="already has 3 epochs"):
        train(TrainConfig(epochs=3, resume=True, **base))


def test_existing_run_dir_is_not_overwritten_without_force(tmp_path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(RunDirError, match="--force"):
        train(TrainConfig(out=out, arch="softmax", epochs=1, train_limit=100, data=MNIST, verbose=0))
    assert (out / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--arch", "resnet"], "unknown --arch 'resnet'"),
        (["--train-limit", "999999"], "--train-limit 999999 is larger than the 55000"),
        (["--data", "/nonexistent/mnist.npz"], "data file not found"),
    ],
)
def test_bad_input_gives_one_clear_line(tmp_path, args: list[str], message: str) -> None:
    proc = run_cli("train", "--out", str(tmp_path / "run"), *args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unreadable_and_wrong_layout_data(tmp_path) -> None:
    from cnn_edge.common.mnist import load_mnist

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(DataError, match="cannot read"):
        load_mnist(garbage)
    wrong_keys = tmp_path / "wrong_keys.npz"
    np.savez(wrong_keys, images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="lacks x_train"):
        load_mnist(wrong_keys)
    wrong_shape = tmp_path / "wrong_shape.npz"
    np.savez(
        wrong_shape,
        x_train=np.zeros((2, 32, 32), np.uint8),
        y_train=np.zeros(2, np.uint8),
        x_test=np.zeros((2, 28, 28), np.uint8),
        y_test=np.zeros(2, np.uint8),
    )
    with pytest.raises(DataError, match=r"x_train has shape \(2, 32, 32\).*expected \(N, 28, 28\) uint8"):
        load_mnist(wrong_shape)
    proc = run_cli("train", "--out", str(tmp_path / "run"), "--data", str(wrong_keys))
    assert proc.returncode != 0 and "lacks x_train" in proc.stderr and "Traceback" not in proc.stderr


def test_data_lookup_order(tmp_path, monkeypatch) -> None:
    from cnn_edge.common import mnist

    monkeypatch.setenv(mnist.ENV_VAR, str(MNIST))
    assert mnist.find_mnist() == MNIST
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path / "missing.npz"))
    with pytest.raises(DataError, match="CNN_EDGE_DATA"):
        mnist.find_mnist()
    monkeypatch.delenv(mnist.ENV_VAR)
    assert mnist.find_mnist() == mnist.REPO_DATA
    explicit = tmp_path / "explicit.npz"
    explicit.write_bytes(MNIST.read_bytes())
    assert mnist.find_mnist(explicit) == explicit


def test_help_is_fast_and_imports_no_tensorflow() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cnn_edge.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for verb in ('train', 'convert', 'infer', 'evaluate', 'benchmark', 'doctor'):\n"
        "    assert CliRunner().invoke(app, [verb, '--help']).exit_code == 0\n"
        "heavy_roots = ('tensorflow', 'keras', 'cv2', 'ai_edge_litert', 'tflite_runtime', 'matplotlib')\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in heavy_roots]\n"
        "print(heavy)\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_ctrl_c_keeps_a_checkpoint_and_exits_130(tmp_path) -> None:
    out = tmp_path / "run"
    args = ("--arch", "softmax", "--epochs", "200", "--train-limit", "2000", "--validation-size", "500")
    returncode, stderr = interrupt_training(out, *args, "--quiet")
    assert returncode == 130, stderr
    assert "interrupted" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    assert (out / rd.CHECKPOINT).stat().st_size > 0
    assert not (out / rd.MODEL).exists()


def test_atomic_writes_leave_normal_permissions_and_no_temp_files(tmp_path) -> None:
    import os

    from cnn_edge.common import atomic

    target = atomic.write_json(tmp_path / "a.json", {"x": 1})
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed half-way")
    assert not (tmp_path / "b.bin").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
