"""Does a student layer train? Its gradients against Keras's, and a small model that learns.

Shared by the lessons' `check_*_trains`. The student's side runs as operations (in the
student's kernel or the grading sandbox); what comes back is data (gradients, a loss curve)
that the check judges here.
"""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .compare import Tolerance, compare
from .feedback import CheckFailed, fail, passed
from .guard import ForbiddenOps
from .harness import cases, ops
from .mismatch_figure import weight_axes
from .student import label, perform

GRADIENT_HINT = (
    "compute call() with keras.ops on the inputs and self.kernel / self.bias; "
    "converting to NumPy inside call() cuts the gradient"
)


@dataclass(frozen=True)
class GradientFeedback:
    """What `check_gradients` says; each text is formatted with the layer's `name` and the
    `weight` (the weight's short name, or "inputs"). `missing_inputs` (default: `missing`) is
    the headline when no gradient reaches the inputs; with `with_case`, the case is named
    also when the backward pass fails or a gradient is missing."""

    running: str = "the gradient of a loss through {name}"
    missing: str = "No gradient reaches {name}.{weight}."
    missing_inputs: str = ""
    why: str = (
        "the loss does not depend on this weight through operations TensorFlow can differentiate"
    )
    hint: str = GRADIENT_HINT
    differs: str = "The gradient with respect to {name}.{weight} differs from Keras's."
    with_case: bool = False
    diagnose_missing: bool = False  # name the likely mistake when a gradient is missing too
    wrong_shape: str = "{name} gives an output of the wrong shape: its gradients cannot be found."


def check_gradients(
    layer,
    keras_layer,
    x,
    target,
    tolerance: Tolerance,
    case: str,
    *,
    forbidden: ForbiddenOps,
    name: str | None = None,
    inputs: bool | Callable[[dict, dict], None] = False,
    allow_in_backward: tuple = (),
    feedback: GradientFeedback = GradientFeedback(),
    diagnose: Callable[[], object] | None = None,
    upstream=None,
    training: bool | None = None,
) -> dict:
    """The gradients of mean((layer(x) - target)^2) with respect to the weights equal those
    of `keras_layer` (which holds the same weights); return the student's gradients
    ({"output", "inputs", "weights"}).

    Optional: `inputs=True` compares the gradient with respect to the inputs too, as one
    more weight; `inputs(ours, theirs)` checks it first with a lesson's own messages;
    `allow_in_backward` names forbidden functions the backward pass may call; `diagnose()`
    may name the catalogued mistake behind a gradient that differs; with `upstream` (and
    `target` None) the loss is sum(layer(x) * upstream); `training` is passed to both
    layers' calls.
    """
    name = name or label(layer)
    given = {k: v for k, v in (("upstream", upstream), ("training", training)) if v is not None}
    with output_shape_first(
        feedback.running.format(name=name),
        layer,
        keras_layer,
        x,
        case,
        feedback.wrong_shape.format(name=name),
        forbidden=forbidden,
        training=training,
    ):
        found = perform(
            feedback.running.format(name=name),
            "gradients",
            layer,
            x,
            target=target,
            allow_in_backward=allow_in_backward,
            forbidden=forbidden,
            case=case if feedback.with_case else "",
            **given,
        )
    expected = ops.gradients(keras_layer, x, target=target, **given)
    if callable(inputs):
        inputs(found, expected)
    ours, theirs = found["weights"], expected["weights"]
    if inputs is True:
        ours, theirs = {"inputs": found["inputs"], **ours}, {"inputs": expected["inputs"], **theirs}
    named = [f"case: {case}"] if feedback.with_case else []
    for weight, value in theirs.items():
        got = ours.get(weight)
        if got is None:
            missing = (weight == "inputs" and feedback.missing_inputs) or feedback.missing
            named_mistake = diagnose() if diagnose and feedback.diagnose_missing else None
            fail(
                missing.format(name=name, weight=weight),
                [*named, feedback.why],
                named_mistake,
                feedback.hint,
            )
        mismatch = compare(
            got,
            np.asarray(value),
            tolerance,
            name=f"d loss / d {weight}",
            axes=weight_axes(weight, np.shape(value)),
        )
        if mismatch:
            mistake = diagnose() if diagnose is not None else None
            fail(
                feedback.differs.format(name=name, weight=weight),
                mismatch,
                case=case,
                mistake=mistake,
            )
    return found


@contextmanager
def output_shape_first(what, layer, keras_layer, x, case, headline, *, forbidden, training=None):
    """Around a backward pass of `layer` that may fail: when it fails and the layer's output
    has another shape than `keras_layer`'s (the loss cannot be formed), fail on the shape
    instead, with the picture of the two outputs, not with the error it led to. Costs a
    forward pass of each layer, only when the student's code raised an error (not for a stub,
    a forbidden call or code stopped for running out of time)."""
    try:
        yield
    except CheckFailed as failure:
        if not failure.headline.startswith(f"{what} raised "):
            raise
        kwargs = {} if training is None else {"training": training}
        try:
            output = perform(what, "call", layer, x, forbidden=forbidden, **kwargs)
        except CheckFailed:
            raise failure from None
        expected = np.asarray(ops.call(keras_layer, x, **kwargs))
        mismatch = compare(output, expected, Tolerance(0.0, 0.0))
        if mismatch is None or mismatch.kind != "shape":
            raise
        fail(headline, mismatch, case=case)


def input_gradient(layer, x, upstream):
    """d sum(layer(x) * upstream) / dx of a layer here (Keras's), with TensorFlow's GradientTape."""
    return ops.gradients(layer, x, upstream=upstream)["inputs"]


def check_input_gradient(
    call: str,
    layer,
    keras_layer,
    x,
    upstream,
    tolerance: Tolerance,
    rule: str,
    diagnose=None,
    *,
    forbidden: ForbiddenOps,
    allow_in_backward=(),
) -> None:
    """The student's `layer` passes back the same input gradient of sum(output * upstream) as
    `keras_layer`; `rule` (the hint) says how it should flow, `diagnose()` may name a mistake;
    `allow_in_backward` names forbidden functions TensorFlow may use to differentiate."""
    what = f"the gradient through {call}"
    headline = f"{call} gives an output of the wrong shape: its gradients cannot be found."
    case = f"weighted sum of the outputs, inputs {x.shape}"
    with output_shape_first(what, layer, keras_layer, x, case, headline, forbidden=forbidden):
        got = perform(what, "gradients", layer, x, upstream=upstream, forbidden=forbidden,
                      allow_in_backward=allow_in_backward)["inputs"]  # fmt: skip
    if got is None:
        raise CheckFailed(
            f"No gradient flows back through {call}.",
            [
                "the output does not depend on the inputs through operations TensorFlow can "
                "differentiate"
            ],
            "compute call() with keras.ops; converting to NumPy inside call() cuts the gradient",
        )
    expected = np.asarray(input_gradient(keras_layer, x, upstream))
    mismatch = compare(got, expected, tolerance, name="d loss / d inputs")
    if mismatch:
        fail(
            f"The gradient through {call} differs from Keras's.",
            mismatch,
            case=f"weighted sum of the outputs, inputs {x.shape}",
            mistake=diagnose() if diagnose is not None else None,
            hint=rule,
        )


def fit_losses(
    what: str,
    spec: list,
    input_shape: tuple,
    x,
    y,
    loss: str,
    epochs: int,
    batch_size: int,
    *,
    forbidden: ForbiddenOps,
    learning_rate: float = 0.02,
) -> list[float]:
    """The loss per epoch of the model of `spec` (see `harness.ops`) trained with Adam."""
    try:
        result = perform(
            what,
            "fit",
            spec,
            input_shape,
            x,
            y,
            loss,
            learning_rate=learning_rate,
            epochs=epochs,
            batch_size=batch_size,
            seed=cases.seed(0),
            forbidden=forbidden,
        )
    except CheckFailed as failure:
        if "is incompatible with the layer" not in failure.headline:
            raise
        # Keras built the layers after the student's from its compute_output_shape; call()
        # then gave them tensors of another shape.
        raise CheckFailed(
            failure.headline,
            failure.details,
            "Keras builds the layers after yours from the shape your compute_output_shape "
            "gives: it must be the shape call() returns",
        ) from None
    return [float(v) for v in result["loss"]]


def require_learning(losses: list[float], headline: str, factor: float = 0.8) -> None:
    """The loss must fall to `factor` of its first value (or lower) by the last epoch."""
    if not (np.isfinite(losses[-1]) and losses[-1] < factor * losses[0]):
        raise CheckFailed(
            headline,
            [
                f"loss went from {losses[0]:.3f} to {losses[-1]:.3f} in {len(losses)} epochs; "
                f"expected a drop of at least {1 - factor:.0%}"
            ],
        )


def require_trains(
    what: str,
    spec: list,
    input_shape: tuple,
    x,
    y,
    *,
    epochs: int,
    batch_size: int,
    forbidden: ForbiddenOps,
    headline: str,
    name: str,
) -> None:
    """A binary classifier of `spec` must learn (see `require_learning`); passes as `name`."""
    shape, loss = input_shape, "binary_crossentropy"
    losses = fit_losses(what, spec, shape, x, y, loss, epochs, batch_size, forbidden=forbidden)
    require_learning(losses, headline)
    passed(f"{name} trains: gradients match Keras, loss {losses[0]:.3f} -> {losses[-1]:.3f}")
