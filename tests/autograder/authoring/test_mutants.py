import ast
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder.authoring import mutants
from autograder.authoring.mutants import Mutant, make_mutants, run_mutants
from autograder.feedback import CheckFailed

ROOT = Path(__file__).resolve().parents[3]

SOURCE = '''\
LIMIT = 3


def f(x, y, n):
    """A docstring is never mutated."""
    ### BEGIN SOLUTION
    z = x + y * 2
    if z < 0 and not n:
        return -z
    w = x[1:n]
    g(x, y, flag=True)
    ### END SOLUTION
    return x - 1


class C:
    def m(self, s):
        ### BEGIN SOLUTION
        s = "é" + s
        return self.a >= s
        ### END SOLUTION
'''


def ids(source=SOURCE):
    return {m.id for m in make_mutants(source)}


@pytest.mark.parametrize(
    "expected",
    [
        "f: `x + y * 2` -> `x - y * 2`",
        "f: `y * 2` -> `y / 2`",
        "f: in `y * 2`: `2` -> `3`",
        "f: in `y * 2`: `2` -> `1`",
        "f: in `y * 2`: `2` -> `-2`",
        "f: `z < 0` -> `z <= 0`",
        "f: `z < 0 and (not n)` -> `z < 0 or not n`",
        "f: in `z < 0 and (not n)`: `not n` -> `n`",
        "f: in `z < 0`: `0` -> `1`",
        "f: `-z` -> `z`",
        "f: in `x[1:n]`: `1:n` -> `2:n`",
        "f: in `x[1:n]`: `1:n` -> `0:n`",
        "f: in `x[1:n]`: `1:n` -> `1:n + 1`",
        "f: in `x[1:n]`: `1:n` -> `1:n - 1`",
        "f: `w = x[1:n]` -> `pass`",
        "f: `return -z` -> `pass`",
        "f: swap `x` and `y` in `g(...)`",
        "f: drop `flag=` from `g(...)`",
        "f: in `g(x, y, flag=True)`: `True` -> `False`",
        "C.m: `self.a >= s` -> `self.a > s`",
        "C.m: `'é' + s` -> `'é' - s`",
    ],
)
def test_each_operator_makes_its_change(expected):
    found = {m.id: m for m in make_mutants(SOURCE, "lesson.py")}
    assert expected in found, sorted(found)
    mutant = found[expected]
    ast.parse(mutant.source)  # every mutant compiles
    assert mutant.description == f"lesson.py:{mutant.line}: {expected}"
    assert SOURCE.splitlines()[mutant.line - 1].strip() == mutant.before.strip().splitlines()[0]


def test_the_changed_line_is_spliced_into_the_original_text():
    found = {m.id: m for m in make_mutants(SOURCE)}
    swapped = found["f: swap `x` and `y` in `g(...)`"]
    assert swapped.after.strip() == "(g(y, x, flag=True))"
    assert swapped.source == SOURCE.replace("g(x, y, flag=True)", "(g(y, x, flag=True))")
    # Columns count characters, although the syntax tree counts UTF-8 bytes ("é" is two).
    minus = found["C.m: `self.a >= s` -> `self.a > s`"]
    assert minus.source == SOURCE.replace("return self.a >= s", "return (self.a > s)")


def test_only_solution_regions_are_mutated():
    found = make_mutants(SOURCE)
    region = mutants.solution_lines(SOURCE)
    assert found and all(m.line in region for m in found)
    assert all("return x - 1" in m.source and "LIMIT = 3\n" in m.source for m in found)
    assert not any("docstring" in m.id for m in found)
    assert make_mutants(SOURCE.replace("### BEGIN SOLUTION", "#").replace("### END", "#")) == []


def test_no_two_mutants_are_the_same_program():
    found = make_mutants(SOURCE)
    # x[1:n] -> x[2:n] as a slice bound, not again as the constant 1 -> 2
    assert "f: in `x[1:n]`: `1` -> `2`" not in {m.id for m in found}
    assert len({m.source for m in found}) == len(found) == len({m.id for m in found})
    assert SOURCE not in {m.source for m in found}


def test_ids_do_not_change_when_the_file_is_edited_elsewhere():
    edited = SOURCE.replace("LIMIT = 3\n", "LIMIT = 3\n\n\ndef h():\n    return 1 + 2\n")
    before, after = make_mutants(SOURCE), make_mutants(edited)
    assert [m.id for m in before] == [m.id for m in after]
    assert [m.line + 4 for m in before] == [m.line for m in after]


def test_a_repeated_change_is_numbered():
    source = (
        "def f(a):\n    ### BEGIN SOLUTION\n    a = a + 1\n    a = a + 1\n    ### END SOLUTION\n"
    )
    assert {"f: `a + 1` -> `a - 1`", "f: `a + 1` -> `a - 1` #2"} <= ids(source)


# --- running, on a small module and fake checks (no TensorFlow) ---------------------------------

TOY = """\
### BEGIN SOLUTION
SCALE = 2
assert SCALE > 1
### END SOLUTION


def countdown(a):
    ### BEGIN SOLUTION
    while a > 0:
        a -= 1
    return a * SCALE
    ### END SOLUTION
"""


def check_countdown(countdown):
    if countdown(3) != 0:
        raise CheckFailed("countdown(3) should be 0")


CHECKS = SimpleNamespace(check_countdown=check_countdown)
CELLS = {"test_countdown": "checks.check_countdown(countdown)"}


CHOSEN = {
    "countdown: `a > 0` -> `a >= 0`": "killed",  # countdown(3) == -2
    "countdown: `a -= 1` -> `pass`": "timeout",
    "countdown: `a * SCALE` -> `a / SCALE`": "survived",  # 0 / 2 == 0
    "<module>: in `SCALE > 1`: `1` -> `2`": "stillborn",  # the assert fails
    "<module>: `SCALE = 2` -> `pass`": "stillborn",  # NameError at import
}


@pytest.mark.parametrize("where", ["child", "in-process"])
def test_mutants_are_killed_survive_hang_or_are_stillborn(where, monkeypatch):
    monkeypatch.setattr(mutants, "_tensorflow_running", lambda: where == "in-process")
    found = [m for m in make_mutants(TOY, "toy.py") if m.id in CHOSEN]
    said = []
    summary = run_mutants(TOY, "toy", found, CELLS, CHECKS, timeout=3, say=said.append)
    assert {o.mutant.id: o.status for o in summary.outcomes} == CHOSEN
    killed = next(o for o in summary.outcomes if o.status == "killed")
    assert killed.cell == "test_countdown"
    # A timeout counts as killed; the stillborn leave the score.
    assert summary.line().startswith("5 mutants: 2 killed (1 by timeout), 1 survived, ")
    assert "0 equivalent, 2 stillborn; score 2/3 = 67%" in summary.line()
    survivor = next(line for line in said if line.startswith("survived"))
    assert "- return a * SCALE" in survivor and "+ return (a / SCALE)" in survivor


def test_a_listed_survivor_is_equivalent_and_leaves_the_score():
    found = [m for m in make_mutants(TOY) if m.id == "countdown: `a * SCALE` -> `a / SCALE`"]
    summary = run_mutants(TOY, "toy", found, CELLS, CHECKS, {found[0].id: "0 either way"})
    assert [o.status for o in summary.outcomes] == ["equivalent"]
    assert summary.scored == 0


def test_a_reference_that_fails_a_cell_is_refused():
    from autograder.grading.errors import CourseError

    with pytest.raises(CourseError, match="fails cell test_countdown"):
        run_mutants(TOY.replace("a -= 1", "a -= 2"), "toy", [], CELLS, CHECKS)


def test_a_child_that_hangs_is_stopped_and_one_that_dies_is_reported():
    assert mutants._in_child(lambda: threading.Event().wait() or {}, 0.5) is None
    assert "signal 9" in mutants._in_child(lambda: os.kill(os.getpid(), 9), None)["error"]


# --- one real run ---------------------------------------------------------------------------------


def test_a_real_mutant_of_lesson_02_is_killed_by_a_real_cell():
    """The reference passes every cell; swapping the image and the kernel fails a cell that
    tests cross_correlate2d."""
    swap = "cross_correlate2d: swap `windows` and `kernel` in `np.einsum(...)`"
    said = []
    summary = mutants.run_lesson(
        "02_convolution",
        ROOT / "notebooks" / "02_convolution" / "convolution.ipynb",
        only=[swap],
        say=said.append,
    )
    (outcome,) = summary.outcomes
    assert outcome.mutant.id == swap
    assert outcome.status == "killed"
    assert outcome.cell in {"test_hand_example", "test_cross_correlate2d"}
    assert said[-1].startswith("1 mutants: 1 killed (0 by timeout), 0 survived")
    assert "score 1/1 = 100%" in said[-1]


def test_mutant_description_is_file_line_id():
    mutant = Mutant("f: `a` -> `b`", "solutions/x.py", 7, "a", "b", "")
    assert (mutant.description, mutant.owner) == ("solutions/x.py:7: f: `a` -> `b`", "f")


def test_lines_are_counted_as_python_counts_them():
    # A Unicode line separator inside a string is no line end for the syntax tree.
    source = 'def f():\n    ### BEGIN SOLUTION\n    s = "a\u2028b"\n    return 1 + 2\n    ### END\n'
    (plus,) = [m for m in make_mutants(source) if m.id == "f: `1 + 2` -> `1 - 2`"]
    assert plus.source == source.replace("return 1 + 2", "return (1 - 2)")
