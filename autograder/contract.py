"""The Keras layer contract: what makes a student layer a drop-in for its Keras namesake.

Helpers shared by every lesson's checks: construct and build a student layer with readable
feedback, find and copy its weights, compare its constructor with Keras's, round-trip its
config. They touch the student's layer only through operations (`autograder.student`), so
they work on a local layer and on one in the grading sandbox alike.
"""

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from .compare import Tolerance, compare
from .feedback import CheckFailed, fail, passed
from .guard import ForbiddenOps
from .harness import cases as drawn
from .student import NOT_IMPLEMENTED_HINT, Raised, label, perform, run


def describe_call(name: str, args: tuple = (), kwargs: dict | None = None) -> str:
    """`Conv2D(4, 3, activation='relu')`, for feedback."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def make_layer(cls, args=(), kwargs=None, *, forbidden: ForbiddenOps):
    """Instantiate the student's layer class, turning errors into feedback."""
    kwargs = kwargs or {}
    call = describe_call(label(cls), args, kwargs)
    return run(f"{call}", cls, *args, forbidden=forbidden, **kwargs)


def build_layer(layer, input_shape, *, forbidden: ForbiddenOps):
    """Build the layer for `input_shape`, turning errors into feedback."""
    run(
        f"{label(layer)}.build{tuple(input_shape)}",
        layer.build,
        tuple(input_shape),
        forbidden=forbidden,
    )
    return layer


def weights_by_name(layer, *, forbidden: ForbiddenOps) -> dict[str, dict]:
    """The layer's weights keyed by their short name ("kernel", "bias", ...): each a dict of
    its "shape", "dtype" and "trainable"."""
    infos = perform(f"{label(layer)}.weights", "weights", layer, forbidden=forbidden)
    return {info["name"]: info for info in infos}


def expect_weights(
    layer,
    expected: dict[str, tuple],
    how: dict[str, str] | None = None,
    shape_mistake: Callable | None = None,
    *,
    forbidden: ForbiddenOps,
    non_trainable: Iterable[str] | None = (),
) -> dict:
    """Check the layer has exactly the weights `expected` (name -> shape), trainable except
    those named in `non_trainable`, as Keras's layer tests count them; return them by name.
    With `non_trainable=None` trainability is not checked (a frozen layer's weights are all
    non-trainable, and a check of values need not repeat the contract's).

    `how` explains each expected shape as a formula, e.g. {"kernel": "(kh, kw, channels, filters)"}.
    `shape_mistake(name, found, expected)` may name a catalogued mistake for a wrong shape.
    """
    how = how or {}
    found = weights_by_name(layer, forbidden=forbidden)
    name = label(layer)
    listing = ", ".join(f"{k} {tuple(w['shape'])}" for k, w in found.items()) or "none"
    missing = [k for k in expected if k not in found]
    extra = [k for k in found if k not in expected]
    if missing or extra:
        details = [f"your weights: {listing}"]
        details.append("expected: " + ", ".join(f"{k} {v}" for k, v in expected.items()))
        hint = (
            "create each weight in build() with self.add_weight(name=..., shape=..., "
            "initializer=...), using exactly the names Keras uses"
        )
        if missing:
            return _fail(
                f"{name} has no weight named {', '.join(map(repr, missing))}.", details, hint
            )
        return _fail(
            f"{name} has unexpected weight(s) {', '.join(map(repr, extra))}.", details, hint
        )
    for key, shape in expected.items():
        actual = tuple(found[key]["shape"])
        if actual != tuple(shape):
            details = [
                f"expected {key} shape {tuple(shape)}" + (f" = {how[key]}" if key in how else "")
            ]
            mistake = shape_mistake(key, actual, tuple(shape)) if shape_mistake else None
            details += [mistake.feedback()] if mistake else []
            _fail(f"{name}.{key} has shape {actual}.", details, mistake=mistake)
    if non_trainable is None:
        return found
    frozen = set(non_trainable)
    for key in expected:
        if found[key]["trainable"] == (key in frozen):
            kind = "trainable" if key in frozen else "not trainable"
            _fail(
                f"{name}.{key} is {kind}.",
                [f"Keras's layer makes {key} {'non-' if key in frozen else ''}trainable"],
                "create it with self.add_weight(..., trainable="
                f"{key not in frozen}) (the default is trainable=True)",
            )
    return found


def _fail(headline, details, hint="", mistake=None):
    raise CheckFailed(headline, details, hint, mistake=mistake)


def assign_weights(
    layer, values: dict[str, np.ndarray], *, forbidden: ForbiddenOps, **expect_kw
) -> None:
    """Copy `values` (name -> array) into the student's layer after checking names and shapes."""
    expect_weights(layer, {k: v.shape for k, v in values.items()}, forbidden=forbidden, **expect_kw)
    perform(f"{label(layer)} weights.assign", "assign", layer, values, forbidden=forbidden)


EMPTY = "<empty>"


def student_signature(cls, *, forbidden: ForbiddenOps) -> dict[str, object]:
    """{argument name: default (or EMPTY)} of the student class's constructor."""
    try:
        params = perform(f"{label(cls)}.__init__", "signature", cls, forbidden=forbidden)
    except CheckFailed:
        _fail(f"cannot read the signature of {label(cls)}.__init__.", [])
    return {name: default for name, _kind, default in params}


def check_signature(cls, keras_cls, names: Iterable[str], *, forbidden: ForbiddenOps) -> None:
    """The constructor takes the arguments `names` with Keras's defaults, in Keras's order."""
    ours = student_signature(cls, forbidden=forbidden)
    theirs = {
        name: EMPTY if p.default is p.empty else p.default
        for name, p in inspect.signature(keras_cls.__init__).parameters.items()
    }
    problems = []
    for name in names:
        if name not in ours:
            problems.append(f"argument {name!r} is missing (Keras: {name}={theirs[name]!r})")
        elif ours[name] != theirs[name]:
            problems.append(
                f"argument {name!r} defaults to {ours[name]!r}; Keras's default is {theirs[name]!r}"
            )
    keras_order = [n for n in theirs if n in names]
    our_order = [n for n in ours if n in names]
    if not problems and our_order != keras_order:
        problems.append(f"arguments come in the order {our_order}; Keras's order is {keras_order}")
    if "kwargs" not in ours:
        problems.append(
            "**kwargs is missing (Keras layers pass name=, dtype=, ... to the base class)"
        )
    if problems:
        _fail(f"{label(cls)} is not a drop-in for keras.layers.{keras_cls.__name__}.", problems)


def check_config_roundtrip(layer, keys: Iterable[str], *, forbidden: ForbiddenOps) -> None:
    """get_config() holds `keys`, and from_config(get_config()) rebuilds an equal config: the
    same keys with the same values, as Keras's layer tests require of every config."""
    name = label(layer)
    config = run(f"{name}.get_config()", layer.get_config, forbidden=forbidden)
    if not isinstance(config, dict):
        _fail(f"{name}.get_config() returned {type(config).__name__}; expected a dict.", [])
    keys = tuple(keys)
    missing = [k for k in keys if k not in config]
    if missing:
        _fail(
            f"{name}.get_config() lacks {', '.join(map(repr, missing))}.",
            [f"your config keys: {sorted(config)}"],
            "return {**super().get_config(), 'filters': self.filters, ...} with every "
            "constructor argument",
        )
    both = perform(
        f"{name}.from_config({name}.get_config())", "config_roundtrip", layer, forbidden=forbidden
    )
    config, again = both["config"], both["again"]
    for key in [*keys, *sorted(set(config) - set(keys)), *sorted(set(again) - set(config))]:
        if key not in again or key not in config or again[key] != config[key]:
            before = repr(config[key]) if key in config else "missing"
            after = repr(again[key]) if key in again else "missing"
            _fail(
                f"{name}.from_config(layer.get_config()) does not give the same layer.",
                [f"{key}: {before} before, {after} after"],
            )


# A None in a shape is a size not known yet (the batch; the height and width of a model built
# for images of any size); arithmetic on it raises TypeError.
NONE_SIZE = (
    "None in a shape is a size not known yet: compute an output size only from a known input "
    "size, and give None where the input size is None"
)


def check_output_shape(
    layer, input_shape, expected, formula: str = "", *, forbidden: ForbiddenOps
) -> None:
    """compute_output_shape(input_shape) == expected (with None for unknown sizes)."""
    name = label(layer)
    try:
        shape = run(
            f"{name}.compute_output_shape({tuple(input_shape)})",
            layer.compute_output_shape,
            tuple(input_shape),
            forbidden=forbidden,
        )
    except Raised as failure:
        if "NoneType" not in failure.headline or None not in tuple(input_shape):
            raise
        raise Raised(failure.headline, failure.details, f"{NONE_SIZE}; {failure.hint}") from None
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        _fail(
            f"{name}.compute_output_shape returned {shape!r}; expected a tuple like {expected}.", []
        )
    if shape != tuple(expected):
        details = [f"input shape {tuple(input_shape)}"]
        if formula:
            details.append(f"formula: {formula}")
        _fail(f"{name}.compute_output_shape gives {shape}; expected {tuple(expected)}.", details)


@dataclass(frozen=True)
class Build:
    """A construction the contract checks: `cls(*args, **kwargs)` built for `input_shape` has
    exactly `weights` ({name: shape}), trainable except those named in `non_trainable`."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    input_shape: tuple = ()
    weights: dict = field(default_factory=dict)
    non_trainable: tuple = ()


# Each weight's constraint in WeightArguments (cycled): its argument and the class it makes.
CONSTRAINTS = (("non_neg", "NonNeg"), ("unit_norm", "UnitNorm"), ("max_norm", "MaxNorm"))


def _constraint(number: int) -> tuple[str, str]:
    """(argument, class name) of the constraint WeightArguments gives weight `number` (from 1)."""
    return CONSTRAINTS[(number - 1) % len(CONSTRAINTS)]


@dataclass(frozen=True)
class WeightArguments:
    """A construction whose weights must take the initializer, regularizer and constraint given
    for each: `cls(*args, **kwargs)` with, for weight number i (from 1) named w (of `weights`,
    {name: shape}), w_initializer=Constant(i), w_regularizer=L2(i / 2) and the i-th constraint
    of `CONSTRAINTS` (cycled), built for `input_shape`: each weight's arguments differ, so
    one weight's given to another shows. `prefixes` ({weight: prefix}) names a weight's
    arguments where Keras names them otherwise (DepthwiseConv2D's `kernel` takes
    depthwise_initializer).
    `mistake` is the catalogued mistake named when they do not."""

    args: tuple
    input_shape: tuple
    weights: dict
    kwargs: dict = field(default_factory=dict)
    mistake: object | None = None
    prefixes: dict = field(default_factory=dict)

    def prefix(self, weight: str) -> str:
        """What the constructor's arguments for `weight` start with."""
        return self.prefixes.get(weight, weight)

    def arguments(self) -> tuple[dict, str]:
        """(constructor keyword arguments, the same as text for feedback)."""
        import keras

        kwargs = dict(self.kwargs)
        text = [*map(repr, self.args), *(f"{k}={v!r}" for k, v in self.kwargs.items())]
        for number, key in enumerate(map(self.prefix, self.weights), 1):
            kwargs[f"{key}_initializer"] = keras.initializers.Constant(float(number))
            constraint = _constraint(number)[0]
            kwargs[f"{key}_regularizer"] = keras.regularizers.L2(number / 2)
            kwargs[f"{key}_constraint"] = constraint
            text += [
                f"{key}_initializer=Constant({number})",
                f"{key}_regularizer=L2({number / 2})",
                f"{key}_constraint={constraint!r}",
            ]
        return kwargs, ", ".join(text)

    def __call__(self, cls, what: str, *, forbidden: ForbiddenOps, how=None) -> None:
        """Fail unless the initializers, regularizers and constraints reach the weights."""
        kwargs, text = self.arguments()
        layer = make_layer(cls, self.args, kwargs, forbidden=forbidden)
        build_layer(layer, (None, *self.input_shape[1:]), forbidden=forbidden)
        expect_weights(layer, self.weights, how=how, forbidden=forbidden, non_trainable=None)
        name = label(layer)
        values = perform(f"{name}.weights", "weight_values", layer, forbidden=forbidden)
        constraints = perform(f"{name}.weights", "weight_constraints", layer, forbidden=forbidden)
        problems = []
        for number, key in enumerate(self.weights, 1):
            prefix = self.prefix(key)
            if not np.allclose(values[key], number):
                problems.append(
                    f"{prefix}_initializer is ignored: {key} does not start at {number}"
                )
            wanted = _constraint(number)[1]
            if constraints[key] is None:
                problems.append(f"{prefix}_constraint is ignored: {key} has no constraint")
            elif constraints[key] != wanted:
                problems.append(
                    f"{prefix}_constraint does not reach {key}: it has {constraints[key]}, "
                    f"expected {wanted}"
                )
        losses = perform(f"{name}.losses", "value", layer.losses, forbidden=forbidden)
        first, *others = map(self.prefix, self.weights)
        regularizers = " and ".join(f"{key}_regularizer" for key in (first, *others))
        if len(losses) != len(self.weights):
            problems.append(
                f"{regularizers} should add {len(self.weights)} loss(es); the layer has "
                f"{len(losses)}"
            )
        else:
            # L2(number / 2) on each weight's own values (right or not: the initializers are
            # judged above)
            expected = sorted(
                number / 2 * float(np.sum(np.square(values[key])))
                for number, key in enumerate(self.weights, 1)
            )
            got = sorted(float(np.asarray(loss)) for loss in losses)
            if not np.allclose(got, expected, rtol=1e-4):
                problems.append(
                    f"{regularizers} do not each reach their own weight: the losses are "
                    f"{[round(v, 4) for v in got]}; expected {[round(v, 4) for v in expected]}"
                )
        if problems:
            also = " and ".join(f"the {key}'s" for key in others)
            fail(
                f"{what} does not create its weights with the arguments it was given.",
                problems,
                case=f"{what}({text}) built for inputs {tuple(self.input_shape)}",
                mistake=self.mistake,
                hint=f"pass initializer=self.{first}_initializer, "
                f"regularizer=self.{first}_regularizer and constraint=self.{first}_constraint "
                f"(and {also}) to self.add_weight",
            )


UNKNOWN_BATCH = (
    "model.fit calls a layer inside a traced tf.function, where tensors have no values yet and "
    "the batch size is None: use keras.ops throughout (no NumPy, no Python if on a tensor's "
    "value: ops.where or ops.cond), and take the batch size from ops.shape(inputs)[0], or avoid "
    "it (keepdims=, -1 in a reshape), not from inputs.shape[0]"
)


# A traced call is judged only on whether it runs: a built-in it calls is for the checks that
# compare outputs to refuse, not a second time here.
UNGUARDED = ForbiddenOps("nothing", (), "")


RESIZED = (
    "a built layer takes inputs of any size, as Keras's does: work everything out in call() "
    "from the inputs it is given, and keep nothing on self from an earlier call (sizes, "
    "padding, counts)"
)
# The same code on the same inputs and weights.
SAME_CODE = Tolerance(1e-6, 1e-6, "one layer's code on the same inputs and weights, run twice")


@dataclass(frozen=True)
class Contract:
    """What makes the student's layer a drop-in for `keras.layers.<keras>`, declared:

    - `arguments`: the constructor takes them with Keras's defaults, in Keras's order;
    - `builds`: layers built from these arguments have exactly the listed weights (`how`
      explains each shape as a formula, `shape_mistake(input_shape)` may name a mistake);
    - `output_shapes`: for each (args, kwargs), `compute_output_shape` of each input shape
      equals Keras's (`formula` is shown when it does not);
    - `config`: (args, kwargs, keys): get_config holds the keys and round-trips;
    - `symbolic`: (args, kwargs, input shape): called on a `keras.Input` it gives Keras's shape,
      and it runs when called as model.fit calls it, inside a tf.function traced for an unknown
      batch size (a symbolic call does not run `call` when the layer defines
      `compute_output_shape`); `traced`: more such set-ups, traced only;
    - `weight_arguments`: a `WeightArguments` construction, after the builds: the
      initializers, regularizers and constraints given to the constructor reach the weights;
    - `extra`: the lesson's own steps, called with the class, between builds and shapes;
    - `each(layer, args, kwargs)`: the lesson's own step on each layer of `output_shapes`,
      before its shapes; `output_shape(args, kwargs, input_shape)`: the expected shape where
      Keras cannot give it; a failure of either step names the layer (`describe_layer`)
      and the mistake `diagnosis(cls)` finds, when they are given.
    - `resized`: (args, kwargs, input shapes): one layer called on inputs of each shape in
      turn gives on the last what a new layer with its weights gives on its first call, as
      Keras's layers do (call() keeps nothing from an earlier call: sizes, padding, counts);
    - `passed`: the OK line, or None to print none (a check made of several contracts).
    """

    what: str
    keras: str
    arguments: tuple
    forbidden: ForbiddenOps
    builds: tuple = ()
    how: dict = field(default_factory=dict)
    shape_mistake: Callable | None = None
    output_shapes: tuple = ()
    formula: str = ""
    config: tuple | None = None
    symbolic: tuple | None = None
    symbolic_hint: str = ""
    traced: tuple = ()
    resized: tuple | None = None
    weight_arguments: WeightArguments | None = None
    extra: Callable | None = None
    passed: str | None = "{what} has Keras's arguments, weights, output shape and config"
    each: Callable | None = None
    output_shape: Callable | None = None
    describe_layer: bool = False
    diagnosis: Callable | None = None

    def keras_layer(self, args, kwargs):
        import keras

        return getattr(keras.layers, self.keras)(*args, **kwargs)

    def expected_shape(self, args, kwargs, input_shape) -> tuple:
        if self.output_shape is not None:
            return tuple(self.output_shape(args, kwargs, tuple(input_shape)))
        return tuple(self.keras_layer(args, kwargs).compute_output_shape(tuple(input_shape)))

    def _check_shapes(self, cls, args, kwargs, shapes) -> None:
        forbidden = self.forbidden
        layer = make_layer(cls, args, kwargs, forbidden=forbidden)
        build_layer(layer, (None, *shapes[0][1:]), forbidden=forbidden)
        try:
            if self.each is not None:
                self.each(layer, args, kwargs)
            for shape in shapes:
                expected = self.expected_shape(args, kwargs, shape)
                check_output_shape(layer, shape, expected, self.formula, forbidden=forbidden)
        except CheckFailed as failure:
            if not (self.describe_layer or self.diagnosis):
                raise
            layer_line = f"layer: {describe_call(self.what, args, kwargs)}"
            details = [layer_line] if self.describe_layer else []
            mistake = self.diagnosis(cls) if self.diagnosis is not None else None
            details += [*failure.details, *([mistake.feedback()] if mistake else [])]
            raise CheckFailed(
                failure.headline, details, failure.hint, mistake=mistake, folds=failure.folds
            ) from None

    def __call__(self, cls) -> None:
        import keras

        forbidden = self.forbidden
        check_signature(cls, getattr(keras.layers, self.keras), self.arguments, forbidden=forbidden)
        for build in self.builds:
            layer = make_layer(cls, build.args, build.kwargs, forbidden=forbidden)
            build_layer(layer, (None, *build.input_shape[1:]), forbidden=forbidden)
            mistake = self.shape_mistake(build.input_shape) if self.shape_mistake else None
            expect_weights(
                layer,
                build.weights,
                how={k: v for k, v in self.how.items() if k in build.weights},
                shape_mistake=mistake,
                forbidden=forbidden,
                non_trainable=build.non_trainable,
            )
        if self.weight_arguments is not None:
            self.weight_arguments(cls, self.what, forbidden=forbidden, how=self.how)
        if self.extra is not None:
            self.extra(cls)
        for args, kwargs, shapes in self.output_shapes:
            self._check_shapes(cls, args, kwargs, shapes)
        if self.config is not None:
            args, kwargs, keys = self.config
            layer = make_layer(cls, args, kwargs, forbidden=forbidden)
            check_config_roundtrip(layer, keys, forbidden=forbidden)
        if self.symbolic is not None:
            self._check_symbolic(cls, *self.symbolic)
        traced = ((self.symbolic,) if self.symbolic is not None else ()) + tuple(self.traced)
        for setup in traced:
            self._check_traced(cls, *setup)
        if self.resized is not None:
            self._check_resized(cls, *self.resized)
        if self.passed is not None:  # None: a check that runs several contracts says OK once
            passed(self.passed.format(what=self.what))

    def _check_traced(self, cls, args, kwargs, input_shape) -> None:
        """The layer runs when called as model.fit calls it: inside a tf.function traced for
        `input_shape` with the batch size unknown. A layer that fails there is called once more,
        directly: what fails both ways (an error in `call`, an unfinished `call`) is left to the
        checks that compare outputs; only what runs directly but not traced fails here."""
        call = describe_call(self.what, args, kwargs)
        layer = make_layer(cls, args, kwargs, forbidden=self.forbidden)
        shape = (None, *input_shape[1:])
        case = f"{call} inside a tf.function traced for inputs of shape {shape}, as model.fit does"
        try:
            perform(call, "traced_output_shape", layer, shape, forbidden=UNGUARDED, case=case)
            return
        except Raised as failure:
            traced = failure
        except CheckFailed as failure:
            if failure.hint != NOT_IMPLEMENTED_HINT:
                raise
            traced = None  # the placeholder: unfinished, unless it runs directly
        x = np.zeros((2, *input_shape[1:]), np.float32)
        fresh = make_layer(cls, args, kwargs, forbidden=self.forbidden)  # built outside a trace
        try:
            run(call, fresh, x, forbidden=UNGUARDED)
        except CheckFailed:
            return
        if traced is None:
            raise Raised(
                f"{call} raised NotImplementedError inside a tf.function, yet runs when called "
                "directly.",
                [f"case: {case}", UNKNOWN_BATCH],
                "the layer must run the same way in both: model.fit calls it only traced",
            )
        raise Raised(traced.headline, [*traced.details, UNKNOWN_BATCH], traced.hint) from None

    def _check_symbolic(self, cls, args, kwargs, input_shape) -> None:
        call = describe_call(self.what, args, kwargs)
        shape = tuple(input_shape[1:])
        symbolic = perform(
            f"{call} on a symbolic keras.Input({shape})",
            "symbolic_output",
            cls,
            tuple(input_shape),
            tuple(args),
            dict(kwargs),
            forbidden=self.forbidden,
        )
        expected = self.expected_shape(args, kwargs, input_shape)
        if tuple(symbolic.shape) != expected:
            details = [f"formula: {self.formula}"] if self.formula else []
            _fail(
                f"{call} on keras.Input({shape}) gives shape {tuple(symbolic.shape)}; "
                f"expected {expected}.",
                details,
                self.symbolic_hint,
            )

    def _check_resized(self, cls, args, kwargs, shapes) -> None:
        forbidden, call = self.forbidden, describe_call(self.what, args, kwargs)
        inputs = [drawn.normal(shape, 700 + number) for number, shape in enumerate(shapes)]
        case = f"one {call} called on inputs {' then '.join(map(str, map(tuple, shapes)))}"
        layer, new = (make_layer(cls, args, kwargs, forbidden=forbidden) for _ in range(2))
        try:  # what fails on an input of any size is left to the checks of outputs
            run(call, layer, inputs[0], forbidden=forbidden, case=case)
            values = perform(f"{call}.weights", "weight_values", layer, forbidden=forbidden)
            build_layer(new, (None, *shapes[-1][1:]), forbidden=forbidden)
            if values:
                perform(f"{call} weights.assign", "assign", new, values, forbidden=forbidden)
            first = run(call, new, inputs[-1], forbidden=forbidden, case=case)
        except CheckFailed:
            return
        try:
            for x in inputs[1:]:
                again = run(call, layer, x, forbidden=forbidden, case=case)
        except CheckFailed as failure:
            raise CheckFailed(failure.headline, [*failure.details, RESIZED], failure.hint) from None
        mismatch = compare(again, first, SAME_CODE, name="output of the last call")
        if mismatch:
            fail(
                f"{call} called on inputs of another size gives another output than a new "
                "layer with the same weights.",
                mismatch,
                case=case,
                hint=RESIZED,
            )
