"""Step 4b: a photo aimed at one digit of a number may show the number's other digits whole.
The piece with the most ink was taken for the digit (a neighbouring 8 over the 1 aimed at), and
the neighbours a gap away were grown into it as its strokes: the model saw the whole number."""

from __future__ import annotations

from cnn_edge.edge_runtime.preprocess.config import (
    NEIGHBOUR_REACH,
    ROW_HEIGHT,
    ROW_OVERLAP,
    ROW_WIDTH,
    STROKE_REACH,
)


def aimed_in_row(main: int, pieces: list[int], rects: list[list[int]],
                 off: list[float]) -> tuple[int, list[int]]:
    """The digit aimed at among the digits of a number in view, and the others: the pieces in a row
    with `main`, the one nearest the photo's centre first (`off`: each piece's distance from it).

    In a row: about as tall as `main` (config.ROW_HEIGHT), a pen's width at least
    (config.ROW_WIDTH), on the same lines (config.ROW_OVERLAP) and a gap away, farther than a
    neighbour's ink may come (config.NEIGHBOUR_REACH of the reach at which
    `select._grow_with_strokes` joins a stroke). Nearer, a piece is taken as one of the digit's
    own strokes, as before.
    """
    x, y, w, h, _ = rects[main]
    gap = NEIGHBOUR_REACH * STROKE_REACH * max(w, h)
    row = [main]
    for i in pieces:
        ix, iy, iw, ih, _ = rects[i]
        if i == main or iw < ROW_WIDTH or not ROW_HEIGHT * h <= ih <= h / ROW_HEIGHT:
            continue
        shared = min(y + h, iy + ih) - max(y, iy)
        apart = max(ix - (x + w), x - (ix + iw))
        if shared >= ROW_OVERLAP * min(h, ih) and apart > gap:
            row.append(i)
    aimed = min(row, key=lambda i: off[i])
    return aimed, [i for i in row if i != aimed]
