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
    """The digit aimed at among the digits of a number in view, and the others: of the pieces in a
    row with `main`, the one nearest the photo's centre (`off`: each piece's distance from it), and
    the pieces in a row with that one (a neighbour as tall as it need not be as tall as `main`).
    """
    row = _in_row_with(main, pieces, rects)
    aimed = min(row, key=lambda i: off[i])
    if aimed != main:  # its own row; `main`'s is the same list otherwise (every photo: not twice)
        row = _in_row_with(aimed, pieces, rects)
    return aimed, [i for i in row if i != aimed]


def _in_row_with(j: int, pieces: list[int], rects: list[list[int]]) -> list[int]:
    """Piece `j` and the pieces in a row with it: about as tall (config.ROW_HEIGHT), a pen's width
    at least (config.ROW_WIDTH), on the same lines (config.ROW_OVERLAP) and a gap away, farther than
    a neighbour's ink may come (config.NEIGHBOUR_REACH of the reach at which
    `select._grow_with_strokes` joins a stroke). Nearer, a piece is one of the digit's own strokes."""
    x, y, w, h, _ = rects[j]
    gap = NEIGHBOUR_REACH * STROKE_REACH * max(w, h)
    row = [j]
    for i in pieces:
        ix, iy, iw, ih, _ = rects[i]
        if i == j or iw < ROW_WIDTH or not ROW_HEIGHT * h <= ih <= h / ROW_HEIGHT:
            continue
        shared = min(y + h, iy + ih) - max(y, iy)
        apart = max(ix - (x + w), x - (ix + iw))
        if shared >= ROW_OVERLAP * min(h, ih) and apart > gap:
            row.append(i)
    return row
