#!/usr/bin/env bash
# Full training benchmark: the default CNN on all MNIST training images, 10 epochs.
# Usage: benchmarks/train_full.sh [OUT_DIR] [extra cnn-edge train options...]
# Writes the run to OUT_DIR (default runs/bench-full) and prints its metrics.json; copy the
# figures into benchmarks/RESULTS.md with the machine they ran on.
set -euo pipefail
out="${1:-runs/bench-full}"
shift || true
cnn-edge train --out "$out" --force --quiet "$@"
cat "$out/metrics.json"
