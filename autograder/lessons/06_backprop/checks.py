"""Checks of lesson 06 (backpropagation): the backward passes written by hand; those of the
Conv2D layer with a custom gradient and its training run are in `custom_gradient.py`.
"""

from dataclasses import dataclass, replace

import numpy as np

from ...compare import compare, to_numpy
from ...diagnosis import Diagnosis
from ...feedback import CheckFailed, fail, passed
from ...judge import Compare
from ...mismatch_figure import MapMismatch, map_axes, weight_axes
from ...student import perform, run
from . import cases, pool_cases
from . import mistakes as catalogue
from .custom_gradient import CONV2D, check_conv2d_custom_gradient, check_conv2d_trains  # noqa: F401
from .rules import BACKPROP, PARTS, ROUTING_RULE, RULES


def _numerical(fn, args, kwargs, case=""):
    """What `numerical_gradient_of` reports of fn(f, x, **kwargs) (args: (spec, x))."""
    op = "numerical_gradient_of"
    return perform("numerical_gradient", op, fn, *args, forbidden=BACKPROP, case=case, **kwargs)


NUMERICAL_DIAGNOSIS = Diagnosis(
    catalogue.numerical_gradient_probes,
    catalogue.NUMERICAL_GRADIENT_VARIANTS,
    lambda fn, p: _numerical(fn, (p["spec"], p["x"]), {"eps": p["eps"]})["gradient"],
)


def _require_float64(gradient, case):
    """Fail when the gradient is stored in a float type narrower than float64: its values pass
    the comparison (float32 keeps 6 to 7 digits), but as the referee of gradient checks it
    would cap every relative error near 1e-7 instead of 1e-10."""
    try:
        dtype = np.dtype(getattr(gradient, "dtype", "float64"))
    except TypeError:
        return
    if np.issubdtype(dtype, np.floating) and dtype.itemsize < 8:
        fail(
            f"numerical_gradient returns {dtype.name} values; the gradient must be a "
            "float64 array.",
            [
                f"{dtype.name} keeps about {np.finfo(dtype).precision} digits, float64 "
                "about 15: a gradient check against it could not tell an error of 1e-7 from none"
            ],
            case=case,
            hint="create the gradient as float64, e.g. np.zeros(x.shape) or np.zeros_like(x) "
            "(x is float64), and store the differences in it",
        )


def _require_step(result, case):
    """Fail when f never saw x moved, or, with the default step, saw it moved by another."""
    step = result["step"]
    if result["calls"] and step is None:
        fail(
            "numerical_gradient never moves x.",
            [f"f was evaluated {result['calls']} times, always at x itself"],
            case=case.text,
            hint="move x itself: for index in np.ndindex(x.shape): x[index] = saved + eps, ...",
        )
    if step is not None and not case.kwargs and not np.isclose(step, cases.DEFAULT_EPS, 1e-6):
        fail(
            "numerical_gradient(f, x) does not step by the default eps.",
            [
                f"f was evaluated at x moved by {step:g}; with no eps given the step is "
                f"{cases.DEFAULT_EPS:g}"
            ],
            case=case.text,
            hint="keep the signature numerical_gradient(f, x, eps=1e-5)",
        )


def check_numerical_gradient(numerical_gradient, hidden=False):
    """Central differences of cubic test functions, with the default and other steps; x is
    left as it was."""
    table = cases.numerical(hidden)
    for case in table:
        result = _numerical(numerical_gradient, case.args, case.kwargs, case.text)
        x = case.args[1]
        moved = compare(result["x_after"], x, cases.X_TOL, name="x")
        if moved:
            lines = [*moved.lines, "x must hold exactly its original values when it returns"]
            if not compare(result["x_after"], x, cases.LAST_BITS):
                lines.append("only the last bits differ: x[i] + eps - eps is not always x[i]")
            fail(
                "numerical_gradient changes x.",
                lines,
                case=case.text,
                mistake=catalogue.X_NOT_RESTORED,
            )
        _require_step(result, case)
        mismatch = compare(result["gradient"], case.expected, cases.NUMERICAL_TOL, name="gradient")
        if mismatch:
            calls, size = result["calls"], np.size(x)
            evaluated = f"f was evaluated {calls} times"
            # 4 or more calls per entry: a higher-order stencil, exact on these cubics, which
            # the diagnosis would take for a step too small to show (eps ignored).
            more = calls >= 4 * size
            if more:
                evaluated += (
                    f", {calls / size:g} per entry of x: the central difference evaluates f "
                    "twice per entry, at x + eps e_i and x - eps e_i"
                )
            fail(
                "numerical_gradient does not give the central difference of f.",
                [*mismatch.lines, evaluated],
                case=case.text,
                mistake=None if more else NUMERICAL_DIAGNOSIS(numerical_gradient),
                hint=case.shape_hint
                if mismatch.kind == "shape"
                else "gradient[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)",
            )
        _require_float64(result["gradient"], case.text)
    passed(f"numerical_gradient gives central differences on {len(table)} cases and leaves x as is")


def _as_parts(what, result, case):
    """The three gradients a backward pass returned, as arrays; CheckFailed if they are not."""
    if not isinstance(result, tuple | list) or len(result) != 3:
        raise CheckFailed(
            f"{what} returned {type(result).__name__}"
            + (f" of {len(result)} values" if isinstance(result, tuple | list) else "")
            + "; expected a tuple (grad_x, grad_kernel, grad_bias).",
            [f"case: {case}"],
            "end with: return grad_x, grad_kernel, grad_bias",
        )
    parts = {}
    for name, value in zip(PARTS, result, strict=True):
        try:
            parts[name] = to_numpy(value)
        except Exception:
            raise CheckFailed(
                f"{what} returned a {type(value).__name__} as {name}; expected an array.",
                [f"case: {case}"],
            ) from None
    return parts


def _backward_on_probe(part):
    def output(fn, p):
        result = run("conv2d_backward", fn, p["x"], p["kernel"], p["g"], forbidden=BACKPROP)
        return _as_parts("conv2d_backward", result, "")[part]

    return output


PART_DIAGNOSES = {
    part: Diagnosis(catalogue.conv_probes, variants, _backward_on_probe(part))
    for part, variants in zip(
        PARTS,
        (catalogue.GRAD_X_VARIANTS, catalogue.GRAD_KERNEL_VARIANTS, catalogue.GRAD_BIAS_VARIANTS),
        strict=True,
    )
}


def _shape_hint(part, case):
    (b, h, w, c), (kh, kw, _, f) = case.args[0].shape, case.args[1].shape
    shapes = {"grad_x": (b, h, w, c), "grad_kernel": (kh, kw, c, f), "grad_bias": (f,)}
    return f"{part} has the shape of what it is the gradient of: {shapes[part]}; {RULES[part]}"


@dataclass(frozen=True)
class Backward(Compare):
    """On every case (args (x, kernel, g)), conv2d_backward gives the case's three gradients
    (`expected`, by part); `headline` names the part that differs ({part})."""

    def run(self, student, case):
        return _as_parts(self.what, super().run(student, case), case.text)

    def judge(self, student, case, output) -> None:
        for part in PARTS:
            self.judge_part(student, case, part, output[part])

    def judge_part(self, student, case, part, value) -> None:
        expected = case.expected[part]
        axes = weight_axes(part, np.shape(expected))
        mismatch = compare(value, expected, self.tolerance, name=part, axes=axes)
        if mismatch:
            hint = _shape_hint(part, case) if mismatch.kind == "shape" else RULES[part]
            self.fail(student, case, part, self.headline.format(part=part), mismatch, hint)

    def fail(self, student, case, part, headline, lines, hint="", picture=None):
        """Fail on `part`, naming the catalogued mistake its output shows, if any."""
        mistake = PART_DIAGNOSES[part](student)
        hint = hint or RULES[part]
        fail(headline, lines, case=case.text, mistake=mistake, hint=hint, picture=picture)


check_conv2d_backward_hand_example = Backward(
    "conv2d_backward",
    cases.hand_conv,
    cases.HAND_TOL,
    BACKPROP,
    headline="conv2d_backward does not reproduce the worked example ({part}).",
    passed="conv2d_backward reproduces the worked example",
)
check_conv2d_backward_matches_tensorflow = Backward(
    "conv2d_backward",
    cases.conv,
    cases.CONV_TOL,
    BACKPROP,
    headline="conv2d_backward's {part} differs from TensorFlow's.",
    passed="conv2d_backward matches tf.GradientTape on keras.layers.Conv2D in {count} cases",
)
_finite_differences_shapes = Backward(
    "conv2d_backward",
    cases.gradient_check,
    cases.SHAPE_ONLY,
    BACKPROP,
    headline="conv2d_backward's {part} does not have the shape of its finite differences.",
    passed="",
)


def check_conv2d_backward_gradient_check(conv2d_backward, hidden=False):
    """On float64 inputs, every gradient agrees with float64 central differences of the loss
    to a relative error below RELATIVE_ERROR_LIMIT."""
    check, limit = _finite_differences_shapes, cases.RELATIVE_ERROR_LIMIT
    worst = dict.fromkeys(PARTS, 0.0)
    table = cases.gradient_check(hidden)
    for case in table:
        parts = check.run(conv2d_backward, case)
        for part in PARTS:
            yours, numerical = parts[part], case.expected[part]
            check.judge_part(conv2d_backward, case, part, yours)  # only a shape or NaN differs
            error = cases.relative_error(yours, numerical)
            worst[part] = max(worst[part], error)
            if not error <= limit:
                where = np.unravel_index(int(np.argmax(np.abs(yours - numerical))), yours.shape)
                where = [int(i) for i in where]
                lines = (
                    f"relative error |yours - numerical| / (|yours| + |numerical|) = "
                    f"{error:.3g}, expected below {limit:g} ({cases.RELATIVE_ERROR_REASON})",
                    f"largest difference at {part}{where}: yours "
                    f"{float(yours[tuple(where)]):.6g}, numerical "
                    f"{float(numerical[tuple(where)]):.6g}",
                )
                headline = f"conv2d_backward's {part} fails the gradient check: relative error "
                picture = _gradient_check_picture(part, yours, numerical, limit, where)
                check.fail(
                    conv2d_backward, case, part, f"{headline}{error:.2g}.", lines, picture=picture
                )
    errors = ", ".join(f"{part} {worst[part]:.1e}" for part in PARTS)
    passed(
        f"conv2d_backward passes the float64 gradient check in {len(table)} cases "
        f"(largest relative errors: {errors})"
    )


def _gradient_check_picture(part, yours, numerical, limit, where) -> MapMismatch | None:
    """The picture of a gradient that fails the check, for a map (grad_x, grad_kernel): an
    entry is marked off when its own relative error passes the limit; the worst is the
    largest difference, the one the text names."""
    axes = weight_axes(part, np.shape(numerical)) or map_axes(np.shape(numerical), None)
    if axes is None:
        return None
    yours, numerical = np.asarray(yours, np.float64), np.asarray(numerical, np.float64)
    allowed = limit * (np.abs(yours) + np.abs(numerical))
    return MapMismatch(yours, numerical, allowed, tuple(where), axes, part)


check_max_pool_backward_matches_tensorflow = Compare(
    "max_pool_backward",
    pool_cases.pool,
    pool_cases.POOL_TOL,
    BACKPROP,
    headline="max_pool_backward differs from TensorFlow's gradient of MaxPooling2D.",
    passed="max_pool_backward matches tf.GradientTape on MaxPooling2D in {count} cases",
    diagnosis=Diagnosis(
        catalogue.max_pool_probes,
        catalogue.MAX_POOL_VARIANTS,
        lambda fn, p: run(
            "max_pool_backward", fn, p["x"], p["g"], p["pool_size"], forbidden=BACKPROP
        ),
    ),
    hint=ROUTING_RULE,
    name="grad_x",
)


def check_max_pool_backward_hand_example(max_pool_backward):
    """2x2 max pooling of lesson 05's 4x4 example, and of windows whose maxima tie."""
    for case, what, expected in pool_cases.hand_pool():
        check = replace(
            check_max_pool_backward_matches_tensorflow,
            tolerance=cases.HAND_TOL,
            headline=f"max_pool_backward does not reproduce {what}.",
            hint=f"expected {expected.tolist()}: {ROUTING_RULE}",
        )
        check.judge(max_pool_backward, case, check.run(max_pool_backward, case))
    passed("max_pool_backward reproduces the worked examples, ties included")
