"""Lesson 03's own mistake tests: the padding catalogue's probes tell every wrong rule apart
and match no right answer (what every lesson keeps: ../test_conformance.py)."""

from pathlib import Path

import numpy as np
import pytest

from autograder import lessons
from autograder.authoring.notebook_tests import read_test_cells, run_test_cell
from autograder.checks import padding as checks
from autograder.diagnosis import first_match
from autograder.feedback import CheckFailed
from solutions.mistakes import WrongVersion, materialize

catalogue = lessons.module("03_padding", "mistakes")

ROOT = Path(__file__).resolve().parents[4]
CELLS = read_test_cells(ROOT / "notebooks" / "03_padding" / "padding.ipynb")


def title(mistake_id):
    return next(m.title for m in catalogue.CATALOGUE if m.id == mistake_id)


def test_padding_with_ones_is_named_too():
    version = WrongVersion(
        "pad_not_zero", {"ZeroPadding2D.call": "solutions.mistakes.padding:call_pad_with_ones"}
    )
    objects = materialize(version, "solutions.padding")
    for cell in ("test_zero_padding", "test_conv2d_matches_keras"):
        with pytest.raises(CheckFailed, match=f"Likely mistake: {title('pad_not_zero')}"):
            run_test_cell(CELLS[cell], objects, checks)


def test_no_variant_matches_the_right_answer():
    from solutions.padding import Conv2D, ZeroPadding2D, padding_amounts

    probes = catalogue.padding_amounts_probes()
    table = np.array([padding_amounts(k, mode) for k, mode in probes[0]["calls"]], float)
    assert first_match([table], probes, catalogue.PADDING_AMOUNTS_VARIANTS) is None
    probes = catalogue.zero_padding2d_probes()
    outputs = [ZeroPadding2D(p["padding"])(p["x"]) for p in probes]
    assert first_match(outputs, probes, catalogue.ZERO_PADDING2D_VARIANTS) is None
    probes = catalogue.conv2d_probes()
    outputs = []
    for p in probes:
        layer = Conv2D(2, p["kernel_size"], padding=p["padding"])
        layer.build(p["x"].shape)
        layer.set_weights([p["kernel"], p["bias"]])
        outputs.append(layer(p["x"]))
    assert first_match(outputs, probes, catalogue.CONV2D_VARIANTS) is None


@pytest.mark.parametrize("key", sorted(catalogue.RULES))
def test_each_wrong_padding_rule_is_told_apart_on_the_conv2d_probes(key):
    mistake, rule = catalogue.RULES[key]
    probes = catalogue.conv2d_probes()
    outputs = [catalogue.padded_conv(p, rule) for p in probes]
    assert first_match(outputs, probes, catalogue.CONV2D_VARIANTS) == mistake
