"""A real OpenSSH server on 127.0.0.1 for the deploy tests: throwaway host key, client key and config.

It runs as the current user (as root, Debian's sshd needs /run/sshd, made here), accepts only
the throwaway key, and is stopped at the end of the module. Each command runs with a separate
home (ROOT/home, also the starting folder, as ssh starts in the home) and a device-like PATH
(/usr/bin:/bin, so nothing of this machine's own setup leaks in), set by a ForceCommand
wrapper around the command the client asked for. The client side never reads the user's
~/.ssh: every test passes its own ssh_config (`--ssh-config`) with its own known_hosts.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)


def unavailable_reason() -> str | None:
    """Why a real sshd cannot run here (None when it can)."""
    if SSHD is None or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "needs OpenSSH's sshd, ssh and ssh-keygen (Debian: apt install openssh-server)"
    if os.name == "nt":
        return "the sshd fixture is POSIX only"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> str:
    """A new ed25519 key pair without passphrase; returns the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cnn-edge-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_suffix(".pub").read_text().strip()


@dataclass
class SshServer:
    root: Path
    port: int
    user: str
    host_public_key: str
    client_key: Path
    home: Path
    process: subprocess.Popen[bytes]

    def client_config(
        self,
        name: str,
        *,
        key: Path | None = None,
        known_hosts: str | None = None,
        port: int | None = None,
        extra: str = "",
    ) -> Path:
        """An ssh_config with Host alias `testpi`; `known_hosts` text defaults to the true host key."""
        hosts_file = self.root / f"known_hosts_{name}"
        if known_hosts is None:
            known_hosts = f"[127.0.0.1]:{self.port} {self.host_public_key}\n"
        hosts_file.write_text(known_hosts)
        cfg = self.root / f"ssh_config_{name}"
        cfg.write_text(
            "Host testpi\n"
            "  HostName 127.0.0.1\n"
            f"  Port {port or self.port}\n"
            f"  User {self.user}\n"
            f"  IdentityFile {key or self.client_key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {hosts_file}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            f"{extra}"
        )
        return cfg

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


DEVICE_PATH = "/usr/bin:/bin"


def start_sshd(root: Path, path: str = DEVICE_PATH, client_key: Path | None = None) -> SshServer:
    """Start sshd on a free port of 127.0.0.1 and wait until it accepts connections.

    `path` is the PATH the device's commands see (a folder without python3 makes a device
    without Python). `client_key`: accept this existing key (a fleet shares one) instead of a
    new one.
    """
    root.mkdir(parents=True, exist_ok=True)
    home = root / "home"
    home.mkdir()
    login = root / "login"
    login.write_text(
        "#!/bin/sh\n"
        f'cd "{home}" || exit 1\n'
        f'exec /usr/bin/env -i HOME="{home}" PATH="{path}" USER="$USER" LOGNAME="$LOGNAME" '
        '/bin/sh -c "$SSH_ORIGINAL_COMMAND"\n'
    )
    login.chmod(0o755)
    host_key = root / "host_ed25519"
    host_public = keygen(host_key)
    if client_key is None:
        client_key = root / "client_ed25519"
        public = keygen(client_key)
    else:
        public = client_key.with_suffix(".pub").read_text().strip()
    (root / "authorized_keys").write_text(public + "\n")
    user = getpass.getuser()
    port = free_port()
    config = root / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {root / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nPubkeyAuthentication yes\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        f"PermitRootLogin prohibit-password\nAllowUsers {user}\nLogLevel ERROR\nForceCommand {login}\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=open(root / "sshd.log", "wb")
    )
    deadline = time.monotonic() + 15
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {(root / 'sshd.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("sshd did not start listening within 15 s") from None
            time.sleep(0.05)
    return SshServer(root, port, user, " ".join(host_public.split()[:2]), client_key, home, proc)


def fleet_client_config(path: Path, servers: dict[str, SshServer], key: Path, extra: str = "") -> Path:
    """One ssh_config for a fleet: `Host NAME` per server, `extra` blocks, and for any host (an
    inventory's ansible_host/ansible_port) the shared `key` and every server's host key."""
    known = path.with_name(path.name + "_known_hosts")
    known.write_text(
        "".join(f"[127.0.0.1]:{s.port} {s.host_public_key}\n" for s in servers.values())
    )
    user = next(iter(servers.values())).user if servers else getpass.getuser()
    blocks = [f"Host {name}\n  HostName 127.0.0.1\n  Port {s.port}\n" for name, s in servers.items()]
    blocks.append(extra)
    blocks.append(
        f"Host *\n  User {user}\n  IdentityFile {key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {known}\n  GlobalKnownHostsFile /dev/null\n"
    )
    path.write_text("".join(blocks))
    return path
