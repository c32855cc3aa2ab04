"""A picture of two maps of different shapes: each at its own size, and where they differ.

A check that fails on the output's shape (a stride forgotten, a window one short, padding on
one side only) still has the student's map and the expected one. When both are maps of one
rank (axes named as `map_axes` names them), `ShapeMismatch` keeps them, and `figure` shows the
expected map and the student's, each at its own size on one shared colour scale, and their
difference where both have values (aligned at the top-left corner), the positions only one of
them has hatched and named in the caption. The map shown is chosen as for a values mismatch:
the image and channel of the largest error where both have values.
"""

from dataclasses import dataclass, replace

import numpy as np

from .mismatch_figure import AXIS_WORDS, MAX_SIDE, scale_text, window_start

ONLY_YOURS = {"facecolor": "#d0d0d0", "hatch": "////", "edgecolor": "#707070"}
ONLY_EXPECTED = {"facecolor": "#ffffff", "hatch": "xxx", "edgecolor": "#707070"}


@dataclass(frozen=True)
class ShapeMismatch:
    """Two maps of one rank and different shapes: `actual` and `expected` (finite float
    arrays, axes named by `axes`), the elementwise bound `allowed` (the expected's shape), the
    array's `name` in feedback and the `case` it came from."""

    actual: np.ndarray
    expected: np.ndarray
    allowed: np.ndarray
    axes: str
    name: str = "output"
    case: str = ""

    def with_case(self, case: str) -> "ShapeMismatch":
        return replace(self, case=case)

    def shown(self) -> "ShapeShown":
        """The map shown (the one holding the largest error where both have values, else the
        first) and what the figure says about it."""
        h, w = self.axes.index("h"), self.axes.index("w")
        others = [k for k in range(len(self.axes)) if k not in (h, w)]
        common = tuple(
            slice(0, min(a, e)) for a, e in zip(self.actual.shape, self.expected.shape, strict=True)
        )
        excess = np.abs(self.actual[common] - self.expected[common]) - self.allowed[common]
        wrong = excess > 0
        worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if wrong.any() else None
        index = [slice(None)] * len(self.axes)
        for k in others:
            index[k] = int(worst[k]) if worst is not None else 0
        per_map = wrong.transpose([*others, h, w]).reshape(*[excess.shape[k] for k in others], -1)
        maps_wrong = per_map.any(axis=-1)
        where = tuple(index[k] for k in others)
        transposed = (lambda a: a.T) if h > w else (lambda a: a)

        def pick(array):
            return transposed(array[tuple(index)])

        expected, actual, wrong_map = pick(self.expected), pick(self.actual), pick(wrong)
        rows = max(expected.shape[0], actual.shape[0])
        columns = max(expected.shape[1], actual.shape[1])
        row = int(worst[h]) if worst is not None else None
        column = int(worst[w]) if worst is not None else None
        top, left = window_start(row or 0, rows), window_start(column or 0, columns)
        window = (slice(top, top + MAX_SIDE), slice(left, left + MAX_SIDE))
        return ShapeShown(
            expected=expected[window],
            actual=actual[window],
            wrong=wrong_map[window],
            overlap=wrong_map.shape,
            off=int(wrong_map.sum()),
            row=row,
            column=column,
            top=top,
            left=left,
            sizes=(actual.shape, expected.shape),
            labels=tuple(f"{AXIS_WORDS.get(self.axes[k], f'axis {k}')} {index[k]}" for k in others),
            others_wrong=int(maps_wrong.sum()) - (1 if maps_wrong[where] else 0),
            maps=int(maps_wrong.size),
        )


@dataclass(frozen=True)
class ShapeShown:
    """The two maps a figure shows (each cut to the window shown), and what it says."""

    expected: np.ndarray
    actual: np.ndarray
    wrong: np.ndarray  # where both have values: which positions are off
    overlap: tuple[int, int]  # the whole map's (rows, columns) both have
    off: int  # how many of those positions are off
    row: int | None  # the largest error where both have values, in the whole map; None when
    column: int | None  # they agree there
    top: int  # where the window shown starts (0, 0 unless a map is larger than MAX_SIDE)
    left: int
    sizes: tuple[tuple[int, int], tuple[int, int]]  # yours, expected: whole maps
    labels: tuple[str, ...]
    others_wrong: int
    maps: int

    def only(self, whose: int) -> list[tuple[int, int, int, int]]:
        """The positions only yours (`whose` 0) or only the expected (1) has, as (top, left,
        rows, columns) rectangles in whole-map indices: the rows below the overlap and the
        columns right of it."""
        rows, columns = self.sizes[whose]
        common_rows, common_columns = self.overlap
        parts = [
            (common_rows, 0, rows - common_rows, columns),
            (0, common_columns, common_rows, columns - common_columns),
        ]
        return [part for part in parts if part[2] > 0 and part[3] > 0]

    def which(self) -> str:
        """'showing image 1, channel 2, where the error is largest; ...' as for a values
        mismatch, counting the maps both have."""
        if not self.labels:
            return ""
        words = [label.rsplit(" ", 1)[0] for label in self.labels]
        kind = "/".join(words) + " map" + ("s" if self.maps > 2 else "")
        if self.row is None:
            return f"showing {', '.join(self.labels)}"
        if self.maps == 1:
            return f"showing {', '.join(self.labels)}, the only map both have"
        also = f"{self.others_wrong} of the {self.maps - 1} other {kind} are also wrong"
        return f"showing {', '.join(self.labels)}, where the error is largest; {also}"


def _size(shape) -> str:
    return f"{shape[0]} x {shape[1]}"


def _other_axes(mismatch: ShapeMismatch) -> str:
    """'; yours has 4 channels, expected 3' for each other axis whose length differs."""
    parts = []
    for k, name in enumerate(mismatch.axes):
        ours, theirs = mismatch.actual.shape[k], mismatch.expected.shape[k]
        if name not in "hw" and ours != theirs:
            if name not in AXIS_WORDS:
                parts.append(f"; yours has axis {k} of length {ours}, expected {theirs}")
                continue
            word = AXIS_WORDS[name]
            if ours != 1:
                word = word[:-1] + "ies" if word.endswith("y") else word + "s"
            parts.append(f"; yours has {ours} {word}, expected {theirs}")
    return "".join(parts)


def caption(mismatch: ShapeMismatch) -> list[str]:
    """The lines of text the figure carries (also its text alternative)."""
    shown = mismatch.shown()
    (yours, expected), (common_rows, common_columns) = shown.sizes, shown.overlap
    lines = [f"case: {mismatch.case}"] if mismatch.case else []
    which = shown.which()
    lines.append(
        f"{mismatch.name}: shapes differ: yours {_size(yours)}, expected {_size(expected)}"
        + _other_axes(mismatch)
        + (f"; {which}" if which else "")
    )
    both = f"where both have values (the top-left {common_rows} x {common_columns})"
    if shown.row is None:
        lines.append(f"{both}: they agree")
    else:
        lines.append(
            f"{both}: {shown.off} of {common_rows * common_columns} positions are off; "
            f"largest error (marked): row {shown.row}, column {shown.column}"
        )
    marks = []
    if shown.only(0):
        marks.append("grey hatched: positions only yours has")
    if shown.only(1):
        marks.append("white crossed: positions only the expected has")
    if (shown.expected.shape, shown.actual.shape) != (expected, yours):
        bottom = shown.top + max(shown.expected.shape[0], shown.actual.shape[0]) - 1
        right = shown.left + max(shown.expected.shape[1], shown.actual.shape[1]) - 1
        marks.append(f"shown: rows {shown.top}-{bottom}, columns {shown.left}-{right}")
    lines.append("; ".join(marks))
    low, high, spread = _scales(shown)
    lines.append(
        f"colour scales: expected and yours {scale_text(low, high)} (shared); "
        f"the difference {scale_text(-spread or 0.0, spread)}"
    )
    return lines


def _scales(shown: ShapeShown) -> tuple[float, float, float]:
    both = np.concatenate([shown.expected.ravel(), shown.actual.ravel()])
    rows, columns = shown.wrong.shape
    difference = shown.actual[:rows, :columns] - shown.expected[:rows, :columns]
    spread = float(np.abs(difference).max()) if difference.size else 0.0
    return float(both.min()), float(both.max()), spread


def figure(mismatch: ShapeMismatch):
    """The figure (a matplotlib `Figure` on the Agg canvas), laid out as a values mismatch's:
    every panel spans the larger of the two maps, so each map shows at its own size."""
    from matplotlib.patches import Rectangle

    from .mismatch_figure import three_maps

    shown = mismatch.shown()
    rows, columns = shown.wrong.shape
    difference = shown.actual[:rows, :columns] - shown.expected[:rows, :columns]
    window_rows = max(shown.expected.shape[0], shown.actual.shape[0])
    window_columns = max(shown.expected.shape[1], shown.actual.shape[1])

    def only_one(axes):  # the positions only one of the maps has, hatched or crossed
        for whose, (gid, style) in enumerate(
            (("only yours", ONLY_YOURS), ("only expected", ONLY_EXPECTED))
        ):
            for part_top, part_left, part_rows, part_columns in shown.only(whose):
                axes.add_patch(
                    Rectangle(
                        (part_left - 0.5, part_top - 0.5),
                        part_columns,
                        part_rows,
                        linewidth=0.5,
                        gid=gid,
                        **style,
                    )
                )

    return three_maps(
        caption(mismatch),
        (shown.expected, shown.actual, difference),
        _scales(shown),
        (shown.top, shown.left, window_rows, window_columns),
        (shown.row, shown.column),
        tick_worst=False,
        on_difference=only_one,
    )


def shape_mismatch(actual, expected, allowed, axes: str | None, name: str):
    """A `ShapeMismatch` of two arrays of different shapes when both are maps that share at
    least one position and hold finite numbers, and a picture shows something: the maps'
    sizes differ, or their values where both have them (not, say, only the batch size)."""
    from .mismatch_figure import map_axes

    if actual.ndim != expected.ndim:
        return None
    spatial = map_axes(actual.shape, axes)
    if spatial is None or map_axes(expected.shape, spatial) is None:
        return None
    if min(actual.shape) == 0 or min(expected.shape) == 0:
        return None
    if not (np.isfinite(actual).all() and np.isfinite(expected).all()):
        return None
    picture = ShapeMismatch(actual, expected, allowed, spatial, name)
    shown = picture.shown()
    if shown.sizes[0] == shown.sizes[1] and shown.row is None:
        return None
    return picture
