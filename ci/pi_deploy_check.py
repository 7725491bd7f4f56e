"""`cnn-edge deploy` to an emulated Raspberry Pi: sshd on 127.0.0.1, the device's cnn-edge under QEMU.

Called by ci/pi-emulation.sh with a wrapper that runs the aarch64 Python (Debian bookworm's, the
Pi OS one) with the aarch64 LiteRT/OpenCV/numpy wheels under qemu-aarch64. The deploy copies the
bundle over a real SSH connection, runs doctor and evaluate through that wrapper, and brings the
report back. Checked: the bundle arrived and verified, the device side really ran on aarch64,
and its accuracy and int8 loss equal the workstation's on the same images (the int8 outputs were
already compared bit for bit). Emulated latency is meaningless and is not checked.

Usage: python ci/pi_deploy_check.py RUN_DIR DEVICE_CNN_EDGE WORK_DIR EVAL_LIMIT
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import sshd  # noqa: E402  (the tests' throwaway OpenSSH server)


def main() -> int:
    run, device_cli, work, limit = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    reason = sshd.unavailable_reason()
    if reason:
        print(f"pi deploy: skipped: {reason}")
        return 0
    server = sshd.start_sshd(work / "sshd")
    try:
        res = subprocess.run(
            [sys.executable, "-m", "cnn_edge", "deploy", "--run", str(run), "--to", f"testpi:{work / 'pi'}",
             "--ssh-config", str(server.client_config("pi")), "--remote-cnn-edge", device_cli,
             "--eval-limit", limit, "--eval-runs", "20", "--json"],
            capture_output=True, text=True, timeout=1800,
        )
    finally:
        server.stop()
    if res.returncode != 0:
        print(f"pi deploy: FAIL: cnn-edge deploy exited {res.returncode}\n{res.stderr}", file=sys.stderr)
        return 1
    out = json.loads(res.stdout)
    report = out["report"]
    device, here = report["summary"]["device"], report["summary"]["workstation"]
    arch = report["device_evaluate"]["system"]["arch"]
    problems = []
    if not out["verified"] or not out["copied"]:
        problems.append(f"copy: verified={out['verified']}, copied={out['copied']}")
    if arch != "aarch64":
        problems.append(f"the device side ran on {arch}, not aarch64")
    for key in ("images", "accuracy", "reference_accuracy", "accuracy_loss_pp", "agreement"):
        if device[key] != here[key]:
            problems.append(f"{key}: device {device[key]} != workstation {here[key]}")
    print(f"   deploy: {len(out['copied'])} files copied and verified; device: {arch}, {device['machine']}, "
          f"{device['backend']}, python {report['remote']['python']}; accuracy {device['accuracy']:.2%} "
          f"(float32 {device['reference_accuracy']:.2%}) on {device['images']} images, same as x86: "
          f"{'no' if problems else 'yes'}")
    for p in problems:
        print(f"pi deploy: FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
