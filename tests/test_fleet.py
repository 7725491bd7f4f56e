"""`cnn-edge deploy` to a fleet: several real OpenSSH servers on 127.0.0.1 (tests/sshd.py), one per device."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cnn_edge.common.checksums import sha256_file
from cnn_edge.common.errors import ConfigError
from cnn_edge.deploy import remote
from cnn_edge.deploy.gates import Gates, check_gates
from cnn_edge.deploy.inventory import read_inventory
from tests import sshd
from tests.conftest import run_cli
from tests.test_deploy import BUNDLE_NAMES, REMOTE_CNN_EDGE

DEVICES = ("pi1", "pi2", "pi3")
CHECK = ("--remote-cnn-edge", REMOTE_CNN_EDGE, "--eval-limit", "50", "--eval-runs", "5")


@pytest.fixture(scope="module")
def fleet(sshd_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, sshd.SshServer]]:
    """Three devices: three sshd on their own ports, each with its own home, sharing one client key."""
    root = tmp_path_factory.mktemp("fleet")
    key = root / "client_ed25519"
    sshd.keygen(key)
    servers = {name: sshd.start_sshd(root / name, client_key=key) for name in DEVICES}
    yield servers
    for srv in servers.values():
        srv.stop()


@pytest.fixture()
def ssh_config(fleet: dict[str, sshd.SshServer], tmp_path: Path) -> Iterator[Path]:
    """pi1..pi3, and pi-dead: a port of 127.0.0.1 nothing listens on. Each test's devices start
    without a bundle (the default folder is in their home)."""
    dead = f"Host pi-dead\n  HostName 127.0.0.1\n  Port {sshd.free_port()}\n"
    yield sshd.fleet_client_config(tmp_path / "ssh_config", fleet, fleet["pi1"].client_key, extra=dead)
    for srv in fleet.values():
        shutil.rmtree(srv.home / "cnn-edge", ignore_errors=True)


@pytest.fixture()
def run(deployable_run: Path) -> Path:
    return deployable_run


def fleet_cli(run: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("deploy", "--run", str(run), "--ssh-config", str(config), *args, timeout=600)


def bundle_dir(srv: sshd.SshServer) -> Path:
    return srv.home / "cnn-edge" / "tiny-run"


def files_of(folder: Path) -> dict[str, bytes]:
    """Every entry of the folder (hidden ones too) with its bytes."""
    return {p.name: p.read_bytes() if p.is_file() else b"<dir>" for p in folder.iterdir()}


def test_healthy_fleet_deploys_everywhere_and_writes_one_report(
    fleet: dict[str, sshd.SshServer], ssh_config: Path, run: Path
) -> None:
    res = fleet_cli(
        run, ssh_config, *(a for d in DEVICES for a in ("--to", d)), "--parallel", "3", *CHECK, "--json"
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert [d["name"] for d in out["devices"]] == list(DEVICES)
    for d in out["devices"]:
        assert d["status"] == "ok" and set(d["copied"]) == BUNDLE_NAMES and d["problem"] is None
        assert d["summary"]["ready"] is True and d["summary"]["p50_ms"] > 0
        assert (
            d["summary"]["backend"].startswith(("litert", "tflite-runtime")) and d["summary"]["images"] == 50
        )
        assert Path(d["report_path"]) == run / f"device-{d['name']}.json"
    for srv in fleet.values():  # the bundle, verified, and no previous bundle kept once it passed
        assert files_of(bundle_dir(srv)).keys() == BUNDLE_NAMES
        assert sha256_file(bundle_dir(srv) / "model_int8.tflite") == sha256_file(run / "model_int8.tflite")
    assert out["summary"]["by_status"] == {"ok": 3} and out["summary"]["p50_ms"]["devices"] == 3
    saved = json.loads(Path(out["report"]["json"]).read_text())
    assert saved == out and Path(out["report"]["json"]).name.startswith("fleet-")
    md = Path(out["report"]["md"]).read_text()
    assert all(f"| {d} | rollout | ok |" in md for d in DEVICES)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        matplotlib = None
    if matplotlib is not None:
        assert Path(out["report"]["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert out["report"]["png"] is None and "matplotlib is not installed" in out["report"]["png_note"]
    assert sum(line.endswith(" s)") and ": ok (" in line for line in res.stderr.splitlines()) == 3

    # The table, and a second rollout of the same run copies nothing.
    res = fleet_cli(run, ssh_config, "--to", "pi1", "--to", "pi2", *CHECK)
    assert res.returncode == 0, res.stderr
    assert "2 devices: 2 ok" in res.stdout and "report: " in res.stdout
    assert "pi1: ok (nothing to copy" in res.stderr


def test_one_unreachable_device_fails_alone(
    fleet: dict[str, sshd.SshServer], ssh_config: Path, run: Path
) -> None:
    res = fleet_cli(run, ssh_config, "--to", "pi1", "--to", "pi-dead", "--to", "pi2", "--no-check", "--json")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    by_name = {d["name"]: d for d in json.loads(res.stdout)["devices"]}
    assert by_name["pi1"]["status"] == by_name["pi2"]["status"] == "ok"
    dead = by_name["pi-dead"]
    assert dead["status"] == "failed" and "cannot reach pi-dead: connection refused" in dead["problem"]
    assert "SSH enabled" in dead["problem"]  # what to do
    dead_lines = [line for line in res.stderr.splitlines() if line.startswith("pi-dead: FAILED:")]
    assert len(dead_lines) == 1
    assert (
        files_of(bundle_dir(fleet["pi1"])).keys() == files_of(bundle_dir(fleet["pi2"])).keys() == BUNDLE_NAMES
    )


def test_failing_canary_stops_the_rollout_and_leaves_the_others_untouched(
    fleet: dict[str, sshd.SshServer], ssh_config: Path, run: Path
) -> None:
    res = fleet_cli(
        run, ssh_config, "--to", "pi-dead", "--to", "pi1", "--to", "pi2", "--canary", "1", *CHECK, "--json"
    )
    assert res.returncode == 1
    out = json.loads(res.stdout)
    assert [(d["name"], d["stage"], d["status"]) for d in out["devices"]] == [
        ("pi-dead", "canary", "failed"),
        ("pi1", "rollout", "skipped"),
        ("pi2", "rollout", "skipped"),
    ]
    assert "a canary failed" in res.stderr
    assert not (fleet["pi1"].home / "cnn-edge").exists() and not (fleet["pi2"].home / "cnn-edge").exists()


def older_run(run: Path, tmp_path: Path) -> Path:
    """A consistent run whose bundle differs from `run`'s: its "int8" model is other bytes."""
    old = tmp_path / "old" / run.name
    shutil.copytree(run, old)
    (old / "model_int8.tflite").write_bytes((run / "model_float32.tflite").read_bytes())
    manifest = json.loads((old / "manifest.json").read_text())
    for m in manifest["models"]:
        if m["file"] == "model_int8.tflite":
            m["sha256"] = sha256_file(old / "model_int8.tflite")
    (old / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return old


def test_gate_failure_rolls_back_to_the_previous_bundle_byte_for_byte(
    fleet: dict[str, sshd.SshServer], ssh_config: Path, run: Path, tmp_path: Path
) -> None:
    old = older_run(run, tmp_path)
    for name in ("pi1", "pi2"):
        res = run_cli(
            "deploy", "--run", str(old), "--to", name, "--ssh-config", str(ssh_config), "--no-check"
        )
        assert res.returncode == 0, res.stderr
    before = {name: files_of(bundle_dir(fleet[name])) for name in ("pi1", "pi2")}
    assert before["pi1"].keys() == BUNDLE_NAMES

    # No device can be that fast: every device switches, fails the gate, and goes back.
    res = fleet_cli(
        run, ssh_config, "--to", "pi1", "--to", "pi2", "--max-p50-ms", "0.000001", *CHECK, "--json"
    )
    assert res.returncode == 1
    for d in json.loads(res.stdout)["devices"]:
        assert d["status"] == "rolled back" and "model_int8.tflite" in d["copied"]
        assert "latency p50" in d["problem"] and "rolled back to its previous bundle" in d["problem"]
        assert files_of(bundle_dir(fleet[d["name"]])) == before[d["name"]]  # byte for byte, nothing left over

    # A gate it passes: the new bundle stays, the previous one is dropped.
    res = fleet_cli(
        run, ssh_config, "--to", "pi1", "--max-p50-ms", "10000", "--max-accuracy-loss", "100", *CHECK
    )
    assert res.returncode == 0, res.stderr
    assert sha256_file(bundle_dir(fleet["pi1"]) / "model_int8.tflite") == sha256_file(
        run / "model_int8.tflite"
    )
    assert files_of(bundle_dir(fleet["pi1"])).keys() == BUNDLE_NAMES


def test_inventory_with_groups_vars_and_limit(
    fleet: dict[str, sshd.SshServer], ssh_config: Path, run: Path, tmp_path: Path
) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "# the user's Ansible inventory, as it is\n"
        "[pis]\n"
        f"kitchen ansible_host=127.0.0.1 ansible_port={fleet['pi1'].port} ansible_become=true\n"
        f"garage ansible_host=127.0.0.1 ansible_port={fleet['pi2'].port}\n"
        "[lab]\n"
        f"bench ansible_host=127.0.0.1 ansible_port={fleet['pi3'].port}\n"
        "[pis:vars]\n"
        "cnn_edge_path=~/models/digits\n"
        "ntp_server = pool.example\n"
        "[home:children]\n"
        "pis\n"
    )
    res = fleet_cli(run, ssh_config, "--inventory", str(inventory), "--limit", "home", "--no-check", "--json")
    assert res.returncode == 0, res.stderr
    devices = json.loads(res.stdout)["devices"]
    assert [(d["name"], d["to"], d["status"]) for d in devices] == [
        ("kitchen", "kitchen:~/models/digits", "ok"),
        ("garage", "garage:~/models/digits", "ok"),
    ]
    for name in ("pi1", "pi2"):
        assert files_of(fleet[name].home / "models" / "digits").keys() == BUNDLE_NAMES
        shutil.rmtree(fleet[name].home / "models")
    assert not (fleet["pi3"].home / "models").exists() and not (fleet["pi3"].home / "cnn-edge").exists()

    res = fleet_cli(run, ssh_config, "--inventory", str(inventory), "--limit", "nosuch", "--no-check")
    assert res.returncode == 2 and "--limit 'nosuch' is neither a group nor a host" in res.stderr


def test_inventory_parsing(tmp_path: Path) -> None:
    inv = tmp_path / "inv.ini"
    inv.write_text(
        "loose.example\n"
        "[pis]\n"
        "pi[01:03] ansible_user=pi\n"
        "other:2200 ansible_ssh_user=admin  # a comment\n"
        "[pis:vars]\n"
        "ansible_port=2222\n"
        "cnn_edge_path='/srv/models'\n"
        "[all:vars]\n"
        "ansible_user=nobody\n"
        "ansible_ssh_private_key_file=~/.ssh/fleet\n"
        "[kitchen:children]\n"
        "pis\n"
        "[kitchen:vars]\n"
        "ansible_port=2000\n"
    )
    hosts = {h.name: h for h in read_inventory(inv)}
    assert list(hosts) == ["loose.example", "pi01", "pi02", "pi03", "other"]
    assert hosts["loose.example"].ssh_options() == ("User=nobody", "IdentityFile=~/.ssh/fleet")
    # the child group's vars win over its parent's, the host line over both
    assert hosts["pi02"].port == 2222 and hosts["pi02"].user == "pi" and hosts["pi02"].path == "/srv/models"
    assert hosts["other"].port == 2200 and hosts["other"].user == "admin"
    assert hosts["pi01"].to() == "pi01:/srv/models" and hosts["loose.example"].to() == "loose.example"
    assert [h.name for h in read_inventory(inv, "kitchen:!pi02")] == ["pi01", "pi03", "other"]
    assert [h.name for h in read_inventory(inv, "pi03,loose.example")] == ["pi03", "loose.example"]

    for text, message in (
        ("[pis\nhost\n", "inv.ini:1: '[pis' is not a section header"),
        ("[a]\nhost ansible_port\n", "inv.ini:2: expected key=value after the host name"),
        ("[a]\nh1\n[a:vars]\njust-a-word\n", "inv.ini:4: expected key=value in [a:vars]"),
        ("[a]\nh1 ansible_port=ssh\n", "ansible_port='ssh' is not a number"),
        ("[a]\nweb[a:c]\n", "inv.ini:2: host pattern 'web[a:c]' is not supported"),
    ):
        inv.write_text(text)
        with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
            read_inventory(inv)


def test_gates_need_evidence() -> None:
    ok = {"ready": True, "accuracy_loss_pp": 0.2, "p50_ms": 1.5, "failed_checks": []}
    assert check_gates(ok, Gates(max_accuracy_loss_pp=0.5, max_p50_ms=2.0)) == []
    assert check_gates(ok, Gates(max_accuracy_loss_pp=0.1)) == ["accuracy loss +0.20 pp > 0.1 pp"]
    assert check_gates({**ok, "ready": False, "failed_checks": ["camera"]}, Gates()) == [
        "doctor says not ready (camera failed)"
    ]
    assert check_gates({**ok, "p50_ms": None}, Gates(max_p50_ms=2.0)) == [
        "latency p50 not measured (--eval-runs 0?)"
    ]


def test_an_interrupted_rollback_never_leaves_a_name_without_a_file(tmp_path: Path) -> None:
    """The state a rollback cut after its first rename leaves: running it again finishes the job."""
    folder = tmp_path / "device"
    prev = folder / remote.PREVIOUS
    prev.mkdir(parents=True)
    old = {"model_int8.tflite": b"old int8", "manifest.json": b"old manifest", "README.md": b"old readme"}
    for name in ("model_int8.tflite", "manifest.json", "README.md", "SHA256SUMS"):
        (folder / name).write_bytes(b"new " + name.encode())
    (folder / "model_int8.tflite").write_bytes(old["model_int8.tflite"])  # already moved back
    for name in ("manifest.json", "README.md"):
        (prev / name).write_bytes(old[name])
    (prev / ".added").write_text("SHA256SUMS\n")  # did not exist before the switch
    script = remote.rollback_script(str(folder), sorted(BUNDLE_NAMES))
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert files_of(folder) == old
    assert set(remote.parse_hashes(done.stdout)) == set(old)
    again = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert again.returncode == remote.NO_PREVIOUS and files_of(folder) == old


def test_single_device_options_are_refused_without_a_device(run: Path) -> None:
    res = run_cli("deploy", "--run", str(run))
    assert res.returncode == 2 and "no device to deploy to" in res.stderr
    res = run_cli("deploy", "--run", str(run), "--to", "a", "--to", "b", "--canary", "1", "--no-check")
    assert res.returncode == 2 and "need the on-device check" in res.stderr


def test_report_without_matplotlib_skips_the_png_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edge install has no matplotlib: the .json and .md are still written, atomically."""
    import datetime as dt

    from cnn_edge.deploy.fleet import DeviceOutcome, FleetResult
    from cnn_edge.deploy.fleet_report import save_fleet_report, summarize

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    outcomes = (
        DeviceOutcome("a", "a", "rollout", "ok", summary={"p50_ms": 1.0, "machine": "Raspberry Pi 4"}),
        DeviceOutcome(
            "b", "b", "rollout", "rolled back", summary={"p50_ms": 3.0}, problem="failed the gates"
        ),
        DeviceOutcome("c", "c", "rollout", "failed", problem="cannot reach c"),
    )
    result = FleetResult(
        run=tmp_path,
        started_at="now",
        devices=outcomes,
        summary=summarize(outcomes),
        settings={"parallel": 4, "canary": 0, "gates": Gates(max_p50_ms=2.0).to_dict()},
    )
    saved = save_fleet_report(result, dt.datetime(2026, 12, 1, 1, 2, 3))
    assert saved.png_path is None and "matplotlib is not installed" in saved.png_note
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "fleet-20261201T010203Z.json",
        "fleet-20261201T010203Z.md",
    ]
    data = json.loads(saved.json_path.read_text())
    assert data["summary"]["by_status"] == {"ok": 1, "rolled back": 1, "failed": 1}
    assert data["summary"]["p50_ms"] == {"min": 1.0, "median": 2.0, "max": 3.0, "devices": 2}
    md = saved.md_path.read_text()
    assert "gates: p50 <= 2.0 ms, doctor ready" in md and "| c | rollout | failed |" in md
    assert "matplotlib is not installed" in md


def test_a_device_whose_check_fails_after_the_switch_goes_back_and_the_others_go_on(
    fleet: dict[str, sshd.SshServer], ssh_config: Path, run: Path, tmp_path: Path
) -> None:
    """pi1 has no cnn-edge where it is looked for: its new bundle cannot be checked, so it goes back."""
    old = older_run(run, tmp_path)
    res = run_cli("deploy", "--run", str(old), "--to", "pi1", "--ssh-config", str(ssh_config), "--no-check")
    assert res.returncode == 0, res.stderr
    before = files_of(bundle_dir(fleet["pi1"]))
    missing = tmp_path / "no-venv" / "bin" / "cnn-edge"
    res = fleet_cli(
        run,
        ssh_config,
        "--to",
        "pi1",
        "--remote-cnn-edge",
        str(missing),
        "--eval-limit",
        "50",
        "--max-p50-ms",
        "1000",
        "--json",
    )
    assert res.returncode == 1
    (device,) = json.loads(res.stdout)["devices"]
    assert device["status"] == "rolled back" and "cnn-edge is not installed there" in device["problem"]
    assert "pip install" in device["problem"] and files_of(bundle_dir(fleet["pi1"])) == before
