"""Known mistakes of lesson 08 (dropout) and the probes that tell them apart.

Dropout is random, so a wrong variant is recognised not by recomputing its output but by what
every output of it shows whatever the draw: which values are zero (probe inputs never hold a
zero), what the others are divided by, which axes share one decision, whether two calls differ.
A probe is a dict with a "kind" (how `ops.dropout_probe` runs it); a variant lists the probe
kinds it needs and a predicate for each.
"""

from dataclasses import dataclass

import numpy as np

from ...diagnosis import Mistake, Variant
from ...statistics import count_band

NO_RESCALING = Mistake(
    "no_rescaling",
    "kept values not rescaled",
    "Inverted dropout divides every value it keeps by 1 - rate while training, so that the "
    "expected output equals the input: E[out] = (1 - rate) * x / (1 - rate) = x. Yours zeroes "
    "the dropped values but leaves the kept ones as they were, so the next layer sees inputs "
    "(1 - rate) times smaller in training than at inference.",
)
RESCALED_AT_INFERENCE = Mistake(
    "rescaled_at_inference",
    "rescaled at inference too",
    "At inference (training False or not given) dropout is the identity: return the inputs "
    "unchanged. The scaling by 1 / (1 - rate) belongs to training only, where it makes up "
    "for the dropped values; scaling at inference too (by 1 / (1 - rate), or by 1 - rate as "
    "in the original, non-inverted dropout) changes every activation of a trained network.",
)
RATE_AS_KEEP = Mistake(
    "rate_as_keep_probability",
    "`rate` used as the keep probability",
    "`rate` is the fraction of values to DROP: keep each value with probability 1 - rate "
    "(`keras.random.uniform(shape) >= rate`) and scale the kept ones by 1 / (1 - rate). "
    "Yours keeps about a fraction `rate`; at rate=0.5 both readings look alike, at rate=0.2 "
    "yours drops four values out of five instead of one.",
)
DROPS_AT_INFERENCE = Mistake(
    "drops_at_inference",
    "dropping at inference",
    "Dropout drops only when `training` is true. Keras calls a layer with training=None when "
    "nobody said (`layer(x)`, `model(x)`) and with training=False in `predict`: both mean "
    "inference. Test `if not training: return inputs`; `if training is False:` drops when "
    "training is None.",
)
SPATIAL_DROPS_ELEMENTS = Mistake(
    "spatial_drops_elements",
    "SpatialDropout2D drops single values",
    "SpatialDropout2D makes one decision per sample and channel: a whole feature map is kept "
    "(and scaled) or zeroed. Its mask has shape (batch, 1, 1, channels) for channels_last "
    "inputs (noise_shape=(None, 1, 1, None)), broadcast over height and width; yours decides "
    "value by value, like plain Dropout.",
)
DEFAULT_FORMAT_AS_FIRST = Mistake(
    "default_format_as_channels_first",
    "data_format=None taken as channels_first",
    "data_format=None means Keras's default, keras.config.image_data_format() (normally "
    "'channels_last'): standardize it (standardize_data_format(data_format)) before choosing "
    "noise_shape. Yours chose the channels_first mask (batch, channels, 1, 1) for the default, "
    "so on channels_last inputs (batch, H, W, C) it keeps or drops whole rows of pixels, one "
    "decision per sample and row, instead of whole feature maps.",
)
BATCH_SHARED_MASK = Mistake(
    "batch_shared_mask",
    "one mask shared by the whole batch",
    "Every sample of a batch gets its own random mask: the mask's first axis is the batch "
    "size (take it from ops.shape(inputs)[0], it is unknown until the data arrives). With a "
    "mask of batch size 1 every image in the batch loses the same units, and the samples of "
    "a step no longer average over different thinned networks.",
)
NOISE_SHAPE_IGNORED = Mistake(
    "noise_shape_ignored",
    "noise_shape ignored",
    "With noise_shape the mask has that shape and is broadcast over the inputs: a 1 shares "
    "one decision along the whole axis (noise_shape=(None, 1, None) drops the same features "
    "at every step), a None takes the input's size. Yours draws one decision per value "
    "whatever noise_shape says; draw the mask with shape mask_shape(ops.shape(inputs), "
    "self.noise_shape).",
)
NONE_READ_AS_ONE = Mistake(
    "none_read_as_one",
    "None in noise_shape read as 1",
    "None in noise_shape means the input's own size on that axis (a decision per sample, say), "
    "not a size of 1: read as 1, noise_shape=(None, 1, None) becomes a single decision for the "
    "whole tensor, which keeps or drops everything at once. Fill the None entries in from "
    "ops.shape(inputs), as mask_shape does, and draw the mask with that shape.",
)
NUMPY_MASK = Mistake(
    "numpy_mask",
    "mask drawn with NumPy or Python state inside call (frozen under tf.function)",
    "NumPy and Python code run once, while TensorFlow traces `call` into a graph (model.fit, "
    "tf.function): the random numbers NumPy draws, or a seed your Python code computes (from "
    "a call counter, say), become constants of the graph, so every training step drops the "
    "same units; with an unknown batch size NumPy cannot draw at all. Draw the mask with "
    "keras.random.uniform(shape, seed=self.seed_generator), which becomes an op of the graph "
    "and draws anew at every step.",
)
SAME_MASK_EVERY_CALL = Mistake(
    "same_mask_every_call",
    "the same mask at every call",
    "keras.random functions are deterministic in their seed: keras.random.uniform(shape, "
    "seed=self.seed) with an integer seed draws the same numbers at every call, so the layer "
    "always drops the same units. Create `self.seed_generator = "
    "keras.random.SeedGenerator(seed)` once in __init__ and pass seed=self.seed_generator: "
    "it advances at every draw.",
)
MASK_KEPT_ON_SELF = Mistake(
    "mask_kept_on_self",
    "the mask drawn once and kept on self",
    "Dropout draws a new mask inside every call. Yours draws it at the first call, keeps it on "
    "self and reuses it at every later call, so the layer always drops the same units (drawing "
    "it from self.seed_generator does not help: the generator moves on only when it draws). "
    "Inside model.fit the kept tensor belongs to the graph of another trace, which TensorFlow "
    "refuses (InaccessibleTensorError: ... is out of scope). Draw the mask in every call, "
    "keras.random.uniform(shape, seed=self.seed_generator), and keep no tensor from an earlier "
    "call on self.",
)
SEED_IGNORED = Mistake(
    "seed_ignored",
    "seed ignored",
    "Two layers built with the same seed must draw the same sequence of masks (the first "
    "call of one equals the first call of the other, and so on): pass the constructor's "
    "seed to keras.random.SeedGenerator(seed). Yours draws differently each time.",
)
RATE_ONE_NAN = Mistake(
    "rate_one_nan",
    "rate=1 divides by zero",
    "rate=1 drops everything: return zeros (ops.zeros_like(inputs)), as Keras does. Computing "
    "x * mask / (1 - rate) then divides 0 by 0 and gives NaN (or a ZeroDivisionError).",
)
DATA_FORMAT_IGNORED = Mistake(
    "data_format_ignored",
    "data_format ignored",
    "With data_format='channels_first' the inputs are (batch, channels, H, W), so the mask "
    "that drops whole feature maps is (batch, channels, 1, 1), noise_shape=(None, None, 1, "
    "1). Yours treats the last axis as the channels and drops columns of pixels instead.",
)
RATE_NOT_VALIDATED = Mistake(
    "rate_not_validated",
    "invalid rate accepted",
    "`rate` is a probability: like Keras, refuse a rate outside [0, 1] in __init__ with "
    'raise ValueError("Invalid value received for argument `rate`. Expected a float value '
    'between 0 and 1. Received: rate=...").',
)

CATALOGUE = tuple(v for v in tuple(globals().values()) if isinstance(v, Mistake))

# The probes' own false-failure budget: a correct layer is taken for a wrong variant with
# probability at most this (every band and coincidence below is far inside it).
DIAGNOSIS_DELTA = 1e-12
RATIO_TOL = 1e-3  # loose on purpose: it only tells scalings apart


def probe_input(shape, seed) -> np.ndarray:
    """Values with random signs and |x| in [0.5, 2]: never zero."""
    rng = np.random.default_rng(seed)
    magnitude = rng.uniform(0.5, 2.0, size=shape)
    return (magnitude * rng.choice([-1.0, 1.0], size=shape)).astype("float32")


def dropout_probes() -> list[dict]:
    x = probe_input((16, 250), 81)
    return [
        {"kind": "train", "x": x, "rate": 0.2, "seed": 1},
        {"kind": "compiled", "x": x, "rate": 0.2, "seed": 2},
        {"kind": "infer", "x": x, "rate": 0.2, "seed": 3},
        {"kind": "noise", "x": probe_input((12, 10, 30), 82), "rate": 0.3, "seed": 4,
         "noise_shape": (None, 1, None)},
        {"kind": "seed", "x": x, "rate": 0.4, "seed": 5},
        {"kind": "rate_one", "x": x[:4], "rate": 1.0, "seed": 6},
        {"kind": "draws", "x": x[:4], "rate": 0.2, "seed": 10},
    ]  # fmt: skip


def spatial_probes() -> list[dict]:
    return [
        {"kind": "spatial", "x": probe_input((24, 3, 3, 50), 83), "rate": 0.2, "seed": 7},
        {"kind": "spatial_first", "x": probe_input((24, 50, 3, 3), 84), "rate": 0.2, "seed": 8},
        {"kind": "spatial_infer", "x": probe_input((4, 3, 3, 8), 85), "rate": 0.2, "seed": 9},
        {"kind": "spatial_noise_shape"},
    ]


def _array(output, x):
    out = np.asarray(output, dtype=float)
    return out if out.shape == x.shape else None


def kept(output, x) -> np.ndarray | None:
    """Where the output keeps a value (is not zero), or None when its shape is not x's."""
    out = _array(output, x)
    return None if out is None else out != 0


def scaled_by(output, x, factor) -> bool:
    """Every value is 0 or factor * x, and some are not 0."""
    out = _array(output, x)
    if out is None or not np.isfinite(out).all():
        return False
    mask = out != 0
    if not mask.any():
        return False
    expected = factor * np.asarray(x, float)[mask]
    return bool(np.all(np.abs(out[mask] - expected) <= RATIO_TOL * np.abs(expected)))


def looks_dropped(output, x) -> bool:
    """Some values are zeroed and every other is c * x for one scale c (any c > 0)."""
    out = _array(output, x)
    if out is None or not np.isfinite(out).all():
        return False
    mask = out != 0
    if mask.all() or not mask.any():
        return False
    ratios = out[mask] / np.asarray(x, float)[mask]
    return bool(ratios.min() > 0 and np.ptp(ratios) <= RATIO_TOL * ratios.max())


def keep_fraction_is(output, x, p, maps=()) -> bool:
    """The number of kept values (of kept feature maps, whole along the axes `maps`) is inside
    the DIAGNOSIS_DELTA band of keep probability p."""
    mask = kept(output, x)
    if mask is None:
        return False
    decisions = mask.any(axis=maps)
    low, high = count_band(decisions.size, p, DIAGNOSIS_DELTA)
    return low <= int(decisions.sum()) <= high


def constant_along(mask, axes) -> bool:
    """The mask takes one value along each of `axes` (every slice across them is constant)."""
    return bool(np.all(mask == np.any(mask, axis=axes, keepdims=True)))


def _calls(output, probe):
    """The stacked calls of a multi-call probe, or None if the output is not such a stack."""
    out = np.asarray(output, dtype=float)
    x = probe["x"]
    if out.ndim != x.ndim + 1 or out.shape[1:] != x.shape or out.shape[0] < 2:
        return None
    return out


def calls_identical(output, probe) -> bool:
    out = _calls(output, probe)
    return out is not None and bool(np.all(out[0] == out[1]))


def calls_differ(output, probe) -> bool:
    out = _calls(output, probe)
    return out is not None and bool(np.any((out[0] != 0) != (out[1] != 0)))


@dataclass(frozen=True)
class KindVariant(Variant):
    """A variant that needs the outputs of the probe kinds `kinds` (and accepts any other's)."""

    kinds: tuple[str, ...] = ()


def variant(mistake: Mistake, **predicates) -> KindVariant:
    """A variant matching `predicates[kind](output, probe)` on the probes of those kinds."""

    def matches(output, probe):
        predicate = predicates.get(probe.get("kind"))
        return True if predicate is None else bool(predicate(output, probe))

    return KindVariant(mistake, matches, tuple(predicates))


def usable(variants, probes) -> list[KindVariant]:
    """The variants whose probe kinds all ran (a variant never matches on missing evidence)."""
    present = {probe["kind"] for probe in probes}
    return [v for v in variants if set(v.kinds) <= present]


def _on_calls(predicate, first_only=False):
    """A predicate on a probe's stacked calls: `predicate` holds on the first (a training probe)
    or on either (the inference calls: training absent, training=False)."""

    def shows(output, probe):
        out = _calls(output, probe)
        if out is None:
            return False
        return any(predicate(o, probe) for o in (out[:1] if first_only else out))

    return shows


def _no_rescaling(out, probe):
    return scaled_by(out, probe["x"], 1.0)


def _rate_as_keep(maps=()):
    """A predicate: the kept values scaled by 1 / (1 - rate) or 1 / rate, a fraction `rate` of
    them kept (of feature maps kept whole along the axes `maps`, when given)."""

    def shows(out, probe):
        rate, x = probe["rate"], probe["x"]
        mask = kept(out, x)
        if mask is None or not constant_along(mask, maps):
            return False
        scale = scaled_by(out, x, 1 / (1 - rate)) or scaled_by(out, x, 1 / rate)
        return scale and keep_fraction_is(out, x, rate, maps)

    return shows


def _pattern(shared=None, varies=None):
    """A predicate: the output looks dropped, its mask constant along the axes `shared` and not
    along the axes `varies` (or `varies(probe)`); None skips either test."""

    def shows(out, probe):
        mask = kept(out, probe["x"])
        if mask is None or not looks_dropped(out, probe["x"]):
            return False
        axes = varies(probe) if callable(varies) else varies
        same = shared is None or constant_along(mask, shared)
        return same and (axes is None or not constant_along(mask, axes))

    return shows


def _noise_ones(probe):
    return tuple(i for i, n in enumerate(probe["noise_shape"]) if n == 1)


def _rescaled(out, probe):
    x, rate = probe["x"], probe["rate"]
    out = _array(out, x)
    if out is None or not (out != 0).all():
        return False
    return scaled_by(out, x, 1 / (1 - rate)) or scaled_by(out, x, 1 - rate)


def _dropped(out, probe):
    mask = kept(out, probe["x"])
    return mask is not None and not mask.all() and np.isfinite(out).all()


def _one_decision(out, probe):
    """Every value dropped, or every value kept and scaled by 1 / (1 - rate): one decision."""
    x = probe["x"]
    out = _array(out, x)
    if out is None or not np.isfinite(out).all():
        return False
    return not out.any() or ((out != 0).all() and scaled_by(out, x, 1 / (1 - probe["rate"])))


def _nan(out, probe):
    return bool(np.isnan(np.asarray(out, dtype=float)).any())


DROPOUT_VARIANTS = (
    variant(NUMPY_MASK, train=calls_differ, compiled=calls_identical),
    variant(MASK_KEPT_ON_SELF, train=lambda o, p: calls_identical(o, p)
            and looks_dropped(_calls(o, p)[0], p["x"]),
            draws=lambda o, p: np.asarray(o, dtype=float).tolist() == [1.0]),
    variant(SAME_MASK_EVERY_CALL, train=lambda o, p: calls_identical(o, p)
            and looks_dropped(_calls(o, p)[0], p["x"])),
    variant(SEED_IGNORED, seed=calls_differ),
    variant(RATE_ONE_NAN, rate_one=_nan),
    variant(DROPS_AT_INFERENCE, infer=_on_calls(_dropped)),
    variant(RESCALED_AT_INFERENCE, infer=_on_calls(_rescaled)),
    variant(RATE_AS_KEEP, train=_on_calls(_rate_as_keep(), first_only=True)),
    variant(NO_RESCALING, train=_on_calls(_no_rescaling, first_only=True)),
    variant(BATCH_SHARED_MASK, train=_on_calls(_pattern(shared=0), first_only=True)),
    variant(NOISE_SHAPE_IGNORED, noise=_pattern(varies=_noise_ones)),
    variant(NONE_READ_AS_ONE, noise=_one_decision),
)  # fmt: skip


def _asks_for_whole_maps(output, probe):
    """The layer's noise_shape attribute (None entries as -1) asks for one decision per map."""
    shape = np.asarray(output)
    return shape.shape == (4,) and shape.tolist() == [-1, 1, 1, -1]


SPATIAL_VARIANTS = (
    variant(DROPS_AT_INFERENCE, spatial_infer=_on_calls(_dropped)),
    variant(RESCALED_AT_INFERENCE, spatial_infer=_on_calls(_rescaled)),
    variant(NOISE_SHAPE_IGNORED, spatial=_pattern(varies=(1, 2)),
            spatial_noise_shape=_asks_for_whole_maps),
    # on (batch, H, W, C) inputs: one decision per sample and row, the mask (batch, H, 1, 1)
    variant(DEFAULT_FORMAT_AS_FIRST, spatial=_pattern(shared=(2, 3), varies=1)),
    variant(SPATIAL_DROPS_ELEMENTS, spatial=_pattern(varies=(1, 2))),
    variant(BATCH_SHARED_MASK, spatial=_pattern(shared=(0, 1, 2))),
    # on (batch, C, H, W) inputs: decisions shared over C and H, but not over H and W
    variant(DATA_FORMAT_IGNORED, spatial_first=_pattern(shared=(1, 2), varies=(2, 3))),
    variant(RATE_AS_KEEP, spatial=_rate_as_keep(maps=(1, 2))),
    variant(NO_RESCALING, spatial=_no_rescaling),
    variant(NONE_READ_AS_ONE, spatial=_one_decision),  # its (None, 1, 1, None) read as ones
)  # fmt: skip
