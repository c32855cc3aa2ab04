"""Validate's pictures: only real PNGs reach the dialog's HTML, under the text, and our route
is the one a Jupyter server with both extensions uses.

The browser test (tests/browser/test_jupyterlab.py) clicks Validate on a wrong notebook and
sees the picture in JupyterLab's dialog."""

import base64
import html
import io
import logging
from html.parser import HTMLParser
from types import SimpleNamespace

import nbformat
import pytest
from PIL import Image
from tornado import web
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from course import validate_pictures as vp


def _png(size=(6, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _picture(data) -> dict:
    return nbformat.v4.new_output("display_data", data={"image/png": data, "text/plain": "<x>"})


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


PNG = _png()
SCRIPT = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
HOSTILE = {
    "script after a PNG's base64": _b64(PNG) + SCRIPT,
    "script inside a 'PNG' (padding in the middle)": _b64(PNG[:16]) + "=" + _b64(SCRIPT.encode()),
    "base64 of a PNG signature then a script": _b64(vp.PNG_SIGNATURE + SCRIPT.encode()),
    "an SVG": _b64(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "a GIF": _b64(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
    "a huge PNG": _b64(PNG + b"\0" * vp.MAX_PNG_BYTES),
    "a PNG one byte too big": _b64(PNG + b"\0" * (vp.MAX_PNG_BYTES + 1 - len(PNG))),
    "not a string": [_b64(PNG)],
    "empty": "",
    "url-safe base64": _b64(PNG).replace("+", "-").replace("/", "_"),
}


def test_a_real_png_is_taken_with_or_without_line_breaks():
    assert vp.trusted_png(_b64(PNG)) == PNG
    wrapped = "\n".join(_b64(PNG)[i : i + 76] for i in range(0, len(_b64(PNG)), 76)) + "\n"
    assert vp.trusted_png(wrapped) == PNG


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_anything_else_is_left_out(data):
    assert vp.trusted_png(data) is None


def test_a_cell_gives_its_real_pictures_in_order_and_at_most_a_few():
    first, second = _png((3, 3)), _png((5, 5))
    cell = nbformat.v4.new_code_cell("check()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=_b64(PNG)),
        nbformat.v4.new_output("error", ename="CheckFailed", evalue="no", traceback=["no"]),
        *[_picture(data) for data in HOSTILE.values()],
        {"output_type": "display_data", "data": "not a bundle"},
        "not an output",
        _picture(_b64(first)),
        nbformat.v4.new_output("execute_result", data={"image/png": _b64(second)}),
        *[_picture(_b64(PNG))] * 5,
    ]
    assert vp.cell_pictures(cell) == [first, second, PNG]
    assert vp.cell_pictures(cell, limit=1) == [first]
    markdown = nbformat.v4.new_markdown_cell("x")
    markdown["outputs"] = [_picture(_b64(PNG))]
    assert vp.cell_pictures(markdown) == []


def test_the_html_is_inline_images_of_our_own_base64_only():
    html = vp.pictures_html([PNG, PNG])
    tags = _tags(html)
    assert [tag for tag, _ in tags] == ["img", "img"]
    for _, attrs in tags:
        assert set(attrs) == {"src", "alt"}
        assert attrs["src"] == "data:image/png;base64," + _b64(PNG)
    assert vp.pictures_html([]) == ""


def test_the_dialog_holds_at_most_max_pictures_in_all(monkeypatch, tmp_path):
    """Each failed cell's entry gets its own cell's pictures, until the total runs out."""
    cells = []
    for _ in range(10):
        cell = nbformat.v4.new_code_cell("check()")
        cell.outputs = [_picture(_b64(PNG))] * 3
        cells.append(cell)

    def validate(self, filename):  # nbgrader's order: the failed cells, then their entries
        failed = self._get_failed_cells(None)
        entries = [{"source": c.source, "error": "text", "raw_error": "text"} for c in failed]
        return {"failed": entries}

    monkeypatch.setattr(vp.Validator, "_get_failed_cells", lambda self, nb: cells)
    monkeypatch.setattr(vp.Validator, "validate", validate)
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "lesson.ipynb")
    entries = vp.PictureValidator().validate(str(tmp_path / "lesson.ipynb"))["failed"]
    counts = [entry["error"].count("<img") for entry in entries]
    assert counts == [3] * 6 + [2] + [0] * 3 and sum(counts) == vp.MAX_PICTURES
    assert all(entry["error"].startswith("text") for entry in entries)


def test_a_notebook_with_changed_cells_is_answered_as_nbgrader_answers_it(monkeypatch):
    """nbgrader reports edited locked cells instead of the failed ones (which it still found)."""
    cell = nbformat.v4.new_code_cell("check()")
    cell.outputs = [_picture(_b64(PNG))]

    def validate(self, filename):
        self._get_failed_cells(None)
        return {"changed": [{"source": "check()"}]}

    monkeypatch.setattr(vp.Validator, "_get_failed_cells", lambda self, nb: [cell])
    monkeypatch.setattr(vp.Validator, "validate", validate)
    assert vp.PictureValidator().validate("lesson.ipynb") == {"changed": [{"source": "check()"}]}


def _fold(text) -> dict:
    data = {"text/plain": text, "text/html": "<details>raw</details>"}
    return {"output_type": "display_data", "data": data, "metadata": {}}


FOLD = f"{vp.FOLD_MARK}Why this mistake, and a hint\n  The kernel is flipped.\n  Hint: {SCRIPT}"


def test_a_cell_gives_its_first_fold_as_plain_text_only():
    cell = nbformat.v4.new_code_cell("check()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=FOLD),
        nbformat.v4.new_output("execute_result", data={"text/plain": FOLD}),
        "not an output",
        {"output_type": "display_data", "data": "not a bundle"},
        _fold(["not", 1]),
        _fold("no mark"),
        _fold(FOLD.splitlines(keepends=True)),  # nbformat's multi-line form
        _fold(f"{vp.FOLD_MARK}second"),
    ]
    assert vp.cell_fold(cell) == FOLD
    cell.outputs = [_fold(FOLD + "x" * vp.MAX_FOLD_CHARS)]
    assert len(vp.cell_fold(cell)) == vp.MAX_FOLD_CHARS
    assert vp.cell_fold(nbformat.v4.new_markdown_cell("x")) is None


def test_the_fold_is_a_details_of_escaped_text_only():
    page = vp.fold_html(FOLD)
    assert [tag for tag, _ in _tags(page)] == ["details", "summary"]
    assert "<summary>Why this mistake, and a hint</summary>" in page
    assert "The kernel is flipped." in page and "&lt;script&gt;" in page
    assert "<script" not in page and "<img" not in page
    assert vp.fold_html(None) == ""


# --- through nbgrader's handler, in a kernel -----------------------------------------------------

CHECK = f"""from IPython.display import Image, display
import base64
import html
display(Image(data=base64.b64decode("{_b64(PNG)}"), format="png"))
display({{"image/png": {SCRIPT!r}}}, raw=True)
display({{"text/plain": {FOLD!r}, "text/html": {SCRIPT!r}}}, raw=True)
raise AssertionError("<b>largest error</b> 0.5 at (1, 2)")
"""


def _notebook(path, failing=True):
    meta = {"grade": True, "solution": False, "locked": True, "points": 1, "schema_version": 3}
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [
        nbformat.v4.new_code_cell(CHECK, metadata={"nbgrader": {**meta, "grade_id": "check"}}),
        nbformat.v4.new_code_cell("ok = True", metadata={"nbgrader": {**meta, "grade_id": "fine"}}),
    ][0 if failing else 1 :]
    nbformat.write(nb, path)


def _handler(root):
    """What nbgrader's `validate_notebook` uses of its handler: the root, config, a log."""
    return SimpleNamespace(
        root_dir=str(root),
        load_config=lambda: vp.nbgrader_handlers.ValidateAssignmentHandler.load_config(None),
        log=logging.getLogger("validate-test"),
    )


def test_validate_answers_as_nbgrader_does_with_the_picture_under_the_text(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    _notebook(root / "lesson.ipynb")
    _notebook(root / "passing.ipynb", failing=False)
    _notebook(tmp_path / "outside.ipynb")
    handler = _handler(root)
    passing = vp.ValidatePicturesHandler.validate_notebook(handler, "passing.ipynb")
    assert passing == {"success": True, "value": {}}

    answer = vp.ValidatePicturesHandler.validate_notebook(handler, "lesson.ipynb")
    assert answer["success"] is True, answer
    (failed,) = answer["value"]["failed"]
    assert set(failed) == {"source", "error", "raw_error"}
    assert failed["source"] == CHECK.strip()
    error = failed["error"]
    text, image = error.split("\n<img ", 1)
    image, fold = image.split("\n<details>", 1)
    assert "&lt;b&gt;largest error&lt;/b&gt; 0.5 at (1, 2)" in text and "<b>" not in text
    tags = ["span"] * text.count("<span") + ["img", "details", "summary"]
    assert [tag for tag, _ in _tags(error)] == tags
    assert _tags("<img " + image)[0][1]["src"] == "data:image/png;base64," + _b64(PNG)
    assert "\n<details>" + fold == vp.fold_html(FOLD)
    assert "<script" not in error and "onerror=" not in image
    assert "data:image" not in failed["raw_error"]  # the text as nbgrader gives it

    with pytest.raises(web.HTTPError) as refused:
        vp.ValidatePicturesHandler.validate_notebook(handler, "../outside.ipynb")
    assert refused.value.status_code == 403


def test_a_server_with_both_extensions_routes_validate_to_ours(tmp_path, monkeypatch):
    """jupyter_server loads extensions in sorted order and Tornado takes the first route that
    matches: ours, whatever order the configuration names them in."""
    from jupyter_server.serverapp import ServerApp

    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "")
    nbgrader = "nbgrader.server_extensions.validate_assignment"
    app = ServerApp(
        jpserver_extensions={nbgrader: True, "course.validate_pictures": True},
        root_dir=str(tmp_path),
        open_browser=False,
    )
    app.initialize(argv=[], find_extensions=False, new_httpserver=False)

    def handler(method, path):
        line = RequestStartLine(method, path, "HTTP/1.1")
        request = HTTPServerRequest(start_line=line, headers=HTTPHeaders({"Host": "127.0.0.1"}))
        return app.web_app.find_handler(request).handler_class

    assert handler("POST", "/assignments/validate") is vp.ValidatePicturesHandler
    assert handler("GET", "/nbgrader_version") is vp.nbgrader_handlers.NbGraderVersionHandler


def test_validate_lists_first_the_cells_grading_would_hold_for_review(tmp_path):
    """With the release's record in its metadata, Validate runs the grader's scan: a cell the
    student wrote that grading would hold for review comes first, its lines named, escaped."""
    from autograder.grading.scan import Release

    given, mine = "import math", "x = math.pi\nimport os  # <b>"
    path = tmp_path / "held.ipynb"
    _notebook(path, failing=False)
    nb = nbformat.read(path, as_version=4)
    released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(given)])
    nb.metadata[Release.KEY] = Release.of(released).metadata()
    nb.cells[:0] = [nbformat.v4.new_code_cell(given), nbformat.v4.new_code_cell(mine)]
    nbformat.write(nb, path)
    answer = vp.ValidatePicturesHandler.validate_notebook(_handler(tmp_path), "held.ipynb")
    (held,) = answer["value"]["failed"]
    assert held == {"source": mine, "error": html.escape(vp.HELD.format("  line 2: imports os"))}
    assert "&lt;b&gt;" not in held["error"] and "<b>" not in held["error"]

    del nb.metadata[Release.KEY]  # a notebook released before this: nbgrader's answer
    nbformat.write(nb, path)
    answer = vp.ValidatePicturesHandler.validate_notebook(_handler(tmp_path), "held.ipynb")
    assert answer == {"success": True, "value": {}}
