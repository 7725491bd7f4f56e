"""`cnn-edge deploy`: copy a run's edge bundle to a device over SSH, verify it, and measure it there.

Steps: read the device's checksums, copy only what differs (through a staging folder, renamed
into place once it checks out), verify every file by sha256, then run `cnn-edge doctor` and
`cnn-edge evaluate` on the device and the same evaluate here, and save both side by side in
the run folder.
"""

from __future__ import annotations

import datetime as dt
import json
import tarfile
import time
from pathlib import Path
from typing import Any

from cnn_edge import __version__
from cnn_edge.common.atomic import write_text
from cnn_edge.common.errors import ConfigError, DeployError
from cnn_edge.common.formats import BY_NAME
from cnn_edge.common.limits import MAX_TIMED_RUNS, check_int
from cnn_edge.common.platform import is_arm32
from cnn_edge.deploy import remote
from cnn_edge.deploy.bundle import collect_bundle, run_name, safe_name, write_tar
from cnn_edge.deploy.config import BundleFile, DeployConfig, DeployResult
from cnn_edge.deploy.report import device_summary
from cnn_edge.deploy.ssh import Completed, SshSession
from cnn_edge.deploy.target import Target, parse_target

SPACE_MARGIN = 1 << 20  # keep 1 MiB free beyond the bundle: a device with a full disk misbehaves
CHECK_TIMEOUT = 3600.0  # a Pi Zero evaluating 10,000 images in float32 takes minutes, not hours


def deploy(cfg: DeployConfig) -> DeployResult:
    """Copy, verify and (unless cfg.check is False) check the run's bundle on the device."""
    if cfg.eval_limit is not None and cfg.eval_limit < 1:
        raise ConfigError("--eval-limit must be at least 1")
    if cfg.eval_runs < 0:
        raise ConfigError("--eval-runs must be 0 or more")
    check_int("--eval-runs", cfg.eval_runs, 0, MAX_TIMED_RUNS)
    say = cfg.progress or (lambda _line: None)
    files = collect_bundle(cfg.run, cfg.formats)
    target = parse_target(cfg.to, run_name(cfg.run))
    with session_for(cfg, target) as ssh:
        say(f"connecting to {target.destination}")
        state, changed = _sync(ssh, target, files, say, cfg.keep_previous)
        if changed and cfg.on_switch is not None:
            cfg.on_switch(tuple(f.name for f in changed))
        report = _check_device(ssh, target, files, cfg, say) if cfg.check else None
    unchanged = tuple(f.name for f in files if f not in changed)
    report_path = None
    if report is not None:
        report.update(
            destination=target.destination,
            remote_path=state.path or target.path,
            copied=[f.name for f in changed],
            unchanged=list(unchanged),
            verified=True,
            bundle=[{"name": f.name, "size_bytes": f.size_bytes, "sha256": f.sha256} for f in files],
        )
        report_path = cfg.run / f"device-{safe_name(target.destination, 'device')}.json"
        write_text(report_path, json.dumps(report, indent=2) + "\n")
        say(f"report saved: {report_path}")
    return DeployResult(
        destination=target.destination,
        remote_path=state.path or target.path,
        copied=tuple(f.name for f in changed),
        unchanged=unchanged,
        bytes_sent=sum(f.size_bytes for f in changed),
        verified=True,
        report=report,
        report_path=report_path,
    )


def session_for(cfg: DeployConfig, target: Target) -> SshSession:
    """The SSH session of one deploy (and of its rollback), as cfg says to connect."""
    return SshSession(
        target.destination,
        ssh_config=cfg.ssh_config,
        options=cfg.ssh_options,
        accept_new_host_key=cfg.accept_new_host_key,
        connect_timeout=cfg.connect_timeout,
    )


def _sync(
    ssh: SshSession, target: Target, files: tuple[BundleFile, ...], say: Any, keep_previous: bool = False
) -> tuple[remote.RemoteState, list[BundleFile]]:
    """Copy the files whose sha256 differs on the device, then check every file there."""
    names = [f.name for f in files]
    state = _inspect(ssh, target, names)
    changed = [f for f in files if state.hashes.get(f.name) != f.sha256]
    where = f"{target.destination}:{state.path or target.path}"
    if not changed:  # the checksums just read are the verification
        say(f"{where}: all {len(files)} files already there, nothing to copy")
        return state, changed
    size = sum(f.size_bytes for f in changed)
    say(
        f"{where}: {len(changed)} of {len(files)} files to copy ({_mb(size)}), "
        f"{len(files) - len(changed)} unchanged"
    )
    _check_space(state, size, where)
    started = time.perf_counter()
    final = _upload(ssh, target, changed, names, where, keep_previous)
    say(f"copied {len(changed)} files in {time.perf_counter() - started:.1f} s")
    _verify(files, final, where)
    say(f"sha256 verified on the device: {len(files)}/{len(files)} files")
    return state, changed


def _inspect(ssh: SshSession, target: Target, names: list[str]) -> remote.RemoteState:
    done = ssh.run(remote.inspect_script(target.path, names))
    if done.returncode != 0:
        raise remote_failure(done, f"{target.destination}:{target.path}", "checking the folder")
    return remote.parse_inspect(done.stdout)


UNTOUCHED = "the previous bundle is untouched"
# What each exit code of the remote scripts means, and what to do (remote.py defines the codes).
REMOTE_FAILURES: dict[int, tuple[str, str]] = {
    remote.NO_FOLDER: (
        "cannot create, enter or write {where}: {message}",
        "choose a folder the SSH user may write, e.g. --to USER@HOST:~/cnn-edge/RUN",
    ),
    remote.NO_HASH_TOOL: (
        "{where}: the device has neither sha256sum nor shasum",
        "install coreutils on the device (sudo apt install coreutils)",
    ),
    remote.NO_STAGE: (
        "cannot make a staging folder in {where}: {message}",
        "is the folder writable by the SSH user? " + UNTOUCHED,
    ),
    remote.UNPACK_FAILED: (
        "unpacking the copy in {where} failed: {message}",
        UNTOUCHED + "; is tar installed there, and is the folder writable?",
    ),
    remote.CHECKSUM_MISMATCH: (
        "files arrived corrupted in {where} (sha256 mismatch)",
        UNTOUCHED + "; run the deploy again, and check the device's storage",
    ),
    remote.SWAP_FAILED: (
        "renaming the new files into place in {where} failed: {message}",
        "run the deploy again; it finds and replaces whatever is not right",
    ),
}


def remote_failure(done: Completed, where: str, step: str) -> DeployError:
    """One clear error for a remote script that failed: a full disk first, then by exit code."""
    message = _last_line(done.stderr)
    if "No space left" in done.stderr:
        return DeployError(
            f"the device ran out of disk space in {where}",
            hint="free some space there (old runs, `sudo apt clean`); " + UNTOUCHED,
        )
    if done.returncode in REMOTE_FAILURES:
        text, hint = REMOTE_FAILURES[done.returncode]
        return DeployError(text.format(where=where, message=message), hint=hint)
    return DeployError(
        f"{step} in {where} failed (exit {done.returncode}): {message}", hint="run the deploy again"
    )


def _check_space(state: remote.RemoteState, size: int, where: str) -> None:
    if state.free_bytes is not None and state.free_bytes < size + SPACE_MARGIN:
        raise DeployError(
            f"not enough disk space on the device: {_mb(state.free_bytes)} free in {where}, "
            f"the copy needs {_mb(size + SPACE_MARGIN)}",
            hint="free some space there (old runs, `sudo apt clean`) or choose another folder; "
            "nothing was changed",
        )


def _upload(
    ssh: SshSession,
    target: Target,
    changed: list[BundleFile],
    names: list[str],
    where: str,
    keep_previous: bool = False,
) -> dict[str, str]:
    """Stream the changed files as a tar.gz; the device swaps them in only when all arrived intact."""
    cmd = ssh.start(remote.upload_script(target.path, changed, names, keep_previous))
    try:
        write_tar(cmd.stdin, tuple(changed), mtime=int(time.time()))  # files dated as copied
    except BrokenPipeError:
        pass  # the device stopped reading: its exit code and message say why
    except (OSError, tarfile.TarError) as exc:
        cmd.finish()
        raise DeployError(
            f"the copy to {where} was cut short ({exc})",
            hint="the device keeps its previous bundle; run the deploy again",
        ) from None
    except BaseException:
        cmd.kill()
        raise
    done = cmd.finish()
    if done.returncode != 0:
        raise remote_failure(done, where, "the copy")
    return remote.parse_hashes(done.stdout)


def _verify(files: tuple[BundleFile, ...], remote_hashes: dict[str, str], where: str) -> None:
    bad = [f.name for f in files if remote_hashes.get(f.name) != f.sha256]
    if bad:
        raise DeployError(
            f"{where}: {', '.join(bad)} do not match after the copy (sha256)",
            hint="run the deploy again; if it repeats, check the device's storage (SD card)",
        )


def _check_device(
    ssh: SshSession, target: Target, files: tuple[BundleFile, ...], cfg: DeployConfig, say: Any
) -> dict[str, Any]:
    """doctor + evaluate on the device, the same evaluate here, and a side-by-side summary."""
    probe = _probe(ssh, target, cfg.remote_cnn_edge)
    cmd = probe["cmd"]
    say(
        f"on the device: cnn-edge {probe.get('version', '?').removeprefix('cnn-edge ')} ({cmd}), "
        f"{probe.get('machine', '?')}, Python {probe.get('python', '?')}"
    )
    doctor_args = ["doctor", "--json", *(["--camera", cfg.camera] if cfg.camera else ["--no-camera"])]
    say("running cnn-edge doctor on the device")
    doctor = _remote_json(ssh, target, cmd, doctor_args, "doctor", ok_codes=(0, 1))
    if any(c.get("name") == "interpreter" and c.get("status") == "fail" for c in doctor.get("checks", [])):
        raise DeployError(
            f"the bundle is on {target.destination} and verified, but its cnn-edge has no TFLite "
            "interpreter (installed without the [edge] extra?)",
            hint=f"on the device run: {_install_line(probe, cmd)}; then deploy again",
        )
    model = _model_to_evaluate(files)
    eval_args = ["evaluate", "--model", model, "--json", "--runs", str(cfg.eval_runs)]
    if cfg.eval_limit is not None:
        eval_args += ["--limit", str(cfg.eval_limit)]
    images = f"{cfg.eval_limit:,}" if cfg.eval_limit else "all"
    say(f"running cnn-edge evaluate on the device ({model}, {images} evaluation images)")
    device_eval = _remote_json(ssh, target, cmd, eval_args, "evaluate", ok_codes=(0,))
    workstation_eval = cfg.workstation_evaluate
    if workstation_eval is None:
        say("running the same evaluate here, for the side-by-side comparison")
        workstation_eval = _local_evaluate(cfg.run / model, cfg)
    notes = []
    remote_version = probe.get("version", "").removeprefix("cnn-edge ").strip()
    if remote_version and remote_version != __version__:
        notes.append(f"the device runs cnn-edge {remote_version}, this computer {__version__}")
    return {
        "schema_version": 1,
        "deployed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "remote": {
            "cnn_edge": cmd,
            "version": remote_version or None,
            "machine": probe.get("machine"),
            "python": probe.get("python"),
        },
        "summary": {
            "device": device_summary(device_eval, doctor),
            "workstation": device_summary(workstation_eval),
        },
        "doctor": doctor,
        "device_evaluate": device_eval,
        "workstation_evaluate": workstation_eval,
        "notes": notes,
    }


def _probe(ssh: SshSession, target: Target, remote_cnn_edge: str | None) -> dict[str, str]:
    done = ssh.run(remote.probe_script(remote_cnn_edge))
    info = remote.parse_probe(done.stdout)
    if done.returncode == remote.NO_PYTHON:
        raise DeployError(
            f"the bundle is on {target.destination} and verified, "
            "but the device has no python3 to check it with",
            hint="install it there (sudo apt install python3 python3-venv), then "
            + _install_line(info)
            + "; or pass --no-check to only copy",
        )
    if done.returncode == remote.NO_CNN_EDGE or "cmd" not in info:
        where = (
            f"at {remote_cnn_edge}"
            if remote_cnn_edge
            else "on its PATH, in ~/.local/bin or ~/cnn-edge-venv/bin"
        )
        raise DeployError(
            f"the bundle is on {target.destination} and verified, "
            f"but cnn-edge is not installed there ({where})",
            hint=f"on the device run: {_install_line(info)}; then deploy again "
            "(--remote-cnn-edge PATH names another install; --no-check only copies)",
        )
    return info


def _install_line(probe: dict[str, str], cmd: str | None = None) -> str:
    """The pip line for this device's CPU; into the venv of `cmd` when cnn-edge is already there."""
    if cmd and cmd.endswith("/bin/cnn-edge"):
        pip = cmd.removesuffix("cnn-edge") + "pip"
        if is_arm32(probe.get("machine", "")):
            return f"{pip} install tflite-runtime 'numpy<2' opencv-python-headless"
        return f"{pip} install 'cnn-edge[edge]=={__version__}'"
    if is_arm32(probe.get("machine", "")):
        return (
            f"python3 -m venv ~/cnn-edge-venv && ~/cnn-edge-venv/bin/pip install 'cnn-edge=={__version__}' "
            "tflite-runtime 'numpy<2' opencv-python-headless"
        )
    return (
        f"python3 -m venv ~/cnn-edge-venv && ~/cnn-edge-venv/bin/pip install 'cnn-edge[edge]=={__version__}'"
    )


def _remote_json(
    ssh: SshSession, target: Target, cmd: str, args: list[str], what: str, ok_codes: tuple[int, ...]
) -> dict[str, Any]:
    done = ssh.run(remote.cnn_edge_script(target.path, cmd, args), timeout=CHECK_TIMEOUT)
    parsed = _last_json(done.stdout)
    if done.returncode not in ok_codes or parsed is None:
        raise DeployError(
            f"cnn-edge {what} failed on {target.destination}: "
            f"{_last_line(done.stderr) or f'exit {done.returncode}'}",
            hint=f"run `cnn-edge {' '.join(args)}` in {target.path} on the device to see more",
        )
    return parsed


def _last_json(stdout: str) -> dict[str, Any] | None:
    """The last line that is a JSON object (a login script may print before it)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _model_to_evaluate(files: tuple[BundleFile, ...]) -> str:
    """int8 when bundled, else the first non-reference model, else float32 alone."""
    models = [f.name for f in files if f.name.endswith(".tflite")]
    for preferred in (BY_NAME["int8"].filename, *models[1:], models[0]):
        if preferred in models:
            return preferred
    raise DeployError("the bundle holds no model")  # collect_bundle always adds float32


def workstation_evaluate(cfg: DeployConfig) -> dict[str, Any]:
    """This computer's evaluate of the model a deploy checks (once for a whole fleet)."""
    return _local_evaluate(cfg.run / _model_to_evaluate(collect_bundle(cfg.run, cfg.formats)), cfg)


def _local_evaluate(model: Path, cfg: DeployConfig) -> dict[str, Any]:
    from cnn_edge.measure.evaluate import EvaluateConfig, evaluate

    return evaluate(EvaluateConfig(model=model, limit=cfg.eval_limit, runs=cfg.eval_runs)).to_dict()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("error: ") if lines else ""


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
