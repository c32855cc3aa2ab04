"""How every check of lesson 08 obtains and reads a student's dropout output, failing with
feedback when it must: its shape, finiteness, kept and dropped values, repeated masks."""

import numpy as np

from ... import statistics
from ...compare import to_numpy
from ...contract import describe_call
from ...feedback import fail
from ...student import label
from . import cases, forbidden


def training_call(cls, shape, rate, seed, kwargs=None, name="Dropout"):
    """(x, call, case, output): inputs x of `shape` drawn from `seed`, and what a fresh
    `cls(rate, **kwargs, seed=...)` (its seed drawn from `seed` too) gives on x while training."""
    x = cases.inputs(shape, seed)
    kwargs = {**(kwargs or {}), "seed": cases.layer_seed(seed)}
    call = describe_call(name, (rate,), kwargs)
    case = f"{call} on inputs {x.shape}, training=True"
    layer = forbidden.layer(cls, (rate,), kwargs)
    return x, call, case, forbidden.run(call, layer, x, case=case, training=True)


def layer_kwargs(noise_shape=None, seed=None, data_format=None):
    """The keyword arguments given (not None), in the order Keras lists them."""
    given = {"noise_shape": noise_shape, "data_format": data_format, "seed": seed}
    return {key: value for key, value in given.items() if value is not None}


def probe_output(cls, probe):
    """What the student's class gives on one probe of the catalogue (`ops.dropout_probe`)."""
    output = forbidden.perform(f"{label(cls)} on a probe", "dropout_probe", cls, probe)
    return None if output is None else np.asarray(output)


def as_array(out, x, call, case):
    """The student's output as a float64 array of x's shape, else feedback."""
    array = to_numpy(out)
    if array.shape != x.shape:
        fail(f"{call} changes the shape of its inputs.",
             [f"output has shape {array.shape}; expected {x.shape}"], case=case,
             hint="dropout returns an array of the inputs' shape")  # fmt: skip
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        fail(f"{call} returns {array.dtype} values; expected numbers.", case=case)
    return array.astype(np.float64)


def finite(out, x, call, case, diagnose=None, hint="", what=""):
    """`as_array`, failing on NaN or inf (naming the mistake `diagnose()` finds, if given)."""
    array = as_array(out, x, call, case)
    if not np.isfinite(array).all():
        where = [int(i) for i in np.argwhere(~np.isfinite(array))[0]]
        fail(f"{call} gives NaN or inf{what}.",
             [f"the output holds NaN or inf, first at output{where}"], case=case,
             mistake=diagnose() if diagnose else None, hint=hint)  # fmt: skip
    return array


def first_equal_pair(masks):
    """The first (i, j), i < j, with masks[i] equal to masks[j], or None."""
    pairs = ((i, j) for i in range(len(masks)) for j in range(i + 1, len(masks)))
    return next((p for p in pairs if np.array_equal(masks[p[0]], masks[p[1]])), None)


def chance(probability):
    return f"{probability:.0e}" if probability > 0 else "below 1e-300"


def as_shape(value):
    """The student's answer as a tuple of ints, or None unless it is a sequence of whole numbers."""
    try:
        numbers = [to_numpy(v) for v in list(value)]
    except Exception:
        return None
    if any(n.shape != () or not np.issubdtype(n.dtype, np.number) for n in numbers):
        return None
    if not all(float(n).is_integer() for n in numbers):
        return None
    return tuple(int(float(n)) for n in numbers)


def require_some_kept_and_dropped(out, rate, call, case, decisions=None, diagnose=None):
    """Nothing kept (or nothing dropped) fails when a correct layer does that with probability
    below 1e-12 (e.g. none of 200 values kept at rate 0.2: 0.2**200). `diagnose()`, if given,
    names the likely mistake."""
    n = out.size if decisions is None else decisions
    keep = 1 - rate
    kept = int((out != 0).sum())
    mistake = diagnose() if diagnose and kept in (0, out.size) else None
    if kept == 0 and 0 < rate < 1 and statistics.none_kept(keep, n) < 1e-12:
        fail(f"{call} drops every value.", case=case, mistake=mistake,
             hint=f"keep each value with probability 1 - rate = {keep:g}")  # fmt: skip
    if kept == out.size and 0 < rate < 1 and statistics.none_kept(rate, n) < 1e-12:
        fail(f"{call} drops nothing while training.", case=case, mistake=mistake,
             hint=f"drop each value with probability rate = {rate:g}")  # fmt: skip


def agreement(p, n):
    """(p**2 + (1 - p)**2) ** n in words: the chance that two independent masks agree."""
    return statistics.power_words(p * p + (1 - p) ** 2, n)
