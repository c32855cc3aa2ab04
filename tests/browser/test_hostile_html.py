"""A feedback page built from a notebook full of hostile HTML runs no script and loads nothing,
in headless Chromium; so does the same page without its Content-Security-Policy (what
formgrader shows has none: the sanitized notebook alone must be harmless).

Every payload of `autograder.grading.html_payloads` calls home if it ever runs or loads: a
request to a loopback server of this test, and the page's title. The same notebook, neither
sanitized nor under the policy, proves that the payloads and the detectors work.
"""

import copy
import re
from pathlib import Path

import pytest
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from traitlets.config import Config

from autograder.grading.config import Settings, feedback_config, load_config, write_config
from autograder.grading.html_payloads import PWNED, hostile_notebook
from autograder.grading.preprocessors import LatexToMathML
from autograder.grading.safe_html import SanitizeNotebook

pytestmark = pytest.mark.browser

TEMPLATE_FONT = re.compile(r"^file:///.*/fonts/glyphicons-halflings-regular\.(woff2?|ttf|eot|svg)")
CSP = re.compile(r'<meta[^>]*http-equiv="Content-Security-Policy"[^>]*>')
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)
MISTAKE = "Likely mistake: true convolution (kernel flipped)"
# Payloads that run in nbgrader's feedback template when nothing stops them (checked against
# the page built without SanitizeNotebook and without the policy).
LIVE_UNPROTECTED = {
    "md_script", "md_img_onerror", "md_svg_onload", "md_srcdoc", "md_remote_img",
    "md_remote_md_img", "md_css_url", "md_style_tag", "md_meta_refresh", "md_base_href",
    "md_object", "md_embed", "meta_grade_id", "out_img_metadata", "out_html_script",
    "out_html_img", "out_html_isolated", "out_markdown_img",
}  # fmt: skip


def feedback_html(nb, course_root: Path, sanitize: bool = True) -> str:
    """The feedback page nbgrader writes for `nb` with the course's configuration (its
    template and its preprocessors less GetGrades, which needs a gradebook)."""
    write_config(course_root, Settings())
    config = feedback_config(load_config(course_root))
    exporter_config = Config()
    exporter_config.HTMLExporter.merge(config.GenerateFeedback.HTMLExporter)
    import nbgrader

    static = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "static"
    exporter_config.HTMLExporter.extra_template_paths = [
        str(static / "node_modules" / "bootstrap" / "dist" / "css")
    ]
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader.update(score=0, points=0)
    steps = [LatexToMathML(), *([SanitizeNotebook()] if sanitize else [])]
    for step in steps:
        nb, _ = step.preprocess(nb, {})
    resources = {"nbgrader": {"notebook": "hostile", "score": 0, "max_score": 1, "late_penalty": 0}}
    html, _ = HTMLExporter(config=exporter_config).from_notebook_node(nb, resources=resources)
    return html


def visit(someone, path: Path, find_active) -> dict:
    """Open `path` in `someone`'s browser; what it asked for, its title, active HTML left."""
    requests, stopped = [], []  # asked for; stopped by the policy before leaving the browser
    page = someone.page
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "requestfailed",
        lambda request: request.failure == "csp" and stopped.append(request.url),
    )
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(1500)  # let timers, refreshes and late loads happen
    return {
        "requests": [u for u in requests if not u.startswith("data:") and u not in stopped],
        "stopped": stopped,
        "title": page.title(),
        "active": find_active(page),
    }


def legitimate_cells():
    """What a student legitimately sees: formatting, math, a plot, a failing check."""
    code = new_code_cell("plot()", execution_count=3)
    code.outputs = [
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"},
                   metadata={"image/png": {"width": 32, "height": 24}}),
        new_output("error", ename="AssertionError", evalue=MISTAKE, traceback=[MISTAKE]),
    ]  # fmt: skip
    text = new_markdown_cell("## Kernels\n\nA **bold** $k_h \\times k_w$ kernel:\n\n- one")
    return [text, code]


def test_hostile_html_runs_nothing_and_loads_nothing(loopback, person, tmp_path, find_active):
    nb = hostile_notebook(loopback.base)
    nb.cells[:0] = legitimate_cells()
    pages = {
        "feedback": feedback_html(nb, tmp_path),
        "unprotected": feedback_html(nb, tmp_path, sanitize=False),
    }
    policies = list(CSP.finditer(pages["feedback"]))
    assert len(policies) == 1 and POLICY in policies[0][0], policies
    assert policies[0].start() < pages["feedback"].index("<body")
    # formgrader renders the (sanitized) notebook with no such policy
    pages["no_policy"] = CSP.sub("", pages["feedback"])
    pages["unprotected"] = CSP.sub("", pages["unprotected"])
    seen = {}
    for name, html in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(html)
        loopback.hits.clear()
        someone = person(name)
        seen[name] = {
            **visit(someone, path, find_active),
            "hits": loopback.names(),
            "blocked": someone.blocked,
        }
        if name == "feedback":
            page = someone.page
            plot = page.locator("img[src^='data:image/png']").first
            seen[name]["plot"] = plot.evaluate("img => [img.naturalWidth, img.width]")
            seen[name]["math"] = page.locator("math").first.bounding_box()
            seen[name]["text"] = page.locator("body").inner_text()

    # the detectors work: unprotected, the payloads call home
    unprotected = seen["unprotected"]
    assert LIVE_UNPROTECTED <= unprotected["hits"], unprotected["hits"]
    assert unprotected["active"], unprotected

    for name in ("feedback", "no_policy"):
        result = seen[name]
        page_url = (tmp_path / f"{name}.html").as_uri()
        assert result["hits"] == set(), (name, result["hits"])
        assert PWNED not in result["title"], (name, result["title"])
        assert result["requests"] == [page_url], (name, result["requests"])
        # the policy stops only the template's own icon font (bootstrap's, a local file)
        assert all(TEMPLATE_FONT.search(url) for url in result["stopped"]), result["stopped"]
        assert result["blocked"] == [], (name, result["blocked"])
        assert result["active"] == [], (name, result["active"])

    # what the student legitimately wrote and got is all there
    feedback = seen["feedback"]
    assert feedback["plot"] == [1, 32], feedback["plot"]
    assert feedback["math"] and feedback["math"]["width"] > 20, feedback["math"]
    assert "bold" in feedback["text"] and MISTAKE in feedback["text"], feedback["text"][:2000]
