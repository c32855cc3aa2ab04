"""What a submission wrote, made safe to show as HTML (feedback pages, formgrader).

A submission's markdown, raw cells, attachments and outputs (and the metadata nbconvert's
templates print) are the student's, and formgrader shows them inside the instructor's own
Jupyter server, where a script could do anything that server can. `SanitizeNotebook` cleans a
notebook in place before anything renders it:

- markdown cells are rendered as nbconvert renders them (math first turned into MathML) and
  the HTML goes through nh3 (the Ammonia sanitizer); the cell keeps that clean HTML as one
  HTML block, so that nbconvert and formgrader pass it through as it is;
- raw cells, `text/html` and `text/markdown` outputs go through nh3 too; other rich outputs
  (JavaScript, SVG, widgets, LaTeX, ...) are dropped, with a line saying so;
- images stay only as base64 PNG/JPEG/GIF data; their metadata keeps a numeric width and
  height, nothing else; cell and notebook metadata keep only what grading needs.

What nh3 lets through: formatting, tables, links to http(s)/mailto/#anchors, `data:` images
and the MathML that latex2mathml writes, with no script, no style, no event handler, no
remote load. A markdown cell longer than `MAX_MARKDOWN_CHARS` is cut (and says so), so that
rendering it takes bounded time.
"""

import re
import time
from html import escape

import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbgrader.preprocessors import NbGraderPreprocessor
from pygments.token import STANDARD_TYPES
from traitlets import Bool, Integer

MAX_MARKDOWN_CHARS = 50_000
# Clean markdown is kept as one HTML block: markdown ends such a block at a blank line only,
# so the block has no line break at all (a newline is written as `&#10;`, which is the same
# character to the browser, also inside <pre>).
BLOCK_OPEN = '<div class="cnn-course-safe">'
BLOCK_CLOSE = "</div>"

_HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul", "var",
}  # fmt: skip
# MathML presentation elements that latex2mathml writes; not <maction>, <semantics> or
# <annotation-xml> (which carry actions, links or HTML)
_MATHML_TAGS = {
    "math", "menclose", "merror", "mfrac", "mi", "mmultiscripts", "mn", "mo", "mover",
    "mpadded", "mphantom", "mprescripts", "mroot", "mrow", "ms", "mspace", "msqrt", "mstyle",
    "msub", "msubsup", "msup", "mtable", "mtd", "mtext", "mtr", "munder", "munderover", "none",
}  # fmt: skip
_MATHML_ATTRIBUTES = {
    "accent", "accentunder", "close", "columnalign", "columnlines", "columnspacing", "depth",
    "display", "displaystyle", "fence", "form", "frame", "height", "largeop", "linethickness",
    "lspace", "mathbackground", "mathcolor", "mathsize", "mathvariant", "maxsize", "minsize",
    "movablelimits", "notation", "open", "rowalign", "rowlines", "rowspacing", "rspace",
    "scriptlevel", "separator", "separators", "stretchy", "symmetric", "voffset", "width",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
    **{tag: set(_MATHML_ATTRIBUTES) for tag in _MATHML_TAGS},
}
_CLASSES = {
    "span": {name for name in STANDARD_TYPES.values() if name},  # pygments' highlighting
    "div": {"highlight", BLOCK_OPEN.split('"')[1]},
    "a": {"anchor-link"},
}
_XMLNS = {"math": {"xmlns": {"http://www.w3.org/1998/Math/MathML"}}}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.I)
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_LINK = re.compile(r"(?:https?:|mailto:|#)", re.I)
_SIZE = re.compile(r"\d{1,5}")
_ID_PREFIX = "student-"  # ids of a submission never equal the page's own


def _attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: links only to the web, images only inline, sizes as numbers,
    ids (and the anchors to them) prefixed."""
    if name == "href":
        if not _LINK.match(value):
            return None
        if value.startswith("#") and not value.startswith(f"#{_ID_PREFIX}"):
            return f"#{_ID_PREFIX}{value[1:]}"
        return value
    if name == "src":
        return value if _DATA_IMAGE.fullmatch(value) else None
    if name in ("width", "height") and tag == "img":
        return value if _SIZE.fullmatch(value.strip()) else None
    if name == "id":
        return value if value.startswith(_ID_PREFIX) else _ID_PREFIX + value
    return value


_CLEANER = nh3.Cleaner(
    tags=_HTML_TAGS | _MATHML_TAGS,
    clean_content_tags={"script", "style", "template", "noscript", "title", "textarea"},
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute,
    tag_attribute_values=_XMLNS,
    allowed_classes=_CLASSES,
    url_schemes={"http", "https", "mailto", "data"},
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
)


def clean_html(html: str) -> str:
    """`html` with nothing active left: no script, no event handler, no remote load."""
    return _CLEANER.clean(html)


def render_markdown(source: str, attachments: dict | None = None) -> str:
    """Markdown as nbconvert renders it in a feedback page (attachments inlined as data); the
    text itself, escaped, where nbconvert cannot render it (an attachment that is missing)."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {}, embed_images=False)
    try:
        return MarkdownWithMath(renderer=renderer).render(source)
    except Exception:  # nbconvert raises InvalidNotebook, mistune anything
        return f"<pre>{escape(source)}</pre>"


def as_html_block(html: str) -> str:
    """Clean HTML as a markdown source that markdown renderers pass through unchanged."""
    flat = html.strip().replace("\r", "&#13;").replace("\n", "&#10;")
    return f"{BLOCK_OPEN}{flat}{BLOCK_CLOSE}"


def is_html_block(source: str) -> bool:
    """Whether a markdown source is already one clean HTML block (of `as_html_block`)."""
    return source.startswith(BLOCK_OPEN) and source.endswith(BLOCK_CLOSE) and "\n" not in source


def cap(text: str, limit: int, what: str) -> str:
    """`text`, cut to `limit` characters with a line saying so."""
    if len(text) <= limit:
        return text
    return (
        text[:limit]
        + f"\n\n[... {len(text) - limit:,} more characters of this {what} are not shown: the "
        f"grader shows at most {limit:,} ...]"
    )


def safe_markdown(
    source: str,
    attachments: dict | None = None,
    mathml: bool = True,
    limit: int = MAX_MARKDOWN_CHARS,
) -> str:
    """A markdown cell's source (its first `limit` characters) as one clean HTML block, math
    as MathML."""
    if is_html_block(source):
        return as_html_block(clean_html(source[len(BLOCK_OPEN) : -len(BLOCK_CLOSE)]))
    source = cap(source, limit, "markdown cell")
    if mathml and ("$" in source or "\\" in source):
        from .preprocessors import latex_to_mathml

        source, _ = latex_to_mathml(source)
    return as_html_block(clean_html(render_markdown(source, attachments)))


def _removed(kinds) -> str:
    return (
        f"[output of type {', '.join(sorted(kinds))} not shown: the grader shows text, "
        "images and HTML without scripts]"
    )


def safe_output(output) -> None:
    """Clean one code output in place (its data and its metadata)."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return
    data, kept, dropped = output.get("data", {}), {}, []
    for kind, value in data.items():
        text = "".join(value) if isinstance(value, list) else value
        if not isinstance(text, str):
            dropped.append(kind)
        elif kind == "text/plain":
            kept[kind] = text
        elif kind in IMAGE_TYPES and _BASE64.fullmatch(text):
            kept[kind] = text
        elif kind == "text/html":
            kept[kind] = clean_html(cap(text, MAX_MARKDOWN_CHARS, "output"))
        elif kind == "text/markdown" and "text/html" not in data:
            kept["text/html"] = clean_html(render_markdown(cap(text, MAX_MARKDOWN_CHARS, "output")))
        else:
            dropped.append(kind)
    if dropped and not kept:
        kept["text/plain"] = _removed(dropped)
    output["data"] = kept
    metadata = {}
    for kind in IMAGE_TYPES:
        sizes = output.get("metadata", {}).get(kind)
        if kind in kept and isinstance(sizes, dict):
            size = {
                key: int(sizes[key])
                for key in ("width", "height")
                if isinstance(sizes.get(key), int | float) and 0 < sizes[key] < 100_000
            }
            if size:
                metadata[kind] = size
    output["metadata"] = metadata


_GRADE_ID = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_KEPT_NOTEBOOK_METADATA = ("cnn_course", "kernelspec")


def safe_cell_metadata(cell) -> None:
    """Keep only a cell's nbgrader metadata, with a grade id that is plain characters."""
    nbgrader = cell.get("metadata", {}).get("nbgrader")
    metadata = {}
    if isinstance(nbgrader, dict):
        grade_id = nbgrader.get("grade_id")
        if grade_id is not None and not (
            isinstance(grade_id, str) and _GRADE_ID.fullmatch(grade_id)
        ):
            nbgrader["grade_id"] = re.sub(r"[^A-Za-z0-9_.-]", "_", str(grade_id))[:200]
        metadata["nbgrader"] = nbgrader
    cell["metadata"] = metadata


def safe_notebook_metadata(nb) -> None:
    """Keep only the notebook metadata grading reads (no widget state, no title)."""
    old = nb.get("metadata", {})
    metadata = {key: old[key] for key in _KEPT_NOTEBOOK_METADATA if key in old}
    name = old.get("language_info", {}).get("name")
    if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_+-]{1,40}", name):
        metadata["language_info"] = {"name": name}
    nb["metadata"] = metadata


class SanitizeNotebook(NbGraderPreprocessor):
    """Clean everything a submission wrote that a template would print as HTML.

    Runs last in autograde (so the autograded notebook that formgrader shows is clean, and
    grades, which nbgrader has saved, are not affected) and last in generate_feedback (so
    that a feedback page is clean whatever notebook it came from).
    """

    enabled = Bool(True, help="sanitize the notebook's HTML").tag(config=True)
    mathml = Bool(True, help="turn LaTeX math in markdown into MathML").tag(config=True)
    max_markdown_chars = Integer(
        MAX_MARKDOWN_CHARS, help="characters of a markdown cell that are rendered"
    ).tag(config=True)
    seconds = Integer(
        120,
        help="time for a whole notebook; cells after it are shown as text only (markdown) or "
        "without their rich outputs (code)",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        if not self.enabled:
            return nb, resources
        self._deadline = time.monotonic() + self.seconds
        safe_notebook_metadata(nb)
        return super().preprocess(nb, resources)

    def _out_of_time(self, cell) -> None:
        """What is left of a cell after the notebook's time: text, errors and printed output."""
        note = f"[not shown: sanitizing this notebook took over {self.seconds} s]"
        if cell.cell_type == "code":
            cell["outputs"] = [o for o in cell.get("outputs", []) if "data" not in o]
        else:
            cell.source = as_html_block(f"<p>{note}</p>")
            cell.pop("attachments", None)

    def preprocess_cell(self, cell, resources, cell_index):
        if time.monotonic() > getattr(self, "_deadline", float("inf")):
            self._out_of_time(cell)
        elif cell.cell_type == "markdown":
            cell.source = safe_markdown(
                cell.source, cell.get("attachments"), self.mathml, self.max_markdown_chars
            )
            cell.pop("attachments", None)
        elif cell.cell_type == "raw":
            cell.source = clean_html(cap(cell.source, self.max_markdown_chars, "raw cell"))
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                safe_output(output)
            if not isinstance(cell.get("execution_count"), int | None):
                cell["execution_count"] = None
        safe_cell_metadata(cell)
        return cell, resources
