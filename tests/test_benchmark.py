"""`cnn-edge benchmark`: real LiteRT (and TensorFlow for the Keras row) on the tiny converted run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

QUICK = ["--limit", "300", "--runs", "20", "--warmup", "2", "--batch", "16"]


@pytest.fixture()
def run_copy(converted_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(converted_run, out)
    return out


def test_table_json_md_and_pngs(run_copy: Path) -> None:
    (run_copy / "model_float16.tflite").write_bytes(b"this is not a flatbuffer" * 10)  # a failing format
    res = run_cli("benchmark", "--run", str(run_copy), *QUICK, "--json")
    # The broken float16 costs exit 1 and one line; every other row and file is still written.
    assert res.returncode == 1, res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip()] and "model_float16.tflite" in res.stderr
    d = json.loads(res.stdout)
    assert d == json.loads((run_copy / "benchmark.json").read_text())
    rows = {r["name"]: r for r in d["rows"]}
    assert list(rows) == ["keras", "float32", "float16", "int8"]
    assert rows["float16"]["error"] and "not a valid TFLite model" in rows["float16"]["error"]
    assert rows["float16"]["accuracy"] is None
    for name in ("keras", "float32", "int8"):
        assert rows[name]["error"] is None and 0.5 < rows[name]["accuracy"] <= 1
        assert rows[name]["p50_all_ms"] > 0 and rows[name]["throughput_ips"] > 0
    assert rows["keras"]["p50_1t_ms"] is None and rows["keras"]["notes"]  # says why: TF threads fixed
    assert rows["float32"]["speedup_vs_float32"] == pytest.approx(1.0)
    assert rows["int8"]["accuracy_change_pp"] == pytest.approx(100 * (rows["int8"]["accuracy"]
                                                                      - rows["keras"]["accuracy"]))
    assert [t["threads"] for t in d["thread_sweep_int8"]] == list(range(1, d["cores"] + 1))
    assert [b["batch"] for b in d["batch_sweep_int8"]] == [1, 8, 32, 128]
    assert sum(map(sum, d["confusion_int8"])) == 300
    assert d["missing_formats"] == ["dynamic"]
    for png in ("benchmark_latency.png", "benchmark_confusion_int8.png", "benchmark_latency_hist.png"):
        assert (run_copy / png).stat().st_size > 1000
    md = (run_copy / "benchmark.md").read_text()
    assert "| float16 |" in md and "not a valid TFLite model" in md


def test_human_table(run_copy: Path) -> None:
    res = run_cli("benchmark", "--run", str(run_copy), *QUICK, "--no-keras", "--no-plots")
    assert res.returncode == 0, res.stderr
    assert "int8" in res.stdout and "float32" in res.stdout and "speed-up" in res.stdout


def test_missing_run_dir_is_one_line(tmp_path: Path) -> None:
    res = run_cli("benchmark", "--run", str(tmp_path / "nope"))
    assert res.returncode != 0 and "Traceback" not in res.stderr and "not found" in res.stderr


def test_without_tensorflow_only_keras_row_is_skipped(run_copy: Path) -> None:
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from pathlib import Path\n"
        "from cnn_edge.measure.benchmark import BenchmarkConfig, benchmark\n"
        f"r = benchmark(BenchmarkConfig(run=Path({str(run_copy)!r}), limit=200, runs=10, warmup=1, "
        "batch=8, plots=False))\n"
        "assert [x.name for x in r.rows] == ['float32', 'int8'], r.rows\n"
        "assert all(x.error is None and x.p50_1t_ms > 0 for x in r.rows)\n"
        "assert any('TensorFlow is not installed' in n for n in r.notes), r.notes\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'tensorflow' and sys.modules[m]]\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
