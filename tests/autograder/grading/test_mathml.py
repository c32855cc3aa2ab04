"""LaTeX in markdown becomes MathML for the feedback pages (LatexToMathML)."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from autograder.authoring.sync import lesson_notebooks
from autograder.grading.preprocessors import LatexToMathML, latex_to_mathml

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


def test_display_and_inline_math_become_mathml():
    text, failed = latex_to_mathml(r"A $k_h \times k_w$ kernel: $$S(i, j) = \sum_m I(i+m)\,K(m)$$")
    assert failed == []
    assert text.startswith('A <math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in text
    assert "$" not in text and "\n" not in text


@pytest.mark.parametrize(
    "markdown",
    [
        "costs $5 and $6 each",
        r"an escaped \$x\$ stays",
        "code: `$HOME` and `x = $y$`",
        "```\n$a$ in a fenced block\n```",
        "no math at all",
    ],
)
def test_what_is_not_math_is_left_alone(markdown):
    assert latex_to_mathml(markdown) == (markdown, [])


def test_bracket_delimiters_and_markdown_characters_in_mathml_text():
    text, _ = latex_to_mathml(r"\(x\) and \[y\] and $\text{a_b*c}$")
    assert text.count("<math") == 3
    assert "a&#x5F;b&#x2A;c" in text  # markdown cannot read them as emphasis


def test_a_formula_latex2mathml_cannot_read_is_kept_and_reported():
    def refuse(tex, display):
        raise ValueError("no")

    assert latex_to_mathml("see $x$", convert=refuse) == ("see $x$", ["$x$"])


def test_the_preprocessor_leaves_code_cells_alone():
    cell = nbformat.v4.new_code_cell("x = '$a$'")
    out, _ = LatexToMathML().preprocess_cell(cell, {}, 0)
    assert out.source == "x = '$a$'"
    out, _ = LatexToMathML().preprocess_cell(new_markdown_cell("$a$"), {}, 0)
    assert out.source.startswith("<math")


@pytest.mark.parametrize("path", lesson_notebooks(NOTEBOOKS), ids=lambda p: p.parent.name)
def test_every_formula_of_every_lesson_converts(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            text, failed = latex_to_mathml(cell.source)
            assert failed == [], f"{path.name}: no MathML for {failed}"
            assert "$" not in text.replace("\\$", ""), text


@pytest.mark.parametrize("unit", ["\\(", "\\[", "`a", "``a", "```\n", "$"])
def test_finding_math_takes_linear_time(unit, growth):
    """Four times the text takes about four times as long: unclosed `\\(` used to cost the
    square of the cell's length, and backticks its cube (a ratio of the fastest of five runs,
    with generous slack, not a time limit)."""
    ratio = growth(latex_to_mathml, unit * 5_000, unit * 20_000)
    assert ratio < 10, f"{unit!r}: 4x the text took {ratio:.1f}x the time"


def test_code_spans_and_fences_still_hide_math():
    text = "``a $x$ `` and\n```\n$y$\n```\n$z$ `b`"
    converted, failed = latex_to_mathml(text)
    assert failed == [] and converted.count("<math") == 1
    assert converted.startswith("``a $x$ `` and\n```\n$y$\n```\n<math")
