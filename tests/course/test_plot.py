import numpy as np
import pytest
from matplotlib.figure import Figure

from course import plot


def _panels(fig):
    return len(fig.axes)


@pytest.mark.parametrize("shape", [(5, 8, 8), (5, 8, 8, 1), (5, 8, 8, 3)])
def test_image_grid_shapes(shape):
    images = np.random.default_rng(0).random(shape).astype(np.float32)
    fig = plot.image_grid(images, labels=list(range(5)), ncols=2, title="grid")
    assert isinstance(fig, Figure)
    assert _panels(fig) == 5
    assert [ax.get_title() for ax in fig.axes] == ["0", "1", "2", "3", "4"]
    assert fig.get_suptitle() == "grid"


def test_image_grid_accepts_label_arrays_and_uint8():
    images = np.zeros((3, 4, 4, 3), dtype=np.uint8)
    fig = plot.image_grid(images, labels=np.array(["a", "b", "c"]))
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    assert _panels(plot.image_grid(np.zeros((20, 4, 4)))) == 20


@pytest.mark.parametrize(
    "images, kwargs, message",
    [
        (np.zeros((4, 4)), {}, r"Received: images.shape=\(4, 4\)"),
        (np.zeros((2, 4, 4, 2)), {}, r"Received: images.shape=\(2, 4, 4, 2\)"),
        (np.zeros((3, 4, 4)), {"labels": [1, 2]}, r"Received: len\(labels\)=2"),
        (np.zeros((3, 4, 4)), {"ncols": 0}, r"Received: ncols=0"),
        (np.zeros((300, 2, 2)), {}, r"Received: 300 panels"),
    ],
)
def test_image_grid_errors(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot.image_grid(images, **kwargs)


@pytest.mark.parametrize(
    "shape, panels",
    [((3, 3), 1), ((3, 3, 4), 4), ((3, 3, 2, 4), 8), ((7, 7, 1, 2), 2)],
)
def test_kernels_panels(shape, panels):
    kernel = np.random.default_rng(0).normal(size=shape)
    fig = plot.kernels(kernel, title="k")
    assert isinstance(fig, Figure)
    assert _panels(fig) == panels + 1  # plus the shared colour bar
    images = [ax.images[0] for ax in fig.axes[:-1]]
    limit = np.abs(kernel).max()
    assert all(im.get_clim() == (-limit, limit) for im in images)
    annotated = len(fig.axes[0].texts)
    assert annotated == (shape[0] * shape[1] if shape[0] * shape[1] <= 25 else 0)


def test_kernels_grid_layout_and_zero_kernel():
    fig = plot.kernels(np.zeros((3, 3, 2, 3)))
    assert [ax.get_title() for ax in fig.axes[:3]] == ["out 0", "out 1", "out 2"]
    assert fig.axes[0].get_ylabel() == "in 0" and fig.axes[3].get_ylabel() == "in 1"
    assert fig.axes[0].images[0].get_clim() == (-1.0, 1.0)


def test_learned_kernels_are_readable_at_notebook_width():
    """Lesson 02's eight learned 5x5 kernels: numbers of at least 8 points, in rows of four,
    in a figure no wider than a notebook shows without shrinking it."""
    fig = plot.kernels(np.random.default_rng(0).normal(size=(5, 5, 1, 8)))
    sizes = {text.get_fontsize() for ax in fig.axes[:-1] for text in ax.texts}
    assert min(sizes) >= 8
    assert fig.get_size_inches()[0] <= 10
    assert [ax.get_title() for ax in fig.axes[:8]] == [f"out {o}" for o in range(8)]
    assert [ax.get_subplotspec().rowspan.start for ax in fig.axes[:8]] == [0] * 4 + [1] * 4


@pytest.mark.parametrize("shape", [(3,), (3, 3, 1, 1, 1), (0, 3)])
def test_kernels_errors(shape):
    with pytest.raises(ValueError, match=r"Received: kernel.shape="):
        plot.kernels(np.zeros(shape))


@pytest.mark.parametrize("shape", [(6, 6, 5), (1, 6, 6, 5)])
def test_feature_maps(shape):
    fig = plot.feature_maps(np.random.default_rng(0).random(shape), ncols=4)
    assert isinstance(fig, Figure)
    assert _panels(fig) == 5


@pytest.mark.parametrize("shape", [(6, 6), (2, 6, 6, 5)])
def test_feature_maps_errors(shape):
    with pytest.raises(ValueError, match=r"Received: maps.shape="):
        plot.feature_maps(np.zeros(shape))


def test_images_side_by_side():
    rng = np.random.default_rng(0)
    images = {
        "photo": rng.random((8, 8)),
        "rgb": rng.random((8, 8, 3)),
        "one": rng.random((8, 8, 1)),
    }
    fig = plot.images_side_by_side(images, title="t")
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["photo", "rgb", "one"]
    fig = plot.images_side_by_side(images, colorbar=True)
    assert _panels(fig) == 5  # colour bars for the two single-channel images
    with pytest.raises(ValueError, match=r"Received: images\['bad'\].shape=\(8,\)"):
        plot.images_side_by_side({"bad": np.zeros(8)})
    with pytest.raises(ValueError, match="Received: images of type list"):
        plot.images_side_by_side([np.zeros((2, 2))])


class _FakeHistory:
    """Stands in for keras.callbacks.History, which has a `.history` dict."""

    def __init__(self, history):
        self.history = history


def test_training_curves_single_run():
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.8, 0.9]}
    for value in (history, _FakeHistory(history)):
        fig = plot.training_curves(value)
        assert isinstance(fig, Figure)
        assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
        assert len(fig.axes[0].lines) == 2 and len(fig.axes[1].lines) == 1
        np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [1, 2, 3])


def test_training_curves_several_runs_and_metric_selection():
    runs = {
        "dense": _FakeHistory({"loss": [1.0, 0.5], "val_loss": [1.0, 0.9]}),
        "cnn": {"loss": [0.9, 0.4], "val_loss": [0.8, 0.5], "val_accuracy": [0.7, 0.8]},
    }
    fig = plot.training_curves(runs, title="runs")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 4 and len(fig.axes[1].lines) == 1
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["dense train", "dense val", "cnn train", "cnn val"]
    # one legend for the figure, beside the panels: a colour per run, a style per kind
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["dense", "cnn", "training", "validation"]
    assert _panels(plot.training_curves(runs, metrics="loss")) == 1


def test_training_curves_errors():
    with pytest.raises(ValueError, match=r"Received: metrics=\('mae',\)"):
        plot.training_curves({"loss": [1.0]}, metrics=("mae",))
    with pytest.raises(ValueError, match="Received: history of type list"):
        plot.training_curves([1.0, 2.0])
    with pytest.raises(ValueError, match="Received: history of type dict"):
        plot.training_curves({"a": {"loss": [1.0]}, "b": 3})


def test_matrix():
    values = np.arange(16).reshape(4, 4)
    fig = plot.matrix(values, title="4x4")
    assert isinstance(fig, Figure)
    assert _panels(fig) == 1
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == [str(v) for v in range(16)]
    fig = plot.matrix(np.array([[0.5, -0.25], [1.5, 0.0]]))
    assert [t.get_text() for t in fig.axes[0].texts] == [".50", "-.25", "1.5", "0"]
    assert not plot.matrix(values, annotate=False).axes[0].texts
    for bad in (np.zeros(4), np.zeros((2, 2, 2)), np.zeros((100, 2))):
        with pytest.raises(ValueError, match="Received: values.shape="):
            plot.matrix(bad)


def test_figures_are_not_registered_with_pyplot_and_render_as_png():
    import sys

    fig = plot.matrix(np.eye(3))
    assert (
        "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()
    )
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG")


def test_notebook_displays_a_figure_once():
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(plot.matrix(np.eye(2)))
    assert "image/png" in data
