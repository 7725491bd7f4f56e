"""What `--augment` costs per epoch: plain and augmented epochs alternated in one process.

    python benchmarks/augment_timing.py [--rounds 3] [--preset camera]

The machine is shared, so separate runs minutes apart measure the neighbours as much as the
pipeline. Here one model trains on the full 55,000 images, alternating one plain epoch (numpy
arrays, as `train` feeds them) with one augmented epoch (`augmented_dataset`), after one warm-up
epoch of each (graph tracing); the ratio of the medians is the cost. Also the augmentation alone
(no training step), per 128-image batch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--preset", default="camera")
    a = ap.parse_args(argv)

    import keras
    import tensorflow as tf

    from cnn_edge.common.mnist import load_mnist
    from cnn_edge.trainer import TrainConfig
    from cnn_edge.trainer.augment import augment_batch, preset
    from cnn_edge.trainer.datasets import augmented_dataset
    from cnn_edge.trainer.models import build_model, compile_model
    from cnn_edge.trainer.training_set import split_data

    cfg = TrainConfig(augment=a.preset)
    m = load_mnist()
    x, y, _, _ = split_data(cfg, m.x_train, m.y_train, m.x_test, m.y_test)
    keras.utils.set_random_seed(0)
    model = build_model("cnn")
    compile_model(model, 1e-3, "constant")
    ds = augmented_dataset(x, y, cfg)
    xf = x.astype("float32")

    def plain() -> float:
        t = time.perf_counter()
        model.fit(xf, y, batch_size=cfg.batch_size, epochs=1, shuffle=True, verbose=0)
        return time.perf_counter() - t

    def augmented() -> float:
        t = time.perf_counter()
        model.fit(ds, epochs=1, verbose=0)
        return time.perf_counter() - t

    plain(), augmented()  # warm-up: tracing
    times: dict[str, list[float]] = {"plain": [], "augmented": []}
    for _ in range(a.rounds):
        times["plain"].append(plain())
        times["augmented"].append(augmented())

    fn = tf.function(lambda b, s: augment_batch(b, s, preset(a.preset)))
    batch = tf.constant(x[: cfg.batch_size])
    fn(batch, tf.constant([0, 0]))
    t = time.perf_counter()
    for i in range(100):
        fn(batch, tf.constant([i, 0]))
    aug_ms = (time.perf_counter() - t) / 100 * 1e3

    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:<10} epochs: {', '.join(f'{s:.1f}' for s in v)} s; median {med[k]:.1f} s")
    print(f"augmented / plain: {med['augmented'] / med['plain']:.2f}")
    print(f"augmentation alone: {aug_ms:.2f} ms per {cfg.batch_size}-image batch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
