"""Write the fixed, seeded benchmark photo sets, so everybody measures on the same images.

    python benchmarks/make_photo_sets.py OUT_DIR [--mnist data/mnist.npz] [--layout csv|folders]

Writes (1-2 minutes of one core; the images are not committed, rebuild them):
    OUT_DIR/sklearn/   1,000 photos of scikit-learn's digits (43 writers MNIST never saw)
    OUT_DIR/mnist/     1,000 photos of MNIST test digits
    OUT_DIR/blank/     100 photos with no digit (label empty / folder "none")
    OUT_DIR/cards.avi  an MJPG video: 20 digit cards (2 per class, sklearn writers), 45 frames
                       each, then 15 frames of the bare room; cards.csv has frame,label
Each set has a labels.csv (file,label,source). Seeds and sizes are fixed here: change them
only together with every recorded result that used them.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from cnn_edge import synthetic_photos as sp
from cnn_edge.atomic import write_text
from cnn_edge.mnist import load_mnist

N_SKLEARN = 1000
N_MNIST = 1000
N_BLANK = 100
CARDS_PER_CLASS = 2
FRAMES_PER_CARD = 45
GAP_FRAMES = 15
SEED = 20240


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--mnist", default=None, help="path of mnist.npz (default: the usual lookup)")
    parser.add_argument("--layout", choices=["csv", "folders"], default="csv")
    args = parser.parse_args(argv)

    sklearn = sp.sklearn_glyphs()
    mnist = load_mnist(args.mnist, allow_download=False)
    counts = {}
    counts["sklearn"] = len(sp.make_photo_set(args.out / "sklearn", sklearn, n=N_SKLEARN, seed=SEED,
                                              layout=args.layout))
    counts["mnist"] = len(sp.make_photo_set(args.out / "mnist", sp.mnist_glyphs(mnist.x_test, mnist.y_test),
                                            n=N_MNIST, seed=SEED + 1, layout=args.layout))
    counts["blank"] = len(sp.make_blank_set(args.out / "blank", N_BLANK, seed=SEED + 2, layout=args.layout))

    cards = sklearn.take(_cards_per_class(sklearn.labels, CARDS_PER_CLASS, SEED + 3))
    labels = sp.make_card_video(args.out / "cards.avi", cards, frames_per_card=FRAMES_PER_CARD,
                                seed=SEED + 4, gap_frames=GAP_FRAMES)
    buf = io.StringIO()
    buf.write("frame,label\n")
    for i, label in enumerate(labels):
        buf.write(f"{i},{'' if label is None else label}\n")
    write_text(args.out / "cards.csv", buf.getvalue())
    counts["video frames"] = len(labels)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()), f"-> {args.out}")
    return 0


def _cards_per_class(labels: np.ndarray, per_class: int, seed: int) -> list[int]:
    """`per_class` random glyph indices per digit, interleaved 0-9, 0-9, ... so classes alternate."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(labels == d), per_class, replace=False) for d in range(10)]
    return [int(picks[d][k]) for k in range(per_class) for d in range(10)]


if __name__ == "__main__":
    sys.exit(main())
