"""A student layer and its Keras namesake, built alike with the same weights, and the check
every lesson with a layer declares: its outputs equal Keras's.

A lesson says what is its own (the layer's name in `keras.layers`, how each weight's shape is
formed, the cases, the tolerance, the catalogue); `MatchesKeras` builds both layers for each
case, copies the case's weights into both, calls both and compares.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from .compare import Tolerance
from .contract import assign_weights, build_layer, describe_call, make_layer
from .diagnosis import Diagnosis
from .guard import ForbiddenOps
from .harness import ops
from .judge import Case, Compare
from .student import error_hint, run
from .training import check_gradients


@dataclass(frozen=True)
class Twin:
    """The student's layer class and `keras.layers.<keras>`, constructed with the same
    arguments and holding the same weights.

    `how` explains each weight's shape as a formula, for feedback ({"kernel": "(kh, kw, input
    channels, filters)"}); `shape_mistake(input_shape)` may give a function that names a
    catalogued mistake for a wrong weight shape (see `contract.expect_weights`);
    `check_trainable=False` leaves the weights' trainability to the contract (a frozen layer
    has no trainable weight, and some weights are never trainable).
    """

    keras: str
    how: dict[str, str] = field(default_factory=dict)
    shape_mistake: Callable | None = None
    check_trainable: bool = True

    def student(self, cls, args, kwargs, input_shape, values=None, *, forbidden: ForbiddenOps):
        """The student's layer, built for `input_shape` (batch size left free), with `values`
        ({weight name: array}) copied in after checking names and shapes."""
        layer = make_layer(cls, tuple(args), dict(kwargs), forbidden=forbidden)
        build_layer(layer, (None, *input_shape[1:]), forbidden=forbidden)
        if values:
            mistake = self.shape_mistake(input_shape) if self.shape_mistake else None
            how = {k: v for k, v in self.how.items() if k in values}
            trainable = {} if self.check_trainable else {"non_trainable": None}
            assign_weights(
                layer, values, how=how, shape_mistake=mistake, forbidden=forbidden, **trainable
            )
        return layer

    def reference(self, args, kwargs, input_shape, values=None):
        """Keras's layer, built the same way, with the same weights."""
        import keras

        layer = getattr(keras.layers, self.keras)(*args, **kwargs)
        layer.build((None, *input_shape[1:]))
        if values:
            ops.assign(layer, values)
        return layer

    def output(self, cls, args, kwargs, inputs, values=None, *, forbidden: ForbiddenOps, **call):
        """The student's layer (built by `student`, holding `values`) called on `inputs`; `call`
        holds `case` (the line describing the inputs) and the call's keyword arguments."""
        layer = self.student(cls, args, kwargs, inputs.shape, values, forbidden=forbidden)
        return run(self.keras, layer, inputs, forbidden=forbidden, **call)

    def check_gradients(self, cls, case, target, tolerance, text, *, forbidden, **options):
        """`training.check_gradients` on the student's layer and Keras's, built alike from the
        `LayerCase` `case`; the student's is first called on the inputs, so that an error in
        its forward pass is named as one. `options` go to `check_gradients` (`name`: the
        Keras name unless given)."""
        shape, values = case.inputs.shape, case.weights
        ours = self.student(cls, case.args, case.layer_kwargs, shape, values, forbidden=forbidden)
        theirs = self.reference(case.args, case.layer_kwargs, shape, values)
        run(self.keras, ours, case.inputs, forbidden=forbidden, case=text)
        options = {"name": self.keras, **options}
        check_gradients(
            ours, theirs, case.inputs, target, tolerance, text, forbidden=forbidden, **options
        )

    def call(self, args=(), kwargs=None) -> str:
        """`Conv2D(4, 3, activation='relu')`, for feedback."""
        return describe_call(self.keras, tuple(args), kwargs or {})


@dataclass(frozen=True)
class LayerCase(Case):
    """A case of a layer check: the constructor's arguments, the inputs and the weights.

    `args` are the constructor's positional arguments; `inputs` what the layer is called on;
    `expected` is left None and computed by Keras's layer, or given for what Keras lacks.
    """

    layer_kwargs: dict = field(default_factory=dict)
    inputs: np.ndarray | None = None
    weights: dict = field(default_factory=dict)
    call_kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MatchesKeras(Compare):
    """On every case, the student's layer gives Keras's output with the same weights (or the
    case's own `expected`, where it carries one)."""

    twin: Twin | None = None

    @property
    def keras_name(self) -> str:
        return self.twin.keras

    def run(self, student, case: LayerCase):
        layer = self.twin.student(
            student,
            case.args,
            case.layer_kwargs,
            case.inputs.shape,
            case.weights,
            forbidden=self.forbidden,
        )
        with error_hint(case.error_hint):
            return run(
                self.what,
                layer,
                case.inputs,
                case=case.text,
                forbidden=self.forbidden,
                **case.call_kwargs,
            )

    def judge(self, student, case: LayerCase, output) -> None:
        if case.expected is None:  # else an answer Keras cannot give (padding="full", say)
            reference = self.twin.reference(
                case.args, case.layer_kwargs, case.inputs.shape, case.weights
            )
            expected = np.asarray(reference(case.inputs, **case.call_kwargs))
            case = _with_expected(case, expected)
        super().judge(student, case, output)


def _with_expected(case: LayerCase, expected) -> LayerCase:
    from dataclasses import replace

    return replace(case, expected=expected)


def matches_keras(
    what: str,
    twin: Twin,
    cases: Callable[[bool], Iterable[LayerCase]],
    tolerance: Tolerance,
    forbidden: ForbiddenOps,
    diagnosis: Diagnosis | None = None,
    **kwargs,
) -> MatchesKeras:
    """The check that `what` matches `keras.layers.<twin.keras>` on `cases`, with the usual
    headline and OK line."""
    keras_name = f"keras.layers.{twin.keras}"
    return MatchesKeras(
        what=what,
        cases=cases,
        tolerance=tolerance,
        forbidden=forbidden,
        headline=kwargs.pop(
            "headline", f"{what} does not match {keras_name} with the same weights."
        ),
        passed=kwargs.pop("passed", f"{what} matches {keras_name} on {{count}} cases"),
        diagnosis=diagnosis,
        twin=twin,
        **kwargs,
    )
