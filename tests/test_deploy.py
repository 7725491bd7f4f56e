"""`cnn-edge bundle` and `cnn-edge deploy` against a real OpenSSH server on 127.0.0.1 (tests/sshd.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnn_edge.common.checksums import sha256_file
from cnn_edge.common.errors import ConfigError, DeployError, RunDirError
from cnn_edge.deploy import BundleConfig, make_bundle
from cnn_edge.deploy.bundle import collect_bundle
from cnn_edge.deploy.deploy import _upload
from cnn_edge.deploy.ssh import SshSession
from cnn_edge.deploy.target import Target, parse_target
from tests import sshd
from tests.conftest import run_cli

BUNDLE_NAMES = {"model_float32.tflite", "model_int8.tflite", "manifest.json", "README.md", "SHA256SUMS"}
# The cnn-edge of this test environment, as the "device" runs it (same machine, same venv).
REMOTE_CNN_EDGE = str(Path(sys.executable).parent / "cnn-edge")


@pytest.fixture(scope="module")
def server(sshd_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sshd.SshServer]:
    srv = sshd.start_sshd(tmp_path_factory.mktemp("sshd"))
    yield srv
    srv.stop()


@pytest.fixture()
def run(deployable_run: Path) -> Path:
    return deployable_run


def deploy_cli(run: Path, to: str, config: Path, *args: str, timeout: float = 300):
    return run_cli(
        "deploy", "--run", str(run), "--to", to, "--ssh-config", str(config), *args, timeout=timeout
    )


def remote_hashes(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in folder.iterdir() if p.is_file()}


def one_error_line(res: subprocess.CompletedProcess[str]) -> str:
    """The stderr line starting with 'error:' (progress lines may come before it); no traceback."""
    assert "Traceback" not in res.stderr, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    return errors[0]


# --- bundle -------------------------------------------------------------------------------------


def test_bundle_is_complete_checkable_and_reproducible(run: Path, tmp_path: Path) -> None:
    first = make_bundle(BundleConfig(run=run, out=tmp_path / "a" / "edge.tar.gz"))
    again = make_bundle(BundleConfig(run=run, out=tmp_path / "b" / "edge.tar.gz"))
    assert first.out.read_bytes() == again.out.read_bytes()  # same run, same bytes
    with tarfile.open(first.out) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "x", filter="data")
    assert names[0] == first.top_dir == "cnn-edge-tiny-run"
    assert {n.split("/", 1)[1] for n in names[1:]} == BUNDLE_NAMES  # one top folder, nothing else
    unpacked = tmp_path / "x" / first.top_dir
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 4, check.stdout
    assert (unpacked / "model_int8.tflite").read_bytes() == (run / "model_int8.tflite").read_bytes()
    readme = (unpacked / "README.md").read_text()
    assert (
        "pip install 'cnn-edge[edge]==" in readme and "cnn-edge evaluate --model model_int8.tflite" in readme
    )
    assert not list(tmp_path.glob("a/.*"))  # no temporary file left beside the archive


def test_bundle_cli_and_its_errors(run: Path, tmp_path: Path) -> None:
    res = run_cli("bundle", "--run", str(run), "--out", str(tmp_path / "b.tar.gz"), "--json")
    assert res.returncode == 0, res.stderr
    assert {f["name"] for f in json.loads(res.stdout)["files"]} == BUNDLE_NAMES

    res = run_cli("bundle", "--run", str(run), "--out", str(tmp_path / "b.tar.gz"), "--format", "float16")
    assert res.returncode == 1 and "--float16" in one_error_line(res)  # not converted: says how

    (run / "model_int8.tflite").write_bytes(b"changed after conversion")
    res = run_cli("bundle", "--run", str(run), "--out", str(tmp_path / "c.tar.gz"))
    assert res.returncode == 1 and "does not match the sha256 in its manifest" in one_error_line(res)
    assert not (tmp_path / "c.tar.gz").exists()

    res = run_cli("bundle", "--run", str(tmp_path / "nope"), "--out", str(tmp_path / "d.tar.gz"))
    assert res.returncode == 1 and "does not exist" in one_error_line(res)


def test_manifest_cannot_name_files_outside_the_bundle(run: Path) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["models"][0]["file"] = "../../.bashrc"
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunDirError, match="not a plain file name"):
        collect_bundle(run, ("float32", "int8"))


def test_target_parsing_keeps_the_copy_inside_the_chosen_folder() -> None:
    assert parse_target("pi@raspberrypi.local", "run7") == Target("pi@raspberrypi.local", "cnn-edge/run7")
    assert parse_target("pi@host:~/models/a/", "r") == Target("pi@host", "models/a")
    assert parse_target("pi@host:/srv/cnn", "r").path == "/srv/cnn"
    assert parse_target("[fe80::1%eth0]:~/m", "r") == Target("fe80::1%eth0", "m")
    assert parse_target("pi@host:~", "r").path == "."
    for bad in (
        "pi@host:../x",
        "pi@host:/srv/../etc",
        "pi@host:~bob/x",
        "pi@host:/",
        "-oProxyCommand=x",
        "pi@host:a\nb",
        ":path",
    ):
        with pytest.raises(ConfigError):
            parse_target(bad, "r")


def test_deploy_imports_no_tensorflow() -> None:
    code = (
        "import sys, cnn_edge.deploy, cnn_edge.deploy.deploy, cnn_edge.deploy.bundle; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]; "
        "assert not bad, bad"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


# --- deploy over a real sshd ----------------------------------------------------------------------


def test_deploy_copies_verifies_and_then_copies_nothing(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    cfg = server.client_config("ok")
    dest = tmp_path / "device" / "models"
    res = deploy_cli(run, f"testpi:{dest}", cfg, "--no-check", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out["copied"]) == BUNDLE_NAMES and out["unchanged"] == [] and out["verified"] is True
    assert out["remote_path"] == str(dest.resolve())
    assert set(remote_hashes(dest)) == BUNDLE_NAMES  # no staging folder or temporary file left
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]
    assert remote_hashes(dest)["model_int8.tflite"] == sha256_file(run / "model_int8.tflite")
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dest, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout

    res = deploy_cli(run, f"testpi:{dest}", cfg, "--no-check", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["copied"] == [] and set(out["unchanged"]) == BUNDLE_NAMES and out["bytes_sent"] == 0
    assert "nothing to copy" in res.stderr


def test_interactive_settings_in_the_users_ssh_config_do_not_interfere(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    """A RemoteCommand (e.g. `tmux attach`), a forwarding and a forced TTY meant for logins."""
    cfg = server.client_config(
        "interactive",
        extra=f"  RemoteCommand /bin/false\n  LocalForward 127.0.0.1:{sshd.free_port()} 127.0.0.1:9\n"
        "  RequestTTY force\n",
    )
    res = deploy_cli(run, f"testpi:{tmp_path / 'device'}", cfg, "--no-check", timeout=60)
    assert res.returncode == 0, res.stderr
    assert set(remote_hashes(tmp_path / "device")) == BUNDLE_NAMES


def test_folder_names_with_spaces_quotes_and_shell_characters(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "my models" / "it's $HOME; `touch pwned` & more"
    res = deploy_cli(run, f"testpi:{dest}", server.client_config("ok"), "--no-check", "--json")
    assert res.returncode == 0, res.stderr
    assert set(remote_hashes(dest)) == BUNDLE_NAMES and json.loads(res.stdout)["remote_path"] == str(dest)
    assert not list(tmp_path.rglob("pwned")) and not (server.home / "pwned").exists()


def test_corrupted_remote_file_is_detected_and_replaced(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    cfg = server.client_config("ok")
    dest = tmp_path / "device"
    assert deploy_cli(run, f"testpi:{dest}", cfg, "--no-check").returncode == 0
    model = dest / "model_int8.tflite"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size and name
    model.write_bytes(bytes(data))
    res = deploy_cli(run, f"testpi:{dest}", cfg, "--no-check", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["copied"] == ["model_int8.tflite"]
    assert sha256_file(model) == sha256_file(run / "model_int8.tflite")


def test_device_report_comes_back_beside_the_workstation_figures(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    cfg = server.client_config("ok")
    res = deploy_cli(
        run,
        f"testpi:{tmp_path / 'device'}",
        cfg,
        "--remote-cnn-edge",
        REMOTE_CNN_EDGE,
        "--eval-limit",
        "300",
        "--eval-runs",
        "20",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    report = out["report"]
    saved = json.loads(Path(out["report_path"]).read_text())
    assert Path(out["report_path"]) == run / "device-testpi.json" and saved == report
    device, here = report["summary"]["device"], report["summary"]["workstation"]
    assert device["images"] == here["images"] == 300
    # The "device" is this machine: the same model on the same images must give the same answers.
    assert (
        device["accuracy"] == here["accuracy"] and device["reference_accuracy"] == here["reference_accuracy"]
    )
    assert device["accuracy_loss_pp"] == pytest.approx(here["accuracy_loss_pp"])
    assert (
        device["p50_ms"] > 0
        and device["p99_ms"] >= device["p50_ms"]
        and device["backend"].startswith(("litert", "tflite-runtime"))
    )
    assert device["ready"] is True and report["doctor"]["checks"]
    assert report["device_evaluate"]["model"].endswith("model_int8.tflite")
    assert report["remote"]["cnn_edge"] == REMOTE_CNN_EDGE and report["verified"] is True

    table = deploy_cli(
        run,
        f"testpi:{tmp_path / 'device'}",
        cfg,
        "--remote-cnn-edge",
        REMOTE_CNN_EDGE,
        "--eval-limit",
        "100",
        "--eval-runs",
        "5",
    )
    assert table.returncode == 0, table.stderr
    assert "this computer" in table.stdout and "accuracy loss (pp)" in table.stdout


def test_default_folder_is_in_the_remote_home_and_cnn_edge_is_found_there(
    server: sshd.SshServer, run: Path
) -> None:
    venv_bin = server.home / "cnn-edge-venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "cnn-edge").symlink_to(REMOTE_CNN_EDGE)  # where the bundle's README installs it
    try:
        cfg = server.client_config("ok")
        res = deploy_cli(run, "testpi", cfg, "--eval-limit", "200", "--eval-runs", "10", "--json")
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert out["remote_path"] == str(server.home / "cnn-edge" / "tiny-run")
        assert out["report"]["remote"]["cnn_edge"] == str(venv_bin / "cnn-edge")
        res = deploy_cli(run, "testpi:~/elsewhere/m", cfg, "--no-check", "--json")
        assert res.returncode == 0 and json.loads(res.stdout)["remote_path"] == str(
            server.home / "elsewhere/m"
        )
    finally:
        shutil.rmtree(server.home / "cnn-edge-venv")


def test_missing_cnn_edge_on_the_device_says_how_to_install_it(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    res = deploy_cli(
        run,
        f"testpi:{tmp_path / 'device'}",
        server.client_config("ok"),
        "--remote-cnn-edge",
        str(tmp_path / "no-such-venv" / "bin" / "cnn-edge"),
    )
    assert res.returncode == 1
    line = one_error_line(res)
    assert "cnn-edge is not installed there" in line and "pip install 'cnn-edge[edge]==" in line
    assert set(remote_hashes(tmp_path / "device")) == BUNDLE_NAMES  # the copy itself went through


def test_cnn_edge_without_an_interpreter_on_the_device_says_to_add_the_edge_extra(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    """cnn-edge installed without [edge]: neither LiteRT nor tflite-runtime can be imported."""
    bin_dir = tmp_path / "bare-venv" / "bin"
    bin_dir.mkdir(parents=True)
    blocked = "ai_edge_litert", "tflite_runtime", "tensorflow"
    (bin_dir / "cnn-edge").write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None  # `import name` raises ImportError, as when not installed\n"
        "from cnn_edge.cli import main\n"
        "main()\n"
    )
    (bin_dir / "cnn-edge").chmod(0o755)
    res = deploy_cli(
        run,
        f"testpi:{tmp_path / 'device'}",
        server.client_config("ok"),
        "--remote-cnn-edge",
        str(bin_dir / "cnn-edge"),
    )
    assert res.returncode == 1
    line = one_error_line(res)
    assert "no TFLite interpreter" in line and f"{bin_dir}/pip install 'cnn-edge[edge]==" in line


def test_device_without_python_still_gets_the_copy_then_a_clear_line(
    sshd_ready: None, tmp_path: Path, run: Path
) -> None:
    """A minimal device: sh, coreutils, tar and gzip on its PATH, but no python3."""
    tools = tmp_path / "device-bin"
    tools.mkdir()
    for tool in (
        "sh",
        "uname",
        "mkdir",
        "rm",
        "df",
        "awk",
        "sha256sum",
        "tar",
        "gzip",
        "mktemp",
        "mv",
        "printf",
        "cat",
        "pwd",
        "env",
    ):
        found = shutil.which(tool, path="/usr/bin:/bin")
        if found:
            (tools / tool).symlink_to(found)
    srv = sshd.start_sshd(tmp_path / "sshd-minimal", path=str(tools))
    try:
        cfg = srv.client_config("ok")
        dest = tmp_path / "device"
        res = deploy_cli(run, f"testpi:{dest}", cfg, "--no-check")
        assert res.returncode == 0, res.stderr
        assert set(remote_hashes(dest)) == BUNDLE_NAMES
        res = deploy_cli(run, f"testpi:{dest}", cfg)
        assert res.returncode == 1
        line = one_error_line(res)
        assert "no python3" in line and "sudo apt install python3" in line
    finally:
        srv.stop()


def test_unreachable_host_is_one_line(server: sshd.SshServer, run: Path, tmp_path: Path) -> None:
    cfg = server.client_config("closed", port=sshd.free_port())  # nothing listens there
    res = deploy_cli(run, f"testpi:{tmp_path / 'device'}", cfg, "--no-check", timeout=60)
    assert res.returncode == 1 and "cannot reach testpi: connection refused" in one_error_line(res)


def test_refused_key_never_asks_for_a_password(server: sshd.SshServer, run: Path, tmp_path: Path) -> None:
    other_key = tmp_path / "other_key"
    sshd.keygen(other_key)
    res = deploy_cli(
        run,
        f"testpi:{tmp_path / 'device'}",
        server.client_config("badkey", key=other_key),
        "--no-check",
        timeout=60,
    )  # a password prompt would hang until the timeout
    assert res.returncode == 1
    assert "refused the SSH key" in one_error_line(res) and "ssh-copy-id" in one_error_line(res)
    assert not (tmp_path / "device").exists()


def test_unknown_host_key_is_refused_unless_accept_new(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    cfg = server.client_config("unknown", known_hosts="")
    res = deploy_cli(run, f"testpi:{tmp_path / 'device'}", cfg, "--no-check", timeout=60)
    assert res.returncode == 1 and "host key is not known yet" in one_error_line(res)
    assert not (tmp_path / "device").exists()
    res = deploy_cli(run, f"testpi:{tmp_path / 'device'}", cfg, "--no-check", "--accept-new-host-key")
    assert res.returncode == 0, res.stderr
    assert server.host_public_key.split()[1] in (server.root / "known_hosts_unknown").read_text()


def test_changed_host_key_is_always_refused(server: sshd.SshServer, run: Path, tmp_path: Path) -> None:
    impostor = sshd.keygen(tmp_path / "impostor")
    cfg = server.client_config("changed", known_hosts=f"[127.0.0.1]:{server.port} {impostor}\n")
    for extra in ((), ("--accept-new-host-key",)):
        res = deploy_cli(run, f"testpi:{tmp_path / 'device'}", cfg, "--no-check", *extra, timeout=60)
        assert res.returncode == 1 and "has CHANGED" in one_error_line(res)
    assert not (tmp_path / "device").exists()


def test_interrupted_copy_leaves_the_previous_bundle(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    cfg = server.client_config("ok")
    dest = tmp_path / "device"
    assert deploy_cli(run, f"testpi:{dest}", cfg, "--no-check").returncode == 0
    before = remote_hashes(dest)

    # A new conversion whose int8 file is cut while it streams: the tar stream ends mid-file.
    new_model = tmp_path / "model_int8.tflite"
    new_model.write_bytes(os.urandom(300_000))
    files = collect_bundle(run, ("float32", "int8"))
    cut = [f for f in files if f.name == "model_int8.tflite"][0]
    cut = type(cut)(name=cut.name, source=new_model, data=None, size_bytes=600_000, sha256="0" * 64)
    with SshSession("testpi", ssh_config=cfg) as session:
        with pytest.raises(DeployError, match="cut short"):
            _upload(session, Target("testpi", str(dest)), [cut], sorted(BUNDLE_NAMES), "testpi")
    assert remote_hashes(dest) == before  # the previous complete bundle, untouched
    assert sorted(p.name for p in dest.iterdir()) == sorted(BUNDLE_NAMES)  # staging folder removed


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a small tmpfs needs root"
)
def test_full_disk_is_one_line_and_changes_nothing(server: sshd.SshServer, run: Path, tmp_path: Path) -> None:
    cfg = server.client_config("ok")
    small, no_inodes = tmp_path / "small", tmp_path / "no-inodes"
    for mnt, opts in ((small, "size=2m"), (no_inodes, "size=64m,nr_inodes=5")):
        mnt.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mnt)]).returncode != 0:
            pytest.skip("cannot mount tmpfs here")
    try:
        # Too small for the bundle: refused before anything is copied.
        res = deploy_cli(run, f"testpi:{small}/m", cfg, "--no-check")
        assert res.returncode == 1 and "not enough disk space" in one_error_line(res)
        assert list((small / "m").iterdir()) == []
        # Room by size but no inodes left: the device's own 'No space left' mid-copy.
        res = deploy_cli(run, f"testpi:{no_inodes}/m", cfg, "--no-check")
        assert res.returncode == 1 and "ran out of disk space" in one_error_line(res)
        assert list((no_inodes / "m").iterdir()) == []  # staging removed, nothing half-written
    finally:
        for mnt in (small, no_inodes):
            subprocess.run(["umount", str(mnt)], check=False)


def test_remote_path_outside_the_folder_is_a_usage_error(
    server: sshd.SshServer, run: Path, tmp_path: Path
) -> None:
    res = deploy_cli(run, f"testpi:{tmp_path}/a/../../b", server.client_config("ok"), "--no-check")
    assert res.returncode == 2 and "contains '..'" in one_error_line(res)
