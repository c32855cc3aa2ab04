"""Checks of lesson 06 (backpropagation), called from the notebook's test cells.

Each check is declared on the shared harness (`judge.Compare`, `twin.Twin`,
`diagnosis.Diagnosis`); the cases, their expected values and tolerances are in `cases.py`,
the catalogue that names a mistake in `mistakes.py`. The gradient check, the custom gradient
(where the layer's gradient comes from) and the training run are hand-written judges on the
same pieces. A failing check raises `CheckFailed` with feedback in the lesson's terms; a
passing one prints one OK line.
"""

from dataclasses import dataclass, replace

import numpy as np

from ...builtin_ops import CONVOLUTION_OPS, DIFFERENTIATION_OPS, GRADIENT_OPS, POOLING_OPS
from ...compare import compare, to_numpy
from ...diagnosis import Diagnosis
from ...feedback import CheckFailed, fail, passed
from ...guard import (
    CONVOLUTION_OP_TYPES,
    PATCH_OP_TYPES,
    POOLING_GRADIENT_OP_TYPES,
    POOLING_OP_TYPES,
    ForbiddenOps,
)
from ...harness import ops
from ...judge import Compare
from ...student import perform, run
from ...twin import Twin
from . import cases
from . import mistakes as catalogue

BUILTIN_OP_TYPES = (
    CONVOLUTION_OP_TYPES + POOLING_OP_TYPES + PATCH_OP_TYPES + POOLING_GRADIENT_OP_TYPES
)
BACKPROP = ForbiddenOps(
    "a built-in convolution, pooling or differentiation",
    (*CONVOLUTION_OPS, *POOLING_OPS, *GRADIENT_OPS, *DIFFERENTIATION_OPS),
    "this lesson asks you to compute every gradient yourself, from slices, ops.pad, ops.flip, "
    "sums and matrix products (or NumPy): no tf.GradientTape, no built-in convolution, "
    "pooling or gradient op",
    BUILTIN_OP_TYPES,
)
# Keras's training step differentiates with tf.GradientTape, which calls the custom gradient.
TRAINING = ForbiddenOps(
    "a built-in convolution or pooling",
    (*CONVOLUTION_OPS, *POOLING_OPS, *GRADIENT_OPS),
    BACKPROP.hint,
    BUILTIN_OP_TYPES,
)

PARTS = ("grad_x", "grad_kernel", "grad_bias")
RULES = {
    "grad_x": "grad_x = G padded by (kh - 1, kw - 1) on every side, cross-correlated with the "
    "kernel flipped in both spatial axes, its channel axes swapped: shape (B, H, W, C)",
    "grad_kernel": "grad_kernel[m, n, c, f] = sum over b, i, j of x[b, i + m, j + n, c] * "
    "G[b, i, j, f]: shape (kh, kw, C, F)",
    "grad_bias": "grad_bias[f] = sum over b, i, j of G[b, i, j, f]: shape (F,)",
}
ROUTING_RULE = (
    "each window's upstream gradient goes to its maximum only (the first one, row by row, "
    "when several cells tie); all other cells get 0"
)

# --- numerical_gradient ------------------------------------------------------------------------


def _numerical(fn, args, kwargs, case=""):
    """What `numerical_gradient_of` reports of fn(f, x, **kwargs) (args: (spec, x))."""
    return perform(
        "numerical_gradient",
        "numerical_gradient_of",
        fn,
        *args,
        forbidden=BACKPROP,
        case=case,
        **kwargs,
    )


NUMERICAL_DIAGNOSIS = Diagnosis(
    catalogue.numerical_gradient_probes,
    catalogue.NUMERICAL_GRADIENT_VARIANTS,
    lambda fn, p: _numerical(fn, (p["spec"], p["x"]), {"eps": p["eps"]})["gradient"],
)


def check_numerical_gradient(numerical_gradient, hidden=False):
    """Central differences of cubic test functions, with the default and other steps; x is
    left as it was."""
    table = cases.numerical(hidden)
    for case in table:
        result = _numerical(numerical_gradient, case.args, case.kwargs, case.text)
        moved = compare(result["x_after"], case.args[1], cases.X_TOL, name="x")
        if moved:
            fail(
                "numerical_gradient changes x.",
                [*moved.lines, "x must hold its original values when numerical_gradient returns"],
                case=case.text,
                mistake=catalogue.X_NOT_RESTORED,
            )
        mismatch = compare(result["gradient"], case.expected, cases.NUMERICAL_TOL, name="gradient")
        if mismatch:
            fail(
                "numerical_gradient does not give the central difference of f.",
                [*mismatch.lines, f"f was evaluated {result['calls']} times"],
                case=case.text,
                mistake=NUMERICAL_DIAGNOSIS(numerical_gradient),
                hint=case.shape_hint
                if mismatch.kind == "shape"
                else "gradient[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)",
            )
    passed(f"numerical_gradient gives central differences on {len(table)} cases and leaves x as is")


# --- conv2d_backward ---------------------------------------------------------------------------


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
        mismatch = compare(value, case.expected[part], self.tolerance, name=part)
        if mismatch:
            hint = _shape_hint(part, case) if mismatch.kind == "shape" else RULES[part]
            self.fail(student, case, part, self.headline.format(part=part), mismatch.lines, hint)

    def fail(self, student, case, part, headline, lines, hint=""):
        """Fail on `part`, naming the catalogued mistake its output shows, if any."""
        mistake = PART_DIAGNOSES[part](student)
        fail(headline, lines, case=case.text, mistake=mistake, hint=hint or RULES[part])


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
                check.fail(conv2d_backward, case, part, f"{headline}{error:.2g}.", lines)
    errors = ", ".join(f"{part} {worst[part]:.1e}" for part in PARTS)
    passed(
        f"conv2d_backward passes the float64 gradient check in {len(table)} cases "
        f"(largest relative errors: {errors})"
    )


# --- max_pool_backward -------------------------------------------------------------------------

check_max_pool_backward_matches_tensorflow = Compare(
    "max_pool_backward",
    cases.pool,
    cases.POOL_TOL,
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
    for case, what, expected in cases.hand_pool():
        check = replace(
            check_max_pool_backward_matches_tensorflow,
            tolerance=cases.HAND_TOL,
            headline=f"max_pool_backward does not reproduce {what}.",
            hint=f"expected {expected.tolist()}: {ROUTING_RULE}",
        )
        check.judge(max_pool_backward, case, check.run(max_pool_backward, case))
    passed("max_pool_backward reproduces the worked examples, ties included")


# --- Conv2D with a custom gradient -------------------------------------------------------------

CONV2D = Twin("Conv2D")
FACTORS = (2.0, 3.0, 5.0)
VARIABLES_HINT = (
    "pass tensors, not the layer's variables, to the function decorated with "
    "@ops.custom_gradient: TensorFlow refuses variables read inside it. ops.copy(self.kernel) "
    "reads the variable into a tensor (and its gradient still reaches the variable)"
)
BACKWARD_HINT = "backward returns conv2d_backward(x, kernel, upstream): three gradients"
LAYER_PART = {"inputs": "grad_x", "kernel": "grad_kernel", "bias": "grad_bias"}


def _gradient(found, part):
    """The gradient with respect to `part` ("inputs" or a weight) in a gradients result."""
    return found["inputs"] if part == "inputs" else found["weights"].get(part)


def _probe(layer, call, x, g, factors, case):
    """The layer's output and gradients through backward_probe; CheckFailed with advice when
    the student's code raises."""
    try:
        return perform(
            f"the gradient through {call}",
            "backward_probe",
            layer,
            x,
            g,
            "conv2d_backward",
            factors,
            DIFFERENTIATION_OPS,
            forbidden=BACKPROP,
            case=case,
        )
    except CheckFailed as failure:
        if "keyword argument 'variables'" in failure.headline:
            headline = failure.headline.split(":")[0] + "."
            raise CheckFailed(headline, failure.details, VARIABLES_HINT) from None
        raise


def _layer_on_probe(part):
    def output(Conv2D, p):
        weights = {"kernel": p["kernel"].astype("float32"), "bias": p["bias"].astype("float32")}
        kwargs = {"activation": "tanh"}
        layer = CONV2D.student(
            Conv2D, (4, (3, 2)), kwargs, p["x"].shape, weights, forbidden=BACKPROP
        )
        x, upstream = p["x"].astype("float32"), p["upstream"].astype("float32")
        return _gradient(_probe(layer, "Conv2D", x, upstream, (1.0, 1.0, 1.0), ""), part)

    return output


LAYER_DIAGNOSES = tuple(
    Diagnosis(catalogue.layer_probes, variants, _layer_on_probe(part))
    for part, variants in catalogue.LAYER_VARIANTS.items()
)


def _diagnose_layer(Conv2D):
    return next(filter(None, (diagnose(Conv2D) for diagnose in LAYER_DIAGNOSES)), None)


def check_conv2d_custom_gradient(Conv2D, hidden=False):
    """Output and gradients equal keras.layers.Conv2D's, and the gradients are those
    conv2d_backward returns: when it is made to return 2, 3 and 5 times its results, the
    layer's gradients with respect to input, kernel and bias follow."""
    table = cases.layer(hidden)
    for x, args, kwargs, weights, g in table:
        call = CONV2D.call(args, kwargs)
        case = f"{call} on inputs {x.shape}, loss = sum(output * upstream), upstream random"
        ours = CONV2D.student(Conv2D, args, kwargs, x.shape, weights, forbidden=BACKPROP)
        expected = ops.gradients(CONV2D.reference(args, kwargs, x.shape, weights), x, upstream=g)
        found = _probe(ours, call, x, g, (1.0, 1.0, 1.0), case)
        mismatch = compare(found["output"], expected["output"], cases.LAYER_TOL)
        if mismatch:
            fail(
                f"{call} does not match keras.layers.Conv2D.",
                mismatch.lines,
                case=case,
                hint="output = self.activation(conv2d_forward(inputs, kernel) + bias)",
            )
        _check_layer_gradients(Conv2D, call, found, expected, case)
        if not found["found"]:
            fail(
                f"{call}'s gradient cannot come from conv2d_backward: Conv2D.call cannot see "
                "a function of that name.",
                ["define conv2d_backward in the notebook (Exercise 2) and call it by that name"],
                case=case,
            )
        if found["calls"] == 0:
            _not_called(call, found["custom"], case)
        spied = _probe(ours, call, x, g, FACTORS, case)
        for part, factor in zip(LAYER_PART, FACTORS, strict=True):
            wanted, got = _gradient(expected, part), _gradient(spied, part)
            if wanted is not None and (
                got is None or compare(got, factor * np.asarray(wanted), cases.LAYER_TOL)
            ):
                _not_scaled(call, part, factor, spied["custom"], case)
    passed(
        f"Conv2D's gradients come from conv2d_backward and match keras.layers.Conv2D in "
        f"{len(table)} cases"
    )


def _not_called(call, custom, case):
    """Fail: conv2d_backward never ran. Either a backward function of the student's own ran
    (`custom`: a custom gradient written by hand), or TensorFlow differentiated the layer."""
    headline = f"{call}'s gradient does not come from conv2d_backward: "
    if custom:
        fail(
            f"{headline}the backward function of your custom gradient computes it without "
            "calling conv2d_backward.",
            [
                "the function you return from the one decorated with @ops.custom_gradient ran "
                "while TensorFlow computed the gradient, but conv2d_backward never ran"
            ],
            case=case,
            hint=BACKWARD_HINT,
        )
    fail(
        f"{headline}it never ran while TensorFlow computed the gradient.",
        ["TensorFlow differentiated your forward pass itself"],
        case=case,
        mistake=catalogue.AUTODIFF,
    )


def _not_scaled(call, part, factor, custom, case):
    """Fail: the gradient with respect to `part` did not follow conv2d_backward's results."""
    lines = [
        f"when conv2d_backward's results were multiplied by {FACTORS}, the gradient with "
        f"respect to {part} should have been {factor:g} times larger; it was not"
    ]
    mistake = catalogue.BIAS_OUTSIDE if part == "bias" else catalogue.AUTODIFF
    if custom and part != "bias":  # a backward function ran: this is not automatic differentiation
        lines.append(
            f"your custom gradient's backward function ran and called conv2d_backward, but "
            f"returned another gradient with respect to {part} than its {LAYER_PART[part]}"
        )
        mistake = None
    fail(
        f"{call}'s gradient with respect to its {part} does not come from conv2d_backward.",
        lines,
        case=case,
        mistake=mistake,
        hint="" if mistake else BACKWARD_HINT,
    )


def _check_layer_gradients(Conv2D, call, found, expected, case):
    for part, rule in LAYER_PART.items():
        wanted, got = _gradient(expected, part), _gradient(found, part)
        if wanted is None:
            continue
        if got is None:
            fail(
                f"No gradient reaches {call}'s {part}.",
                ["the backward pass returned None for it, or the output does not depend on it"],
                case=case,
                hint=BACKWARD_HINT,
            )
        mismatch = compare(got, np.asarray(wanted), cases.LAYER_TOL, name=f"d loss / d {part}")
        if mismatch:
            fail(
                f"{call}'s gradient with respect to its {part} differs from keras.layers.Conv2D's.",
                mismatch.lines,
                case=case,
                mistake=_diagnose_layer(Conv2D),
                hint=RULES[rule],
            )


# --- training ----------------------------------------------------------------------------------

GRAPH_HINT = (
    "during model.fit the backward pass runs in a TensorFlow graph, where tensors have no "
    "values yet: compute conv2d_backward with keras.ops (NumPy cannot read them there)"
)
WEIGHT_NAMES = ("first kernel", "first bias", "second kernel", "second bias")
WEIGHT_NAMES += ("dense kernel", "dense bias")


def _train_spec(conv):
    """The model: two Conv2D layers (`conv` is (class,) or ("keras", "Conv2D")), a Dense head."""
    return [
        (*conv, (3, (3, 3)), {"activation": "tanh"}),
        (*conv, (4, (3, 2)), {"activation": "tanh"}),
        ("keras", "Flatten", (), {}),
        ("keras", "Dense", (1,), {}),
    ]


def check_conv2d_trains(Conv2D):
    """Two of the layers in a model, trained by model.fit (Keras's compiled training step, so
    the backward pass runs in a TensorFlow graph): the same losses and final weights as the
    same model of keras.layers.Conv2D."""
    x, y, weights = cases.training_data()
    args = ((None, *cases.TRAIN_SHAPE[1:]), x, y, "mse")
    # Plain SGD from the same weights, batches in order: both models take the same steps.
    kwargs = {"learning_rate": 0.05, "epochs": 2, "batch_size": 8, "weights": weights}
    kwargs.update(optimizer="sgd", shuffle=False)
    case = (
        "Conv2D(3, 3, activation='tanh'), Conv2D(4, (3, 2), activation='tanh'), Flatten, "
        f"Dense(1) on inputs {cases.TRAIN_SHAPE}: mean squared error, SGD(learning_rate=0.05), "
        "2 epochs of 4 batches, the same starting weights"
    )
    theirs = ops.fit(_train_spec(("keras", "Conv2D")), *args, **kwargs)
    try:
        ours = perform(
            "keras.Model.fit with two of your Conv2D layers",
            "fit",
            _train_spec((Conv2D,)),
            *args,
            forbidden=TRAINING,
            case=case,
            **kwargs,
        )
    except CheckFailed as failure:
        graph = any(word in failure.headline for word in ("symbolic", "NumPy", "numpy"))
        hint = GRAPH_HINT if graph else failure.hint
        raise CheckFailed(failure.headline, failure.details, hint) from None
    mismatch = compare(ours["loss"], theirs["loss"], cases.FIT_TOL, name="loss per epoch")
    for name, got, wanted in zip(WEIGHT_NAMES, ours["weights"], theirs["weights"], strict=True):
        mismatch = mismatch or compare(got, wanted, cases.FIT_TOL, name=name)
    if mismatch:
        fail(
            "A model with your Conv2D does not train like the same model with keras.layers.Conv2D.",
            mismatch.lines,
            case=case,
            mistake=_diagnose_layer(Conv2D),
            hint="model.fit differentiates your layer through its custom gradient, as the test "
            "above does: make that one pass first",
        )
    passed(
        f"model.fit trains your Conv2D like keras.layers.Conv2D, losses and weights within "
        f"the tolerance (loss {ours['loss'][0]:.4f} -> {ours['loss'][-1]:.4f})"
    )
