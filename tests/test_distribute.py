"""`cnn-edge train --distribute`: the cluster's options, MirroredStrategy, and two real worker
processes on 127.0.0.1 under MultiWorkerMirroredStrategy (train, convert, kill, resume, time out)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnn_edge.common import run_dir as rd
from cnn_edge.common.errors import ConfigError
from cnn_edge.trainer import TrainConfig, train
from cnn_edge.trainer.distribute import check_distribute, cluster_from, scaled, worker_scratch
from tests.conftest import MNIST, REPO, run_cli

# A worker exactly as `cnn-edge train` runs it (same one-line errors), but with a short
# worker_timeout, which the CLI leaves at the config's default.
WORKER = """
import json, sys
from pathlib import Path
from cnn_edge.cli.running import user_errors
from cnn_edge.trainer import TrainConfig, train
args = json.loads(sys.argv[1])
args["out"] = Path(args["out"]); args["data"] = Path(args["data"]); args["workers"] = tuple(args["workers"])
with user_errors():
    r = train(TrainConfig(**args))
    print(json.dumps({"run_dir": str(r.run_dir), "test_accuracy": r.test_accuracy}))
"""
# No fonts or other writers' digits: with --augment they would add ~10,000 rendered images.
SMALL = dict(train_limit=1000, validation_size=500, data=str(MNIST), verbose=2, seed=1, worker_timeout=150.0,
             font_digits=0, other_writers=())
# 150 s: on this shared 2-core machine one worker may start (import TensorFlow, load the data and
# model) a minute later than the other. A killed worker is noticed sooner, by TF's heartbeats.


def free_ports(n: int) -> list[int]:
    """n ports free on 127.0.0.1 now (bound to port 0, then released)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_worker(index: int, workers: list[str], tmp: Path, **cfg: object) -> subprocess.Popen[str]:
    """One worker process (CPU only, its own temp dir for scratch) of a `multi-worker` run."""
    args = {**SMALL, **cfg, "distribute": "multi-worker", "workers": workers, "worker_index": index}
    scratch = tmp / f"tmp{index}"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TMPDIR": str(scratch), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(args, default=str)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 400) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"worker still running after {timeout} s: {err[-2000:]}")
    return proc.returncode, out, err


def error_lines(stderr: str) -> list[str]:
    """The lines a user reads: TensorFlow's own C++ log lines (W0000/I0000/E0000) left out."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_cluster_options_are_checked_without_tensorflow() -> None:
    cfg = TrainConfig(
        distribute="multi-worker", out=Path("r"), workers=("127.0.0.1:1", "h:2"), worker_index=1
    )
    cluster = cluster_from(cfg)
    assert cluster.size == 2 and not cluster.is_chief
    env = {
        "TF_CONFIG": json.dumps(
            {"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, "task": {"type": "chief", "index": 0}}
        )
    }
    assert cluster_from(TrainConfig(distribute="multi-worker"), env).is_chief
    bad = [
        (TrainConfig(distribute="multi-worker", workers=("a:1", "b:2")), "--worker-index"),
        (TrainConfig(distribute="multi-worker", workers=("a:1", "b"), worker_index=0), "not host:port"),
        (TrainConfig(distribute="multi-worker", workers=("a:1", "a:1"), worker_index=0), "appears twice"),
        (TrainConfig(distribute="multi-worker", workers=("a:1",), worker_index=3), "task index 3"),
        (TrainConfig(distribute="mirrored", workers=("a:1",)), "need --distribute multi-worker"),
        (TrainConfig(distribute="gpu"), "unknown --distribute"),
        (TrainConfig(distribute="multi-worker", workers=("a:1",), worker_index=0), "needs --out"),
    ]
    for cfg, message in bad:
        with pytest.raises(ConfigError, match=message):
            check_distribute(cfg)
    assert scaled(TrainConfig(batch_size=128, learning_rate=1e-3), 4) == (512, 4e-3)
    assert worker_scratch(Path("runs/x"), cluster) != worker_scratch(Path("runs/y"), cluster)


@pytest.mark.parametrize(
    ("tf_config", "message"),
    [
        ("{not json", "TF_CONFIG is not a cluster description"),
        ('{"cluster": {"worker": ["127.0.0.1:1"]}}', "TF_CONFIG is not a cluster description (KeyError"),
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "needs a 'worker' list"),
    ],
)
def test_bad_tf_config_is_one_clear_line(tmp_path, tf_config: str, message: str) -> None:
    proc = run_cli(
        "train",
        "--out",
        str(tmp_path / "run"),
        "--distribute",
        "multi-worker",
        env={"TF_CONFIG": tf_config},
        timeout=60,
    )
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "run").exists()


def test_mirrored_with_augment_writes_the_same_run_folder(tmp_path) -> None:
    """MirroredStrategy over this machine's devices (the CPU here: one replica)."""
    result = train(
        TrainConfig(
            out=tmp_path / "run", distribute="mirrored", augment="camera", epochs=1, **{**SMALL, "verbose": 0}
        )
    )
    metrics = json.loads((result.run_dir / rd.METRICS).read_text())
    assert metrics["distribute"]["mode"] == "mirrored"
    assert metrics["distribute"]["global_batch_size"] == 128 * metrics["distribute"]["replicas"]
    assert metrics["augment"]["preset"] == "camera"
    assert result.test_accuracy > 0.3, "one augmented epoch on 1,000 images is far above chance"
    names = sorted(p.name for p in result.run_dir.iterdir())
    assert names == sorted([rd.MODEL, rd.HISTORY, rd.CURVES, rd.METRICS, rd.CHECKPOINT, rd.CHECKPOINT_STATE,
                            rd.RUN_MARKER])


def test_two_workers_train_convert_and_match_one_process(tmp_path) -> None:
    from cnn_edge.converter import ConvertConfig, convert

    out = tmp_path / "run"
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    procs = [start_worker(i, workers, tmp_path, out=out, epochs=2) for i in (0, 1)]
    results = [finish(p) for p in procs]
    for code, _stdout, stderr in results:
        assert code == 0, stderr[-3000:]
    chief, other = (json.loads(r[1].strip().splitlines()[-1]) for r in results)
    assert Path(chief["run_dir"]) == out
    assert Path(other["run_dir"]).is_relative_to(tmp_path / "tmp1"), "worker 1 writes only to its temp dir"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [rd.MODEL, rd.HISTORY, rd.CURVES, rd.METRICS, rd.CHECKPOINT, rd.CHECKPOINT_STATE, rd.RUN_MARKER]
    )
    metrics = json.loads((out / rd.METRICS).read_text())
    assert metrics["distribute"] | {"learning_rate": 0} == {
        "mode": "multi-worker",
        "replicas": 2,
        "global_batch_size": 256,
        "learning_rate": 0,
        "workers": 2,
        "chief": True,
    }
    assert chief["test_accuracy"] == other["test_accuracy"], "synchronous: both hold the same weights"
    convert(ConvertConfig(run=out, formats=("float32", "int8")))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["models"], manifest
    alone = train(TrainConfig(out=tmp_path / "alone", epochs=2, **{**SMALL, "data": MNIST, "verbose": 0}))
    # Noise here: 2 epochs on 1,000 images, seeds 1-3, vary by several points; the cluster takes
    # half the steps at twice the rate (global batch 256 vs 128).
    assert abs(chief["test_accuracy"] - alone.test_accuracy) < 0.08, (chief, alone.test_accuracy)


def test_killed_worker_is_one_line_and_the_run_resumes(tmp_path) -> None:
    out = tmp_path / "run"
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    long = dict(out=out, epochs=40, augment="camera")
    procs = [start_worker(i, workers, tmp_path, **long) for i in (0, 1)]
    deadline = time.monotonic() + 300
    while not (out / rd.CHECKPOINT_STATE).exists():
        assert procs[0].poll() is None, procs[0].communicate()
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.5)
    procs[1].send_signal(signal.SIGKILL)
    start = time.monotonic()
    code, _, stderr = finish(procs[0], timeout=180)
    assert code != 0
    lines = error_lines(stderr)
    assert len(lines) == 1 and "--resume" in lines[0], stderr[-3000:]
    assert time.monotonic() - start < 170  # TF's heartbeats, else the watchdog's 150 s
    done = json.loads((out / rd.CHECKPOINT_STATE).read_text())["epoch"]
    # Both workers restarted with --resume continue from the last complete epoch.
    ports = [f"127.0.0.1:{p}" for p in free_ports(2)]
    procs = [start_worker(i, ports, tmp_path, out=out, epochs=done + 1, resume=True) for i in (0, 1)]
    for code, _, stderr in [finish(p) for p in procs]:
        assert code == 0, stderr[-3000:]
    assert len(json.loads((out / rd.HISTORY).read_text())["loss"]) == done + 1


def test_a_worker_without_its_checkpoint_resumes_in_step_with_the_chief(tmp_path) -> None:
    """What a worker killed before its own end-of-epoch save, or a cleaned /tmp, leaves behind."""
    import keras
    import numpy as np

    out = tmp_path / "run"
    procs = [start_worker(i, [f"127.0.0.1:{p}" for p in ports], tmp_path, out=out, epochs=1)
             for ports in [free_ports(2)] for i in (0, 1)]
    results = [finish(p) for p in procs]
    assert all(code == 0 for code, _, _ in results), results[1][2][-3000:]
    scratch = Path(json.loads(results[1][1].strip().splitlines()[-1])["run_dir"])
    shutil.rmtree(scratch)  # worker 1 has no checkpoint at all; the chief has epoch 1
    procs = [start_worker(i, [f"127.0.0.1:{p}" for p in ports], tmp_path, out=out, epochs=2, resume=True)
             for ports in [free_ports(2)] for i in (0, 1)]
    for code, _, stderr in [finish(p) for p in procs]:
        assert code == 0, stderr[-3000:]
    assert len(json.loads((out / rd.HISTORY).read_text())["loss"]) == 2
    # Both ran epoch 2 from the chief's epoch-1 state, so they end with the same weights.
    chief, worker = (keras.models.load_model(p / rd.MODEL).get_weights() for p in (out, scratch))
    for a, b in zip(chief, worker, strict=True):
        np.testing.assert_array_equal(a, b)


def test_unreachable_worker_is_one_line_in_bounded_time(tmp_path) -> None:
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    start = time.monotonic()
    code, _, stderr = finish(
        start_worker(0, workers, tmp_path, out=tmp_path / "run", worker_timeout=10.0), 120
    )
    assert code != 0
    lines = error_lines(stderr)
    assert len(lines) == 1 and "waiting for the other 1 worker" in lines[0], stderr[-3000:]
    assert time.monotonic() - start < 100
