"""Figures for the course notebooks: images, kernels, feature maps, matrices, training curves.

Every function builds a `matplotlib.figure.Figure` directly (not through `pyplot`), so no global
figure is created, and returns it: as the last expression of a notebook cell the figure is
displayed exactly once. Save one with `fig.savefig("name.png")`.

Arrays may be NumPy arrays, lists, or Keras variables / tensors (anything `np.asarray` accepts).
"""

import io
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D as _Line2D

from course import arguments

_MAX_PANELS = 256


class _Figure(Figure):
    """A `Figure` that renders itself as PNG in Jupyter even if pyplot was never imported."""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def image_grid(images, labels=None, ncols=8, cmap="gray", title=None, size=1.2):
    """A grid of images, optionally with a label above each.

    Single-channel images share one colour scale (from the smallest to the largest value of all
    images), so brightness can be compared across panels. RGB images are shown as they are
    (floats are clipped to [0, 1]).

    Args:
        images: array `(n, H, W)`, `(n, H, W, 1)` or `(n, H, W, 3)`, with `1 <= n <= 256`.
        labels: optional sequence of `n` strings or numbers shown as panel titles.
        ncols: maximum number of columns.
        cmap: matplotlib colormap for single-channel images.
        title: optional figure title.
        size: size of each panel in inches.

    Returns:
        A `Figure` with one axes per image.
    """
    images = arguments.as_array("images", images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
        raise ValueError(
            "Expected `images` to have shape (n, H, W), (n, H, W, 1) or (n, H, W, 3). "
            f"Received: images.shape={images.shape}"
        )
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    n = len(images)
    _check_panels("images", n, "images[:64]")
    ncols = arguments.integer("ncols", ncols)
    if labels is not None:
        labels = list(np.asarray(labels).reshape(-1)) if not isinstance(labels, list) else labels
        if len(labels) != n:
            raise ValueError(
                f"Expected `labels` to have one entry per image ({n}). "
                f"Received: len(labels)={len(labels)}"
            )
    images = _finite("images", images)
    rgb = images.ndim == 4
    vmin, vmax = (None, None) if rgb else _range(images)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = _new_figure(ncols * size, nrows * size * (1.15 if labels is not None else 1), title)
    for i, image in enumerate(images):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        if rgb:
            image = np.clip(image, 0, 1) if image.dtype.kind == "f" else image
            ax.imshow(image, interpolation="nearest")
        else:
            ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if labels is not None:
            ax.set_title(_label_text(labels[i]), fontsize=8)
        _no_ticks(ax)
    return fig


def kernels(kernel, title=None, size=None, ncols=None):
    """Convolution kernel weights, one panel per (input channel, output channel) pair.

    All panels share a diverging colour scale centred on 0 (red positive, blue negative,
    white 0), shown by one colour bar. Values are written in the cells when `kh * kw <= 25`,
    and panels are then made large enough for the numbers to read (at least 8 points).
    Kernels of one input channel are laid out in rows of `ncols` panels; with several input
    channels there is one row per input channel and one column per output channel.

    Args:
        kernel: Keras `Conv2D` kernel `(kh, kw, c_in, c_out)`, a single kernel `(kh, kw)`,
            or `(kh, kw, c_out)` for one input channel; at most 256 panels.
        title: optional figure title.
        size: size of each panel in inches (default: 1.2, or more for written values).
        ncols: panels per row for one input channel (default: 4 with written values, else 8).

    Returns:
        A `Figure` with `c_in * c_out` panel axes plus one colour-bar axes.
    """
    kernel = arguments.as_array("kernel", kernel)
    if kernel.ndim not in (2, 3, 4) or kernel.size == 0:
        raise ValueError(
            "Expected `kernel` to have shape (kh, kw), (kh, kw, c_out) or (kh, kw, c_in, c_out). "
            f"Received: kernel.shape={kernel.shape}"
        )
    kernel = _finite("kernel", kernel).astype(np.float64)
    if kernel.ndim == 2:
        kernel = kernel[:, :, None, None]
    elif kernel.ndim == 3:
        kernel = kernel[:, :, None, :]
    kh, kw, c_in, c_out = kernel.shape
    _check_panels("kernel", c_in * c_out, "kernel[:, :, :4, :8]")
    limit = float(np.abs(kernel).max()) or 1.0
    annotate = kh * kw <= 25
    if size is None:
        size = max(1.2, _READABLE_CELL * max(kh, kw)) if annotate else 1.2
    if c_in == 1:
        ncols = min(arguments.integer("ncols", ncols or (4 if annotate else 8)), c_out)
        nrows = math.ceil(c_out / ncols)
        places = [(o // ncols, o % ncols) for o in range(c_out)]
    else:
        nrows, ncols = c_in, c_out
        places = [(i, o) for i in range(c_in) for o in range(c_out)]
    fig = _new_figure(ncols * size + 0.8, nrows * size * 1.1, title)
    grid = fig.add_gridspec(nrows, ncols)
    axes = []
    for index, (row, col) in enumerate(places):
        i, o = divmod(index, c_out)
        ax = fig.add_subplot(grid[row, col])
        im = ax.imshow(kernel[:, :, i, o], cmap="RdBu_r", vmin=-limit, vmax=limit)
        if annotate:
            _annotate(ax, im, kernel[:, :, i, o], fontsize=_cell_fontsize(size, kh, kw))
        if c_in * c_out > 1:
            if c_in == 1 or i == 0:
                ax.set_title(f"out {o}", fontsize=9)
            if c_in > 1 and o == 0:
                ax.set_ylabel(f"in {i}", fontsize=9)
        _no_ticks(ax)
        axes.append(ax)
    fig.colorbar(im, ax=axes, shrink=0.8)
    return fig


def feature_maps(maps, ncols=8, title=None, size=1.2):
    """The channels of one layer output, one panel per channel, each with its own colour scale.

    Args:
        maps: array `(H, W, C)` or `(1, H, W, C)` (a batch of one, as returned by a Keras
            model), with `C <= 256`.
        ncols: maximum number of columns.
        title: optional figure title.
        size: size of each panel in inches.

    Returns:
        A `Figure` with one axes per channel (titled by channel index).
    """
    maps = arguments.as_array("maps", maps)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        hint = " (for a batch, pass one example, e.g. maps[:1])" if maps.ndim == 4 else ""
        raise ValueError(
            f"Expected `maps` to have shape (H, W, C) or (1, H, W, C){hint}. "
            f"Received: maps.shape={maps.shape}"
        )
    maps = _finite("maps", maps)
    channels = maps.shape[-1]
    _check_panels("maps", channels, "maps[..., :64]")
    ncols = min(arguments.integer("ncols", ncols), channels)
    nrows = math.ceil(channels / ncols)
    fig = _new_figure(ncols * size, nrows * size * 1.15, title)
    for c in range(channels):
        ax = fig.add_subplot(nrows, ncols, c + 1)
        ax.imshow(maps[:, :, c], cmap="viridis", interpolation="nearest")
        ax.set_title(str(c), fontsize=8)
        _no_ticks(ax)
    return fig


def images_side_by_side(images, cmap="gray", size=3.0, title=None, colorbar=False):
    """A row of named images, e.g. `{"photo": x, "Sobel x": gx}`.

    Each single-channel image gets its own colour scale (from its smallest to its largest value),
    which suits filter outputs with negative values; RGB images are shown as they are.

    Args:
        images: dict mapping panel titles to arrays `(H, W)`, `(H, W, 1)` or `(H, W, 3)`.
        cmap: matplotlib colormap for single-channel images.
        size: size of each panel in inches.
        title: optional figure title.
        colorbar: whether to add a colour bar next to each single-channel panel.

    Returns:
        A `Figure` with one axes per image (plus one per colour bar).
    """
    if not isinstance(images, dict) or not images:
        raise ValueError(
            "Expected `images` to be a non-empty dict {title: image}. "
            f"Received: images of type {type(images).__name__}"
        )
    _check_panels("images", len(images), "fewer images")
    arrays = {}
    for name, image in images.items():
        image = arguments.as_array(f"images[{name!r}]", image)
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
            raise ValueError(
                f"Expected `images[{name!r}]` to have shape (H, W), (H, W, 1) or (H, W, 3). "
                f"Received: images[{name!r}].shape={np.shape(images[name])}"
            )
        arrays[name] = _finite(f"images[{name!r}]", image)
    fig = _new_figure(len(arrays) * size * (1.25 if colorbar else 1), size, title)
    for i, (name, image) in enumerate(arrays.items()):
        ax = fig.add_subplot(1, len(arrays), i + 1)
        if image.ndim == 3:
            image = np.clip(image, 0, 1) if image.dtype.kind == "f" else image
            ax.imshow(image)
        else:
            im = ax.imshow(image, cmap=cmap)
            if colorbar:
                fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title(str(name))
        _no_ticks(ax)
    return fig


def training_curves(history, metrics=("loss", "accuracy"), title=None):
    """Training (solid) and validation (dashed) curves per metric, per epoch.

    Args:
        history: a Keras `History` (returned by `model.fit`), its `.history` dict (e.g.
            `{"loss": [...], "val_loss": [...]}`), or a dict `{label: History or dict}` to
            overlay several runs (one colour per run).
        metrics: metric names to plot (e.g. `"loss"`, `"accuracy"`); those found in no run
            (neither as `name` nor as `val_name`) are skipped.
        title: optional figure title.

    Returns:
        A `Figure` with one axes per metric found.
    """
    runs = _history_runs(history)
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(metrics)
    found = [m for m in metrics if any(m in run or f"val_{m}" in run for run in runs.values())]
    if not found:
        keys = sorted({k for run in runs.values() for k in run})
        raise ValueError(
            f"Expected `metrics` to name at least one of the recorded metrics {keys}. "
            f"Received: metrics={metrics!r}"
        )
    several = len(runs) > 1
    fig = _new_figure(4.0 * len(found) + (1.8 if several else 0.0), 3.2, title)
    for j, metric in enumerate(found):
        ax = fig.add_subplot(1, len(found), j + 1)
        for r, (label, run) in enumerate(runs.items()):
            colour = f"C{r % 10}"
            prefix = f"{label} " if label is not None else ""
            for key, style, kind in ((metric, "-", "train"), (f"val_{metric}", "--", "val")):
                if key in run:
                    values = np.asarray(run[key], dtype=float).reshape(-1)
                    epochs = np.arange(1, len(values) + 1)
                    ax.plot(epochs, values, style, color=colour, label=f"{prefix}{kind}")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        if not several:
            ax.legend(fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if several:  # one legend for all panels, beside them: a colour per run, a style per kind
        handles = [_Line2D([], [], color=f"C{r % 10}") for r in range(len(runs))]
        handles += [_Line2D([], [], color="0.4", ls=style) for style in ("-", "--")]
        labels = [str(label) for label in runs] + ["training", "validation"]
        fig.legend(handles, labels, loc="outside right center", fontsize=8)
    return fig


def matrix(values, title=None, annotate=True, cmap="viridis"):
    """A small 2-D array as coloured cells, optionally with each value written in its cell.

    Args:
        values: 2-D array `(rows, cols)` (at most 64 x 64; numbers are written only up to
            32 x 32).
        title: optional figure title.
        annotate: whether to write the values in the cells.
        cmap: matplotlib colormap.

    Returns:
        A `Figure` with one axes (row and column indices as tick labels).
    """
    values = arguments.as_array("values", values)
    if values.ndim != 2 or values.size == 0 or max(values.shape) > 64:
        raise ValueError(
            "Expected `values` to be a non-empty 2-D array of at most 64 x 64. "
            f"Received: values.shape={values.shape}"
        )
    values = _finite("values", values)
    rows, cols = values.shape
    cell = 0.45 if max(rows, cols) <= 16 else 0.25
    fig = _new_figure(max(2.5, cols * cell + 0.6), max(2.0, rows * cell + 0.4), title)
    ax = fig.add_subplot()
    im = ax.imshow(values, cmap=cmap, interpolation="nearest")
    if annotate and max(rows, cols) <= 32:
        _annotate(ax, im, values, fontsize=9 if max(rows, cols) <= 12 else 6)
    step = 1 if max(rows, cols) <= 16 else 4
    ax.set_xticks(range(0, cols, step))
    ax.set_yticks(range(0, rows, step))
    ax.tick_params(labelsize=8, length=0)
    return fig


def _new_figure(width, height, title):
    fig = _Figure(figsize=(max(width, 1.5), max(height, 1.2)), layout="constrained")
    if title is not None:
        fig.suptitle(str(title))
    return fig


def _check_panels(name, count, example):
    if count < 1 or count > _MAX_PANELS:
        raise ValueError(
            f"Expected `{name}` to give between 1 and {_MAX_PANELS} panels; pass a slice such as "
            f"{example}. Received: {count} panels"
        )


def _finite(name, array):
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if array.dtype.kind not in "uif":
        raise ValueError(f"Expected `{name}` to hold numbers. Received: dtype={array.dtype}")
    return array


def _range(images):
    finite = images[np.isfinite(images)] if images.dtype.kind == "f" else images
    if finite.size == 0:
        return 0.0, 1.0
    vmin, vmax = float(finite.min()), float(finite.max())
    return (vmin, vmax) if vmax > vmin else (vmin - 0.5, vmax + 0.5)


def _label_text(label):
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, float):
        return f"{label:.3g}"
    return str(label)


def _format_number(value, integers):
    """Short text for a cell: `3`, `-12`, `.25`, `-.07`, `1.5`, `-12`, `1.2e+03`."""
    if integers:
        return str(int(value))
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:.1e}"
    if magnitude >= 10:
        return f"{value:.0f}"
    if magnitude >= 1:
        return f"{value:.1f}"
    text = f"{value:.2f}"
    return text.replace("0.", ".", 1) if text not in ("0.00", "-0.00") else "0"


def _annotate(ax, im, values, fontsize):
    """Writes each value in its cell, in black or white depending on the cell colour."""
    integers = values.dtype.kind in "ui" or bool(np.all(np.mod(values, 1) == 0))
    for (r, c), value in np.ndenumerate(values):
        red, green, blue, _ = im.cmap(im.norm(value))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        ax.text(
            c,
            r,
            _format_number(value, integers),
            ha="center",
            va="center",
            fontsize=fontsize,
            color="white" if dark else "black",
        )


# Inches per kernel cell for written values to be readable: 0.42 in gives ~8.4 points.
_READABLE_CELL = 0.42


def _cell_fontsize(size, kh, kw):
    return float(np.clip(size * 72 / max(kh, kw) / 3.6, 4, 10))


def _no_ticks(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _history_runs(history):
    """`{label: {metric: values}}`; a single run gets the label `None`."""
    single = _history_dict(history)
    if single is not None:
        return {None: single}
    if isinstance(history, dict) and history:
        runs = {}
        for label, run in history.items():
            runs[label] = _history_dict(run)
            if runs[label] is None:
                break
        else:
            return runs
    raise ValueError(
        "Expected `history` to be a Keras History, a dict of metric values such as "
        "{'loss': [...], 'val_loss': [...]}, or a dict {label: History or dict}. "
        f"Received: history of type {type(history).__name__}"
    )


def _history_dict(obj):
    """The metric dict of a History or of a dict of sequences of numbers, else `None`."""
    if hasattr(obj, "history") and isinstance(obj.history, dict):
        obj = obj.history
    if not isinstance(obj, dict) or not obj:
        return None
    for value in obj.values():
        if isinstance(value, dict) or hasattr(value, "history"):
            return None
        try:
            np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return None
    return obj
