"""`cnn-edge evaluate`: real LiteRT runs on tiny models, including a pair with known disagreements."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn_edge.measure.evaluate import EvaluateConfig, evaluate
from cnn_edge.measure.significance import bootstrap_loss_ci, compare, mcnemar_exact
from tests.conftest import prebuilt_models, run_cli

LATENCY_KEYS = {"mean", "std", "min", "p50", "p90", "p99", "max"}
N_ZERO, N_ONE, N_OTHER = 7, 5, 38  # the permuted model swaps classes 0 and 1: 12 disagreements


@pytest.fixture(scope="session")
def known_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(reference.tflite, swapped.tflite, data.npz): the swapped model disagrees on exactly 12 images.

    Image i is black except pixel (0, label), so a one-layer model whose weight matrix picks that
    pixel is 100% right; the same model with the columns of classes 0 and 1 swapped is wrong on
    exactly the images labelled 0 or 1, and right on the rest.
    With $CNN_EDGE_TEST_MODELS set, the prebuilt pair there (no TensorFlow needed).
    """
    prebuilt = prebuilt_models("known_pair")
    if prebuilt is not None:
        return prebuilt / "reference.tflite", prebuilt / "swapped.tflite", prebuilt / "data.npz"
    pytest.importorskip("tensorflow", reason="builds its models with TensorFlow")
    return build_known_pair(tmp_path_factory.mktemp("known_pair"))


def build_known_pair(out: Path) -> tuple[Path, Path, Path]:
    """Write the `known_pair` files into `out` (TensorFlow needed); also used by ci/build_test_models.py."""
    from cnn_edge.common.formats import get_format
    from cnn_edge.converter.export import convert_format, export_saved_model, import_tensorflow

    tf = import_tensorflow()
    w = np.zeros((784, 10), np.float32)
    w[np.arange(10), np.arange(10)] = 1.0  # pixel (0, k) votes for class k
    paths = []
    for name, weights in (("reference", w), ("swapped", w[:, [1, 0, 2, 3, 4, 5, 6, 7, 8, 9]])):
        inp = tf.keras.Input((28, 28))
        dense = tf.keras.layers.Dense(10, use_bias=False)
        model = tf.keras.Model(inp, dense(tf.keras.layers.Flatten()(inp)))
        dense.set_weights([weights])
        saved = export_saved_model(model, out / f"{name}_saved")
        path = out / f"{name}.tflite"
        path.write_bytes(convert_format(saved, get_format("float32"), "int8", None))
        paths.append(path)
    labels = np.array([0] * N_ZERO + [1] * N_ONE + [2 + i % 8 for i in range(N_OTHER)], np.uint8)
    np.random.default_rng(0).shuffle(labels)
    images = np.zeros((len(labels), 28, 28), np.uint8)
    images[np.arange(len(labels)), 0, labels] = 255
    np.savez(out / "data.npz", images=images, labels=labels)
    return paths[0], paths[1], out / "data.npz"


def test_known_disagreement_count(known_pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ref, swapped, data = known_pair
    r = evaluate(EvaluateConfig(model=swapped, reference=ref, data=data, runs=5, warmup=1,
                                save_disagreements=tmp_path / "dis"))
    labels = np.load(data)["labels"]
    assert len(r.disagreements) == N_ZERO + N_ONE
    assert set(r.disagreements) == set(np.flatnonzero(labels <= 1).tolist())
    assert r.reference.accuracy == 1.0
    assert r.model.accuracy == pytest.approx(N_OTHER / len(labels))
    assert r.accuracy_loss_pp == pytest.approx(100 * (N_ZERO + N_ONE) / len(labels))
    assert r.agreement == pytest.approx(N_OTHER / len(labels))
    assert r.significance.only_reference_right == 12 and r.significance.only_model_right == 0
    assert r.significance.mcnemar_p == pytest.approx(2 * 0.5**12)
    assert r.model.per_class_accuracy[0] == 0.0 and r.model.per_class_accuracy[5] == 1.0
    assert len(list((tmp_path / "dis").glob("*.png"))) == 12
    assert (tmp_path / "dis" / "disagreements.csv").read_text().count("\n") == 13


def test_json_keys_types_and_markdown(converted_run: Path, tmp_path: Path) -> None:
    md = tmp_path / "report.md"
    res = run_cli("evaluate", "--model", str(converted_run / "model_int8.tflite"), "--limit", "500",
                  "--runs", "20", "--warmup", "2", "--threads", "1", "--json", "--markdown", str(md))
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    for key in ("accuracy", "reference_accuracy", "accuracy_loss_pp", "agreement"):
        assert isinstance(d[key], float), key
    assert 0 <= d["accuracy"] <= 1 and 0 <= d["agreement"] <= 1
    assert d["accuracy_loss_pp"] == pytest.approx(100 * (d["reference_accuracy"] - d["accuracy"]))
    for key in ("latency_ms", "reference_latency_ms"):
        assert set(d[key]) == LATENCY_KEYS and all(isinstance(v, float) for v in d[key].values())
        assert d[key]["min"] <= d[key]["p50"] <= d[key]["p90"] <= d[key]["p99"] <= d[key]["max"]
    assert d["model_size_bytes"] == (converted_run / "model_int8.tflite").stat().st_size
    assert d["reference_size_bytes"] == (converted_run / "model_float32.tflite").stat().st_size
    assert isinstance(d["backend"], str) and d["threads"] == 1
    assert d["reference_source"] == "manifest" and d["latency"]["count"] == 20
    assert "Accuracy loss" in md.read_text() and "McNemar" in md.read_text()


def test_gate_exit_codes(known_pair: tuple[Path, Path, Path]) -> None:
    ref, swapped, data = known_pair
    common = ["--model", str(swapped), "--reference", str(ref), "--data", str(data), "--runs", "2"]
    assert run_cli("evaluate", *common, "--max-accuracy-loss", "30").returncode == 0  # loss is 24 pp
    failed = run_cli("evaluate", *common, "--max-accuracy-loss", "20")
    assert failed.returncode == 1 and "FAIL" in failed.stdout
    usage = run_cli("evaluate", "--model", str(ref), "--data", str(data), "--max-accuracy-loss", "1")
    assert usage.returncode == 2 and "needs a reference" in usage.stderr and "Traceback" not in usage.stderr


def test_no_reference_gives_null_loss(known_pair: tuple[Path, Path, Path]) -> None:
    ref, _, data = known_pair
    res = run_cli("evaluate", "--model", str(ref), "--data", str(data), "--runs", "2", "--json")
    d = json.loads(res.stdout)
    assert d["accuracy"] == 1.0 and d["accuracy_loss_pp"] is None and d["reference_latency_ms"] is None


def test_missing_model_is_one_line_error(tmp_path: Path) -> None:
    res = run_cli("evaluate", "--model", str(tmp_path / "nope.tflite"))
    assert res.returncode != 0 and "Traceback" not in res.stderr and "not found" in res.stderr


def test_evaluate_runs_without_tensorflow(known_pair: tuple[Path, Path, Path]) -> None:
    ref, swapped, data = known_pair
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from pathlib import Path\n"
        "from cnn_edge.measure.evaluate import EvaluateConfig, evaluate\n"
        f"r = evaluate(EvaluateConfig(model=Path({str(swapped)!r}), reference=Path({str(ref)!r}), "
        f"data=Path({str(data)!r}), runs=2))\n"
        "assert len(r.disagreements) == 12\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'tensorflow' and sys.modules[m]]\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


def test_mcnemar_and_bootstrap() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(10, 2) == pytest.approx(0.0385742, rel=1e-5)  # scipy.stats.binomtest(2, 12)
    assert mcnemar_exact(2, 10) == mcnemar_exact(10, 2)
    lo, hi = bootstrap_loss_ci(30, 10, 10_000, resamples=2000)
    assert lo < 0.2 < hi and lo > 0  # 20 more errors in 10,000 = 0.2 pp, clearly above 0
    s = compare(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 1], bool))
    assert (s.only_reference_right, s.only_model_right, s.loss_pp) == (2, 1, 25.0)
