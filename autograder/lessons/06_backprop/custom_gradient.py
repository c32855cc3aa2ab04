"""Checks of lesson 06's Conv2D layer with a custom gradient, and of model.fit training it."""

import numpy as np

from ...builtin_ops import DIFFERENTIATION_OPS
from ...compare import compare
from ...diagnosis import DIAGNOSIS_TOLERANCE, Diagnosis
from ...feedback import CheckFailed, fail, passed
from ...harness import ops
from ...mismatch_figure import weight_axes
from ...oracles import correlate
from ...student import perform
from ...twin import Twin
from . import cases
from . import mistakes as catalogue
from .rules import BACKPROP, RULES, TRAINING

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
    """The layer's output and gradients through `ops.backward_probe`."""
    try:
        what = f"the gradient through {call}"
        args = (layer, x, g, "conv2d_backward", factors, DIFFERENTIATION_OPS)
        return perform(what, "backward_probe", *args, forbidden=BACKPROP, case=case)
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
        found = _probe(layer, "Conv2D", x, upstream, (1.0, 1.0, 1.0), "")
        # Every catalogued mistake of the layer is in its backward pass: a layer whose output
        # is wrong (no activation at all, say, whose gradients are those of an activation
        # inside the custom gradient) is named none of them.
        forward = np.tanh(correlate(p["x"], p["kernel"]) + p["bias"])
        if compare(found["output"], forward, DIAGNOSIS_TOLERANCE):
            return None
        return _gradient(found, part)

    return output


LAYER_DIAGNOSES = tuple(
    Diagnosis(catalogue.layer_probes, variants, _layer_on_probe(part))
    for part, variants in catalogue.LAYER_VARIANTS.items()
)


def _diagnose_layer(Conv2D):
    return next(filter(None, (diagnose(Conv2D) for diagnose in LAYER_DIAGNOSES)), None)


def check_conv2d_custom_gradient(Conv2D, hidden=False):
    """Output and gradients equal keras.layers.Conv2D's, and follow conv2d_backward's results
    when it is made to return them times FACTORS."""
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
                mismatch,
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
            if wanted is not None and got is None:
                _lost_on_second_call(call, part, case)
            if wanted is not None and compare(got, factor * np.asarray(wanted), cases.LAYER_TOL):
                inside = _inside(spied, np.shape(wanted)) if part == "bias" else True
                _not_scaled(call, part, factor, spied["custom"] and inside, case)
    passed(
        f"Conv2D's gradients come from conv2d_backward and match keras.layers.Conv2D in "
        f"{len(table)} cases"
    )


def _not_called(call, custom, case):
    """Fail: conv2d_backward never ran; `custom`: a backward function of the student's own
    ran instead (else TensorFlow differentiated the layer)."""
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


def _lost_on_second_call(call, part, case):
    """Fail: a weight's gradient reached it on the first call (checked before) but not on the
    next: call() kept a tensor made from the weight once, which no longer depends on it."""
    fail(
        f"{call}'s gradient with respect to its {part} is lost after the first call.",
        [
            f"called again, the layer gave no gradient with respect to self.{part}: call() "
            "uses a tensor it made from the weight before, which no longer depends on it"
        ],
        case=case,
        hint=f"read the weight in call() every time: {part} = ops.copy(self.{part})",
    )


def _inside(found, shape):
    """Whether a function decorated with custom_gradient took a tensor of `shape` (the bias's):
    the bias was added inside it."""
    return any(tuple(s) == tuple(shape) for call in found["custom_inputs"] for s in call)


def _not_scaled(call, part, factor, custom, case):
    """Fail: the gradient with respect to `part` did not follow conv2d_backward's results.
    `custom`: a backward function of the student's ran (and, for the bias, took the bias)."""
    lines = [
        f"when conv2d_backward's results were multiplied by {FACTORS}, the gradient with "
        f"respect to {part} should have been {factor:g} times larger; it was not"
    ]
    mistake = catalogue.BIAS_OUTSIDE if part == "bias" else catalogue.AUTODIFF
    if custom:  # a backward function ran: this is not automatic differentiation
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
        mismatch = compare(
            got,
            np.asarray(wanted),
            cases.LAYER_TOL,
            name=f"d loss / d {part}",
            axes=weight_axes(part, np.shape(wanted)),
        )
        if mismatch:
            fail(
                f"{call}'s gradient with respect to its {part} differs from keras.layers.Conv2D's.",
                mismatch,
                case=case,
                mistake=_diagnose_layer(Conv2D),
                hint=RULES[rule],
            )


GRAPH_HINT = (
    "during model.fit the backward pass runs in a TensorFlow graph, where tensors have no "
    "values yet: compute conv2d_backward with keras.ops (NumPy cannot read them there)"
)
DTYPE_HINT = (
    "TensorFlow needs each gradient in the dtype of the tensor it belongs to (float32 here): "
    "return conv2d_backward's results in the dtype of x, e.g. ops.cast(grad_x, x.dtype), even "
    "when you compute in float64 inside"
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


def _dtypes_mixed(failure):
    """Whether fit failed because a float64 gradient met float32 tensors (a conv2d_backward
    computed in float64 and not cast back: eager gradients let it through, a graph does not)."""
    words = failure.headline
    return ("float64" in words and "float32" in words) or ("double" in words and "float" in words)


def check_conv2d_trains(Conv2D):
    """Two of the layers in a model trained by model.fit (the backward pass runs in a graph):
    the same losses and final weights as with keras.layers.Conv2D."""
    x, y, weights = cases.training_data()
    args = ((None, *cases.TRAIN_SHAPE[1:]), x, y, "mse")
    # Plain SGD from the same weights, batches in order: both models take the same steps.
    kwargs = {"learning_rate": 0.05, "epochs": 2, "batch_size": 8, "weights": weights}
    kwargs.update(optimizer="sgd", shuffle=False)
    case = (
        "Conv2D(3, 3, activation='tanh'), Conv2D(4, (3, 2), activation='tanh'), Flatten, "
        f"Dense(1) on inputs {cases.TRAIN_SHAPE}: mean squared error, SGD(learning_rate=0.05), "
        "2 epochs of 5 batches (the last of 4, so the batch size is None inside call()), the "
        "same starting weights"
    )
    theirs = ops.fit(_train_spec(("keras", "Conv2D")), *args, **kwargs)
    try:
        what = "keras.Model.fit with two of your Conv2D layers"
        spec = _train_spec((Conv2D,))
        ours = perform(what, "fit", spec, *args, forbidden=TRAINING, case=case, **kwargs)
    except CheckFailed as failure:
        graph = any(word in failure.headline for word in ("symbolic", "NumPy", "numpy"))
        hint = GRAPH_HINT if graph else DTYPE_HINT if _dtypes_mixed(failure) else failure.hint
        raise CheckFailed(failure.headline, failure.details, hint) from None
    mismatch = compare(ours["loss"], theirs["loss"], cases.FIT_TOL, name="loss per epoch")
    for name, got, wanted in zip(WEIGHT_NAMES, ours["weights"], theirs["weights"], strict=True):
        mismatch = mismatch or compare(
            got, wanted, cases.FIT_TOL, name=name, axes=weight_axes(name, np.shape(wanted))
        )
    if mismatch:
        fail(
            "A model with your Conv2D does not train like the same model with keras.layers.Conv2D.",
            mismatch,
            case=case,
            mistake=_diagnose_layer(Conv2D),
            hint="model.fit differentiates your layer through its custom gradient, as the test "
            "above does: make that one pass first",
        )
    passed(
        f"model.fit trains your Conv2D like keras.layers.Conv2D, losses and weights within "
        f"the tolerance (loss {ours['loss'][0]:.4f} -> {ours['loss'][-1]:.4f})"
    )
