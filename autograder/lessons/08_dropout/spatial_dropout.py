"""Checks of lesson 08's SpatialDropout2D, re-exported by `checks.py`: its Keras contract, whole
feature maps kept or dropped while training, and the identity at inference."""

import numpy as np

from ... import statistics
from ...compare import compare
from ...diagnosis import Diagnosis
from ...feedback import fail, passed
from . import cases, layer_contract, reading
from . import mistakes as catalogue

DIAGNOSE_SPATIAL = Diagnosis(
    catalogue.spatial_probes, catalogue.SPATIAL_VARIANTS, reading.probe_output, catalogue.usable
)


def check_spatial_dropout_contract(SpatialDropout2D):
    """Constructor, default data_format, refusal of invalid rates, config and output shapes
    behave like Keras's."""
    passed_line = "SpatialDropout2D has Keras's arguments, default data_format, shapes and config"
    layer_contract.contract("SpatialDropout2D", ("rate", "data_format", "seed"),
                            cases.SPATIAL_SETUPS, ("rate", "seed", "data_format"),
                            cases.SPATIAL_SHAPES, (None, 6, 6, 3),
                            passed_line)(SpatialDropout2D)  # fmt: skip


def check_spatial_dropout_maps(SpatialDropout2D, hidden=False):
    """While training, each feature map of each sample is kept whole (times 1 / (1 - rate)) or
    zeroed, a fraction 1 - rate of them is kept (exact binomial band, false-failure
    probability at most 1e-9 per check), samples differ; at inference the inputs come back."""
    table = cases.pick(cases.SPATIAL_CASES, hidden, cases.draw_spatial_case)
    delta = statistics.FALSE_FAILURE / (2 * len(table))

    def failing(headline, lines, case, hint=""):
        fail(headline, lines, case=case, mistake=DIAGNOSE_SPATIAL(SpatialDropout2D), hint=hint)

    for index, (shape, data_format, rate, seed) in enumerate(table):
        kwargs = reading.layer_kwargs(data_format=data_format)
        x, call, case, out = reading.training_call(
            SpatialDropout2D, shape, rate, seed or 120 + index, kwargs, "SpatialDropout2D"
        )
        out = reading.finite(out, x, call, case, lambda: DIAGNOSE_SPATIAL(SpatialDropout2D))
        axes = (2, 3) if data_format == "channels_first" else (1, 2)
        mask = out != 0
        if not catalogue.constant_along(mask, axes):
            failing(f"{call} drops single values inside a feature map.",
                    ["one decision per sample and channel: a map is kept whole or zeroed whole"],
                    case, "the mask has shape (batch, 1, 1, channels) for channels_last inputs, "
                    "(batch, channels, 1, 1) for channels_first")  # fmt: skip
        layout = "nchw" if data_format == "channels_first" else None  # for its picture
        mismatch = compare(out, np.where(mask, x / (1 - rate), 0.0), cases.KEPT_TOL, axes=layout)
        if mismatch:
            failing(f"{call} gives values that are neither 0 nor x / (1 - rate).",
                    mismatch, case,
                    f"a kept map is x / (1 - rate) = x / {1 - rate:g}; a dropped one is "
                    "0")  # fmt: skip
        maps = mask.any(axis=axes)  # (batch, channels): one decision each
        reading.require_some_kept_and_dropped(
            maps, rate, call, case, diagnose=lambda: DIAGNOSE_SPATIAL(SpatialDropout2D)
        )
        # Checked before the fraction: a mask of one decision per sample keeps about the right
        # fraction of maps, yet fails the band by chance only.
        bound = statistics.all_equal(1 - rate, maps.shape[1], maps.shape[0])
        if bound <= delta and catalogue.constant_along(maps, 1):
            failing(f"{call} keeps or drops every channel of a sample together.",
                    [f"a correct layer does this with probability {reading.chance(bound)}"], case,
                    "one decision per sample and channel: the mask has shape (batch, 1, 1, "
                    "channels) for channels_last inputs, (batch, channels, 1, 1) for "
                    "channels_first")  # fmt: skip
        low, high = statistics.count_band(maps.size, 1 - rate, delta)
        count = int(maps.sum())
        if not low <= count <= high:
            failing(f"{call} keeps {count / maps.size:.1%} of the feature maps; it should keep "
                    f"1 - rate = {1 - rate:.0%}.",
                    [f"kept {count} of {maps.size} maps; a correct layer keeps between {low} "
                     f"and {high} (it falls outside with probability below {delta:.0e})"],
                    case)  # fmt: skip
        bound = statistics.all_equal(1 - rate, maps.shape[0], maps.shape[1])
        if bound <= delta and catalogue.constant_along(maps, 0):
            failing(f"{call} drops the same channels in every sample of the batch.",
                    [f"a correct layer does this with probability {reading.chance(bound)}"], case,
                    "one decision per sample and channel: the mask's first axis is the batch "
                    "size")  # fmt: skip
    x = cases.inputs(table[0][0], 129)
    layer_contract.check_identity(SpatialDropout2D, x, 0.5, DIAGNOSE_SPATIAL)
    passed(f"SpatialDropout2D drops whole feature maps on {len(table)} cases and passes "
           "its inputs through at inference")  # fmt: skip
