"""Lesson 04's own mistake tests: the stride catalogue's probes match no right answer and its
references agree with the solution (what every lesson keeps: ../test_conformance.py)."""

import numpy as np

from autograder import lessons
from autograder.diagnosis import first_match

catalogue = lessons.module("04_stride", "mistakes")


def test_no_variant_matches_the_right_answer():
    from solutions import stride

    probes = catalogue.conv_output_size_probes()
    sizes = np.array([stride.conv_output_size(*c) for c in probes[0]["calls"]], float)
    assert first_match([sizes], probes, catalogue.CONV_OUTPUT_SIZE_VARIANTS) is None
    probes = catalogue.padding_amounts_probes()
    table = np.array([stride.padding_amounts(*c) for c in probes[0]["calls"]], float)
    assert first_match([table], probes, catalogue.PADDING_AMOUNTS_VARIANTS) is None
    probes = catalogue.im2col_probes()
    outputs = [
        stride.im2col(p["x"], p["kernel_size"], p["strides"], p["dilation_rate"]) for p in probes
    ]
    assert first_match(outputs, probes, catalogue.IM2COL_VARIANTS) is None
    probes = catalogue.conv2d_probes()
    outputs = []
    for p in probes:
        layer = stride.Conv2D(
            2, p["kernel_size"], p["strides"], p["padding"], dilation_rate=p["dilation_rate"]
        )
        layer.build(p["x"].shape)
        layer.set_weights([p["kernel"], p["bias"]])
        outputs.append(layer(p["x"]))
    assert first_match(outputs, probes, catalogue.CONV2D_VARIANTS) is None
    probes = catalogue.receptive_field_probes()
    fields = np.array([stride.receptive_field(s) for s in probes[0]["stacks"]], float)
    assert first_match([fields], probes, catalogue.RECEPTIVE_FIELD_VARIANTS) is None


def test_catalogue_references_agree_with_the_solution():
    from solutions import stride

    for call in catalogue.SIZE_CALLS:
        assert catalogue.output_size(*call) == stride.conv_output_size(*call)
    for call in catalogue.AMOUNT_CALLS:
        assert catalogue.amounts(*call) == stride.padding_amounts(*call)
    for p in catalogue.im2col_probes():
        args = (p["x"], p["kernel_size"], p["strides"], p["dilation_rate"])
        np.testing.assert_array_equal(catalogue.patches(*args), stride.im2col(*args))
