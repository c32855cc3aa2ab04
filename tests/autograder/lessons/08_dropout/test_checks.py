"""Lesson 08's checks pass every correct implementation, whatever the seed, and their
statistical tolerances are what they claim.

The implementations below are written independently of solutions/, in the styles students
use: a float mask multiplied in (`uniform < 1 - rate`), a binomial draw, `ops.where` on a
boolean mask, a SpatialDropout2D that draws its own (batch, 1, 1, channels) mask. Keras's own
layers pass the checks too (with the guard lifted), which shows that the checks ask for what
Keras does. A correct layer must never fail a statistical check by bad luck: each band is an
exact binomial quantile whose tail mass is tested here, and the checks run over many fresh
seeds.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from autograder import lessons, statistics
from autograder.checks import dropout as checks
from autograder.feedback import CheckFailed
from autograder.guard import ForbiddenOps, forbid
from autograder.harness import cases
from autograder.harness.student_errors import error_message
from solutions.dropout import Dropout as ReferenceDropout
from solutions.dropout import SpatialDropout2D as ReferenceSpatialDropout2D
from solutions.dropout import mask_shape as reference_mask_shape

lesson_cases = lessons.module("08_dropout", "cases")
forbidden = lessons.module("08_dropout", "forbidden")

# --- independent mask_shape ----------------------------------------------------------------------


def mask_shape_loop(input_shape, noise_shape):
    shape = list(input_shape)
    if noise_shape is not None:
        for axis, entry in enumerate(noise_shape):
            if entry is not None:
                shape[axis] = entry
    return tuple(shape)


def mask_shape_numpy_entries(input_shape, noise_shape):
    """Returns NumPy integers where it fills in a size: whole numbers all the same."""
    if noise_shape is None:
        return tuple(input_shape)
    return tuple(
        size if wanted is None else np.int64(wanted)
        for size, wanted in zip(input_shape, noise_shape, strict=True)
    )


def mask_shape_numpy(input_shape, noise_shape):
    """Right on int sizes, but np.array cannot hold the scalar tensor that ops.shape gives for
    the batch size inside a compiled function, which the exercise says to pass on."""
    sizes = np.array(input_shape)
    if noise_shape is None:
        return tuple(sizes)
    given = np.array([-1 if n is None else n for n in noise_shape])
    return tuple(np.where(given < 0, sizes, given))


MASK_SHAPES = [reference_mask_shape, mask_shape_loop, mask_shape_numpy_entries]

# --- independent layers --------------------------------------------------------------------------


def _refuse(rate):
    if not 0 <= rate <= 1:
        raise ValueError(f"`rate` must be in [0, 1]. Received: rate={rate}")


class MultiplyDropout(keras.layers.Layer):
    """A float mask `uniform < 1 - rate`, multiplied in, times 1 / (1 - rate); Keras's
    default training=False."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _refuse(rate)
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        if self.rate >= 1:
            return inputs * 0.0
        shape = list(ops.shape(inputs))
        for axis, entry in enumerate(self.noise_shape or ()):
            if entry is not None:
                shape[axis] = entry
        draws = keras.random.uniform(shape, seed=self.generator)
        mask = ops.cast(draws < 1.0 - self.rate, inputs.dtype)
        return inputs * mask * (1.0 / (1.0 - self.rate))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }


class FloorDropout(MultiplyDropout):
    """The old tf.nn.dropout recipe: floor(keep + uniform) is 1 with probability keep; the
    inputs are divided by keep first, then multiplied by that mask (the gradient check sees
    the division as the scale)."""

    def call(self, inputs, training=False):
        if not training:
            return inputs
        keep = 1.0 - self.rate
        if keep <= 0:
            return ops.zeros_like(inputs)
        noise = self.noise_shape or (None,) * inputs.ndim
        shape = [n if m is None else m for n, m in zip(ops.shape(inputs), noise, strict=True)]
        binary = ops.floor(keep + keras.random.uniform(shape, seed=self.generator))
        return ops.divide(inputs, keep) * ops.cast(binary, inputs.dtype)


class BinomialDropout(keras.layers.Layer):
    """A Bernoulli mask from keras.random.binomial, applied with ops.where."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _refuse(rate)
        self.rate = float(rate)
        self.noise_shape = noise_shape if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if training is None or not training or self.rate == 0.0:
            return inputs
        if self.rate == 1.0:
            return ops.zeros_like(inputs)
        shape = ops.shape(inputs)
        if self.noise_shape is not None:
            pairs = zip(shape, self.noise_shape, strict=True)
            shape = tuple(s if n is None else n for s, n in pairs)
        keep = keras.random.binomial(shape, 1, 1.0 - self.rate, seed=self.seed_generator)
        return ops.where(keep > 0.5, inputs / (1.0 - self.rate), 0.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


class OwnSpatialDropout2D(keras.layers.Layer):
    """Draws its own (batch, 1, 1, channels) or (batch, channels, 1, 1) mask."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _refuse(rate)
        self.rate, self.seed = rate, seed
        self.data_format = data_format or keras.config.image_data_format()
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"Unknown data_format: {data_format!r}")
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        batch = ops.shape(inputs)[0]
        if self.data_format == "channels_first":
            shape = (batch, ops.shape(inputs)[1], 1, 1)
        else:
            shape = (batch, 1, 1, ops.shape(inputs)[3])
        keep = keras.random.uniform(shape, seed=self.generator) >= self.rate
        return ops.where(keep, inputs * (1 / (1 - self.rate)), ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "data_format": self.data_format,
        }


class BinomialSpatialDropout2D(BinomialDropout):
    """Spatial dropout as BinomialDropout with a noise_shape."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        fmt = data_format or "channels_last"
        if fmt not in {"channels_last", "channels_first"}:
            raise ValueError(f"data_format must be channels_last or channels_first, not {fmt}")
        noise = (None, 1, 1, None) if fmt == "channels_last" else (None, None, 1, 1)
        super().__init__(rate, noise_shape=noise, seed=seed, **kwargs)
        self.data_format = fmt

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        return {**config, "data_format": self.data_format}


for cls, name in (
    (MultiplyDropout, "Dropout"),
    (BinomialDropout, "Dropout"),
    (OwnSpatialDropout2D, "SpatialDropout2D"),
    (BinomialSpatialDropout2D, "SpatialDropout2D"),
):
    cls.__name__ = name

DROPOUTS = [ReferenceDropout, MultiplyDropout, BinomialDropout, FloorDropout]
SPATIALS = [ReferenceSpatialDropout2D, OwnSpatialDropout2D, BinomialSpatialDropout2D]
STYLES = ["reference", "multiply", "binomial", "floor"]


def _all_dropout_checks(cls):
    checks.check_dropout_contract(cls)
    checks.check_dropout_inference(cls)
    for hidden in (False, True):
        checks.check_dropout_kept_values(cls, hidden=hidden)
        checks.check_dropout_keep_rate(cls, hidden=hidden)
        checks.check_dropout_noise_shape(cls, hidden=hidden)
    checks.check_dropout_fresh_masks(cls)
    checks.check_dropout_seed(cls)
    checks.check_dropout_gradient(cls)
    checks.check_dropout_compiled(cls)


def _all_spatial_checks(cls):
    checks.check_spatial_dropout_contract(cls)
    checks.check_spatial_dropout_maps(cls)
    checks.check_spatial_dropout_maps(cls, hidden=True)


@pytest.mark.parametrize("fn", MASK_SHAPES, ids=lambda f: f.__name__)
def test_mask_shape_checks_pass_correct_code(fn):
    checks.check_mask_shape(fn)
    checks.check_mask_shape(fn, hidden=True)
    for seed in range(10):
        with cases.fresh(seed):
            checks.check_mask_shape(fn)
            checks.check_mask_shape(fn, hidden=True)


@pytest.mark.parametrize("cls", DROPOUTS, ids=STYLES)
def test_dropout_checks_pass_correct_code(cls):
    _all_dropout_checks(cls)


@pytest.mark.parametrize("cls", SPATIALS, ids=["reference", "own_mask", "binomial"])
def test_spatial_checks_pass_correct_code(cls):
    _all_spatial_checks(cls)


@pytest.mark.parametrize("seed", range(2))
def test_every_check_passes_correct_code_on_fresh_cases(seed):
    with cases.fresh(100 + seed):
        for cls in DROPOUTS:
            _all_dropout_checks(cls)
        for cls in SPATIALS:
            _all_spatial_checks(cls)


# The statistical checks, and the exact ones whose failure a correct layer could only reach
# through a coincidence of probability < 1e-12, over many fresh seeds: a correct layer never
# fails them.
@pytest.mark.parametrize("seed", range(40))
def test_statistical_checks_never_fail_correct_code(seed):
    with cases.fresh(1000 + seed):
        for dropout in DROPOUTS:
            checks.check_dropout_keep_rate(dropout)
            checks.check_dropout_keep_rate(dropout, hidden=True)
            checks.check_dropout_noise_shape(dropout, hidden=True)
            checks.check_dropout_kept_values(dropout, hidden=True)
            checks.check_dropout_fresh_masks(dropout)
            checks.check_dropout_seed(dropout)
        for spatial in SPATIALS:
            checks.check_spatial_dropout_maps(spatial, hidden=True)


# --- Keras's own layers pass (the checks ask for what Keras does) --------------------------------


@pytest.fixture
def no_guard(monkeypatch):
    monkeypatch.setattr(forbidden, "DROPOUT", ForbiddenOps("nothing", (), ""))


def test_keras_layers_pass_the_checks(no_guard):
    _all_dropout_checks(keras.layers.Dropout)
    # keras.layers.SpatialDropout2D takes no **kwargs, which the contract asks of the course's
    # layers (they pass name=, dtype=, ... on); its behaviour is checked.
    checks.check_spatial_dropout_maps(keras.layers.SpatialDropout2D)
    checks.check_spatial_dropout_maps(keras.layers.SpatialDropout2D, hidden=True)


# --- the statistics are what they claim ----------------------------------------------------------


def _stored_rate_cases():
    for kind, table in lesson_cases.RATE_CASES.items():
        for shape, rate, _ in table:
            yield (
                kind,
                len(table) + (lesson_cases.EXTRA_HIDDEN if kind == "hidden" else 0),
                shape,
                rate,
            )


def test_the_keep_rate_bands_hold_their_false_failure_probability():
    """Exact tail mass outside each band, at the worst keep probability within GRANULARITY."""
    rng = np.random.default_rng(0)
    drawn = [lesson_cases.draw_rate_case(rng) for _ in range(200)]
    setups = [(n_cases, shape, rate) for _, n_cases, shape, rate in _stored_rate_cases()]
    setups += [(2 + lesson_cases.EXTRA_HIDDEN, shape, rate) for shape, rate, _ in drawn]
    for n_cases, shape, rate in setups:
        n = int(np.prod(shape))
        delta = statistics.FALSE_FAILURE / n_cases
        low, high = statistics.count_band(n, 1 - rate, delta)
        for p in (1 - rate - statistics.GRANULARITY, 1 - rate, 1 - rate + statistics.GRANULARITY):
            assert statistics.tail_mass(n, p, low, high) <= delta
        # ... and the band has power: reading rate as the keep probability lands far outside.
        wrong_low, wrong_high = statistics.count_band(n, rate, 1e-12)
        assert wrong_high < low or wrong_low > high, (shape, rate)


def test_the_spatial_bands_hold_and_have_power():
    rng = np.random.default_rng(1)
    table = [*lesson_cases.SPATIAL_CASES["public"], *lesson_cases.SPATIAL_CASES["hidden"]]
    table += [lesson_cases.draw_spatial_case(rng) for _ in range(200)]
    for shape, data_format, rate, _ in table:
        channels = shape[1] if data_format == "channels_first" else shape[3]
        maps = shape[0] * channels
        delta = statistics.FALSE_FAILURE / (2 * (3 + lesson_cases.EXTRA_HIDDEN))
        low, high = statistics.count_band(maps, 1 - rate, delta)
        assert statistics.tail_mass(maps, 1 - rate, low, high) <= delta
        wrong_low, wrong_high = statistics.count_band(maps, rate, 1e-12)
        assert wrong_high < low or wrong_low > high, (shape, rate)
        # one mask for the whole batch, or one decision per sample, is caught, not skipped; a
        # correct layer fails either with these probabilities, which together fit the budget
        batch_shared = statistics.all_equal(1 - rate, shape[0], channels)
        sample_shared = statistics.all_equal(1 - rate, channels, shape[0])
        assert batch_shared + sample_shared <= delta


def test_a_band_calibrated_at_one_percent_fails_about_one_percent_of_the_time():
    """The same construction with delta = 0.01, on simulated correct layers."""
    rng = np.random.default_rng(2)
    n, p, delta = 5000, 0.7, 0.01
    low, high = statistics.count_band(n, p, delta)
    counts = rng.binomial(n, p, size=200_000)
    outside = np.mean((counts < low) | (counts > high))
    assert outside <= delta
    assert outside >= delta / 4  # the band is not needlessly wide either


def test_the_noise_shape_checks_test_every_stored_none_axis():
    """Along every None axis of the stored cases, a correct mask repeats itself with
    probability below the check's budget: the check does test it."""
    for kind, table in lesson_cases.NOISE_CASES.items():
        delta = statistics.FALSE_FAILURE / (2 * (len(table) + lesson_cases.EXTRA_HIDDEN))
        for shape, noise, rate, _ in table:
            wanted = lesson_cases.expected_mask_shape(shape, noise)
            for axis, entry in enumerate(noise or (None,) * len(shape)):
                if entry is None and shape[axis] > 1:
                    assert lesson_cases.vary_bound(1 - rate, wanted, axis) <= delta, (kind, shape)


def test_the_coincidences_the_exact_checks_rule_out_are_negligible():
    """The probabilities stated in the checks' comments and feedback."""
    tiny = 1e-12
    # fresh masks: 3 pairs of calls of 2,400 values, 28 pairs of samples of 300, at rate 0.3
    assert 3 * statistics.coincidence(0.7, 2400) + statistics.some_pair_equal(0.7, 8, 300) < tiny
    # seed: different seeds, 1,000 values at rate 0.4
    assert statistics.coincidence(0.6, 1000) < tiny
    # compiled: 3 calls of 1,600 values, 3 steps of 1,280, at rate 0.35
    assert 3 * statistics.coincidence(0.65, 1600) + 3 * statistics.coincidence(0.65, 1280) < tiny
    # nothing kept / nothing dropped, where the checks require some of each
    assert statistics.none_kept(0.65, 1280) < tiny and statistics.none_kept(0.35, 1280) < tiny
    assert math.isclose(statistics.coincidence(0.5, 1), 0.5)
    assert "1e-568" in statistics.power_words(0.58, 2400)


def test_the_notebook_s_worked_band_is_the_check_s():
    low, high = statistics.count_band(20_000, 0.8, statistics.FALSE_FAILURE / 2)
    assert (low, high) == (15_644, 16_348)


# --- the guard -----------------------------------------------------------------------------------

X = np.random.default_rng(0).uniform(0.5, 2.0, size=(4, 6, 6, 3)).astype("float32")


@pytest.mark.parametrize(
    "builtin",
    [
        lambda: keras.random.dropout(X, 0.5),
        lambda: keras.layers.Dropout(0.5)(X, training=True),
        lambda: keras.layers.SpatialDropout2D(0.5)(X, training=True),
        lambda: tf.nn.dropout(X, 0.5),
        lambda: tf.nn.experimental.stateless_dropout(X, 0.5, seed=[1, 2]),
    ],
    ids=["keras.random.dropout", "Dropout", "SpatialDropout2D", "tf.nn.dropout", "stateless"],
)
def test_guard_catches_builtin_dropout(builtin):
    with forbid(checks.DROPOUT.names) as hits:
        builtin()
    assert hits


def test_guard_allows_the_ops_a_student_needs():
    with forbid(checks.DROPOUT.names) as hits:
        generator = keras.random.SeedGenerator(1)
        keep = keras.random.uniform(ops.shape(X), seed=generator) >= 0.3
        ops.where(keep, X / 0.7, ops.zeros_like(X))
        X * ops.cast(keep, "float32") * (1 / 0.7)
        keras.random.binomial((4, 3), 1, 0.7, seed=generator)
        keras.random.randint((4, 3), 0, 10, seed=generator)
        for cls in (*DROPOUTS, *SPATIALS):
            cls(0.5)(X, training=True)
    assert hits == []


def test_keras_layers_themselves_are_refused():
    class Dropout(keras.layers.Dropout):
        pass

    class SpatialDropout2D(keras.layers.SpatialDropout2D):
        pass

    with pytest.raises(CheckFailed, match="built-in dropout"):
        checks.check_dropout_kept_values(Dropout)
    with pytest.raises(CheckFailed, match="built-in dropout"):
        checks.check_spatial_dropout_maps(SpatialDropout2D)


def test_a_builtin_inside_call_is_refused():
    class Dropout(ReferenceDropout):
        def call(self, inputs, training=None):
            if not training:
                return inputs
            return tf.nn.dropout(inputs, self.rate)

    with pytest.raises(CheckFailed, match="built-in dropout"):
        checks.check_dropout_keep_rate(Dropout)


# --- stubs, NumPy and broken output --------------------------------------------------------------


def test_untouched_stubs_fail_with_advice():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        checks.check_mask_shape(stub)

    class Dropout(ReferenceDropout):
        def call(self, inputs, training=None):
            raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        checks.check_dropout_kept_values(Dropout)


def test_a_layer_computed_in_numpy_gets_no_gradient():
    class Dropout(ReferenceDropout):
        def call(self, inputs, training=None):
            out = super().call(inputs, training)
            return ops.convert_to_tensor(ops.convert_to_numpy(out))

    checks.check_dropout_kept_values(Dropout)
    with pytest.raises(CheckFailed, match="No gradient"):
        checks.check_dropout_gradient(Dropout)


def test_a_wrong_shape_is_named():
    class Dropout(ReferenceDropout):
        def call(self, inputs, training=None):
            return super().call(inputs, training)[:1]

    with pytest.raises(CheckFailed, match="changes the shape"):
        checks.check_dropout_kept_values(Dropout)


def test_an_error_inside_a_tf_function_is_reported_by_its_own_message():
    def numpy_inside(t):
        return t * np.random.random_sample(t.shape)

    function = tf.function(numpy_inside, input_signature=[tf.TensorSpec((None, 3))])
    with pytest.raises(TypeError) as raised:
        function(np.ones((2, 3), "float32"))
    message = error_message(raised.value)
    assert message and "in user code" not in message and "File" not in message


# --- wrong code fails on fresh cases too ---------------------------------------------------------


def _wrong(name, mistake, target="Dropout.call"):
    from solutions.mistakes import materialize, wrong_versions

    version = next(
        v
        for v in wrong_versions("08_dropout")
        if v.mistake == mistake and v.replacements[target].endswith(name)
    )
    return materialize(version, "solutions.dropout")


@pytest.mark.parametrize("seed", range(5))
def test_wrong_code_fails_on_fresh_cases(seed):
    rate_as_keep = _wrong("call_rate_as_keep", "rate_as_keep_probability")["Dropout"]
    no_rescaling = _wrong("call_no_rescaling", "no_rescaling")["Dropout"]
    elements = _wrong("spatial_init_elements", "spatial_drops_elements",
                      "SpatialDropout2D.__init__")["SpatialDropout2D"]  # fmt: skip
    with cases.fresh(2000 + seed):
        for hidden in (False, True):
            with pytest.raises(CheckFailed, match="Likely mistake: `rate` used as the keep"):
                checks.check_dropout_keep_rate(rate_as_keep, hidden=hidden)
            with pytest.raises(CheckFailed, match="Likely mistake: kept values not rescaled"):
                checks.check_dropout_kept_values(no_rescaling, hidden=hidden)
            with pytest.raises(CheckFailed, match="SpatialDropout2D drops single values"):
                checks.check_spatial_dropout_maps(elements, hidden=hidden)


# --- rate=1: zeros out, zeros back ---------------------------------------------------------------


class WhereRateOneDropout(ReferenceDropout):
    """The reference without its rate=1 special case: ops.where selects 0 everywhere, so the
    output is clean zeros, but the branch it drops is x / 0 and the gradient 0 * inf = NaN."""

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = reference_mask_shape(ops.shape(inputs), self.noise_shape)
        keep = keras.random.uniform(shape, seed=self.seed_generator) >= self.rate
        return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


def test_a_nan_gradient_at_rate_one_is_caught_and_named():
    checks.check_dropout_kept_values(WhereRateOneDropout, hidden=True)  # zeros: looks right
    with pytest.raises(CheckFailed) as failed:
        checks.check_dropout_gradient(WhereRateOneDropout)
    message = str(failed.value)
    assert "The gradient through Dropout(1.0" in message
    assert "Likely mistake: rate=1 divides by zero." in message


# --- wrong code the checks once passed -----------------------------------------------------------


class PerSampleSpatialDropout2D(ReferenceSpatialDropout2D):
    """channels_first masked as (batch, 1, 1, 1): whole samples dropped. It keeps about the
    right fraction of maps, so only the band's luck used to catch it."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, data_format=data_format, seed=seed, **kwargs)
        if self.data_format == "channels_first":
            self.noise_shape = (None, 1, 1, 1)


class MiddleSharedDropout(ReferenceDropout):
    """Without noise_shape, draws (batch, 1, ..., 1, features): right on 2-D inputs only."""

    def call(self, inputs, training=None):
        if self.noise_shape is not None or len(inputs.shape) < 3:
            return super().call(inputs, training)
        if not training:
            return inputs
        shape = ops.shape(inputs)
        self.noise_shape = (None, *(1,) * (len(shape) - 2), None)
        try:
            return super().call(inputs, training)
        finally:
            self.noise_shape = None


class ZeroSeedDropout(ReferenceDropout):
    """`if seed:`: seed=0 gives a generator seeded at random."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed
        self.seed_generator = keras.random.SeedGenerator(seed if seed else None)


class CounterSeedDropout(ReferenceDropout):
    """An integer seed from a Python call counter: new masks eagerly, one frozen when traced."""

    def call(self, inputs, training=None):
        if not training:
            return inputs
        self.calls = getattr(self, "calls", 0) + 1
        shape = ops.shape(inputs)
        keep = keras.random.uniform(shape, seed=(self.seed or 0) + self.calls) >= self.rate
        return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


class FixedDefaultSeedDropout(ReferenceDropout):
    """`seed or 1337`: every unseeded layer drops the same values (and seed=0 is seed 1337)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed
        self.seed_generator = keras.random.SeedGenerator(seed or 1337)


class ListNoiseShapeDropout(ReferenceDropout):
    """Stores noise_shape as given: a list stays a list, where Keras stores a tuple."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, noise_shape, seed, **kwargs)
        self.noise_shape = noise_shape


PerSampleSpatialDropout2D.__name__ = "SpatialDropout2D"
for cls in (MiddleSharedDropout, ZeroSeedDropout, CounterSeedDropout, FixedDefaultSeedDropout):
    cls.__name__ = "Dropout"
ListNoiseShapeDropout.__name__ = "Dropout"


def test_mask_shape_must_pass_a_tensor_size_on():
    checks.check_mask_shape(mask_shape_numpy)
    with pytest.raises(CheckFailed, match="inside a tf.function"):
        checks.check_mask_shape(mask_shape_numpy, hidden=True)


def test_wrong_code_the_checks_once_passed_fails():
    with pytest.raises(CheckFailed, match="every channel of a sample together"):
        checks.check_spatial_dropout_maps(PerSampleSpatialDropout2D)
    with pytest.raises(CheckFailed, match="axis 1, where noise_shape is None"):
        checks.check_dropout_noise_shape(MiddleSharedDropout, hidden=True)
    with pytest.raises(CheckFailed, match=r"Two layers Dropout\(0.4, seed=0\) draw different"):
        checks.check_dropout_seed(ZeroSeedDropout)
    with pytest.raises(CheckFailed, match=r"Two layers Dropout\(0.4\) draw the same mask"):
        checks.check_dropout_seed(FixedDefaultSeedDropout)
    with pytest.raises(CheckFailed, match="NumPy or Python state inside call"):
        checks.check_dropout_compiled(CounterSeedDropout)
    with pytest.raises(CheckFailed, match=r"noise_shape=\[None, 1, 4\]; Keras: noise_shape=\("):
        checks.check_dropout_contract(ListNoiseShapeDropout)


def mask_shape_batch_from_input(input_shape, noise_shape):
    """Honours noise_shape except on the batch axis, which always takes the input's size."""
    if noise_shape is None:
        return tuple(input_shape)
    rest = zip(input_shape[1:], noise_shape[1:], strict=True)
    return (input_shape[0], *(size if noise is None else noise for size, noise in rest))


def mask_shape_ignoring_noise(input_shape, noise_shape):
    return tuple(input_shape)


def test_noise_shape_ignored_is_named_only_when_it_is_ignored():
    with pytest.raises(CheckFailed) as failure:
        checks.check_mask_shape(mask_shape_batch_from_input, hidden=True)
    assert "noise_shape ignored" not in str(failure.value)
    with pytest.raises(CheckFailed, match="noise_shape ignored") as failure:
        checks.check_mask_shape(mask_shape_ignoring_noise)
    assert failure.value.mistake.id == "noise_shape_ignored"  # counted in the class report


# --- wrong code the checks passed, or named wrongly, in the third review ------------------------


class RateOneFirstDropout(ReferenceDropout):
    """Tests rate=1 before training: zeros at inference too, where Keras returns the inputs."""

    def call(self, inputs, training=None):
        if self.rate == 1:
            return ops.zeros_like(inputs)
        return super().call(inputs, training)


class AssertRateDropout(ReferenceDropout):
    """Refuses an invalid rate with assert: an AssertionError, not Keras's ValueError."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        assert 0 <= rate <= 1, f"Invalid value received for argument `rate`: rate={rate}"
        super().__init__(rate, noise_shape, seed, **kwargs)


class AssertRateSpatialDropout2D(ReferenceSpatialDropout2D, AssertRateDropout):
    """SpatialDropout2D on AssertRateDropout."""


class UnvalidatedSpatialDropout2D(ReferenceSpatialDropout2D):
    """`data_format or "channels_last"` in place of standardize_data_format: any string passes."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        data_format = data_format or "channels_last"
        noise_shape = (None, 1, 1, None) if data_format == "channels_last" else (None, None, 1, 1)
        ReferenceDropout.__init__(self, rate, noise_shape=noise_shape, seed=seed, **kwargs)
        self.data_format = data_format
        self.input_spec = keras.InputSpec(ndim=4)


def mask_shape_list(input_shape, noise_shape):
    """The right sizes, in a list where noise_shape is given."""
    if noise_shape is None:
        return tuple(input_shape)
    pairs = zip(input_shape, noise_shape, strict=True)
    return [size if wanted is None else wanted for size, wanted in pairs]


RateOneFirstDropout.__name__ = AssertRateDropout.__name__ = "Dropout"
AssertRateSpatialDropout2D.__name__ = UnvalidatedSpatialDropout2D.__name__ = "SpatialDropout2D"


def test_dropout_at_rate_one_returns_its_inputs_at_inference():
    with pytest.raises(CheckFailed, match=r"Dropout\(1.0\)\(x\) changes its inputs") as failed:
        checks.check_dropout_inference(RateOneFirstDropout)
    assert "the inputs come back at rate=1 too" in str(failed.value)


def test_a_rate_refused_by_assert_is_told_to_raise_value_error():
    for check, cls in (
        (checks.check_dropout_contract, AssertRateDropout),
        (checks.check_spatial_dropout_contract, AssertRateSpatialDropout2D),
    ):
        with pytest.raises(CheckFailed) as failed:
            check(cls)
        message = str(failed.value)
        assert "(rate=1.5) raises AssertionError" in message
        assert "refused, but with the wrong exception type" in message
        assert "not with assert" in message
        assert "Likely mistake" not in message and failed.value.mistake is None


def test_mask_shape_must_return_a_tuple():
    with pytest.raises(CheckFailed, match=r"returned the list \[4, 1, 6\]; expected a tuple"):
        checks.check_mask_shape(mask_shape_list)


def test_an_invalid_data_format_is_refused():
    with pytest.raises(CheckFailed) as failed:
        checks.check_spatial_dropout_contract(UnvalidatedSpatialDropout2D)
    assert "data_format='channels_middle') is accepted; Keras refuses it" in str(failed.value)


def test_a_mask_kept_from_the_first_call_is_named_as_such():
    kept = _wrong("call_mask_drawn_once", "mask_kept_on_self")["Dropout"]
    integer_seed = _wrong("call_integer_seed", "same_mask_every_call")["Dropout"]
    for check in (checks.check_dropout_fresh_masks, checks.check_dropout_compiled):
        with pytest.raises(CheckFailed) as failed:
            check(kept)
        assert failed.value.mistake.id == "mask_kept_on_self", check
        assert "Likely mistake: the mask drawn once and kept on self." in str(failed.value)
        with pytest.raises(CheckFailed) as failed:
            check(integer_seed)
        assert failed.value.mistake.id == "same_mask_every_call", check
