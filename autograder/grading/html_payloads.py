"""HTML payloads a hostile submission can carry into a feedback page or formgrader.

Each payload, if it ever runs or loads, calls home: a request to `{base}/hit/<name>` (a
loopback server of the test that must receive nothing) and the page's title set to
`PWNED-<name>`. `hostile_notebook` holds all of them as a notebook would (markdown, raw cells,
attachments, outputs and their metadata, cell metadata); `DISPLAY_CODE` produces the output
payloads from a kernel, for a submission graded for real.
"""

import base64
import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

PWNED = "PWNED-"


def call_home(base: str, name: str) -> str:
    """JavaScript that calls home: no spaces (it fits an unquoted attribute) and no whole URL
    (which markdown would turn into a link)."""
    scheme, rest = base.split("://", 1)
    return f"fetch('{scheme}:'+'//{rest}/hit/{name}');document.title='{PWNED}{name}'"


def markdown_payloads(base: str) -> dict[str, str]:
    """Markdown cells' sources, by payload name."""

    def js(name):
        return call_home(base, name)

    hit = f"{base}/hit"
    return {
        "md_script": f"Notes <script>{js('md_script')}</script>",
        "md_img_onerror": f'<img src=x onerror="{js("md_img_onerror")}">',
        "md_js_link": f"[click me](javascript:{js('md_js_link')}) <javascript:{js('md_js_auto')}>",
        "md_svg_onload": f'<svg onload="{js("md_svg_onload")}"><circle r="5"/></svg>',
        "md_iframe": (
            f'<iframe src="javascript:{js("md_iframe")}"></iframe>'
            f'<iframe srcdoc="<img src=x onerror=&quot;{js("md_srcdoc")}&quot;>"></iframe>'
        ),
        "md_mathml_link": (
            f'<math><maction actiontype="toggle"><mtext>a</mtext><mtext>b</mtext></maction>'
            f'<mi href="javascript:{js("md_mathml_href")}">x</mi>'
            f'<mtext><a href="javascript:{js("md_mathml_a")}">link</a></mtext></math>'
        ),
        "md_mxss": (  # namespace confusion: HTML inside MathML inside HTML
            f'<math><mtext><table><mglyph><style><img src=x onerror="{js("md_mxss")}">'
            "</style></mglyph></table></mtext></math>"
        ),
        "md_remote_img": f'<img src="{hit}/md_remote_img"> ![t]({hit}/md_remote_md_img)',
        "md_css_url": (
            f'<div style="background-image:url({hit}/md_css_url)">styled</div>'
            f"<style>body{{background:url({hit}/md_style_tag)}}</style>"
        ),
        "md_meta_refresh": f'<meta http-equiv="refresh" content="0;url={hit}/md_meta_refresh">',
        "md_base_href": f'<base href="{hit}/md_base_href/"><img src="relative.png">',
        "md_object_embed": f'<object data="{hit}/md_object"></object><embed src="{hit}/md_embed">',
        "md_failed_formula": f'$\\nosuchcommand <img src=x onerror="{js("md_failed_formula")}">$',
        "md_formula_href": f"$\\href{{javascript:{js('md_formula_href')}}}{{x}}$",
    }


def output_payloads(base: str) -> dict[str, tuple[dict, dict]]:
    """Code outputs (data, metadata), by payload name."""

    def js(name):
        return call_home(base, name)

    bad_png = "eA=="  # not a PNG: the browser fires the image's onerror
    return {
        "out_img_metadata": (
            {"image/png": bad_png, "text/plain": "<image>"},
            {"image/png": {"width": f"1 onerror={js('out_img_metadata')}"}},
        ),
        "out_javascript": ({"application/javascript": js("out_javascript")}, {}),
        "out_html_script": (
            {"text/html": f'<script>{js("out_html_script")}</script>'
             f'<img src=x onerror="{js("out_html_img")}">'},
            {},
        ),
        "out_html_isolated": (
            {"text/html": f"<script>{js('out_html_isolated')}</script>"},
            {"text/html": {"isolated": True}},
        ),
        "out_svg_script": (
            {"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" '
             f'onload="{js("out_svg_onload")}"><script>{js("out_svg_script")}</script></svg>'},
            {},
        ),
        "out_widget": (
            {
                "application/vnd.jupyter.widget-view+json": {
                    "model_id": "0123456789abcdef", "version_major": 2, "version_minor": 0,
                },
                "text/plain": "a widget",
            },
            {},
        ),
        "out_markdown": (
            {"text/markdown": f"[x](javascript:{js('out_markdown_link')}) "
             f'<img src=x onerror="{js("out_markdown_img")}">'},
            {},
        ),
    }  # fmt: skip


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def hostile_notebook(base: str) -> nbformat.NotebookNode:
    """A notebook with every payload in it, its outputs as if its code had run."""

    def js(name):
        return call_home(base, name)

    cells = [new_markdown_cell(source) for source in markdown_payloads(base).values()]
    attachment = new_markdown_cell("![page](attachment:page.html) ![pic](attachment:pic.svg)")
    attachment.attachments = {
        "page.html": {"text/html": _b64(f"<script>{js('attach_html')}</script>")},
        "pic.svg": {"image/svg+xml": _b64(f'<svg onload="{js("attach_svg")}"></svg>')},
    }
    cells.append(attachment)
    raw = new_raw_cell(f'<script>{js("raw_script")}</script><img src=x onerror="{js("raw_img")}">')
    raw.metadata["raw_mimetype"] = "text/html"
    raw.metadata["format"] = "text/html"
    cells.append(raw)
    answer = new_markdown_cell("My answer.")
    answer.metadata["nbgrader"] = {
        "grade": False,
        "solution": True,
        "locked": False,
        "schema_version": 3,
        "grade_id": f'x"><img src=x onerror="{js("meta_grade_id")}"><a x="',
    }
    cells.append(answer)
    for name, (data, metadata) in output_payloads(base).items():
        cell = new_code_cell(f"show({name!r})", execution_count=1)
        cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {}, "version_major": 2, "version_minor": 0,
        }
    }  # fmt: skip
    return nb


def display_code(base: str) -> str:
    """Python code that displays every output payload (a submission's code cell)."""
    bundles = json.dumps([[data, metadata] for data, metadata in output_payloads(base).values()])
    return (
        "import json\nfrom IPython.display import display\n\n"
        f"for data, metadata in json.loads({bundles!r}):\n"
        "    display(data, metadata=metadata, raw=True)\n"
    )
