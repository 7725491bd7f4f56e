"""Inputs for ci/pi-emulation.sh, made on x86 (any Python with numpy and OpenCV, plus this repo).

Usage: python ci/make_pi_inputs.py OUT_DIR

Writes, deterministically:
  OUT_DIR/images/   MNIST test digits as PNG, as-is (white on black) and inverted (dark ink on
                    light paper), a blank page, and (when cnn_edge.testing.synthetic_photos is there)
                    synthetic camera photos as JPEG;
  OUT_DIR/digits.npy  (N, 28, 28) uint8 raw model inputs for the int8 output comparison;
  OUT_DIR/cards.avi   an MJPG video of digit cards, the camera test's source;
  OUT_DIR/cards_lossless.avi  its frames as decoded on x86, re-encoded losslessly (FFV1).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
N_DIGITS = 16  # each written as-is and inverted
N_PHOTOS = 8
N_RAW = 300
VIDEO_CARDS = 4
FRAMES_PER_CARD = 8


def main(out: Path) -> None:
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    with np.load(REPO / "data" / "mnist.npz") as d:
        x_test, y_test = d["x_test"], d["y_test"]
    digits = x_test[:N_DIGITS]
    for i, img in enumerate(digits):
        up = cv2.resize(img, (112, 112), interpolation=cv2.INTER_LINEAR)
        cv2.imwrite(str(images / f"mnist_{i:02d}_asis.png"), img)
        cv2.imwrite(str(images / f"mnist_{i:02d}_paper.png"), 255 - up)
    cv2.imwrite(str(images / "blank.png"), np.full((120, 160), 235, np.uint8))
    # Raw 28x28 inputs for the exact int8 comparison: a slice of MNIST test further on.
    np.save(out / "digits.npy", np.ascontiguousarray(x_test[1000 : 1000 + N_RAW]))

    n_glyphs = max(N_PHOTOS, VIDEO_CARDS)
    glyph_masks, glyph_labels = list(x_test[100 : 100 + n_glyphs]), y_test[100 : 100 + n_glyphs]
    try:
        from cnn_edge.testing import synthetic_photos as sp
    except ImportError:
        sp = None
    if sp is not None:
        rng = np.random.default_rng(6)
        for i in range(N_PHOTOS):
            photo = sp.render_photo(glyph_masks[i], rng, sp.EASY, frame_size=(320, 240))
            cv2.imwrite(str(images / f"photo_{i:02d}.jpg"), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
        sp.make_card_video(out / "cards.avi", glyph_masks[:VIDEO_CARDS], glyph_labels[:VIDEO_CARDS],
                           frames_per_card=FRAMES_PER_CARD, size=(320, 240), seed=6)
    else:  # plain fallback: dark digits on light cards, still an MJPG file read as a camera
        writer = cv2.VideoWriter(str(out / "cards.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
        for mask in glyph_masks[:VIDEO_CARDS]:
            frame = np.full((240, 320, 3), 225, np.uint8)
            frame[50:190, 90:230] = 255 - cv2.resize(mask, (140, 140))[..., None]
            for _ in range(FRAMES_PER_CARD):
                writer.write(frame)
        writer.release()
    # The same frames, losslessly (FFV1): FFmpeg's MJPG decoding differs between x86 and aarch64
    # by a grey level or two, so only a lossless video can demand identical answers per frame.
    cap = cv2.VideoCapture(str(out / "cards.avi"))
    writer = None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if writer is None:
            h, w = frame.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*"FFV1")
            writer = cv2.VideoWriter(str(out / "cards_lossless.avi"), fourcc, 30.0, (w, h))
            if not writer.isOpened():
                sys.exit("make_pi_inputs: OpenCV cannot write an FFV1 video")
        writer.write(frame)
    cap.release()
    if writer is None:
        sys.exit("make_pi_inputs: the MJPG test video has no frames")
    writer.release()
    n = len(list(images.iterdir()))
    print(f"inputs: {n} images, {N_RAW} raw digits, video of {VIDEO_CARDS * FRAMES_PER_CARD} frames"
          f" ({'synthetic_photos' if sp else 'plain cards'}) in {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
