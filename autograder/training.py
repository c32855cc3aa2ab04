"""Does a student layer train? Its gradients against Keras's, and a small model that learns.

Shared by the lessons' `check_*_trains`. The student's side runs as operations (in the
student's kernel or the grading sandbox); what comes back is data (gradients, a loss curve)
that the check judges here.
"""

import numpy as np

from .compare import Tolerance, compare
from .feedback import CheckFailed, fail
from .guard import ForbiddenOps
from .harness import cases, ops
from .student import label, perform

GRADIENT_HINT = (
    "compute call() with keras.ops on the inputs and self.kernel / self.bias; "
    "converting to NumPy inside call() cuts the gradient"
)


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
) -> None:
    """The gradients of mean((layer(x) - target)^2) with respect to the weights equal those
    of `keras_layer` (which holds the same weights)."""
    name = name or label(layer)
    ours = perform(
        f"the gradient of a loss through {name}",
        "gradients",
        layer,
        x,
        target=target,
        forbidden=forbidden,
    )["weights"]
    theirs = ops.gradients(keras_layer, x, target=target)["weights"]
    for weight, expected in theirs.items():
        got = ours.get(weight)
        if got is None:
            raise CheckFailed(
                f"No gradient reaches {name}.{weight}.",
                [
                    "the loss does not depend on this weight through operations TensorFlow can "
                    "differentiate"
                ],
                GRADIENT_HINT,
            )
        mismatch = compare(got, np.asarray(expected), tolerance, name=f"d loss / d {weight}")
        if mismatch:
            raise CheckFailed(
                f"The gradient with respect to {name}.{weight} differs from Keras's.",
                [f"case: {case}", *mismatch.lines],
            )


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
) -> None:
    """The student's `layer` passes back the same input gradient of sum(output * upstream) as
    `keras_layer`; `rule` (the hint) says how it should flow, `diagnose()` may name a mistake."""
    got = perform(
        f"the gradient through {call}",
        "gradients",
        layer,
        x,
        upstream=upstream,
        forbidden=forbidden,
    )["inputs"]
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
            mismatch.lines,
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
