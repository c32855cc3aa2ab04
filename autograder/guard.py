"""Refuse built-in versions of the operation a lesson teaches inside the student's code.

The guard watches every Python function entered (sys.setprofile) while student code runs, so
it catches a forbidden op however it was imported or renamed (`from keras.ops import conv as c`,
a subclass of keras.layers.Conv2D, scipy through an alias, ...).
"""

import importlib
import inspect
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ForbiddenOps:
    """A set of built-in functions a lesson forbids, with the words feedback uses for them."""

    label: str
    names: tuple[str, ...]
    hint: str


CONVOLUTION_OPS = (
    "keras.ops.conv",
    "keras.ops.depthwise_conv",
    "keras.ops.separable_conv",
    "keras.ops.conv_transpose",
    "keras.src.backend.tensorflow.nn.conv",
    "keras.src.backend.tensorflow.nn.depthwise_conv",
    "tensorflow.nn.conv2d",
    "tensorflow.nn.convolution",
    "tensorflow.nn.conv2d_transpose",
    "tensorflow.nn.depthwise_conv2d",
    "tensorflow.nn.atrous_conv2d",
    "tensorflow.python.ops.gen_nn_ops.conv2d",
    "tensorflow.python.ops.gen_nn_ops.conv2d_backprop_input",
    "tensorflow.python.ops.gen_nn_ops.depthwise_conv2d_native",
    "tensorflow.python.ops.gen_nn_ops.conv3d",
    "scipy.signal.correlate2d",
    "scipy.signal.convolve2d",
    "scipy.signal.correlate",
    "scipy.signal.convolve",
    "scipy.signal.fftconvolve",
    "scipy.signal.oaconvolve",
    "scipy.ndimage.correlate",
    "scipy.ndimage.convolve",
    "numpy.convolve",
    "numpy.correlate",
    # built-in patch extraction is im2col itself
    "keras.ops.image.extract_patches",
    "tensorflow.image.extract_patches",
    "tensorflow.python.ops.gen_array_ops.extract_image_patches",
)

CONVOLUTION = ForbiddenOps(
    "a built-in convolution",
    CONVOLUTION_OPS,
    "this lesson asks you to compute it yourself from slices, sums and matrix products "
    "(loops, np.einsum, or im2col followed by one matmul)",
)


def _resolve(dotted: str):
    """Import the object named by a dotted path, or None when it does not exist here."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


@dataclass
class Watchlist:
    """Code objects and builtins of forbidden functions, mapped to their public names."""

    codes: dict = field(default_factory=dict)
    builtins: dict = field(default_factory=dict)

    @classmethod
    def of(cls, names: Iterable[str]) -> "Watchlist":
        watch = cls()
        for name in names:
            obj = _resolve(name)
            if obj is None:
                continue
            # Only the innermost function: decorator wrappers share one code object among
            # many unrelated functions (TensorFlow's dispatch wrapper, for one).
            obj = inspect.unwrap(obj)
            code = getattr(obj, "__code__", None)
            if code is not None:
                watch.codes.setdefault(code, name)
            elif inspect.isbuiltin(obj) or callable(obj):
                watch.builtins.setdefault(obj, name)
        return watch


_WATCHLISTS: dict[tuple[str, ...], Watchlist] = {}


def watchlist(names: Iterable[str] = CONVOLUTION_OPS) -> Watchlist:
    """The (cached) watchlist for `names`."""
    key = tuple(names)
    if key not in _WATCHLISTS:
        _WATCHLISTS[key] = Watchlist.of(key)
    return _WATCHLISTS[key]


@contextmanager
def forbid(names: Iterable[str] = CONVOLUTION_OPS):
    """Record, in the yielded list, every forbidden function entered inside the block."""
    watch = watchlist(names)
    codes, builtins = watch.codes, watch.builtins
    hits: list[str] = []

    def profile(frame, event, arg):
        if event == "call":
            name = codes.get(frame.f_code)
            if name is not None and name not in hits:
                hits.append(name)
        elif event == "c_call" and arg in builtins:
            name = builtins[arg]
            if name not in hits:
                hits.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield hits
    finally:
        sys.setprofile(previous)
