"""What machine a measurement was taken on: CPU, board, throttling, memory, versions.

Everything here is best effort and read-only: a figure that cannot be read is `None`, never
an error, because a latency report must not fail on a machine without /proc or vcgencmd.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnn_edge.common.platform import usable_cores

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
# Bits of `vcgencmd get_throttled` (Raspberry Pi firmware documentation).
THROTTLE_BITS = {
    0: "under-voltage now",
    1: "ARM frequency capped now",
    2: "throttled now",
    3: "soft temperature limit now",
    16: "under-voltage has occurred",
    17: "ARM frequency capping has occurred",
    18: "throttling has occurred",
    19: "soft temperature limit has occurred",
}


@dataclass(frozen=True)
class SystemInfo:
    """The machine and software a run was measured on (None where not readable).

    Fields:
        cpu: CPU model name (from /proc/cpuinfo, or the platform module).
        arch: machine architecture (x86_64, aarch64, armv7l...).
        cores: cores this process may use (CPU affinity).
        board: board model from the device tree (e.g. "Raspberry Pi 5 Model B Rev 1.0").
        throttled: raw `get_throttled` value as hex text ("0x0" = never throttled).
        throttled_flags: the set bits of `throttled` in words.
        cpu_temp_c: SoC temperature in degrees Celsius.
        cpu_freq_mhz: current frequency of CPU 0.
        os: operating system and kernel.
        python, numpy: versions.
    """

    cpu: str | None
    arch: str
    cores: int
    board: str | None
    throttled: str | None
    throttled_flags: tuple[str, ...] = field(default_factory=tuple)
    cpu_temp_c: float | None = None
    cpu_freq_mhz: float | None = None
    os: str = ""
    python: str = ""
    numpy: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["throttled_flags"] = list(self.throttled_flags)
        return d


def cpu_model() -> str | None:
    """CPU model name: x86 has 'model name', ARM boards 'Model' or only 'CPU part' in /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor() or None
    for key in ("model name", "Model", "Hardware", "cpu model"):
        m = re.search(rf"^{key}\s*:\s*(.+)$", text, re.MULTILINE)
        if m:
            return m.group(1).strip()
    return platform.processor() or None


def board_model() -> str | None:
    """The board (Raspberry Pi and other device-tree machines); None on PCs."""
    try:
        return DEVICE_TREE_MODEL.read_bytes().rstrip(b"\x00").decode(errors="replace").strip() or None
    except OSError:
        return None


def throttling() -> tuple[str | None, tuple[str, ...]]:
    """(`get_throttled` value, its flags in words) from vcgencmd or sysfs; (None, ()) if unreadable."""
    raw: str | None = None
    # Newer Pi kernels expose the same bits without vcgencmd.
    sysfs = Path("/sys/devices/platform/soc/soc:firmware/get_throttled")
    try:
        raw = hex(int(sysfs.read_text().strip(), 16))
    except (OSError, ValueError):
        exe = shutil.which("vcgencmd")
        if exe:
            try:
                out = subprocess.run([exe, "get_throttled"], capture_output=True, text=True, timeout=2).stdout
                m = re.search(r"throttled=(0x[0-9a-fA-F]+)", out)
                raw = m.group(1) if m else None
            except (OSError, subprocess.SubprocessError):
                raw = None
    if raw is None:
        return None, ()
    value = int(raw, 16)
    return raw, tuple(text for bit, text in THROTTLE_BITS.items() if value & (1 << bit))


def cpu_temperature() -> float | None:
    try:
        return int(Path("/sys/class/thermal/thermal_zone0/temp").read_text().strip()) / 1000.0
    except (OSError, ValueError):
        return None


def cpu_frequency_mhz() -> float | None:
    try:
        return int(Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq").read_text().strip()) / 1000.0
    except (OSError, ValueError):
        return None


def system_info() -> SystemInfo:
    """Collect everything above (cheap: a few small file reads and at most one subprocess)."""
    raw, flags = throttling()
    return SystemInfo(
        cpu=cpu_model(),
        arch=platform.machine(),
        cores=usable_cores(),
        board=board_model(),
        throttled=raw,
        throttled_flags=flags,
        cpu_temp_c=cpu_temperature(),
        cpu_freq_mhz=cpu_frequency_mhz(),
        os=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        numpy=np.__version__,
    )


def current_rss_bytes() -> int | None:
    """Resident memory of this process now (Linux /proc; None elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_bytes() -> int | None:
    """Peak resident memory of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)
