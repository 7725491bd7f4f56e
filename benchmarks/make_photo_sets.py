"""Write the fixed, seeded benchmark photo sets, so everybody measures on the same images.

    python benchmarks/make_photo_sets.py OUT_DIR [--mnist data/mnist.npz] [--layout csv|folders]

Writes (1-2 minutes of one core; the images are not committed, rebuild them):
    OUT_DIR/writers/   1,000 photos of other writers' real handwriting, never trained on: 500
                       digits of optdigits' 13 windep writers (their 32x32 scans) and 500 of
                       pendigits writers 30-43 (redrawn from the pen trajectory), one each
    OUT_DIR/mnist/     1,000 photos of MNIST test digits
    OUT_DIR/blank/     100 photos with no digit (label empty / folder "none")
    OUT_DIR/cards.avi  an MJPG video, 640x480 at 30 fps: 20 digit cards (per class one by a
                       scikit-learn writer (the 8x8 scans rebuilt as bitmaps; kept so that
                       card figures stay comparable), one MNIST test digit), 45 frames each, then 15 frames of
                       the bare room; cards.csv has frame,label,source (label empty: no card)
    OUT_DIR/paper.avi  an MJPG video, 640x480 at 15 fps: a sheet of paper filling the view, one
                       digit near the centre (per class one by a held-out optdigits writer, one
                       by a held-out pendigits writer), 15 frames each; paper.csv as cards.csv
Each set has a labels.csv (file,label,source). Seeds and sizes are fixed here: change them
only together with every recorded result that used them. The images also depend on the renderer
(`cnn_edge.testing.synthetic_photos`) and on OpenCV's version: a set rebuilt after either changed is a new
set, and figures measured on different builds are not comparable row by row.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

from cnn_edge.common.atomic import write_text
from cnn_edge.common.mnist import load_mnist
from cnn_edge.testing import synthetic_photos as sp
from cnn_edge.testing.paper_video import make_paper_video
from cnn_edge.trainer.other_writers import load_set
from cnn_edge.trainer.writer_images import glyph_mask

N_WRITERS_PER_SET = 500  # writers/: photos of each held-out set
N_MNIST = 1000
N_BLANK = 100
FRAMES_PER_CARD = 45
GAP_FRAMES = 15
FRAMES_PER_PAGE = 15
PAPER_SETS = ("optdigits", "pendigits")  # their held-out ("test") writers only
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
    writers = held_out_writer_glyphs()
    counts["writers"] = len(sp.make_photo_set(args.out / "writers", writers, seed=SEED + 9,
                                              layout=args.layout))
    counts["mnist"] = len(sp.make_photo_set(args.out / "mnist", sp.mnist_glyphs(mnist.x_test, mnist.y_test),
                                            n=N_MNIST, seed=SEED + 1, layout=args.layout))
    counts["blank"] = len(sp.make_blank_set(args.out / "blank", N_BLANK, seed=SEED + 2, layout=args.layout))

    # The video mixes writers: even as clean scans an MNIST-trained model reads only 95-98% of
    # sklearn's 8x8 digits (benchmarks/results/edge_runtime.md), which would hide what the camera
    # path itself gets right.
    mnist_cards = sp.mnist_glyphs(mnist.x_test, mnist.y_test)
    cards = sp.GlyphSet.concat(
        sklearn.take(_one_per_class(sklearn.labels, SEED + 3)),
        mnist_cards.take(_one_per_class(mnist_cards.labels, SEED + 4)),
    )
    labels = sp.make_card_video(args.out / "cards.avi", cards, frames_per_card=FRAMES_PER_CARD,
                                seed=SEED + 5, gap_frames=GAP_FRAMES)
    buf = io.StringIO()
    buf.write("frame,label,source\n")
    per_card = FRAMES_PER_CARD + GAP_FRAMES
    for i, label in enumerate(labels):
        source = "" if label is None else cards.sources[i // per_card]
        buf.write(f"{i},{'' if label is None else label},{source}\n")
    write_text(args.out / "cards.csv", buf.getvalue())
    counts["video frames"] = len(labels)
    counts["paper frames"] = write_paper_video(args.out)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()), f"-> {args.out}")
    return 0


def held_out_writer_glyphs() -> sp.GlyphSet:
    """N_WRITERS_PER_SET clean digits of each of PAPER_SETS' held-out writers (a seeded pick).

    optdigits as its 32x32 scan, pendigits redrawn from its pen trajectory with one clean pen
    (`writer_images.glyph_mask`): the same glyphs `augment_bench.py` scores as clean scans.
    """
    parts = []
    for k, name in enumerate(PAPER_SETS):
        ws = load_set(name)
        rng = np.random.default_rng(SEED + 10 + k)
        pick = rng.choice(ws.indices("test"), N_WRITERS_PER_SET, replace=False)
        masks = tuple(glyph_mask(ws, int(i)) for i in pick)
        parts.append(sp.GlyphSet(masks, ws.y[pick].astype(np.int64), (name,) * len(pick)))
    return sp.GlyphSet.concat(*parts)


def write_paper_video(out: Path) -> int:
    """paper.avi and paper.csv: held-out writers' digits on a page filling the view; the frame count."""
    masks, labels, sources = [], [], []
    for k, name in enumerate(PAPER_SETS):
        ws = load_set(name)
        test = ws.indices("test")
        for i in _one_per_class(ws.y[test], SEED + 6 + k):
            masks.append(glyph_mask(ws, int(test[i])))
            labels.append(int(ws.y[test[i]]))
            sources.append(name)
    per_frame = make_paper_video(out / "paper.avi", masks, labels, frames_per_digit=FRAMES_PER_PAGE,
                                 seed=SEED + 8)
    rows = [f"{i},{label},{sources[i // FRAMES_PER_PAGE]}" for i, label in enumerate(per_frame)]
    write_text(out / "paper.csv", "frame,label,source\n" + "\n".join(rows) + "\n")
    return len(per_frame)


def _one_per_class(labels: np.ndarray, seed: int) -> list[int]:
    """One random glyph index per digit 0-9, in that order (a seeded pick, not a chosen one)."""
    rng = np.random.default_rng(seed)
    return [int(rng.choice(np.flatnonzero(labels == d))) for d in range(10)]


if __name__ == "__main__":
    sys.exit(main())
