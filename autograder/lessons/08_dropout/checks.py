"""Checks of lesson 08 (dropout), called from the notebook's test cells; SpatialDropout2D's
are in `spatial_dropout.py` and re-exported.

Dropout is random, so a check is either exact, holding for every draw (each value 0 or
x / (1 - rate); the inputs unchanged at inference; the mask's gradient; a mask constant where
noise_shape has a 1; the same masks for the same seed), or statistical: exact binomial bands
and coincidence probabilities that a correct layer fails with probability at most
`statistics.FALSE_FAILURE` (1e-9) per check call, whatever the seed. Inputs never hold a zero
(|x| in [0.5, 2]), so a zero in an output is a dropped value.
"""

from functools import partial

import numpy as np

from ... import statistics
from ...compare import compare, to_numpy
from ...contract import describe_call
from ...diagnosis import Diagnosis
from ...feedback import CheckFailed, fail, passed
from ...harness import cases as drawn
from . import cases, forbidden, layer_contract, reading
from . import mistakes as catalogue
from .forbidden import DROPOUT  # noqa: F401  (the tests read it here)
from .reading import probe_output as _probe_output  # noqa: F401  (the tests read it here)
from .spatial_dropout import (  # noqa: F401  (the notebook calls them here)
    check_spatial_dropout_contract,
    check_spatial_dropout_maps,
)

SHAPE_WORDS = "the mask's shape: mask_shape(input_shape, noise_shape)"
RATE_ONE_HINT = "rate=1 drops everything: return zeros"


DIAGNOSE_DROPOUT = Diagnosis(
    catalogue.dropout_probes, catalogue.DROPOUT_VARIANTS, reading.probe_output, catalogue.usable
)


def check_mask_shape(mask_shape, hidden=False):
    """The mask's shape: the input's shape, or noise_shape with None entries filled in."""
    table = cases.mask_shape_cases(hidden)
    wrong, as_input = [], []  # as_input: whether each answer with a noise_shape is the input's
    lists = []  # (call, answer): right sizes in a list, where the exercise asks for a tuple
    for shape, noise in table:
        call = f"mask_shape({shape}, {noise})"
        got = forbidden.run("mask_shape", mask_shape, shape, noise, case=call)
        expected = cases.expected_mask_shape(shape, noise)
        if type(got) is list:
            lists.append((call, got))
        if noise is not None:
            as_input.append(reading.as_shape(got) == tuple(shape))
        if reading.as_shape(got) != expected:
            wrong.append((call, got, expected, shape, noise))
    if wrong:
        call, got, expected, shape, noise = wrong[0]
        details = [
            f"{len(wrong)} of {len(table)} cases are wrong; first: {call} returned {got!r}, "
            f"expected {expected}",
            "rule: noise_shape None -> the input's shape; else noise_shape with each None "
            "replaced by the input's size on that axis",
        ]
        # every answer the input's shape, whatever noise_shape says
        mistake = catalogue.NOISE_SHAPE_IGNORED if as_input and all(as_input) else None
        details += [mistake.feedback()] if mistake else []
        raise CheckFailed("mask_shape gives the wrong shape.", details, mistake=mistake)
    if lists:
        call, got = lists[0]
        fail(f"{call} returned the list {got!r}; expected a tuple.",
             [f"{len(lists)} of {len(table)} answers are lists; the sizes are right"],
             hint="return a tuple, as the exercise asks (a shape in Keras is a tuple): "
             "tuple(...) around the list")  # fmt: skip
    if hidden:
        _check_traced_mask_shape(mask_shape)
    passed(f"mask_shape is right on {len(table)} cases")


def _traced(shape) -> tuple:
    """A mask shape found in a compiled function, its unknown sizes (None) shown as tensors."""
    return tuple("a tensor" if v is None else v for v in shape)


def _check_traced_mask_shape(mask_shape):
    """Inside a compiled function the batch size of ops.shape(inputs) is a tensor: mask_shape
    passes it on (the exercise says so)."""
    for shape, noise in cases.TRACED_MASK_SHAPE_CASES:
        call = f"mask_shape(ops.shape(inputs), {noise})"
        case = (f"{call} inside a tf.function, inputs of shape {(None, *shape[1:])}: "
                "ops.shape(inputs)[0] is a scalar tensor")  # fmt: skip
        got = forbidden.perform(call, "traced_mask_shape", mask_shape, shape, noise, case=case)
        expected = cases.expected_mask_shape((None, *shape[1:]), noise)
        if tuple(got) != expected:
            fail(f"{call} gives {_traced(got)} inside a compiled function; expected "
                 f"{_traced(expected)}.",
                 case=case, hint="pass an entry of input_shape on as it is, tensor or "
                 "int")  # fmt: skip


def check_dropout_contract(Dropout):
    """Constructor, refusal of invalid rates, config and output shapes behave like Keras's."""
    keys = ("rate", "noise_shape", "seed")
    passed_line = "Dropout has Keras's arguments, refuses invalid rates, keeps shapes and config"
    layer_contract.contract("Dropout", keys, cases.CONTRACT_SETUPS, keys, cases.CONTRACT_SHAPES,
                            (None, 5, 3), passed_line)(Dropout)  # fmt: skip


def check_dropout_inference(Dropout):
    """At inference (training False or not given, also in a tf.function) the inputs come back."""
    x = cases.inputs((6, 50), 41)
    layer_contract.check_identity(Dropout, x, 0.4, DIAGNOSE_DROPOUT)
    passed("Dropout returns its inputs unchanged at inference (training None or False)")


def check_dropout_kept_values(Dropout, hidden=False):
    """While training each value is 0 or x / (1 - rate); rate=0 keeps all, rate=1 drops all."""
    table = cases.pick(cases.KEPT_CASES, hidden, cases.draw_kept_case)
    for index, (shape, rate, seed) in enumerate(table):
        x, call, case, out = reading.training_call(Dropout, shape, rate, seed or 50 + index)
        out = reading.finite(out, x, call, case, lambda: DIAGNOSE_DROPOUT(Dropout), RATE_ONE_HINT)
        if rate == 1:
            expected, rule = np.zeros(shape), "rate=1 drops every value: all zeros"
        elif rate == 0:
            expected, rule = x.astype(np.float64), "rate=0 drops nothing: the inputs unchanged"
        else:
            expected = np.where(out != 0, x / (1 - rate), 0.0)
            rule = f"a kept value is x / (1 - rate) = x / {1 - rate:g}; a dropped one is 0"
        mismatch = compare(out, expected, cases.KEPT_TOL)
        if mismatch:
            kept = f"{int((out != 0).sum())} of {out.size} values kept (rate={rate})"
            fail(f"{call} gives values that are neither 0 nor x / (1 - rate).",
                 [kept, *mismatch.lines], case=case, mistake=DIAGNOSE_DROPOUT(Dropout),
                 hint=rule, picture=mismatch.picture)  # fmt: skip
        reading.require_some_kept_and_dropped(out, rate, call, case)
    passed(f"Dropout keeps values as x / (1 - rate) and zeroes the others on {len(table)} cases")


def check_dropout_keep_rate(Dropout, hidden=False):
    """The fraction of kept values is 1 - rate, within an exact binomial band that a correct
    layer leaves with probability at most 1e-9 (for the whole check)."""
    table = cases.pick(cases.RATE_CASES, hidden, cases.draw_rate_case)
    delta = statistics.FALSE_FAILURE / len(table)
    for index, (shape, rate, seed) in enumerate(table):
        x, call, case, out = reading.training_call(Dropout, shape, rate, seed or 60 + index)
        out = reading.as_array(out, x, call, case)
        n, count = out.size, int(np.count_nonzero(out))
        low, high = statistics.count_band(n, 1 - rate, delta)
        if not low <= count <= high:
            fail(f"{call} keeps {count / n:.1%} of the values; it should keep 1 - rate = "
                 f"{1 - rate:.0%}.",
                 [f"kept {count} of {n}; a correct layer keeps between {low} and {high} "
                  f"(it falls outside with probability below {delta:.0e}: exact binomial "
                  "tails)"],
                 case=case, mistake=DIAGNOSE_DROPOUT(Dropout),
                 hint="keep a value when keras.random.uniform(...) >= rate")  # fmt: skip
    passed(f"Dropout keeps a fraction 1 - rate of the values on {len(table)} cases "
           f"(false-failure probability below {statistics.FALSE_FAILURE:.0e})")  # fmt: skip


def check_dropout_fresh_masks(Dropout):
    """Each call draws a new mask, and each sample of a batch gets its own."""
    rate, shape, calls = 0.3, (8, 300), 3
    x = cases.inputs(shape, 71)
    seed = cases.layer_seed(71)
    call = describe_call("Dropout", (rate,), {"seed": seed})
    case = f"{call} called {calls} times on the same inputs {shape}, training=True"
    layer = forbidden.layer(Dropout, (rate,), {"seed": seed})
    masks = []
    for _ in range(calls):
        out = forbidden.run(call, layer, x, case=case, training=True)
        out = reading.as_array(out, x, call, case)
        reading.require_some_kept_and_dropped(out, rate, call, case)
        masks.append(out != 0)
    # A correct layer fails below with probability <= 3 * 0.58**2400 (two calls alike) plus
    # 28 * 0.58**300 (two samples alike): far below 1e-9.
    for pair, first, where, size, hint in (
        (reading.first_equal_pair(masks), 1, "at calls {} and {}", x.size,
         "every call must draw a new mask: keras.random.uniform(shape, "
         "seed=self.seed_generator)"),
        (reading.first_equal_pair(masks[0]), 0, "in samples {} and {} of one batch", shape[1],
         "draw one decision per value of the whole batch: the mask's first axis is the batch "
         "size"),
    ):  # fmt: skip
        if pair is not None:
            fail(f"{call} drops the same values {where.format(*(i + first for i in pair))}.",
                 [f"two independent masks of {size} values agree with probability "
                  + reading.agreement(1 - rate, size)],
                 case=case, mistake=DIAGNOSE_DROPOUT(Dropout), hint=hint)  # fmt: skip
    passed("Dropout draws a new mask at every call and for every sample")


def _two_layers(Dropout, rate, kwargs, x):
    """(call, first output, second output) of two fresh layers, each called once training."""
    call = describe_call("Dropout", (rate,), kwargs)
    pair = [forbidden.layer(Dropout, (rate,), kwargs) for _ in range(2)]
    outputs = [forbidden.run(call, p, x, case=f"two layers {call}", training=True) for p in pair]
    return call, *outputs


def check_dropout_seed(Dropout):
    """Equal seeds draw equal sequences of masks; another seed, or none, draws others."""
    rate, shape, calls = 0.4, (4, 250), 3
    x = cases.inputs(shape, 81)
    seed = cases.layer_seed(81)
    twins = [forbidden.layer(Dropout, (rate,), {"seed": seed}) for _ in range(2)]
    other = forbidden.layer(Dropout, (rate,), {"seed": seed + 1})
    call = describe_call("Dropout", (rate,), {"seed": seed})
    case = f"two layers {call}, each called {calls} times on the same inputs {shape}"
    for step in range(1, calls + 1):
        first, second = (forbidden.run(call, t, x, case=case, training=True) for t in twins)
        mismatch = compare(second, to_numpy(first), cases.SEED_TOL)
        if mismatch:
            fail(f"Two layers {call} draw different masks at call {step}.", mismatch,
                 case=case, mistake=DIAGNOSE_DROPOUT(Dropout),
                 hint="create self.seed_generator = keras.random.SeedGenerator(seed) in "
                 "__init__ and draw with seed=self.seed_generator")  # fmt: skip
    zero, first, second = _two_layers(Dropout, rate, {"seed": 0}, x)
    mismatch = compare(second, to_numpy(first), cases.SEED_TOL)
    if mismatch:
        fail(f"Two layers {zero} draw different masks.", mismatch, case=f"two layers {zero}",
             hint="0 is a seed like any other: pass the seed as given to "
             "keras.random.SeedGenerator(seed) (test `seed is None`, not `not seed`)")  # fmt: skip
    unseeded, first, second = _two_layers(Dropout, rate, {}, x)
    # Two unseeded layers agree on all 1000 decisions with probability 0.52**1000.
    if np.array_equal(to_numpy(first) != 0, to_numpy(second) != 0):
        fail(f"Two layers {unseeded} draw the same mask.", case=f"two layers {unseeded}",
             mistake=DIAGNOSE_DROPOUT(Dropout),
             hint="with seed=None, pass None on to keras.random.SeedGenerator(seed), which "
             "then starts from a random state: a fixed default seed makes every unseeded "
             "layer drop the same values")  # fmt: skip
    mine = forbidden.run(call, twins[0], x, case=case, training=True)
    theirs = forbidden.run(f"Dropout({rate}, seed={seed + 1})", other, x, case=case, training=True)
    # Different seeds agree on all 1000 decisions with probability 0.52**1000.
    if np.array_equal(to_numpy(mine) != 0, to_numpy(theirs) != 0):
        fail(f"Dropout layers with seeds {seed} and {seed + 1} draw the same mask.", case=case,
             mistake=catalogue.SEED_IGNORED,
             hint="pass the constructor's seed to keras.random.SeedGenerator(seed)")  # fmt: skip
    passed("the same seed gives the same sequence of masks; another seed gives others")


def check_dropout_noise_shape(Dropout, hidden=False):
    """The mask is shared along the axes where noise_shape is 1, drawn anew along the others."""
    table = cases.pick(cases.NOISE_CASES, hidden, cases.draw_noise_case)
    delta = statistics.FALSE_FAILURE / (2 * len(table))
    for index, (shape, noise, rate, seed) in enumerate(table):
        kwargs = {"noise_shape": noise}
        x, call, case, out = reading.training_call(Dropout, shape, rate, seed or 90 + index, kwargs)
        out = reading.finite(out, x, call, case)
        wanted = cases.expected_mask_shape(shape, noise)
        reading.require_some_kept_and_dropped(out, rate, call, case, int(np.prod(wanted)),
                                              partial(DIAGNOSE_DROPOUT, Dropout))  # fmt: skip
        mask = out != 0
        entries = noise or (None,) * len(shape)  # noise_shape None: one decision per value
        has_none = "is None" if noise is None else "has None"
        for axis, (size, entry) in enumerate(zip(shape, wanted, strict=True)):
            if size > 1 and entry == 1 and not catalogue.constant_along(mask, axis):
                fail(f"{call} drops different values along axis {axis}, where noise_shape "
                     "has 1.",
                     [f"mask shape: {wanted} = {SHAPE_WORDS}",
                      "a 1 in noise_shape shares one decision along the whole axis"],
                     case=case, mistake=DIAGNOSE_DROPOUT(Dropout),
                     hint="draw the mask with shape mask_shape(ops.shape(inputs), "
                     "self.noise_shape) and let ops.where or * broadcast it")  # fmt: skip
            bound = cases.vary_bound(1 - rate, wanted, axis)
            if size > 1 and entries[axis] is None and bound <= delta and (
                catalogue.constant_along(mask, axis)
            ):  # fmt: skip
                fail(f"{call} drops the same values all along axis {axis}, where noise_shape "
                     f"{has_none}.",
                     [f"mask shape: {wanted} = {SHAPE_WORDS}",
                      f"a correct layer does this with probability {reading.chance(bound)}"],
                     case=case, mistake=DIAGNOSE_DROPOUT(Dropout),
                     hint="None in noise_shape takes the input's size on that axis: one "
                     "decision per position along it")  # fmt: skip
    passed(f"Dropout follows noise_shape on {len(table)} cases")


def check_dropout_gradient(Dropout):
    """While training the gradient is the mask's, scaled like the kept values (0 at rate=1)."""
    for shape, noise, rate, seed in cases.GRADIENT_CASES:
        x = cases.inputs(shape, seed)
        upstream = np.random.default_rng(drawn.seed(seed)).normal(size=shape).astype("float32")
        kwargs = reading.layer_kwargs(noise, cases.layer_seed(seed))
        call = describe_call("Dropout", (rate,), kwargs)
        case = f"{call} on inputs {shape}, training=True, loss sum(out * upstream)"
        layer = forbidden.layer(Dropout, (rate,), kwargs)
        what = f"the gradient through {call}"
        result = forbidden.perform(what, "gradients", layer, x, upstream=upstream, training=True)
        gradient = result["inputs"]
        if gradient is None and rate == 1:  # the output does not depend on the inputs
            gradient = np.zeros(shape)
        if gradient is None:
            fail(f"No gradient flows back through {call}.",
                 ["the output does not depend on the inputs through operations TensorFlow can "
                  "differentiate"],
                 hint="compute call() with keras.ops; converting to NumPy cuts the "
                 "gradient")  # fmt: skip
        diagnose = lambda: DIAGNOSE_DROPOUT(Dropout)  # noqa: E731
        out = reading.finite(
            result["output"], x, call, case, diagnose, RATE_ONE_HINT if rate == 1 else ""
        )
        scale = 1.0 / (1.0 - rate) if rate < 1 else 0.0
        expected = upstream * np.where(out != 0, scale, 0.0)  # no input is 0: a kept value isn't
        mismatch = compare(gradient, expected, cases.GRADIENT_TOL, name="d loss / d inputs")
        if mismatch:
            fail(f"The gradient through {call} is not 1 / (1 - rate) where a value was kept "
                 "and 0 where it was dropped.", mismatch, case=case, mistake=diagnose(),
                 hint=f"{RATE_ONE_HINT}, before any division by 1 - rate = 0 (ops.where's "
                 "gradient still multiplies the branch it drops: 0 * inf is NaN)" if rate == 1
                 else "scale the kept values by 1 / (1 - rate) and build the output from the "
                 "inputs with keras.ops (ops.where, *), the mask a constant")  # fmt: skip
    passed(
        "the gradient is 1 / (1 - rate) where your layer kept a value and 0 where it dropped one"
    )


def _masks_differ(outputs, x, rate, call, case, what, Dropout):
    masks = []
    for out in outputs:
        out = reading.finite(out, x, call, case, what=f" {what}")
        reading.require_some_kept_and_dropped(out, rate, call, case)
        masks.append(out != 0)
    # Two independent masks of >= 1280 decisions at rate 0.35 agree with prob <= 0.545**1280.
    pair = reading.first_equal_pair(masks)
    if pair is not None:
        fail(f"{call} drops the same values at steps {pair[0] + 1} and {pair[1] + 1} {what}.",
             case=case, mistake=DIAGNOSE_DROPOUT(Dropout),
             hint="draw the mask with keras.random so that it is an op of the traced graph "
             "and draws anew at every step")  # fmt: skip


def _performed(Dropout, notes, what, op, *args, **kwargs):
    """perform(...); its failure gains the lines `notes` and the likely mistake."""
    try:
        return forbidden.perform(what, op, *args, **kwargs)
    except CheckFailed as failure:
        fail(failure.headline, [*failure.details, *notes], mistake=DIAGNOSE_DROPOUT(Dropout),
             hint=failure.hint)  # fmt: skip


def check_dropout_compiled(Dropout):
    """Each step of a tf.function traced for any batch size, and of model.fit, draws a new mask."""
    rate, seed = 0.35, cases.layer_seed(111)
    x = cases.inputs((8, 200), 111)
    call = describe_call("Dropout", (rate,), {"seed": seed})
    layer = forbidden.layer(Dropout, (rate,), {"seed": seed})
    case = f"{call} inside tf.function(input_signature=[TensorSpec((None, 200))]), 3 calls"
    outputs = _performed(Dropout, ["the batch size is unknown while tracing"],
                         f"{call} inside a tf.function", "repeated_calls", layer, x, times=3,
                         training=True, compiled=True, batch_known=False, case=case)  # fmt: skip
    _masks_differ(outputs, x, rate, call, case, "inside a tf.function", Dropout)

    data = cases.inputs((32, 40), 112)
    targets = np.random.default_rng(drawn.seed(113)).normal(size=(32, 1)).astype("float32")
    spec = [(Dropout, (rate,), {"seed": seed}), ("keras", "Dense", (1,), {})]
    fit_case = f"keras.Model.fit of [{call}, Dense(1)] on inputs (32, 40), one step per epoch"
    result = _performed(Dropout, [], "keras.Model.fit with your Dropout", "fit_recording", spec,
                        (None, 40), data, targets, "mse", watch=0, epochs=3,
                        seed=drawn.seed(0), case=fit_case)  # fmt: skip
    if not np.isfinite(result["loss"]).all():
        fail("The loss of a model with your Dropout is not finite.",
             [f"losses: {result['loss']}"], case=fit_case)  # fmt: skip
    _masks_differ(result["recorded"], data, rate, call, fit_case, "of model.fit", Dropout)
    passed("Dropout draws a new mask at every step of a tf.function and of model.fit")
