"""SSH through the system's own `ssh`: the user's keys, agent, ~/.ssh/config and known_hosts.

cnn-edge never asks for or stores a password (BatchMode=yes: ssh fails instead of prompting)
and never switches host-key checking off: an unknown key fails unless the user opts in to
ssh's own accept-new, and a changed key always fails. One master connection (ControlMaster)
carries all the steps of a deploy, so the key is used once and each step costs a round trip.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from cnn_edge.common.errors import DeployError

SSH_FAILED = 255  # ssh's own exit code for connection and authentication failures


@dataclass(frozen=True)
class Completed:
    """Exit code and output of one remote command."""

    returncode: int
    stdout: str
    stderr: str


class SshSession:
    """Run POSIX shell scripts on one destination over a shared master connection."""

    def __init__(
        self,
        destination: str,
        *,
        ssh_config: Path | None = None,
        options: tuple[str, ...] = (),
        accept_new_host_key: bool = False,
        connect_timeout: float = 10.0,
    ) -> None:
        if shutil.which("ssh") is None:
            raise DeployError(
                "the ssh command is not installed on this computer",
                hint="install OpenSSH's client (Debian/Ubuntu: sudo apt install openssh-client)",
            )
        if ssh_config is not None and not Path(ssh_config).is_file():
            raise DeployError(
                f"ssh config {ssh_config} does not exist", hint="pass an existing file to --ssh-config"
            )
        self.destination = destination
        self._control_dir: str | None = None
        # Never prompt (no password, no host-key question); fail within connect_timeout; notice a
        # dead link during a long evaluate; ignore a RemoteCommand or forwardings the user's own
        # config sets for interactive logins (they would clash with the commands sent here).
        fixed = (
            "BatchMode=yes",
            f"ConnectTimeout={max(1, round(connect_timeout))}",
            "ServerAliveInterval=15",
            "ServerAliveCountMax=4",
            "LogLevel=ERROR",
            "RemoteCommand=none",
            "ClearAllForwardings=yes",
        )
        args = ["ssh", "-T", *(arg for opt in fixed for arg in ("-o", opt))]
        if ssh_config is not None:
            args[1:1] = ["-F", str(ssh_config)]
        if accept_new_host_key:
            args += ["-o", "StrictHostKeyChecking=accept-new"]
        for opt in options:  # after the fixed ones: ssh keeps the first value, so these cannot undo them
            args += ["-o", opt]
        self._args = args

    def __enter__(self) -> SshSession:
        if os.name != "nt":  # Windows' OpenSSH has no connection sharing
            # A short private folder: the socket path must stay under ~100 characters.
            self._control_dir = tempfile.mkdtemp(prefix="cnn-edge-ssh-")
            self._args += [
                "-o",
                "ControlMaster=auto",
                "-o",
                f"ControlPath={self._control_dir}/%C",
                "-o",
                "ControlPersist=60",
            ]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._control_dir is not None:
            subprocess.run(
                [*self._args, "-O", "exit", self.destination],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=15,
                check=False,
            )
            shutil.rmtree(self._control_dir, ignore_errors=True)
            self._control_dir = None

    def command(self, script: str) -> list[str]:
        """The local argv that runs `script` with the remote `sh` (whatever the login shell is)."""
        return [*self._args, self.destination, "sh -c " + shlex.quote(script)]

    def run(self, script: str, *, timeout: float | None = 120.0) -> Completed:
        """Run `script` remotely; raise DeployError when ssh itself failed (exit 255)."""
        try:
            proc = subprocess.run(
                self.command(script),
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DeployError(
                f"{self.destination} did not answer within {timeout:.0f} s",
                hint="check the device and the network, then try again",
            ) from None
        done = Completed(
            proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        )
        if done.returncode == SSH_FAILED:
            raise ssh_failure(self.destination, done.stderr)
        return done

    def start(self, script: str) -> StreamingCommand:
        """Start `script` remotely with its stdin open for streaming (see StreamingCommand)."""
        return StreamingCommand(self.command(script), self.destination)


class StreamingCommand:
    """A remote command fed through stdin, with its output drained on threads (no pipe deadlock)."""

    def __init__(self, argv: list[str], destination: str) -> None:
        self.destination = destination
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._threads = [
            threading.Thread(target=_drain, args=(s, buf), daemon=True)
            for s, buf in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))
        ]
        for t in self._threads:
            t.start()

    @property
    def stdin(self) -> IO[bytes]:
        assert self.proc.stdin is not None
        return self.proc.stdin

    def finish(self, timeout: float = 300.0) -> Completed:
        """Close stdin (end of the stream, or a cut one) and wait for the remote side to finish."""
        try:
            self.stdin.close()
        except BrokenPipeError:
            pass
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise DeployError(
                f"{self.destination} did not finish within {timeout:.0f} s",
                hint="check the device and the network, then try again",
            ) from None
        for t in self._threads:
            t.join(timeout=5)
        done = Completed(
            code, b"".join(self._out).decode(errors="replace"), b"".join(self._err).decode(errors="replace")
        )
        if code == SSH_FAILED:
            raise ssh_failure(self.destination, done.stderr)
        return done

    def kill(self) -> None:
        """Drop the connection at once (Ctrl-C): the remote side cleans up its partial copy."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _drain(stream: IO[bytes] | None, buf: list[bytes]) -> None:
    if stream is not None:
        for chunk in iter(lambda: stream.read(65536), b""):
            buf.append(chunk)


def ssh_failure(destination: str, stderr: str) -> DeployError:
    """Turn ssh's own error output into one line that says what to do."""
    text = " ".join(stderr.split())
    host = destination.rpartition("@")[2]
    if (
        "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr
        or "Host key for" in stderr
        and "has changed" in stderr
    ):
        return DeployError(
            f"the host key of {host} has CHANGED since it was last trusted: this can be an attack, "
            "or a reinstalled device",
            hint=f"if you reinstalled it, remove the old key with `ssh-keygen -R {host}` "
            f"and connect once with "
            f"`ssh {destination}` to check the new one",
        )
    if (
        "Host key verification failed" in stderr
        or "No ED25519 host key is known" in stderr
        or "host key is known" in stderr
    ):
        return DeployError(
            f"{host}'s host key is not known yet, and cnn-edge does not trust keys silently",
            hint=f"connect once with `ssh {destination}` and check the fingerprint, "
            "or pass --accept-new-host-key to trust it on first use",
        )
    if "Permission denied" in stderr or "Too many authentication failures" in stderr:
        return DeployError(
            f"{destination} refused the SSH key (cnn-edge never asks for a password)",
            hint=f"set up key login once with `ssh-copy-id {destination}`, or name the key in ~/.ssh/config",
        )
    for marker, reason in (
        ("Could not resolve hostname", "the name does not resolve"),
        ("Connection refused", "connection refused (is SSH enabled on it?)"),
        ("timed out", "the connection timed out"),
        ("No route to host", "no route to host"),
        ("Network is unreachable", "the network is unreachable"),
        ("Connection closed", "the connection was closed"),
        ("Connection reset", "the connection was reset"),
    ):
        if marker in stderr:
            return DeployError(
                f"cannot reach {destination}: {reason}",
                hint="is the device on and on this network, with SSH enabled "
                "(Raspberry Pi: sudo raspi-config > Interface Options > SSH)?",
            )
    last = text[-300:] if text else "ssh failed without a message"
    return DeployError(
        f"ssh to {destination} failed: {last}", hint=f"try `ssh {destination}` by hand to see why"
    )
