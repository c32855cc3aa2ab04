"""nbgrader's Validate with the pictures of the mismatch and the scan: a server extension.

nbgrader's Validate dialog shows, for each failed cell, the `error` its server extension sends
(POST /assignments/validate): the traceback and stderr text, escaped (`ansi2html`). A failing
check's picture (an image/png output under the error) is left out. This extension serves the
same URL with nbgrader's own handler and validator, and adds each failed cell's pictures to
`error`, under the text, as inline PNG images, then the check's fold (why this mistake, and a
hint) behind a `<details>` the student opens, as in the notebook.

It wins over nbgrader's route because Jupyter loads server extensions in the sorted order of
their names ("course..." before "nbgrader...") and Tornado takes the first rule that matches.
The package's Jupyter configuration (jupyter-config/) turns it on.

It also runs the grader's scan (`autograder.grading.scan`) over the cells the student wrote and
lists each cell whose lines would hold the notebook's points back for review, first: the
student learns it before handing in, not from the feedback. It reads what the scan needs of
the release from the notebook's metadata (`Release`, stored by `cnn-course release`); a
notebook without it is not scanned. Validate only informs: grading scans again against the
instructor's own release.

The notebook validated may be anyone's: only strict base64 of a real PNG (its signature and
header), under `MAX_PNG_BYTES`, at most `MAX_PICTURES_PER_CELL` a cell and
`MAX_PICTURES` in all, goes into the HTML, re-encoded here; anything else is left out. The
fold is taken from its plain text only (at most `MAX_FOLD_CHARS`), escaped here.
"""

import base64
import binascii
import html
import types

import nbformat
from jupyter_server.utils import url_path_join
from nbgrader.server_extensions.validate_assignment import handlers as nbgrader_handlers
from nbgrader.validator import Validator

from autograder.feedback import FOLD_MARK
from autograder.grading.outcomes import is_test_cell
from autograder.grading.scan import Release, scan_notebook

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_HEADER = b"\x00\x00\x00\x0dIHDR"  # the first chunk: IHDR, 13 bytes long
MAX_PNG_BYTES = 200_000  # a check's picture is a few tens of KB
MAX_PICTURES_PER_CELL = 3
MAX_PICTURES = 20
MAX_FOLD_CHARS = 4_000  # a mistake's explanation and a hint are a few hundred characters
ROUTE = r"/assignments/validate"
ALT = "a picture of the mismatch: expected, yours and their difference"


def trusted_png(data) -> bytes | None:
    """The PNG that an output's image/png `data` holds, or None unless it is strict base64
    (line breaks allowed) of at most `MAX_PNG_BYTES` bytes beginning as a PNG does."""
    if not isinstance(data, str):
        return None
    text = data.replace("\n", "")
    if len(text) > (MAX_PNG_BYTES + 2) // 3 * 4:
        return None
    try:
        png = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(png) > MAX_PNG_BYTES or not png.startswith(PNG_SIGNATURE + PNG_HEADER):
        return None
    return png


def _bundles(cell, output_types: tuple[str, ...]):
    """The data bundles (dicts) of a code cell's outputs of `output_types`, in order; anything
    malformed is passed over."""
    for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
        if isinstance(output, dict) and output.get("output_type") in output_types:
            data = output.get("data")
            if isinstance(data, dict):
                yield data


def cell_pictures(cell, limit: int = MAX_PICTURES_PER_CELL) -> list[bytes]:
    """The trusted PNGs among a code cell's displayed outputs, in order, at most `limit`."""
    pictures = []
    for data in _bundles(cell, ("display_data", "execute_result")):
        if len(pictures) >= limit:
            break
        png = trusted_png(data.get("image/png"))
        if png is not None:
            pictures.append(png)
    return pictures


def pictures_html(pictures: list[bytes]) -> str:
    """The pictures as inline images, each on a line of its own (inside nbgrader's <pre>)."""
    return "".join(
        f'\n<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" alt="{ALT}">'
        for png in pictures
    )


def cell_fold(cell) -> str | None:
    """The plain text of the first fold (`autograder.feedback.fold`) among a code cell's
    displayed outputs, cut to `MAX_FOLD_CHARS`, or None."""
    for data in _bundles(cell, ("display_data",)):
        text = data.get("text/plain")
        if isinstance(text, list) and all(isinstance(part, str) for part in text):
            text = "".join(text)  # nbformat's multi-line form
        if isinstance(text, str) and text.startswith(FOLD_MARK):
            return text[:MAX_FOLD_CHARS]
    return None


def fold_html(text: str | None) -> str:
    """A fold's text as a `<details>` whose summary is its first line (without the mark) and
    whose body is the rest, all escaped; nothing for None."""
    if text is None:
        return ""
    summary, _, body = text[len(FOLD_MARK) :].partition("\n")
    return f"\n<details><summary>{html.escape(summary)}</summary>{html.escape(body)}</details>"


HELD = (
    "Held for review: no test cell is scored until your instructor has read this cell.\n{}\n"
    "  Hint: graded code may not use that; remove it and validate again (a notebook you do\n"
    "  not hand in may keep it)."
)


def held_cells(nb) -> list[dict]:
    """Validate's entries ("source", "error") for the cells whose lines the scan reports, in
    notebook order; none when the notebook does not carry its `Release`."""
    release = Release.from_metadata(nb.metadata)
    if release is None:
        return []
    lines: dict[int, list[str]] = {}
    for finding in scan_notebook(nb, release, is_test_cell):
        lines.setdefault(finding.cell, []).append(f"  line {finding.line}: {finding.what}")
    return [
        {
            "source": nb.cells[cell - 1].source.strip(),
            "error": html.escape(HELD.format("\n".join(found))),
        }
        for cell, found in lines.items()
    ]


class PictureValidator(Validator):
    """nbgrader's Validator whose results give each failed cell's `error` its pictures and
    its fold, after the cells the scan would hold for review."""

    def _get_failed_cells(self, nb):
        self._failed_cells = super()._get_failed_cells(nb)
        return self._failed_cells

    def validate(self, filename):
        self._failed_cells = []
        results = super().validate(filename)
        if results.keys() - {"failed"}:  # changed cells (or, inverted, passed ones) instead
            return results
        left = MAX_PICTURES
        for entry, cell in zip(results.get("failed", []), self._failed_cells, strict=True):
            pictures = cell_pictures(cell, min(left, MAX_PICTURES_PER_CELL))
            left -= len(pictures)
            entry["error"] += pictures_html(pictures) + fold_html(cell_fold(cell))
        held = held_cells(nbformat.read(filename, as_version=4))
        if held:
            results["failed"] = held + results.get("failed", [])
        return results


class ValidatePicturesHandler(nbgrader_handlers.ValidateAssignmentHandler):
    """nbgrader's Validate handler (its config loading, its check that the path is inside the
    server's root, its answers) with `PictureValidator` in place of nbgrader's Validator."""

    # nbgrader's own `validate_notebook`, its code unchanged, reading `Validator` from a copy
    # of its module's names where that name is ours (nbgrader's module is left as it is)
    validate_notebook = types.FunctionType(
        nbgrader_handlers.ValidateAssignmentHandler.validate_notebook.__code__,
        {**vars(nbgrader_handlers), "Validator": PictureValidator},
        "validate_notebook",
    )


def _jupyter_server_extension_points():
    return [{"module": "course.validate_pictures"}]


def _load_jupyter_server_extension(serverapp):
    """Add the Validate route; loaded before nbgrader's (sorted names), it is the one used."""
    webapp = serverapp.web_app
    webapp.settings.setdefault("root_dir", serverapp.root_dir)  # nbgrader's handler reads it
    route = url_path_join(webapp.settings["base_url"], ROUTE)
    webapp.add_handlers(".*$", [(route, ValidatePicturesHandler)])
    serverapp.log.info("Validate shows the pictures of the mismatch (course.validate_pictures)")
