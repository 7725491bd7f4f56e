#!/usr/bin/env bash
# Run the real edge runtime as an aarch64 program (a Raspberry Pi's Debian 12 arm64 userland,
# Python 3.11, LiteRT and OpenCV wheels for aarch64) under QEMU user-mode emulation, and check it
# answers exactly like x86: `cnn-edge infer --json` on image files, `infer --camera` on a video
# file, `cnn-edge evaluate --json`, and the raw int8 output tensors. Emulated CPUs: Cortex-A72
# (Pi 4) and Cortex-A76 (Pi 5).
#
# Usage: PYTHON=.venv-test/bin/python ci/pi-emulation.sh     (or: ci/pi-emulation.sh PYTHON)
#   PYTHON                an x86 Python with cnn-edge[dev] installed (TensorFlow: trains the test model)
#   CNN_EDGE_CACHE        download/rootfs cache (default ~/.cache/cnn-edge/pi-emulation, ~370 MB)
#   CNN_EDGE_PI_CPUS      QEMU CPUs to test (default "cortex-a72 cortex-a76")
#   CNN_EDGE_PI_RUN       a run directory already converted with --int8 (skips training)
#   CNN_EDGE_PI_EVAL_LIMIT  images for `evaluate` (default 500; the float32 reference is slow emulated)
#   CNN_EDGE_PI_KEEP=1    keep the work directory
# Needs: qemu-user-static (installed with apt-get when missing and run as root), dpkg-deb, network
# access to the Debian mirror and PyPI on the first run. Emulated latencies are printed by the
# commands but mean nothing: they are never Raspberry Pi figures.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
PY="${1:-${PYTHON:-python3}}"
# A relative path (PYTHON=.venv-test/bin/python) must survive the `cd`s below; keep the venv's
# symlink itself (resolving it would leave the venv).
case "$PY" in */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;; esac
CACHE="${CNN_EDGE_CACHE:-${HOME:-/tmp}/.cache/cnn-edge/pi-emulation}"
CPUS="${CNN_EDGE_PI_CPUS:-cortex-a72 cortex-a76}"
EVAL_LIMIT="${CNN_EDGE_PI_EVAL_LIMIT:-500}"
SUITE=bookworm # Raspberry Pi OS bookworm = Debian 12: Python 3.11, glibc 2.36
DEBS=(python3.11 libstdc++6 libgcc-s1)
START=$SECONDS

say() { printf '== [%3ds] %s\n' "$((SECONDS - START))" "$*"; }
die() {
    printf 'pi-emulation: FAIL: %s\n' "$*" >&2
    exit 1
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pi-emulation.XXXXXX")"
cleanup() {
    local rc=$?
    if [ "$rc" -ne 0 ] || [ "${CNN_EDGE_PI_KEEP:-0}" = 1 ]; then
        echo "pi-emulation: work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# ------------------------------------------------------------------------------------------ tools
if ! command -v qemu-aarch64-static >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing qemu-user-static (apt-get)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
    else
        die "qemu-aarch64-static not found: sudo apt-get install qemu-user-static"
    fi
fi
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (a Debian/Ubuntu host is needed)"
"$PY" -c 'import cnn_edge, numpy, cv2' 2>/dev/null ||
    die "$PY cannot import cnn_edge, numpy and cv2: give an x86 Python with cnn-edge[dev] (PYTHON=...)"
say "x86: $("$PY" -c 'import platform, sys; print(platform.machine(), "Python", sys.version.split()[0])');" \
    "$(qemu-aarch64-static --version | head -1)"

# -------------------------------------------------- arm64 userland: Debian packages, no debootstrap
# Same Debian mirror as the host's apt sources (deb822 or one-line format), else deb.debian.org.
host_uri() { # $1: a regex the URI must match
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -E '^[[:space:]]*(URIs:|deb )' | grep -oE 'https?://[^[:space:]]+' | grep -E "$1" | head -1 || true
}
MIRROR="$(host_uri '/debian/?$')"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY="$(host_uri '/debian-security/?$')"
SECURITY="${SECURITY:-http://deb.debian.org/debian-security}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || die "$KEYRING missing: apt-get install debian-archive-keyring"

rootfs_key="$(printf '%s\n' "$SUITE" "${DEBS[@]}" | cat - "$REPO/ci/arm-cpuinfo.txt" | sha256sum | cut -c1-12)"
ROOTFS="$CACHE/rootfs-$SUITE-$rootfs_key"
if [ -f "$ROOTFS/.complete" ]; then
    say "arm64 rootfs: cached ($ROOTFS)"
else
    say "arm64 rootfs: downloading ${DEBS[*]} and dependencies from $MIRROR ($SUITE, arm64)"
    APTDIR="$CACHE/apt-$SUITE-arm64"
    mkdir -p "$APTDIR"/{state/lists/partial,cache/archives/partial,etc/apt.conf.d,etc/preferences.d,etc/sources.list.d}
    : >"$APTDIR/state/status" # empty dpkg status: every dependency gets downloaded
    {
        echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main"
        echo "deb [signed-by=$KEYRING] $MIRROR $SUITE-updates main"
        echo "deb [signed-by=$KEYRING] $SECURITY $SUITE-security main"
    } >"$APTDIR/etc/sources.list"
    cat >"$APTDIR/apt.conf" <<EOF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
APT::Install-Recommends "false";
APT::Sandbox::User "root";
Acquire::Languages "none";
Dir::State "$APTDIR/state";
Dir::State::status "$APTDIR/state/status";
Dir::Cache "$APTDIR/cache";
Dir::Etc::SourceList "$APTDIR/etc/sources.list";
Dir::Etc::SourceParts "$APTDIR/etc/sources.list.d";
Dir::Etc::Preferences "$APTDIR/etc/preferences";
Dir::Etc::PreferencesParts "$APTDIR/etc/preferences.d";
Dir::Etc::Parts "$APTDIR/etc/apt.conf.d";
Debug::NoLocking "true";
EOF
    export APT_CONFIG="$APTDIR/apt.conf"
    apt-get -qq update >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; die "apt-get update (arm64) failed"; }
    apt-get -qq -y install --download-only --no-install-recommends "${DEBS[@]}" >>"$WORK/apt.log" 2>&1 ||
        { cat "$WORK/apt.log" >&2; die "apt-get --download-only (arm64) failed"; }
    unset APT_CONFIG
    tmp_root="$CACHE/rootfs.tmp.$$"
    rm -rf "$tmp_root" && mkdir -p "$tmp_root/proc"
    n=0
    for deb in "$APTDIR"/cache/archives/*_arm64.deb "$APTDIR"/cache/archives/*_all.deb; do
        [ -e "$deb" ] || continue
        dpkg-deb -x "$deb" "$tmp_root"
        n=$((n + 1))
    done
    # QEMU 7.2 shows the host's x86 /proc/cpuinfo to the guest, and LiteRT's CPU detection
    # segfaults on it; -L ROOTFS serves this file instead: a Pi 4's four Cortex-A72 cores.
    cp "$REPO/ci/arm-cpuinfo.txt" "$tmp_root/proc/cpuinfo"
    touch "$tmp_root/.complete"
    rm -rf "$ROOTFS" && mv "$tmp_root" "$ROOTFS"
    say "arm64 rootfs: $n packages ($(du -sh "$APTDIR/cache/archives" | cut -f1)) extracted into $ROOTFS"
    rm -rf "$APTDIR" # package lists and .debs (~140 MB): only needed to build the rootfs again
fi
GUEST_PY="$ROOTFS/usr/bin/python3.11"
[ -x "$GUEST_PY" ] || die "$GUEST_PY missing from the rootfs (delete $ROOTFS and retry)"

# ------------------------------------------------------------------------------ aarch64 wheels
# The same versions as the x86 environment, so both sides run the same LiteRT/OpenCV/numpy.
pins="$("$PY" - <<'EOF'
from importlib.metadata import PackageNotFoundError, version
out = []
for dist in ("numpy", "ai-edge-litert", "opencv-python-headless", "typer", "rich"):
    try:
        out.append(f"{dist}=={version(dist)}")
    except PackageNotFoundError:
        out.append(dist)
print(" ".join(out))
EOF
)"
read -r -a REQS <<<"$pins"
PLATFORMS=(--platform manylinux2014_aarch64)
for minor in $(seq 17 36); do # pip matches tags exactly: with fewer it picks ai-edge-litert 1.4
    PLATFORMS+=(--platform "manylinux_2_${minor}_aarch64")
done
PIPTAGS=(--only-binary=:all: --python-version 3.11 --implementation cp "${PLATFORMS[@]}")
SITE="$CACHE/site-py311-$(printf '%s\n' "${REQS[@]}" | sha256sum | cut -c1-12)"
if [ -f "$SITE/.complete" ]; then
    say "aarch64 wheels: cached ($SITE)"
else
    say "aarch64 wheels: downloading ${REQS[*]} (with dependencies) for cp311 manylinux aarch64"
    mkdir -p "$CACHE/wheels"
    "$PY" -m pip download -q --disable-pip-version-check "${PIPTAGS[@]}" -d "$CACHE/wheels" "${REQS[@]}" \
        >"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; die "pip download (aarch64 wheels) failed"; }
    rm -rf "$SITE.tmp"
    # Install exactly what the resolver picked for these requirements (the wheel cache may hold more).
    "$PY" -m pip download -q --disable-pip-version-check "${PIPTAGS[@]}" --no-index --find-links "$CACHE/wheels" \
        -d "$WORK/picked" "${REQS[@]}" >>"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; die "pip (picking wheels) failed"; }
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --no-index "${PIPTAGS[@]}" --target "$SITE.tmp" \
        "$WORK"/picked/*.whl >>"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; die "pip install --target (aarch64) failed"; }
    touch "$SITE.tmp/.complete"
    rm -rf "$SITE" && mv "$SITE.tmp" "$SITE"
    say "aarch64 wheels: $(find "$WORK/picked" -name '*.whl' | wc -l) installed into $SITE ($(du -sh "$SITE" | cut -f1))"
fi
litert_wheel_version="$(find "$SITE" -maxdepth 1 -name 'ai_edge_litert-*.dist-info' | sed 's/.*ai_edge_litert-//; s/\.dist-info//')"
case "$litert_wheel_version" in
1.*) die "pip picked ai-edge-litert $litert_wheel_version for aarch64 (platform tags missing?)" ;;
esac

# guest CPU ARGS...: run the aarch64 Python under QEMU with the repo's cnn_edge imported from source.
guest() {
    local cpu=$1
    shift
    QEMU_CPU="$cpu" PYTHONPATH="$SITE:$REPO" PYTHONDONTWRITEBYTECODE=1 TF_CPP_MIN_LOG_LEVEL=3 \
        qemu-aarch64-static -L "$ROOTFS" "$GUEST_PY" "$@"
}
first_cpu="${CPUS%% *}"
guest_info="$(guest "$first_cpu" -c 'import platform, sys, numpy, cv2
from cnn_edge.edge_runtime.interpreter import available_backends
print(platform.machine(), "Python", sys.version.split()[0], "numpy", numpy.__version__, "OpenCV", cv2.__version__, available_backends())')" ||
    die "the aarch64 Python cannot import numpy/OpenCV/cnn_edge under QEMU ($first_cpu)"
case "$guest_info" in
aarch64*) say "aarch64: $guest_info" ;;
*) die "the emulated Python reports '$guest_info', not aarch64" ;;
esac
command -v "$PY" >/dev/null || [ -x "$PY" ] || die "$PY not found"

# ------------------------------------------------------------------------ test model and inputs
if [ -n "${CNN_EDGE_PI_RUN:-}" ]; then
    RUN="$CNN_EDGE_PI_RUN"
    say "model: using $RUN"
else
    RUN="$WORK/run"
    say "model: training a tiny CNN on x86 (2,000 images, 1 epoch)"
    (cd "$WORK" && TF_CPP_MIN_LOG_LEVEL=3 "$PY" -m cnn_edge train --train-limit 2000 --epochs 1 \
        --out "$RUN" --quiet >"$WORK/train.log" 2>&1) || { tail -20 "$WORK/train.log" >&2; die "cnn-edge train failed"; }
    say "model: converting to int8 on x86"
    (cd "$WORK" && TF_CPP_MIN_LOG_LEVEL=3 "$PY" -m cnn_edge convert --run "$RUN" --int8 --calibration-samples 200 \
        >"$WORK/convert.log" 2>&1) || { tail -20 "$WORK/convert.log" >&2; die "cnn-edge convert failed"; }
fi
MODEL="$RUN/model_int8.tflite"
[ -f "$MODEL" ] || die "$MODEL not found"
IN="$WORK/inputs"
PYTHONPATH="$REPO" "$PY" "$REPO/ci/make_pi_inputs.py" "$IN" | sed 's/^/   /'
n_frames=$(( $(PYTHONPATH="$REPO" "$PY" -c 'import cv2, sys; c = cv2.VideoCapture(sys.argv[1]); print(int(c.get(cv2.CAP_PROP_FRAME_COUNT)))' "$IN/cards.avi") ))
[ "$n_frames" -gt 0 ] || die "the test video has no frames"
scale="$(PYTHONPATH="$REPO" "$PY" -c 'import sys
from cnn_edge.edge_runtime.interpreter import load_model
print(repr(load_model(sys.argv[1]).output_quant.scale))' "$MODEL")"
say "model: $MODEL ($(stat -c %s "$MODEL") bytes, output scale $scale); video: $n_frames frames"

# run_all PREFIX OUTDIR: the four measurements, on x86 (PREFIX "$PY") or emulated (PREFIX "guest CPU").
run_all() {
    local out=$1
    shift
    mkdir -p "$out"
    (cd "$IN" && "$@" -m cnn_edge infer -m "$MODEL" --json --save-preprocessed "$out/pre" images/*) \
        >"$out/files.jsonl" 2>"$out/files.err" || { cat "$out/files.err" >&2; return 1; }
    local video
    for video in cards cards_lossless; do
        "$@" -m cnn_edge infer -m "$MODEL" --camera --source "$IN/$video.avi" --no-display --json \
            --frames "$n_frames" >"$out/$video.jsonl" 2>"$out/$video.err" || { cat "$out/$video.err" >&2; return 1; }
    done
    "$@" "$REPO/ci/raw_outputs.py" "$MODEL" "$IN/digits.npy" "$X86/pre" "$out/raw.npz" \
        2>"$out/raw.err" || { cat "$out/raw.err" >&2; return 1; }
    "$@" -m cnn_edge evaluate --model "$MODEL" --json --runs 0 --limit "$EVAL_LIMIT" \
        >"$out/evaluate.json" 2>"$out/evaluate.err" || { cat "$out/evaluate.err" >&2; return 1; }
}

X86="$WORK/x86"
say "x86: infer (files), infer --camera (video), raw int8 outputs, evaluate"
run_all "$X86" "$PY" || die "a command failed on x86 (see above)"
n_files=$(grep -c '^{' "$X86/files.jsonl" || true)
say "x86: $n_files image records, $(grep -c '^{' "$X86/cards.jsonl" || true) camera frames per video"

failures=0
check() { PYTHONPATH="$REPO" "$PY" "$REPO/ci/compare_outputs.py" "$@" || failures=$((failures + 1)); }
for cpu in $CPUS; do
    ARM="$WORK/aarch64-$cpu"
    say "aarch64 $cpu (QEMU_CPU=$cpu): the same commands, emulated"
    if ! run_all "$ARM" guest "$cpu"; then
        echo "pi-emulation: a command failed under QEMU ($cpu)" >&2
        failures=$((failures + 1))
        continue
    fi
    say "aarch64 $cpu: comparing with x86"
    check infer "$X86/files.jsonl" "$ARM/files.jsonl" "infer files, $cpu" "$scale"
    check infer "$X86/cards_lossless.jsonl" "$ARM/cards_lossless.jsonl" "infer --camera (lossless video), $cpu" "$scale"
    # MJPG: FFmpeg decodes it a grey level or two differently on aarch64, so a weak model's
    # near-ties may flip: reported, not gated (the lossless video above is the strict check).
    check infer-info "$X86/cards.jsonl" "$ARM/cards.jsonl" "infer --camera (MJPG video), $cpu" "$scale"
    check raw "$X86/raw.npz" "$ARM/raw.npz" "int8 outputs, $cpu"
    check evaluate "$X86/evaluate.json" "$ARM/evaluate.json" "evaluate, $cpu"
    check pixels "$X86/pre" "$ARM/pre" "preprocessing, $cpu"
done

# cnn-edge deploy to the emulated Pi: a real sshd on 127.0.0.1, the device's cnn-edge under QEMU.
DEVICE_CLI="$WORK/pi-cnn-edge"
cat >"$DEVICE_CLI" <<EOF
#!/bin/sh
QEMU_CPU=$first_cpu PYTHONPATH="$SITE:$REPO" PYTHONDONTWRITEBYTECODE=1 TF_CPP_MIN_LOG_LEVEL=3 \\
    exec qemu-aarch64-static -L "$ROOTFS" "$GUEST_PY" -m cnn_edge "\$@"
EOF
chmod +x "$DEVICE_CLI"
say "deploy: cnn-edge deploy over SSH to the emulated Pi ($first_cpu)"
PYTHONPATH="$REPO" "$PY" "$REPO/ci/pi_deploy_check.py" "$RUN" "$DEVICE_CLI" "$WORK" "$EVAL_LIMIT" ||
    failures=$((failures + 1))

if [ "$failures" -ne 0 ]; then
    die "$failures check(s) failed: the aarch64 edge runtime does not answer like x86 (details above)"
fi
say "PASS: aarch64 (${CPUS// /, }) answers like x86, and deploy works against it." \
    "(Emulated latency is meaningless: not a Pi figure.)"
