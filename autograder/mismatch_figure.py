"""A picture of where an array is wrong: the expected map, the student's and their difference.

`compare` keeps a `MapMismatch` (the two arrays, the bound and the index of the largest error)
when the arrays it compares are maps: their axes are named, with `h` and `w` the spatial ones
("nhwc" for a batch of feature maps, "hw" for one map, "hwio" for a kernel, "nhwec" for
pooling windows). `draw` turns it
into a small PNG: for the image and channel of the largest error, the expected map and the
student's on one stated colour scale, their difference on its own symmetric scale, the worst
position marked on all three, the case above. Nothing is drawn until a failure is shown.
"""

import io
import textwrap
from dataclasses import dataclass, replace

import numpy as np

# What feedback calls an index along each named axis (h and w are the map's own).
AXIS_WORDS = {
    "n": "image",
    "c": "channel",
    "i": "input channel",
    "o": "filter",
    "m": "multiplier",
    "e": "window entry",
}
DPI = 80
MAX_SIDE = 48  # a larger map is shown in a window this large around the worst position
WIDTH_INCHES = 8.6  # 688 pixels: about the width of JupyterLab's output area


def map_axes(shape: tuple, axes: str | None) -> str | None:
    """The axes names of an array of `shape` when it is a map (`axes` as given, or "nhwc"
    for a rank-4 array, the course's channels-last batches), else None."""
    if axes is None:
        axes = "nhwc" if len(shape) == 4 else None
    if axes is None or len(axes) != len(shape) or "h" not in axes or "w" not in axes:
        return None
    return axes


def weight_axes(name: str, shape: tuple) -> str | None:
    """The axes of a weight (or its gradient) called `name`: a rank-4 kernel is (kh, kw, input
    channels, filters), a depthwise one (kh, kw, input channels, multiplier); None for any
    other name, which leaves a rank-4 array a batch of maps."""
    if len(shape) != 4 or "kernel" not in name:
        return None
    return "hwim" if "depthwise" in name else "hwio"


@dataclass(frozen=True)
class MapMismatch:
    """Two maps that differ: `actual` and `expected` (float arrays of one shape, with axes
    named by `axes`), the elementwise bound `allowed`, the index `worst` of the largest error
    past the bound, the array's `name` in feedback and the `case` it came from."""

    actual: np.ndarray
    expected: np.ndarray
    allowed: np.ndarray
    worst: tuple[int, ...]
    axes: str
    name: str = "output"
    case: str = ""

    def with_case(self, case: str) -> "MapMismatch":
        return replace(self, case=case)

    def shown(self) -> "Shown":
        """Which map is shown (the one holding the worst position) and how many others are
        wrong too."""
        h, w = self.axes.index("h"), self.axes.index("w")
        others = [k for k in range(len(self.axes)) if k not in (h, w)]
        wrong = np.abs(self.actual - self.expected) > self.allowed
        # wrong maps: one flag per index of the other axes
        per_map = wrong.transpose([*others, h, w]).reshape(
            *[self.actual.shape[k] for k in others], -1
        )
        maps_wrong = per_map.any(axis=-1)
        where = tuple(self.worst[k] for k in others)
        index = [slice(None)] * len(self.axes)
        for k in others:
            index[k] = self.worst[k]
        transposed = (lambda a: a.T) if h > w else (lambda a: a)
        rows, columns = self.actual.shape[h], self.actual.shape[w]
        top = window_start(self.worst[h], rows)
        left = window_start(self.worst[w], columns)
        window = (slice(top, top + MAX_SIDE), slice(left, left + MAX_SIDE))

        def cut(array):
            return transposed(array[tuple(index)])[window]

        return Shown(
            expected=cut(self.expected),
            actual=cut(self.actual),
            wrong=cut(wrong),
            row=self.worst[h],
            column=self.worst[w],
            top=top,
            left=left,
            size=(rows, columns),
            labels=tuple(
                f"{AXIS_WORDS.get(self.axes[k], f'axis {k}')} {self.worst[k]}" for k in others
            ),
            counts=tuple(self.actual.shape[k] for k in others),
            others_wrong=int(maps_wrong.sum()) - (1 if maps_wrong[where] else 0),
            maps=int(maps_wrong.size),
        )


def window_start(worst: int, length: int) -> int:
    """Where a window of MAX_SIDE along an axis of `length` starts, centred on `worst`."""
    return int(np.clip(worst - MAX_SIDE // 2, 0, max(length - MAX_SIDE, 0)))


@dataclass(frozen=True)
class Shown:
    """The map a figure shows, and what the figure says about the others."""

    expected: np.ndarray
    actual: np.ndarray
    wrong: np.ndarray
    row: int  # the worst position, in the whole map
    column: int
    top: int  # where the maps shown start in the whole map (0, 0 unless it is larger than
    left: int  # MAX_SIDE along an axis)
    size: tuple[int, int]  # the whole map's (rows, columns)
    labels: tuple[str, ...]  # ("image 1", "channel 2")
    counts: tuple[int, ...]  # how many images, channels, ...
    others_wrong: int
    maps: int

    def around(self) -> str:
        """'' for a whole map; '; shown: rows 0-47, columns 176-223 of 224 x 224' for a window."""
        rows, columns = self.expected.shape
        if (rows, columns) == self.size:
            return ""
        bottom, right = self.top + rows - 1, self.left + columns - 1
        return (
            f"; shown: rows {self.top}-{bottom}, columns {self.left}-{right} of "
            f"{self.size[0]} x {self.size[1]}"
        )

    def which(self) -> str:
        """'showing image 1, channel 2; 3 other image/channel maps are also wrong'."""
        if not self.labels:
            return f"{int(self.wrong.sum())} of {self.wrong.size} positions are off"
        words = [label.rsplit(" ", 1)[0] for label in self.labels]
        kind = "/".join(words) + " map" + ("s" if self.maps > 2 else "")
        if self.maps == 1:
            return f"showing {', '.join(self.labels)}, the only map"
        also = f"{self.others_wrong} of the {self.maps - 1} other {kind} are also wrong"
        return f"showing {', '.join(self.labels)}, where the error is largest; {also}"


def scale_text(low: float, high: float) -> str:
    """A colour scale's range as a caption states it: '-1.5 to 2'."""
    return f"{low:.4g} to {high:.4g}"


def caption(mismatch: MapMismatch) -> list[str]:
    """The lines of text the figure carries (also its text alternative)."""
    shown = mismatch.shown()
    both = np.concatenate([shown.expected.ravel(), shown.actual.ravel()])
    low, high = float(both.min()), float(both.max())
    spread = float(np.abs(shown.actual - shown.expected).max())
    lines = [f"case: {mismatch.case}"] if mismatch.case else []
    lines += [
        f"{mismatch.name}: {shown.which()}",
        f"largest error (marked): row {shown.row}, column {shown.column}" + shown.around(),
        f"colour scales: expected and yours {scale_text(low, high)} (shared); "
        f"the difference {scale_text(-spread, spread)}",
    ]
    return lines


def draw(mismatch) -> bytes:
    """The figure of a `MapMismatch` (or a `ShapeMismatch`, see shape_figure) as PNG bytes, in
    256 colours (a quarter of the bytes of full colour)."""
    from PIL import Image

    from . import shape_figure

    drawn = (
        shape_figure.figure(mismatch)
        if isinstance(mismatch, shape_figure.ShapeMismatch)
        else figure(mismatch)
    )
    buffer = io.BytesIO()
    drawn.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    image = Image.open(buffer).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def figure(mismatch: MapMismatch):
    """The figure (a matplotlib `Figure` on the Agg canvas: no pyplot, no global state)."""
    shown = mismatch.shown()
    both = np.concatenate([shown.expected.ravel(), shown.actual.ravel()])
    low, high = float(both.min()), float(both.max())
    difference = shown.actual - shown.expected
    rows, columns = shown.expected.shape
    return three_maps(
        caption(mismatch),
        (shown.expected, shown.actual, difference),
        (low, high, float(np.abs(difference).max())),
        (shown.top, shown.left, rows, columns),
        (shown.row, shown.column),
        tick_worst=True,
    )


def three_maps(lines, maps, scales, window, worst, tick_worst, on_difference=None):
    """The layout of every picture of a mismatch: the caption `lines` above three panels (the
    expected map, yours, yours - expected; `maps`, each starting at the window's top-left),
    the first two on one colour scale (`scales`: low, high) and the difference on its own
    symmetric one (spread), each with a colour bar; `window` (top, left, rows, columns) in
    whole-map indices; the `worst` position (row, column) marked unless it is (None, None),
    and ticked if `tick_worst`; `on_difference(axes)` draws more on the difference panel.

    The caption is plain text, never parsed as math: a "$" in a case is printed, and cannot
    break the picture or make drawing it slow."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    low, high, spread = scales
    if low == high:
        low, high = low - 0.5, high + 0.5
    spread = spread or 1.0
    text = [part for line in lines for part in textwrap.wrap(line, 100)]
    top_edge, left_edge, rows, columns = window
    side = 2.2  # inches of a map's longer side
    map_w = float(np.clip(side * columns / max(rows, columns), 0.5, side))
    map_h = float(np.clip(side * rows / max(rows, columns), 0.5, side))
    height = map_h + 0.17 * len(text) + 0.7
    drawing = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    FigureCanvasAgg(drawing)
    drawing.text(
        0.1 / WIDTH_INCHES,
        1 - 0.08 / height,
        "\n".join(text),
        va="top",
        fontsize=9,
        parse_math=False,
    )
    bottom = 0.25 / height
    titles = ("expected", "yours", "yours - expected")
    colours = ((low, high, "viridis"), (low, high, "viridis"), (-spread, spread, "RdBu_r"))
    row, column = worst
    for number, (title, image, (vmin, vmax, cmap)) in enumerate(
        zip(titles, maps, colours, strict=True)
    ):
        left = (0.3 + number * 2.75) / WIDTH_INCHES
        axes = drawing.add_axes((left, bottom, map_w / WIDTH_INCHES, map_h / height))
        axes.set_facecolor("#ececec")  # where a map smaller than the window has no values
        image_rows, image_columns = image.shape
        drawn = axes.imshow(
            image,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
            aspect="auto",
            extent=(
                left_edge - 0.5,
                left_edge + image_columns - 0.5,
                top_edge + image_rows - 0.5,
                top_edge - 0.5,
            ),
        )
        axes.set_xlim(left_edge - 0.5, left_edge + columns - 0.5)
        axes.set_ylim(top_edge + rows - 0.5, top_edge - 0.5)
        axes.text(0.5, 1.03, title, transform=axes.transAxes, ha="center", fontsize=9)
        # few ticks (drawing ticks is most of the time): the edges and the worst position
        marked = (row, column) if tick_worst else (top_edge, left_edge)
        axes.set_xticks(sorted({left_edge, marked[1], left_edge + columns - 1}))
        axes.set_yticks(sorted({top_edge, marked[0], top_edge + rows - 1}))
        axes.tick_params(labelsize=7, length=2)
        if number == 2 and on_difference is not None:
            on_difference(axes)
        if row is not None:
            for colour, width in (("white", 3.0), ("black", 1.4)):
                axes.add_patch(
                    Rectangle(
                        (column - 0.5, row - 0.5),
                        1,
                        1,
                        fill=False,
                        edgecolor=colour,
                        linewidth=width,
                        gid="worst",
                    )
                )
        if number > 0:  # one bar for the shared scale of the two maps, one for the difference
            bar = drawing.add_axes(
                (left + (map_w + 0.06) / WIDTH_INCHES, bottom, 0.1 / WIDTH_INCHES, map_h / height)
            )
            drawing.colorbar(drawn, cax=bar, ticks=[vmin, (vmin + vmax) / 2, vmax], format="%.3g")
            bar.tick_params(labelsize=7, length=2)
    return drawing
