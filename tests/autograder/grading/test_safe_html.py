"""What a submission wrote is made safe to show as HTML (SanitizeNotebook, nh3)."""

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from autograder.authoring.sync import lesson_notebooks
from autograder.grading.html_payloads import hostile_notebook
from autograder.grading.preprocessors import latex_to_mathml
from autograder.grading.safe_html import (
    SanitizeNotebook,
    is_html_block,
    render_markdown,
    safe_markdown,
)

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)


def sanitized(*cells, **metadata):
    nb = new_notebook(cells=list(cells), metadata=metadata)
    nb, _ = SanitizeNotebook().preprocess(nb, {})
    return nb


@pytest.mark.parametrize(
    "markdown, gone",
    [
        ("[x](javascript:alert(1))", "javascript:"),
        ("<javascript:alert(1)>", 'href="javascript'),
        ("<img src=x onerror=alert(1)>", "onerror"),
        ("<script>alert(1)</script>", "alert"),
        ("![t](http://127.0.0.1:9/track.png)", "127.0.0.1"),
        ('<div style="background:url(http://x/c)">a</div>', "url("),
        ("<svg onload=alert(1)></svg>", "svg"),
        ("<iframe src=x></iframe><object data=x></object><embed src=x>", "src"),
        ('<meta http-equiv="refresh" content="0;url=x"><base href="http://x/">', "http"),
        ('<math><maction actiontype="toggle"><mi href="javascript:x">a</mi></maction></math>', "j"),
        ("$\\href{javascript:alert(1)}{x}$", "javascript"),
        ("[a](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
    ],
)
def test_active_markdown_is_neutralised(markdown, gone):
    assert gone not in safe_markdown(markdown)


def test_plain_markdown_formatting_and_math_stay():
    html = safe_markdown(
        "## Kernels\n\nA **bold** [link](https://keras.io) and $k_h \\times k_w$:\n\n"
        "- one\n\n```python\nx = 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        f"![plot](data:image/png;base64,{PNG})"
    )
    for kept in (
        "<strong>bold</strong>",
        '<a href="https://keras.io"',
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">',
        "<msub>",
        "<li>one</li>",
        '<span class="n">x</span>',
        "<td>1</td>",
        f'src="data:image/png;base64,{PNG}"',
    ):
        assert kept in html, kept


def test_a_clean_block_renders_as_itself_and_cleans_to_itself():
    html = safe_markdown("# Title\n\n<pre>\na\n\nb\n</pre>\n\ntext $x$ and `code`")
    assert is_html_block(html) and "\n" not in html
    assert render_markdown(html).strip() == html  # markdown passes it through
    assert safe_markdown(html) == html


def test_attachments_become_inline_images_and_html_attachments_go():
    cell = new_markdown_cell("![a](attachment:a.png) ![b](attachment:b.html)")
    cell.attachments = {"a.png": {"image/png": PNG}, "b.html": {"text/html": "PHNjcmlwdD4="}}
    out = sanitized(cell).cells[0]
    assert f'src="data:image/png;base64,{PNG}"' in out.source
    assert "text/html" not in out.source and "attachments" not in out


def test_image_metadata_keeps_numbers_only():
    cell = new_code_cell("plot()")
    cell.outputs = [
        new_output(
            "display_data",
            data={"image/png": PNG, "text/plain": "<Figure>"},
            metadata={"image/png": {"width": "1 onerror=alert(1)", "height": 240, "alt": "x"}},
        ),
        new_output("display_data", data={"image/png": 'x" onerror="alert(1)'}),
    ]
    outputs = sanitized(cell).cells[0].outputs
    assert outputs[0].metadata == {"image/png": {"height": 240}}
    assert outputs[0].data["image/png"] == PNG
    assert "image/png" not in outputs[1].data and "not shown" in outputs[1].data["text/plain"]


def test_rich_outputs_are_cleaned_or_dropped_and_errors_stay():
    cell = new_code_cell("show()")
    cell.outputs = [
        new_output("display_data", data={"application/javascript": "alert(1)"}),
        new_output("display_data", data={"image/svg+xml": "<svg onload=alert(1)/>"}),
        new_output(
            "display_data",
            data={"text/html": "<b>hi</b><script>alert(1)</script>"},
            metadata={"text/html": {"isolated": True}},
        ),
        new_output("display_data", data={"text/markdown": "[x](javascript:alert(1)) *ok*"}),
        new_output(
            "display_data",
            data={"application/vnd.jupyter.widget-view+json": {"model_id": "1"}, "text/plain": "w"},
        ),
        new_output("stream", name="stderr", text="<b>kept as text</b>"),
        new_output("error", ename="AssertionError", evalue="Likely mistake", traceback=["x"]),
    ]
    js, svg, html, markdown, widget, stream, error = sanitized(cell).cells[0].outputs
    assert list(js.data) == ["text/plain"] and "application/javascript" in js.data["text/plain"]
    assert list(svg.data) == ["text/plain"]
    assert html.data == {"text/html": "<b>hi</b>"} and html.metadata == {}
    assert "javascript" not in markdown.data["text/html"]
    assert "<em>ok</em>" in markdown.data["text/html"]
    assert widget.data == {"text/plain": "w"}
    assert stream.text == "<b>kept as text</b>"  # printed escaped by the template
    assert error.evalue == "Likely mistake"


def test_raw_cells_and_metadata_are_cleaned():
    raw = new_raw_cell("<script>alert(1)</script><b>ok</b>", metadata={"raw_mimetype": "text/html"})
    answer = new_markdown_cell("answer", metadata={"tags": ["x"], "nbgrader": {}})
    answer.metadata.nbgrader = {"solution": True, "grade": False, "grade_id": 'a"><img src=x>'}
    widgets = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb = sanitized(raw, answer, widgets=widgets, cnn_course={"lesson": 2})
    assert nb.cells[0].source == "<b>ok</b>" and nb.cells[0].metadata == {}
    assert nb.cells[1].metadata == {
        "nbgrader": {"solution": True, "grade": False, "grade_id": "a___img_src_x_"}
    }
    assert nb.metadata == {"cnn_course": {"lesson": 2}}


def test_a_huge_markdown_cell_is_cut_and_says_so():
    nb = sanitized(new_markdown_cell("word " * 30_000))
    assert len(nb.cells[0].source) < 60_000 and "not shown" in nb.cells[0].source


def test_the_whole_payload_suite_leaves_nothing_active():
    hostile = hostile_notebook("http://127.0.0.1:9")
    before = nbformat.writes(hostile)
    nb, _ = SanitizeNotebook().preprocess(hostile, {})
    text = nbformat.writes(nb)
    active = re.compile(
        r"<(script|iframe|svg|object|embed|base|meta|style|maction)|\bon\w+=|style=|"
        r'(href|src|data|action)=\\"(?!https:|mailto:|#|data:image/png)'
    )
    assert len(active.findall(before)) > 20
    assert not active.search(text), active.search(text)


@pytest.mark.parametrize(
    "unit",
    ["\\(", "`a", "$$a", "*a **b", "[a](", "<http://", "> ", "&#"],
)
def test_sanitizing_markdown_takes_linear_time(unit, growth):
    """Four times the text takes about four times as long (a quadratic cost would be 16):
    a ratio of the fastest of five runs, with generous slack, not a time limit."""
    small, large = unit * 3_000, unit * 12_000
    ratio = growth(lambda t: safe_markdown(t, limit=10**6), small, large)
    assert ratio < 10, f"{unit!r}: 4x the input took {ratio:.1f}x the time"


def test_cells_after_the_notebooks_time_are_shown_plainly():
    code = new_code_cell("show()")
    code.outputs = [
        new_output("display_data", data={"text/html": "<b>x</b>"}),
        new_output("error", ename="AssertionError", evalue="Likely mistake", traceback=["x"]),
    ]
    nb = new_notebook(cells=[new_markdown_cell("<script>alert(1)</script> words"), code])
    nb, _ = SanitizeNotebook(seconds=0).preprocess(nb, {})
    assert "took over 0 s" in nb.cells[0].source and "script" not in nb.cells[0].source
    assert [o.output_type for o in nb.cells[1].outputs] == ["error"]


@pytest.mark.parametrize("path", lesson_notebooks(NOTEBOOKS), ids=lambda p: p.parent.name)
def test_every_lesson_keeps_all_its_markup(path):
    """Sanitizing strips nothing a lesson writes: the same elements, in the same numbers."""
    tag = re.compile(r"<([a-z][a-z0-9]*)")
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            expected = render_markdown(latex_to_mathml(cell.source)[0])
            assert sorted(tag.findall(safe_markdown(cell.source))) == sorted(
                ["div", *tag.findall(expected)]
            ), cell.source[:200]


def test_a_missing_attachment_shows_the_text_and_grading_goes_on():
    cell = new_markdown_cell("see ![a](attachment:gone.png) <b>here</b>")
    out = sanitized(cell).cells[0].source
    assert "see ![a](attachment:gone.png)" in out and "<b>" not in out
