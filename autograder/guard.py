"""Refuse built-in versions of the operation a lesson teaches inside the student's code.

The guard watches every Python function entered (sys.setprofile) while student code runs, so
it catches a forbidden op however it was imported or renamed (`from keras.ops import conv as c`,
a subclass of keras.layers.Conv2D, scipy through an alias, ...). Beneath the Python functions it
also watches the C entry points they end in (SciPy's and NumPy's kernels) and, for TensorFlow,
the type of every op executed or traced: a `Conv2D` op is caught however it was reached
(`tf.raw_ops`, `gen_nn_ops`, `execute.execute`, a Keras layer).

Across the grading sandbox the guard is one of several witnesses: removing it
(`sys.setprofile(None)`) is itself reported by the sandbox's audit hook.
"""

import importlib
import inspect
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ForbiddenOps:
    """A set of built-in functions a lesson forbids, with the words feedback uses for them.

    `op_types` are the TensorFlow op types that betray those functions (default: implied by
    `names`, see `implied_op_types`).
    """

    label: str
    names: tuple[str, ...]
    hint: str
    op_types: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.op_types is None:
            object.__setattr__(self, "op_types", implied_op_types(self.names))


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

# TensorFlow op types that only a built-in convolution, pooling or patch extraction creates
# (never autodiff of slices, sums and matmuls), by a public function that leads to them.
CONVOLUTION_OP_TYPES = (
    "Conv2D",
    "Conv2DBackpropInput",
    "Conv2DBackpropFilter",
    "Conv3D",
    "Conv3DBackpropInputV2",
    "Conv3DBackpropFilterV2",
    "DepthwiseConv2dNative",
    "DepthwiseConv2dNativeBackpropInput",
    "DepthwiseConv2dNativeBackpropFilter",
    "_FusedConv2D",
    "FusedPadConv2D",
    "FusedResizeAndPadConv2D",
    "Conv",
)
POOLING_OP_TYPES = (
    "MaxPool",
    "MaxPoolV2",
    "MaxPool3D",
    "MaxPoolWithArgmax",
    "AvgPool",
    "AvgPool3D",
    "FractionalMaxPool",
    "FractionalAvgPool",
)
PATCH_OP_TYPES = ("ExtractImagePatches", "ExtractVolumePatches")
OP_TYPES_BY_NAME = {
    "keras.ops.conv": CONVOLUTION_OP_TYPES,
    "keras.ops.max_pool": POOLING_OP_TYPES,
    "keras.ops.average_pool": POOLING_OP_TYPES,
    "keras.ops.image.extract_patches": PATCH_OP_TYPES,
    "tensorflow.image.extract_patches": PATCH_OP_TYPES,
}
# C functions behind forbidden Python functions, reachable without them.
RAW_ENTRY_POINTS = {
    "scipy.signal.correlate2d": ("scipy.signal._sigtools._convolve2d",),
    "scipy.signal.correlate": ("scipy.signal._sigtools._correlateND",),
    "scipy.ndimage.correlate": ("scipy.ndimage._nd_image.correlate",),
    "numpy.convolve": ("numpy._core.multiarray.correlate", "numpy._core.multiarray.correlate2"),
    "numpy.correlate": ("numpy._core.multiarray.correlate", "numpy._core.multiarray.correlate2"),
}
TF_EXECUTE = "tensorflow.python.eager.execute.quick_execute"  # op_name: its first argument
TF_APPLY_OP = "tensorflow.python.framework.op_def_library._apply_op_helper"  # op_type_name
TF_FAST_PATHS = (
    "tensorflow.python.pywrap_tfe.TFE_Py_FastPathExecute",
    "tensorflow.python.pywrap_tfe.TFE_Py_Execute",
    "tensorflow.python.pywrap_tfe.TFE_Py_ExecuteCancelable",
)


def implied_op_types(names) -> tuple[str, ...]:
    """The TensorFlow op types that the forbidden functions `names` create."""
    found: list[str] = []
    for name in names:
        for op_type in OP_TYPES_BY_NAME.get(name, ()):
            if op_type not in found:
                found.append(op_type)
    return tuple(found)


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
    """Code objects and builtins of forbidden functions, mapped to their public names, and the
    TensorFlow op types they create."""

    codes: dict = field(default_factory=dict)
    builtins: dict = field(default_factory=dict)
    op_types: frozenset = frozenset()
    tf_op_codes: dict = field(default_factory=dict)  # code -> name of its op-type local
    tf_fast_paths: frozenset = frozenset()

    @classmethod
    def of(cls, names: Iterable[str], op_types: Iterable[str] = ()) -> "Watchlist":
        watch = cls(op_types=frozenset(op_types))
        for name in names:
            watch._add(name, name)
            for raw in RAW_ENTRY_POINTS.get(name, ()):
                watch._add(raw, name)
        if watch.op_types:
            for dotted, local in ((TF_EXECUTE, "op_name"), (TF_APPLY_OP, "op_type_name")):
                code = getattr(_resolve(dotted), "__code__", None)
                if code is not None:
                    watch.tf_op_codes[code] = local
            watch.tf_fast_paths = frozenset(
                fn for fn in map(_resolve, TF_FAST_PATHS) if fn is not None
            )
        return watch

    def _add(self, dotted: str, name: str) -> None:
        obj = _resolve(dotted)
        if obj is None:
            return
        # Only the innermost function: decorator wrappers share one code object among
        # many unrelated functions (TensorFlow's dispatch wrapper, for one).
        obj = inspect.unwrap(obj)
        code = getattr(obj, "__code__", None)
        if code is not None:
            self.codes.setdefault(code, name)
        elif inspect.isbuiltin(obj) or callable(obj):
            try:
                self.builtins.setdefault(obj, name)
            except TypeError:  # unhashable callable
                pass


_WATCHLISTS: dict[tuple, Watchlist] = {}


def watchlist(names: Iterable[str] = CONVOLUTION_OPS, op_types: Iterable[str] = ()) -> Watchlist:
    """The (cached) watchlist for `names` and `op_types`."""
    key = (tuple(names), tuple(op_types))
    if key not in _WATCHLISTS:
        _WATCHLISTS[key] = Watchlist.of(*key)
    return _WATCHLISTS[key]


def _op_type(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


@contextmanager
def forbid(names: Iterable[str] = CONVOLUTION_OPS, op_types: Iterable[str] | None = None):
    """Record, in the yielded list, every forbidden function entered inside the block.

    `op_types` (default: those `names` imply) are TensorFlow op types whose execution or
    tracing counts as a call of the forbidden functions; a hit is named "TensorFlow op X".
    """
    names = tuple(names)
    watch = watchlist(names, implied_op_types(names) if op_types is None else op_types)
    codes, builtins, forbidden_types = watch.codes, watch.builtins, watch.op_types
    tf_op_codes, fast_paths = watch.tf_op_codes, watch.tf_fast_paths
    hits: list[str] = []

    def hit(name):
        if name not in hits:
            hits.append(name)

    def profile(frame, event, arg):
        if event == "call":
            code = frame.f_code
            name = codes.get(code)
            if name is not None:
                hit(name)
            elif code in tf_op_codes:
                op_type = _op_type(frame.f_locals.get(tf_op_codes[code]))
                if op_type in forbidden_types:
                    hit(f"TensorFlow op {op_type}")
        elif event == "c_call":
            try:
                name = builtins.get(arg)
            except TypeError:
                return
            if name is not None:
                hit(name)
            elif arg in fast_paths:
                # The op type is a constant of the function that calls the fast path
                # (gen_nn_ops.conv2d passes the literal "Conv2D").
                for const in frame.f_code.co_consts:
                    if type(const) is str and const in forbidden_types:
                        hit(f"TensorFlow op {const}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield hits
    finally:
        sys.setprofile(previous)
