"""Diagnosis names the catalogued mistake an output shows; with `usable`, from the probes
that ran."""

import numpy as np

from autograder.diagnosis import Diagnosis, Mistake, Variant
from autograder.feedback import CheckFailed

DOUBLED = Mistake("doubled", "doubled", "twice the answer")
NEGATED = Mistake("negated", "negated", "minus the answer")
PROBES = [{"kind": "small", "x": 1.0}, {"kind": "large", "x": 100.0}]
VARIANTS = [
    Variant(NEGATED, lambda out, probe: np.allclose(out, -probe["x"])),
    Variant(DOUBLED, lambda out, probe: np.allclose(out, 2 * probe["x"])),
]


def _output(student, probe):
    if probe["x"] > 10:  # the student's code cannot run on the large probe
        raise CheckFailed("overflow")
    return np.asarray(student(probe["x"]))


def test_a_probe_that_fails_tells_nothing_by_default():
    diagnosis = Diagnosis(lambda: PROBES, VARIANTS, _output)
    assert Diagnosis(lambda: PROBES, VARIANTS, lambda s, p: s(p["x"]))(lambda x: 2 * x) is DOUBLED
    assert diagnosis(lambda x: 2 * x) is None


def test_with_usable_the_probes_that_ran_decide():
    seen = []

    def usable(variants, ran):
        seen.append([probe["kind"] for probe in ran])
        return variants

    diagnosis = Diagnosis(lambda: PROBES, VARIANTS, _output, usable)
    assert diagnosis(lambda x: 2 * x) is DOUBLED
    assert seen == [["small"]]
    assert diagnosis(lambda x: x) is None
    assert Diagnosis(lambda: PROBES, VARIANTS, _output, lambda v, ran: [])(lambda x: -x) is None


def test_naming_adds_the_mistake_to_a_check_that_names_none():
    from autograder.diagnosis import naming

    def contract(student):
        raise CheckFailed("not a drop-in.", ["argument 'x' defaults to 2; Keras's is 1"])

    diagnosis = Diagnosis(lambda: PROBES[:1], VARIANTS, lambda student, p: student(p["x"]))
    check = naming(contract, diagnosis)
    try:
        check(lambda x: 2 * x)
    except CheckFailed as failure:
        assert failure.mistake is DOUBLED and failure.folds
        assert failure.details == ["argument 'x' defaults to 2; Keras's is 1", DOUBLED.feedback()]
    else:
        raise AssertionError("the check passed")
    try:  # code that shows no catalogued mistake fails as the check failed
        check(lambda x: x)
    except CheckFailed as failure:
        assert failure.mistake is None and len(failure.details) == 1


def test_naming_leaves_a_check_that_passes_or_names_its_own_mistake():
    from autograder.diagnosis import naming

    def named_already(student):
        raise CheckFailed("wrong.", [NEGATED.feedback()], mistake=NEGATED)

    diagnosis = Diagnosis(lambda: PROBES[:1], VARIANTS, lambda student, p: student(p["x"]))
    assert naming(lambda student: "ok", diagnosis)(abs) == "ok"
    try:
        naming(named_already, diagnosis)(lambda x: 2 * x)
    except CheckFailed as failure:
        assert failure.mistake is NEGATED
    else:
        raise AssertionError("the check passed")
