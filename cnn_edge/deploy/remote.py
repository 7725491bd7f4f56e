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
# The files a switch replaced (hard links: no extra space), kept until the new bundle passed its
# gates; `.added` lists the names that did not exist before. Not under STAGE_PREFIX, which the
# inspect step deletes.
PREVIOUS = ".cnn-edge-previous"
# Exit codes of the scripts below: what went wrong on the device.
NO_FOLDER, NO_STAGE, UNPACK_FAILED, CHECKSUM_MISMATCH, SWAP_FAILED, NO_HASH_TOOL = 90, 91, 92, 93, 94, 96
NO_PREVIOUS = 95
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


def upload_script(
    path: str, changed: list[BundleFile], all_names: list[str], keep_previous: bool = False
) -> str:
    """Unpack the tar.gz on stdin into a staging folder, check it, then rename the files into place.

    An interrupted or corrupted transfer never touches the bundle in place: the staging folder
    is removed and the script fails. Once every staged file checks out, hang-ups are ignored so
    the renames (each atomic) all happen; the manifest is renamed last. Finally the checksums of
    the whole bundle in place are printed for the workstation to compare.

    keep_previous: before the switch, keep the files it replaces in PREVIOUS (see
    rollback_script); without it a PREVIOUS left by an earlier fleet run is dropped, as the
    bundle it would restore is no longer the one before this.
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
        + (_keep_previous(changed) if keep_previous else "")
        + "trap '' HUP INT TERM PIPE\n"
        + moves
        + ("" if keep_previous else f"rm -rf -- {PREVIOUS}\n")
        + f'for f in {" ".join(shlex.quote(n) for n in all_names)}; do sha "$f" || true; done\n'
    )


def _keep_previous(changed: list[BundleFile]) -> str:
    """Link each file about to be replaced into PREVIOUS (built aside, then renamed whole)."""
    new = f"{PREVIOUS}.new"
    keep = "".join(
        f"if [ -f {shlex.quote(f.name)} ]; then ln -f -- {shlex.quote(f.name)} {new}/{shlex.quote(f.name)} "
        f"|| exit {NO_STAGE}; else printf '%s\\n' {shlex.quote(f.name)} >> {new}/.added; fi\n"
        for f in changed
    )
    return (
        f"rm -rf -- {new} && mkdir -- {new} || exit {NO_STAGE}\n"
        + keep
        + f"rm -rf -- {PREVIOUS} && mv -- {new} {PREVIOUS} || exit {NO_STAGE}\n"
    )


def rollback_script(path: str, all_names: list[str]) -> str:
    """Put the files in PREVIOUS back (each an atomic rename, manifest last), drop the added ones.

    Every name always holds a whole file, the new one or the previous one, so an interrupted
    rollback never leaves a model missing; PREVIOUS goes only at the end, so running the
    script again finishes the job. Prints the checksums of the bundle in place afterwards.
    """
    return (
        PRELUDE
        + _enter(path, create=False)
        + f"[ -d {PREVIOUS} ] || exit {NO_PREVIOUS}\n"
        + "trap '' HUP INT TERM PIPE\n"
        + f"for f in {PREVIOUS}/*; do\n"
        + '  n=${f##*/}; [ -f "$f" ] && [ "$n" != manifest.json ] || continue\n'
        + f'  mv -f -- "$f" "$n" || exit {SWAP_FAILED}\n'
        + "done\n"
        + f"if [ -f {PREVIOUS}/manifest.json ]; then mv -f -- {PREVIOUS}/manifest.json manifest.json "
        + f"|| exit {SWAP_FAILED}; fi\n"
        + f"if [ -f {PREVIOUS}/.added ]; then\n"
        + f'  while IFS= read -r n; do rm -f -- "$n"; done < {PREVIOUS}/.added\n'
        + "fi\n"
        + f"rm -rf -- {PREVIOUS}\n"
        + f'for f in {" ".join(shlex.quote(n) for n in all_names)}; do\n'
        + '  if [ -f "$f" ]; then sha "$f"; fi\n'
        + "done\n"
    )


def commit_script(path: str) -> str:
    """The new bundle passed: the previous one is no longer needed."""
    return "export LC_ALL=C\n" + _enter(path, create=False) + f"rm -rf -- {PREVIOUS}\n"


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
