"""Where `cnn-edge train` runs: this process, every local device, or a cluster of workers.

`cluster_from(cfg)` reads and checks the cluster (--workers/--worker-index or TF_CONFIG) without
TensorFlow; `placement(cfg)` builds the tf.distribute strategy. Every mode trains in the same
loop (`cnn_edge.trainer.loop`): Keras 3's `model.fit` does not run under
MultiWorkerMirroredStrategy (keras-team/keras issue 20585), a custom step under `strategy.run` does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_edge.common.errors import ClusterError, ConfigError
from cnn_edge.trainer.config import DISTRIBUTE_MODES, TrainConfig

TF_CONFIG = "TF_CONFIG"
JOBS = ("chief", "worker")  # the task types MultiWorkerMirroredStrategy trains with


@dataclass(frozen=True)
class Cluster:
    """The workers' addresses by job ("chief" optional, "worker") and this process's task."""

    jobs: dict[str, tuple[str, ...]]
    task_type: str
    task_index: int

    @property
    def is_chief(self) -> bool:
        """The chief writes the run folder: task "chief", or worker 0 when there is no chief job."""
        if "chief" in self.jobs:
            return self.task_type == "chief"
        return self.task_index == 0

    @property
    def size(self) -> int:
        return sum(len(hosts) for hosts in self.jobs.values())


def _check_address(address: Any, where: str) -> str:
    host, _, port = str(address).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{where}: {address!r} is not host:port", hint="write e.g. 10.0.0.2:12345")
    return str(address)


def _cluster(jobs: Mapping[str, Any], task_type: Any, index: Any, where: str) -> Cluster:
    """Check a cluster description (from either source) and return it."""
    unknown = sorted(set(jobs) - set(JOBS))
    if unknown or "worker" not in jobs:
        raise ConfigError(
            f"{where}: the cluster needs a 'worker' list (and at most a 'chief'), got {sorted(jobs)}"
        )
    checked: dict[str, tuple[str, ...]] = {}
    for job, hosts in jobs.items():
        if not isinstance(hosts, list | tuple) or not hosts:
            raise ConfigError(f"{where}: cluster '{job}' must be a non-empty list of host:port")
        checked[job] = tuple(_check_address(h, where) for h in hosts)
    if len(checked.get("chief", ())) > 1:
        raise ConfigError(f"{where}: a cluster has at most one chief")
    if task_type not in checked:
        raise ConfigError(f"{where}: task type {task_type!r} is not in the cluster ({', '.join(checked)})")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(checked[task_type]):
        raise ConfigError(
            f"{where}: task index {index!r} is not in 0..{len(checked[task_type]) - 1} of '{task_type}'"
        )
    addresses = [a for hosts in checked.values() for a in hosts]
    if len(set(addresses)) != len(addresses):
        raise ConfigError(
            f"{where}: an address appears twice in the cluster", hint="give each worker its own port"
        )
    return Cluster(checked, str(task_type), index)


def cluster_from(cfg: TrainConfig, environ: Mapping[str, str] = os.environ) -> Cluster:
    """The cluster of a "multi-worker" run: --workers/--worker-index if given, else TF_CONFIG."""
    if cfg.workers:
        if cfg.worker_index is None:
            raise ConfigError(
                "--workers needs --worker-index I (this machine's place in the list, 0 = chief)"
            )
        return _cluster({"worker": list(cfg.workers)}, "worker", cfg.worker_index, "--workers")
    if cfg.worker_index is not None:
        raise ConfigError(
            "--worker-index needs --workers host:port,... (or leave both out and set TF_CONFIG)"
        )
    raw = environ.get(TF_CONFIG)
    if not raw:
        raise ConfigError(
            "--distribute multi-worker needs the cluster",
            hint="pass --workers host:port,... --worker-index I, or set TF_CONFIG",
        )
    try:
        spec = json.loads(raw)
        jobs, task = spec["cluster"], spec["task"]
        if not isinstance(jobs, dict) or not isinstance(task, dict):
            raise TypeError("'cluster' and 'task' must be objects")
        return _cluster(jobs, task.get("type"), task.get("index"), TF_CONFIG)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"TF_CONFIG is not a cluster description ({type(exc).__name__}: {exc})",
            hint='set it as {"cluster": {"worker": ["host:port", ...]}, '
            '"task": {"type": "worker", "index": 0}}',
        ) from None


def check_distribute(cfg: TrainConfig) -> None:
    """Reject unusable distribution options before anything heavy is imported."""
    if cfg.distribute not in DISTRIBUTE_MODES:
        raise ConfigError(
            f"unknown --distribute {cfg.distribute!r}", hint=f"choose one of: {', '.join(DISTRIBUTE_MODES)}"
        )
    if not cfg.worker_timeout > 0:
        raise ConfigError(f"worker timeout must be positive, got {cfg.worker_timeout}")
    if cfg.distribute != "multi-worker":
        if cfg.workers or cfg.worker_index is not None:
            raise ConfigError("--workers and --worker-index need --distribute multi-worker")
        return
    cluster_from(cfg)
    if cfg.out is None:
        raise ConfigError(
            "--distribute multi-worker needs --out DIR",
            hint="give every worker the same --out; the chief writes it, "
            "the others keep scratch in a temp dir",
        )


def worker_scratch(out: Path, cluster: Cluster) -> Path:
    """A non-chief worker's own folder: in the temp dir, named by run and task, so it never
    collides with the chief's run folder (shared disk or not) and `--resume` finds it again."""
    tag = hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"cnn-edge-{cluster.task_type}{cluster.task_index}-{tag}"


def scaled(cfg: TrainConfig, replicas: int) -> tuple[int, float]:
    """(global batch, learning rate) for `replicas` synchronous replicas.

    TensorFlow's distributed-training guides keep the batch per replica fixed and grow the global
    batch with the replicas (global = per-replica x replicas), so each device does the same work.
    The learning rate grows by the same factor (the linear scaling rule, Goyal et al. 2017): with
    N times the images per step there are N times fewer steps per epoch, and a proportionally
    larger step keeps the epochs' progress comparable. One replica changes nothing.
    """
    return cfg.batch_size * replicas, cfg.learning_rate * replicas


@dataclass
class Placement:
    """The strategy a run trains under and this process's role in it."""

    strategy: Any
    mode: str
    replicas: int
    cluster: Cluster | None = None

    @property
    def is_chief(self) -> bool:
        return self.cluster is None or self.cluster.is_chief


# The watchdog's own process. It reads one line per pat from its stdin: the error to report if
# nothing follows within the timeout. Then it writes that line and kills the trainer; EOF (the
# trainer finished or died) ends it quietly.
_WATCHER = """
import os, select, signal, sys
parent, seconds, message = int(sys.argv[1]), float(sys.argv[2]), ""
while True:
    ready, _, _ = select.select([sys.stdin], [], [], seconds)
    if not ready:
        sys.stderr.write(f"error: {message}\\n")
        sys.stderr.flush()
        os.kill(parent, signal.SIGKILL)
        break
    line = sys.stdin.readline()
    if not line:
        break
    message = line.strip()
"""


class Watchdog:
    """Ends this process with one line if `pat()` is not called for `seconds` once started.

    TensorFlow blocks in C++ while it waits for a worker that never comes, or in a collective
    whose peer died, holding Python's GIL and even catching SIGTERM: no Python exception or
    thread can get this process out. So the watchdog is a small separate process that this one
    pats through a pipe after every step; if the pats stop, it writes the error line and kills
    the trainer (exit status -9 / 137: the checkpoint of the last complete epoch stays on disk).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._proc: subprocess.Popen[str] | None = None

    def pat(self, what: str) -> None:
        """Progress was made; `what` names the next thing waited for (in the error line)."""
        error = ClusterError(
            f"{what}: no progress in {self.seconds:.0f} s (a worker is unreachable or stopped)",
            hint="check every worker is running with the same options; restart them all "
            "(with --resume to continue from the last epoch)",
        )
        if self._proc is None:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _WATCHER, str(os.getpid()), str(self.seconds)],
                stdin=subprocess.PIPE,
                text=True,
            )
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.write(str(error).replace("\n", " ") + "\n")
            self._proc.stdin.flush()
        except OSError:  # the watcher is gone: nothing left to guard
            pass

    def stop(self) -> None:
        """Training is over: close the pipe, and the watcher ends."""
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()  # type: ignore[union-attr]
            self._proc.wait(timeout=10)
            self._proc = None


def placement(cfg: TrainConfig, watchdog: Watchdog) -> Placement:
    """Build the strategy `cfg.distribute` names (TensorFlow is imported by the caller)."""
    import tensorflow as tf

    if cfg.distribute == "none":
        return Placement(tf.distribute.get_strategy(), "none", 1)
    if cfg.distribute == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
        return Placement(strategy, "mirrored", strategy.num_replicas_in_sync)
    cluster = cluster_from(cfg)
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec({job: list(hosts) for job, hosts in cluster.jobs.items()}),
        task_type=cluster.task_type,
        task_id=cluster.task_index,
        rpc_layer="grpc",
    )
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=cfg.worker_timeout)
    watchdog.pat(f"waiting for the other {cluster.size - 1} worker(s) of the cluster")
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(
            cluster_resolver=resolver, communication_options=options
        )
    except (tf.errors.OpError, RuntimeError, ValueError) as exc:
        raise ClusterError(
            f"cannot join the cluster as {cluster.task_type} {cluster.task_index}: {exc}"
        ) from None
    return Placement(strategy, "multi-worker", strategy.num_replicas_in_sync, cluster)
