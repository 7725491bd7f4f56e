"""The POSIX shell scripts a deploy runs on the device, and the parsing of what they print.

Plain `sh` with coreutils, tar and gzip (there on every Raspberry Pi OS, also without Python),
so the copy works before cnn-edge is installed there. LC_ALL=C keeps error messages in English,
which is what the failure messages are matched against.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from cnn_edge.common.run_dir import MANIFEST
from cnn_edge.deploy.config import BundleFile

STAGE_PREFIX = ".cnn-edge-incoming."
# Exit codes of the scripts below: what went wrong on the device.
NO_FOLDER, NO_STAGE, UNPACK_FAILED, CHECKSUM_MISMATCH, SWAP_FAILED, NO_HASH_TOOL = 90, 91, 92, 93, 94, 96
NO_PYTHON, NO_CNN_EDGE = 80, 81

PRELUDE = f"""export LC_ALL=C
sha() {{
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$@"
  else echo "neither sha256sum nor shasum is installed on the device" >&2; exit {NO_HASH_TOOL}; fi
}}
"""


@dataclass(frozen=True)
class RemoteState:
    """The device's folder before the copy: where it really is, free space, and its files' sha256."""

    path: str
    free_bytes: int | None
    hashes: dict[str, str]


def _enter(path: str, create: bool) -> str:
    mk = f"mkdir -p -- {shlex.quote(path)} || exit {NO_FOLDER}\n" if create else ""
    return f"{mk}cd -- {shlex.quote(path)} || exit {NO_FOLDER}\n"


def inspect_script(path: str, names: list[str]) -> str:
    """Create the folder, drop leftovers of interrupted copies, print free space and checksums."""
    return (
        PRELUDE
        + _enter(path, create=True)
        + f"rm -rf -- {STAGE_PREFIX}* 2>/dev/null\n"
        + 'echo "path $(pwd -P)"\n'
        + "echo \"free $(df -Pk . 2>/dev/null | awk 'NR==2 {print $4}')\"\n"
        + f"for f in {' '.join(shlex.quote(n) for n in names)}; do\n"
        + '  if [ -f "$f" ]; then sha "$f" || true; fi\n'
        + "done\n"
    )


def parse_inspect(stdout: str) -> RemoteState:
    path, free = "", None
    for line in stdout.splitlines():
        if line.startswith("path "):
            path = line[5:].strip()
        elif line.startswith("free "):
            value = line[5:].strip()
            free = int(value) * 1024 if value.isdigit() else None
    return RemoteState(path=path, free_bytes=free, hashes=parse_hashes(stdout))


def parse_hashes(stdout: str) -> dict[str, str]:
    """`sha256sum` lines ("<64 hex>  <name>") as {name: sha256}."""
    hashes = {}
    for line in stdout.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) and name:
            hashes[name.lstrip("*")] = digest
    return hashes


def upload_script(path: str, changed: list[BundleFile], all_names: list[str]) -> str:
    """Unpack the tar.gz on stdin into a staging folder, check it, then rename the files into place.

    An interrupted or corrupted transfer never touches the bundle in place: the staging folder
    is removed and the script fails. Once every staged file checks out, hang-ups are ignored so
    the renames (each atomic) all happen; the manifest is renamed last. Finally the checksums of
    the whole bundle in place are printed for the workstation to compare.
    """
    expected = "".join(f"{f.sha256}  {f.name}\n" for f in changed)
    order = sorted((f.name for f in changed), key=lambda n: n == MANIFEST)
    moves = "".join(
        f'mv -f -- "$stage"/{shlex.quote(n)} {shlex.quote(n)} || exit {SWAP_FAILED}\n' for n in order
    )
    return (
        PRELUDE
        + _enter(path, create=True)
        + f"stage=$(mktemp -d {STAGE_PREFIX}XXXXXX) || exit {NO_STAGE}\n"
        + "trap 'rm -rf -- \"$stage\"' EXIT\n"
        + "trap 'exit 130' HUP INT TERM PIPE\n"
        + f'tar -xzf - -C "$stage" || exit {UNPACK_FAILED}\n'
        + f'(cd -- "$stage" && printf %s {shlex.quote(expected)} | sha -c - >/dev/null) '
        + f"|| exit {CHECKSUM_MISMATCH}\n"
        + "trap '' HUP INT TERM PIPE\n"
        + moves
        + f'for f in {" ".join(shlex.quote(n) for n in all_names)}; do sha "$f" || true; done\n'
    )


def _command_word(cmd: str) -> str:
    """Quote a user's --remote-cnn-edge, keeping a leading ~/ as the remote $HOME."""
    if cmd.startswith("~/"):
        return '"$HOME"/' + shlex.quote(cmd[2:])
    return shlex.quote(cmd)


def probe_script(remote_cnn_edge: str | None) -> str:
    """Find cnn-edge on the device; print `cmd`, `version`, `machine` and `python` lines."""
    candidates = (
        [_command_word(remote_cnn_edge)]
        if remote_cnn_edge
        else ["cnn-edge", '"$HOME"/.local/bin/cnn-edge', '"$HOME"/cnn-edge-venv/bin/cnn-edge']
    )
    return (
        "export LC_ALL=C\n"
        + 'echo "machine $(uname -m)"\n'
        + "py=$(command -v python3 2>/dev/null)\n"
        + "pyver='import sys; print(\"%d.%d\" % sys.version_info[:2])'\n"
        + 'if [ -n "$py" ]; then echo "python $("$py" -c "$pyver")"; fi\n'
        + "cmd=\n"
        + f"for c in {' '.join(candidates)}; do\n"
        + '  if command -v "$c" >/dev/null 2>&1; then cmd=$(command -v "$c"); break; fi\n'
        + "done\n"
        + f'if [ -z "$cmd" ]; then if [ -z "$py" ]; then exit {NO_PYTHON}; fi; exit {NO_CNN_EDGE}; fi\n'
        + 'echo "cmd $cmd"\n'
        + 'echo "version $("$cmd" --version 2>/dev/null)"\n'
    )


def parse_probe(stdout: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(" ")
        if key in ("machine", "python", "cmd", "version"):
            out[key] = value.strip()
    return out


def cnn_edge_script(path: str, cmd: str, args: list[str]) -> str:
    """Run `cmd ARGS...` in the bundle's folder (cmd as the probe found it: an absolute path or a name)."""
    return (
        "export LC_ALL=C\n"
        + _enter(path, create=False)
        + "exec "
        + " ".join([shlex.quote(cmd), *(shlex.quote(a) for a in args)])
        + "\n"
    )
