"""Does a student layer train? Its gradients against Keras's, and a small model that learns.

Shared by the lessons' `check_*_trains`. The student's side runs as operations (in the
student's kernel or the grading sandbox); what comes back is data (gradients, a loss curve)
that the check judges here.
"""

from collections.abc import Callable

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
    upstream=None,
    training: bool | None = None,
    inputs: Callable[[dict, dict], None] | None = None,
    mistake: Callable[[], object] | None = None,
) -> dict:
    """The gradients of mean((layer(x) - target)^2) with respect to the weights equal those
    of `keras_layer` (which holds the same weights); return the student's gradients
    ({"output", "inputs", "weights"}).

    Optional: with `upstream` (and `target` None) the loss is sum(layer(x) * upstream);
    `training` is passed to both layers' calls; `inputs(ours, theirs)` checks the gradients
    with respect to the inputs first (a lesson's own messages); `mistake()` may name a
    catalogued mistake when a weight's gradient differs.
    """
    name = name or label(layer)
    given = {k: v for k, v in (("upstream", upstream), ("training", training)) if v is not None}
    ours = perform(
        f"the gradient of a loss through {name}",
        "gradients",
        layer,
        x,
        target=target,
        forbidden=forbidden,
        **given,
    )
    theirs = ops.gradients(keras_layer, x, target=target, **given)
    if inputs is not None:
        inputs(ours, theirs)
    for weight, expected in theirs["weights"].items():
        got = ours["weights"].get(weight)
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
            found = mistake() if mistake is not None else None
            fail(
                f"The gradient with respect to {name}.{weight} differs from Keras's.",
                mismatch.lines,
                case=case,
                mistake=found,
            )
    return ours


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
