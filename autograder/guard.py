"""Refuse built-in versions of the operation a lesson teaches inside the student's code.

The guard watches every Python function entered (sys.setprofile) while student code runs, so
it catches a forbidden op however it was imported or renamed (`from keras.ops import conv as c`,
a subclass of keras.layers.Conv2D, scipy through an alias, ...). Beneath the Python functions it
also watches the C entry points they end in (SciPy's and NumPy's kernels) and, for TensorFlow,
the type of every op executed or traced: a `Conv2D` op is caught however it was reached
(`tf.raw_ops`, `gen_nn_ops`, `execute.execute`, a Keras layer).

A graph function (`tf.function`, a Keras training step, a restored model) may have been traced
before the guard started, in an ordinary cell: its ops then run without any Python function of
theirs being entered. So when a graph function is called or placed in a graph, the guard reads
the graph itself: the type of every op in it and in the functions it calls, and the Python
stack each op was created from (TensorFlow keeps it), where a forbidden function shows however
long ago it ran.

Each lesson's checks say what they forbid (`ForbiddenOps`); there is no default. In every lesson
the grader's own code that no operation runs (a check's cases, catalogue and NumPy answers,
which the notebook's `checks` reaches) counts as forbidden too (`grader_modules`). In the grading
sandbox, `prepare()` resolves every lesson's names before any student code runs, so rebinding
`scipy.signal.correlate2d` or a TensorFlow entry point later changes nothing the guard watches.
Across the sandbox the guard is one of several witnesses: removing it (`sys.setprofile(None)`)
is itself reported by the sandbox's audit hook.

The profiler looks at a frame's code only when the frame could be a watched function's: it
starts on the first line of one. That keeps it cheap: reading `frame.f_code`, even `id()`, is
an audited event the sandbox's witness inspects. Nothing a student can rebind decides the test
(a module's `__name__` can be renamed unseen, so it is not used); a function's first line
changes only with its code object, and reaching that (`f.__code__`) is reported in the sandbox.
"""

import importlib
import inspect
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType

from . import grader_modules

_getprofile, _setprofile = sys.getprofile, sys.setprofile

# Ops that run Python code on TensorFlow's threads, where the guard's profiler cannot follow it:
# forbidden in every lesson (honest lesson code never needs them).
UNWATCHABLE_OP_TYPES = ("PyFunc", "PyFuncStateless", "EagerPyFunc")

# Every ForbiddenOps made (each lesson's): the grading kernel resolves all their names before
# any student code runs (`prepare`).
REGISTERED: list["ForbiddenOps"] = []


@dataclass(frozen=True)
class ForbiddenOps:
    """A set of built-in functions a lesson forbids, with the words feedback uses for them.

    `op_types` are the TensorFlow op types that betray those functions (default: implied by
    `names`, see `implied_op_types`); the ops that run unwatchable Python are always added.
    """

    label: str
    names: tuple[str, ...]
    hint: str
    op_types: tuple[str, ...] | None = None

    def __post_init__(self):
        op_types = implied_op_types(self.names) if self.op_types is None else self.op_types
        extra = tuple(t for t in UNWATCHABLE_OP_TYPES if t not in op_types)
        object.__setattr__(self, "op_types", (*op_types, *extra))
        REGISTERED.append(self)


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
    # morphological dilation with a flat zero filter is max pooling (tf.nn.erosion2d runs it too)
    "Dilation2D",
)
PATCH_OP_TYPES = ("ExtractImagePatches", "ExtractVolumePatches")
# The op types of TensorFlow's own backward passes of pooling.
POOLING_GRADIENT_OP_TYPES = (
    "MaxPoolGrad",
    "MaxPoolGradV2",
    "MaxPoolGradWithArgmax",
    "MaxPoolGradGrad",
    "MaxPoolGradGradV2",
    "MaxPool3DGrad",
    "AvgPoolGrad",
    "AvgPool3DGrad",
    "Dilation2DBackpropInput",
)
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
    "scipy.signal.lfilter": ("scipy.signal._sigtools._linear_filter",),
    "scipy.ndimage.correlate": ("scipy.ndimage._nd_image.correlate",),
    "scipy.ndimage.correlate1d": ("scipy.ndimage._nd_image.correlate1d",),
    "scipy.ndimage.uniform_filter1d": ("scipy.ndimage._nd_image.uniform_filter1d",),
    "scipy.ndimage.maximum_filter1d": ("scipy.ndimage._nd_image.min_or_max_filter1d",),
    "scipy.ndimage.maximum_filter": ("scipy.ndimage._nd_image.min_or_max_filter",),
    "numpy.convolve": ("numpy._core.multiarray.correlate", "numpy._core.multiarray.correlate2"),
    "numpy.correlate": ("numpy._core.multiarray.correlate", "numpy._core.multiarray.correlate2"),
}
TF_EXECUTE = "tensorflow.python.eager.execute.quick_execute"  # op_name: its first argument
# The name TensorFlow calls quick_execute by (rebinding it would route ops around the guard).
TF_EXECUTE_ALIAS = "tensorflow.python.eager.execute.execute"
TF_APPLY_OP = "tensorflow.python.framework.op_def_library._apply_op_helper"  # op_type_name
TF_FAST_PATHS = (
    "tensorflow.python.pywrap_tfe.TFE_Py_FastPathExecute",
    "tensorflow.python.pywrap_tfe.TFE_Py_Execute",
    "tensorflow.python.pywrap_tfe.TFE_Py_ExecuteCancelable",
)
# Where a traced graph function is called eagerly or placed into another graph, with the local
# that holds it (an AtomicFunction), and where a tf.data pipeline built earlier runs its traced
# functions (`map`, `filter`, ...) with the local that holds the dataset or its iterator.
TF_FUNCTION_CALLS = (
    (
        "tensorflow.python.eager.polymorphic_function.atomic_function.AtomicFunction.call_flat",
        "self",
    ),
    (
        "tensorflow.python.eager.polymorphic_function.atomic_function.make_call_op_in_graph",
        "atomic",
    ),
    ("tensorflow.python.data.ops.iterator_ops.OwnedIterator._next_internal", "self"),
    ("tensorflow.python.data.ops.dataset_ops.DatasetV2.get_single_element", "self"),
    ("tensorflow.python.data.ops.dataset_ops.DatasetV2.reduce", "self"),
)
# Calls of a graph function by name, whose graph the fast path does not show.
FUNCTION_CALL_OP_TYPES = frozenset({"PartitionedCall", "StatefulPartitionedCall"})


def implied_op_types(names) -> tuple[str, ...]:
    """The TensorFlow op types that the forbidden functions `names` create."""
    found: list[str] = []
    for name in names:
        for op_type in OP_TYPES_BY_NAME.get(name, ()):
            if op_type not in found:
                found.append(op_type)
    return tuple(found)


# --- resolving names ---------------------------------------------------------------------------

# name -> object, fixed by `prepare` before untrusted code runs (None: resolve when asked)
_PREPARED: MappingProxyType | None = None


def _import_and_walk(dotted: str):
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


def _resolve(dotted: str):
    """The object a dotted name stands for: as `prepare` found it, or looked up now."""
    if _PREPARED is not None and dotted in _PREPARED:
        return _PREPARED[dotted]
    return _import_and_walk(dotted)


# TensorFlow building a gradient graph (`tf.gradients`, and a tf.function called under a tape,
# which builds its backward function then): what it calls is differentiation, which a block of
# an operation may allow (`forbid(..., differentiating=...)`), not a call of graded code.
TF_DIFFERENTIATION = "tensorflow.python.ops.gradients_util._GradientsHelper"


def _all_names(forbidden: Iterable["ForbiddenOps"]) -> list[str]:
    names = [TF_EXECUTE, TF_EXECUTE_ALIAS, TF_APPLY_OP, TF_DIFFERENTIATION, *TF_FAST_PATHS]
    names += [dotted for dotted, _ in TF_FUNCTION_CALLS]
    for ops_ in forbidden:
        for name in ops_.names:
            names += [name, *RAW_ENTRY_POINTS.get(name, ())]
    return names


def prepare(forbidden: Iterable["ForbiddenOps"] = ()) -> None:
    """Resolve every name of `forbidden` (default: every lesson's) and TensorFlow's entry points
    now, and watch those objects from then on, whatever later code rebinds.

    The grading kernel calls this before any student code runs.
    """
    global _PREPARED
    grader_modules.fix()
    chosen = list(forbidden) or list(REGISTERED)
    _PREPARED = MappingProxyType({name: _import_and_walk(name) for name in _all_names(chosen)})
    _WATCHLISTS.clear()
    for ops_ in chosen:
        _WATCHLISTS[(tuple(ops_.names), tuple(ops_.op_types))] = Watchlist.of(
            ops_.names, ops_.op_types
        )


def prepared_bindings() -> list[tuple[str, object, str, object]]:
    """(dotted name, the object holding it, attribute, the object `prepare` found) for every
    name `prepare` resolved: rebinding any of them later is a change the witness reports."""
    found = []
    for dotted, obj in (_PREPARED or {}).items():
        head, _, attribute = dotted.rpartition(".")
        parent = _import_and_walk(head) if "." in head else sys.modules.get(head)
        if obj is not None and parent is not None:
            found.append((dotted, parent, attribute, obj))
    return found


# --- what is watched ----------------------------------------------------------------------------


@dataclass
class Watchlist:
    """Code objects and builtins of forbidden functions, mapped to their public names, the
    TensorFlow op types they create, and TensorFlow's entry points that reveal op types."""

    codes: dict = field(default_factory=dict)
    builtins: dict = field(default_factory=dict)
    op_types: frozenset = frozenset()
    tf_op_codes: dict = field(default_factory=dict)  # code -> name of its op-type local
    tf_fast_paths: frozenset = frozenset()
    tf_function_codes: dict = field(default_factory=dict)  # code -> local holding the function
    # (code file, code name) -> [(first line, last line, forbidden name)], to read op tracebacks
    code_lines: dict = field(default_factory=dict)
    # the first lines of every watched Python function: the profiler reads a frame's code
    # (`frame.f_code`, an audited attribute the sandbox's witness must inspect) only for a frame
    # that starts on such a line
    first_lines: set = field(default_factory=set)

    @classmethod
    def of(cls, names: Iterable[str], op_types: Iterable[str] = ()) -> "Watchlist":
        watch = cls(op_types=frozenset(op_types))
        for name in names:
            watch._add(name, name)
            for raw in RAW_ENTRY_POINTS.get(name, ()):
                watch._add(raw, name)
        for code, name in watch.codes.items():
            lines = [line for _, _, line in code.co_lines() if line is not None]
            span = (min(lines, default=code.co_firstlineno), max(lines, default=0), name)
            watch.code_lines.setdefault((code.co_filename, code.co_name), []).append(span)
        if watch.op_types:
            for dotted, local in ((TF_EXECUTE, "op_name"), (TF_APPLY_OP, "op_type_name")):
                code = watch._code_of(_resolve(dotted))
                if code is not None:
                    watch.tf_op_codes[code] = local
            watch.tf_fast_paths = frozenset(
                fn for fn in map(_resolve, TF_FAST_PATHS) if fn is not None
            )
        if watch.op_types or watch.codes:
            for dotted, local in TF_FUNCTION_CALLS:
                code = watch._code_of(_resolve(dotted))
                if code is not None:
                    watch.tf_function_codes[code] = local
        return watch

    def _add(self, dotted: str, name: str) -> None:
        obj = _resolve(dotted)
        if obj is None:
            return
        # Only the innermost function: decorator wrappers share one code object among
        # many unrelated functions (TensorFlow's dispatch wrapper, for one).
        obj = inspect.unwrap(obj)
        code = self._code_of(obj)
        if code is not None:
            self.codes.setdefault(code, name)
        elif inspect.isbuiltin(obj) or callable(obj):
            try:
                self.builtins.setdefault(obj, name)
            except TypeError:  # unhashable callable
                pass

    def _code_of(self, function):
        """The code of `function` (None for a builtin), its first line watched."""
        code = getattr(function, "__code__", None)
        if code is not None:
            self.first_lines.add(code.co_firstlineno)
        return code

    def traced_hits(self, function) -> list[str]:
        """What is forbidden in the graph of a traced function (an AtomicFunction) and in the
        functions it calls: ops of a forbidden type, and ops created inside a forbidden
        function (read from the Python stack TensorFlow recorded for each op)."""
        found: list[str] = []
        pending = _traced_functions(function)
        for atomic in _each_once(pending):
            try:
                graph = atomic.graph
                operations = graph.get_operations()
            except Exception:  # a function TensorFlow can no longer show
                continue
            for op in operations:
                if op.type in self.op_types:
                    _add_once(found, f"TensorFlow op {op.type}")
                if self.code_lines:
                    name = self._creator(op)
                    if name is not None:
                        _add_once(found, f"{name} (in a traced tf.function)")
            nested = getattr(graph, "_functions", {})
            pending.extend(nested.values())
        return found

    def _creator(self, op):
        """The forbidden function whose code created `op`, or None (also for an op TensorFlow
        kept no stack of, such as those a `tf.map_fn` makes inside its loop)."""
        try:
            frames = op.traceback or ()
        except Exception:
            return None
        lookup = self.code_lines.get
        for frame in frames:
            spans = lookup((frame.filename, frame.name))
            if spans:
                for first, last, name in spans:
                    if first <= frame.lineno <= last:
                        return name
        return None


def _each_once(pending: list):
    """Take items from `pending` until it is empty, each object once; the loop body may add
    more (a walk over a graph of functions or datasets that can hold cycles)."""
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) not in seen:
            seen.add(id(item))
            yield item


def _traced_functions(holder) -> list:
    """The traced functions `holder` runs: itself (a graph function), or every function of a
    tf.data pipeline (a dataset or its iterator) and of the datasets it reads from."""
    dataset = getattr(holder, "_dataset", holder)
    if not (hasattr(dataset, "_functions") and hasattr(dataset, "_inputs")):
        return [holder]
    found, pending = [], [dataset]
    for current in _each_once(pending):
        try:
            found += [wrapper.function for wrapper in current._functions()]
            pending += list(current._inputs())
        except Exception:  # a dataset TensorFlow can no longer show
            continue
    return found


def _add_once(found: list, item: str) -> None:
    if item not in found:
        found.append(item)


_WATCHLISTS: dict[tuple, Watchlist] = {}


def watchlist(names: Iterable[str], op_types: Iterable[str] = ()) -> Watchlist:
    """The watchlist for `names` and `op_types`: cached, except that once `prepare` has run
    the cache is fixed (what it holds is then part of what the grading kernel trusts)."""
    key = (tuple(names), tuple(op_types))
    found = _WATCHLISTS.get(key)
    if found is None:
        found = Watchlist.of(*key)
        if _PREPARED is None:
            _WATCHLISTS[key] = found
    return found


def _constant_op_types(code, forbidden_types) -> tuple[str, ...]:
    """The hits that the string constants of `code` (a caller of TensorFlow's fast path) name."""
    found = []
    for const in code.co_consts:
        if type(const) is str:
            if const in forbidden_types:
                found.append(f"TensorFlow op {const}")
            elif const in FUNCTION_CALL_OP_TYPES:
                found.append(f"TensorFlow op {const} (a graph function called by name)")
    return tuple(found)


def _op_type(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


WATCHED, GRADER = 1, 2  # what starts on a line: a watched function, a grader's function


def _differentiating(frame, code) -> bool:
    """Whether `frame` runs inside `code` (TensorFlow building a gradient graph)."""
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


@contextmanager
def forbid(
    names: Iterable[str], op_types: Iterable[str] | None = None, differentiating: Iterable = ()
):
    """Record, in the yielded list, every forbidden function entered inside the block, and
    the first function of each grader-only module entered ("the grader's own code (...)").

    `op_types` (default: those `names` imply, and the unwatchable ones) are TensorFlow op
    types whose execution or tracing counts as a call of the forbidden functions; a hit is
    named "TensorFlow op X". A graph function called inside the block counts with what its
    graph holds, however long ago it was traced. The functions `differentiating` names are
    no hit when TensorFlow calls them to build a gradient graph (TF_DIFFERENTIATION).
    """
    names = tuple(names)
    while_differentiating = frozenset(differentiating)
    gradient_code = (
        getattr(_resolve(TF_DIFFERENTIATION), "__code__", None) if while_differentiating else None
    )
    if op_types is None:
        op_types = (*implied_op_types(names), *UNWATCHABLE_OP_TYPES)
    watch = watchlist(names, op_types)
    codes, builtins, forbidden_types = watch.codes, watch.builtins, watch.op_types
    tf_op_codes, fast_paths = watch.tf_op_codes, watch.tf_fast_paths
    function_codes = watch.tf_function_codes
    grader, grader_lines = grader_modules.namespaces()
    grader_module = dict(grader).get  # a dict's own get is the fastest
    identity = grader_modules.identity
    # first line -> WATCHED (a watched function starts there), GRADER (a function of the
    # grader's modules does) or both
    line_kinds = dict.fromkeys(grader_lines, GRADER)
    for line in watch.first_lines:
        line_kinds[line] = line_kinds.get(line, 0) | WATCHED
    kind_of = line_kinds.get
    grader_entered: set[str] = set()
    hits: list[str] = []
    inspected: set[int] = set()
    fast_path_hits: dict = {}  # code of a caller of the fast path -> what its constants name

    def hit(name):
        if name not in hits:
            hits.append(name)

    def profile(frame, event, arg):
        if event == "call":
            kind = kind_of(frame.f_lineno)  # a function is entered on its first line
            if kind is None:
                return
            if kind & GRADER:
                module = grader_module(identity(frame.f_globals))
                if module is not None:
                    name = module[0]
                    if name not in grader_entered:  # f_code is read once per module
                        grader_entered.add(name)
                        hit(f"{grader_modules.GRADER_CODE} ({name}.{frame.f_code.co_qualname})")
                    return
            if not kind & WATCHED:
                return
            code = frame.f_code
            name = codes.get(code)
            if name is not None:
                if name not in while_differentiating or not _differentiating(frame, gradient_code):
                    hit(name)
            elif code in tf_op_codes:
                op_type = _op_type(frame.f_locals.get(tf_op_codes[code]))
                if op_type in forbidden_types:
                    hit(f"TensorFlow op {op_type}")
            elif code in function_codes:
                function = frame.f_locals.get(function_codes[code])
                if function is not None and id(function) not in inspected:
                    inspected.add(id(function))
                    for found in watch.traced_hits(function):
                        hit(found)
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
                code = frame.f_code
                found = fast_path_hits.get(code)
                if found is None:
                    found = fast_path_hits[code] = _constant_op_types(code, forbidden_types)
                for name in found:
                    hit(name)

    previous = _getprofile()
    _setprofile(profile)
    try:
        yield hits
    finally:
        _setprofile(previous)
