"""Operations added with lesson 06: numerical gradients and probed backward passes."""

__all__ = ["cubic_terms", "numerical_gradient_of", "backward_probe"]

import traceback
from contextlib import contextmanager

import numpy as np

from ...harness.ops.layers import _loss, short_name


def cubic_terms(spec, x):
    """The test function of `numerical_gradient_of` at `x` (float64), from its `spec`:
    sum(a * x**3 + b * x**2 + c * x) + sum(w * x) ** 2, with arrays a, b, c, w of x's shape."""
    x = np.asarray(x, dtype=np.float64)
    a, b, c, w = (np.asarray(spec[key], dtype=np.float64) for key in "abcw")
    return float(np.sum(a * x**3 + b * x**2 + c * x)) + float(np.sum(w * x)) ** 2


def numerical_gradient_of(target, spec, x, **kwargs):
    """`target(f, x, **kwargs)` on the cubic f of `spec` (which takes only arrays of x's shape)
    at a float64 copy of `x`: {"gradient": what it returned, "x_after": x as the call left
    it, "calls": how many times f was evaluated, "step": the smallest nonzero distance from x
    at which f was evaluated}."""
    x = np.array(x, dtype=np.float64)
    start, calls, steps = x.copy(), [0], []

    def f(value):
        array = np.asarray(value)
        if array.shape != start.shape:
            raise ValueError(
                f"f takes an array of the shape of x, {start.shape}; it was given shape "
                f"{array.shape}"
            )
        calls[0] += 1
        steps.append(float(np.max(np.abs(array - start), initial=0.0)))
        return cubic_terms(spec, array)

    gradient = target(f, x, **kwargs)
    step = min((s for s in steps if s > 0), default=None)
    return {"gradient": gradient, "x_after": x, "calls": calls[0], "step": step}


def _call_guarded_again(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` under the whole guard of the running operation (its hits count as
    the operation's), even inside an `allowing` block; outside an operation: a plain call."""
    from ...guard import forbid
    from ...harness.guarding import ACTIVE

    current = ACTIVE.get()
    if current is None:
        return fn(*args, **kwargs)
    names, op_types, hits = current
    with forbid(names, op_types) as inner:
        try:
            return fn(*args, **kwargs)
        finally:
            hits.extend([name for name in inner if name not in hits])


@contextmanager
def _custom_gradients_counted(shapes=None):
    """While open, backward functions given with tf.custom_gradient (which keras.ops's is) count
    their runs in the list yielded, and `shapes` gets the input shapes of each decorated call,
    by wrapping, for that module only, the `record.record_operation` TensorFlow records them
    with (yields None if it has none)."""
    from tensorflow.python.ops import custom_gradient as module

    record, count = getattr(module, "record", None), [0]
    if not hasattr(record, "record_operation"):
        yield None
        return

    class Counting:
        def __getattr__(self, name):
            return getattr(record, name)

        @staticmethod
        def record_operation(op_type, outputs, inputs, backward, *args, **kwargs):
            if shapes is not None:
                shapes.append([tuple(getattr(t, "shape", ())) for t in inputs])

            def counted(*grads, **grad_kwargs):
                count[0] += 1
                return backward(*grads, **grad_kwargs)

            return record.record_operation(op_type, outputs, inputs, counted, *args, **kwargs)

    module.record = Counting()
    try:
        yield count
    finally:
        module.record = record


VARIABLES_PASSED = (
    "TensorFlow called backward with the keyword argument 'variables' (a variable is read "
    "inside the function decorated with @ops.custom_gradient) and expected two results back, "
    "the gradients of the arguments and those of the variables"
)


def _variables_unpacked(error: ValueError) -> bool:
    """Whether `error` is TensorFlow unpacking (input gradients, variable gradients) from a
    backward that took `variables=` (through **kwargs): a variable was read inside the custom
    gradient (`ops.convert_to_tensor(self.kernel)` is still one), which TensorFlow's "too many
    values to unpack" would not say."""
    frames = traceback.extract_tb(error.__traceback__)
    return (
        bool(frames)
        and frames[-1].name == "actual_grad_fn"
        and "variables" in (frames[-1].line or "")
    )


def _set(place, name, value):
    if isinstance(place, dict):
        place[name] = value
    else:
        setattr(place, name, value)


def _spied_on(original, spy, places) -> list:
    """Point every name that holds `original` in `places` (globals, the layer's own dict, its
    classes), as it is or as a staticmethod, at `spy`; returns what restores them."""
    undo = []
    for place in places:
        for name, value in list(place.items() if isinstance(place, dict) else vars(place).items()):
            static = isinstance(value, staticmethod) and value.__func__ is original
            if value is original or static:
                undo.append((place, name, value))
                _set(place, name, staticmethod(spy) if static else spy)
    return undo


def backward_probe(
    layer, inputs, upstream, backward="conv2d_backward", factors=(1.0, 1.0, 1.0), allow=()
):
    """Gradients of sum(layer(inputs) * upstream) with respect to the inputs and the trainable
    weights, while the function named `backward` in the globals of the layer's `call` is
    replaced by a spy that multiplies its i-th result by `factors[i]` (a layer whose gradient
    comes from it shows the factors), wherever the layer holds it (`_spied_on`). `allow`:
    forbidden functions (automatic differentiation) that only this operation's own
    `tape.gradient` may call.
    Returns {"output", "inputs", "weights": {name: gradient or None}, "calls": the spy's runs,
    "found": whether `call` sees such a function, "custom": runs of backward functions given
    with custom_gradient (None if TensorFlow does not tell), "custom_inputs": the input shapes
    of each decorated call (a bias's shape among them: it was added inside)}.
    """
    import tensorflow as tf

    from ...harness.guarding import allowing

    namespace = getattr(getattr(type(layer), "call", None), "__globals__", None)
    found = isinstance(namespace, dict) and callable(namespace.get(backward))
    original = namespace[backward] if found else None
    calls, shapes = [0], []

    def spy(*args, **kwargs):
        calls[0] += 1
        results = _call_guarded_again(original, *args, **kwargs)
        if not isinstance(results, tuple | list) or len(results) != len(factors):
            raise ValueError(
                f"{backward} returned {type(results).__name__}; expected a tuple of "
                f"{len(factors)} gradients"
            )
        return tuple(
            tf.convert_to_tensor(result) * factor
            for result, factor in zip(results, factors, strict=True)
        )

    places = (namespace, vars(layer), *type(layer).__mro__) if found else ()
    undo = _spied_on(original, spy, places)
    try:
        x = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape, _custom_gradients_counted(shapes) as custom:
            tape.watch(x)
            outputs = layer(x)
            loss = _loss(outputs, upstream, None)
        variables = list(layer.trainable_weights)
        with allowing(allow):
            try:
                grads = tape.gradient(loss, [x, *variables])
            except ValueError as error:
                if _variables_unpacked(error):
                    raise ValueError(VARIABLES_PASSED) from None
                raise
    finally:
        for place, name, value in undo:
            _set(place, name, value)
    return {
        "output": outputs,
        "inputs": grads[0],
        "weights": {short_name(v): g for v, g in zip(variables, grads[1:], strict=True)},
        "calls": calls[0],
        "found": found,
        "custom": None if custom is None else custom[0],
        "custom_inputs": shapes,
    }


OPERATIONS = (numerical_gradient_of, backward_probe)
