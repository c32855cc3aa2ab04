"""nbgrader preprocessors that the course's configuration adds to nbgrader's own pipeline."""

import re

from nbgrader.preprocessors import LimitOutput, NbGraderPreprocessor
from traitlets import Bool, Integer, List, Unicode


class TruncateOutput(LimitOutput):
    """nbgrader's `LimitOutput`, plus a cap on the characters each cell may print.

    `LimitOutput` counts lines only, so a single 10 MB line passes it; this preprocessor also
    keeps at most `max_chars` characters of stream output per cell, and says how much it cut.
    Output types are kept, so a cell's grade (which depends on error and stderr outputs) does
    not change.
    """

    max_chars = Integer(
        20_000,
        help="maximum number of characters of stream output kept per cell (-1 means no limit)",
    ).tag(config=True)

    def _limit_stream_chars(self, cell):
        if self.max_chars == -1 or cell.cell_type != "code":
            return cell
        budget, cut, last_cut = self.max_chars, 0, None
        for output in cell.outputs:
            if output.output_type != "stream":
                continue
            text = output.text
            if len(text) > budget:
                cut += len(text) - budget
                output.text = text[:budget]
                last_cut = output
            budget -= len(output.text)
        if last_cut is not None:
            last_cut.text += (
                f"\n... Output truncated: {cut:,} more characters were printed; the grader "
                f"keeps the first {self.max_chars:,} characters of a cell's output ...\n"
            )
        return cell

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        return self._limit_stream_chars(cell), resources


class IgnoreLogLines(NbGraderPreprocessor):
    """Remove the log lines that TensorFlow's C++ runtime writes to stderr.

    nbgrader fails a test cell that writes anything to stderr. TensorFlow logs from C++
    (`E0000 00:00:1795372891.098672 32126 util.cc:131] oneDNN supports DT_INT32 only ...`)
    whenever an operation first runs, so a correct submission would lose the points of
    whichever test cell happens to run that operation first. This preprocessor deletes such
    lines (and stderr outputs left empty); any other stderr text stays and is graded as
    nbgrader grades it. Unlike nbgrader's `IgnorePattern`, it removes matching lines, not
    whole outputs.
    """

    patterns = List(
        Unicode(),
        [
            r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] .*$",
            r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written "
            r"to STDERR$",
            r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate "
            r"compiler flags\.$",
        ],
        help="regular expressions of whole stderr lines to remove",
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not self.patterns:
            return cell, resources
        compiled = [re.compile(pattern) for pattern in self.patterns]
        kept = []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                lines = output.text.splitlines(keepends=True)
                lines = [
                    line
                    for line in lines
                    if not any(p.match(line.rstrip("\r\n")) for p in compiled)
                ]
                if not "".join(lines).strip():
                    continue
                output.text = "".join(lines)
            kept.append(output)
        cell.outputs = kept
        return cell, resources


# Markdown that is never math: fenced code blocks and inline code spans (kept as they are).
_CODE = r"(?P<code>^(?P<fence>```|~~~).*?^(?P=fence)|(?P<ticks>`+).+?(?P=ticks))"
# Math as Jupyter's markdown knows it: $$...$$ and \[...\] (display), $...$ and \(...\) (inline).
# An inline $ opens only before a non-space and closes only after one, not before a digit
# ("costs $5 and $6" is not math), as in pandoc and Jupyter.
_DISPLAY = r"\$\$(?P<display>.+?)\$\$|\\\[(?P<bracket>.+?)\\\]"
_INLINE = r"(?<![\\$])\$(?P<inline>[^\s$](?:[^$]*?[^\s\\$])?)\$(?!\d)|\\\((?P<paren>.+?)\\\)"
_MATH = re.compile(rf"{_CODE}|{_DISPLAY}|{_INLINE}", re.S | re.M)
# Characters of MathML text that markdown would read as emphasis, code or escapes.
_MARKDOWN_SPECIAL = {"_": "&#x5F;", "*": "&#x2A;", "`": "&#x60;", "\\": "&#x5C;", "$": "&#x24;"}


def latex_to_mathml(markdown: str, convert=None) -> tuple[str, list[str]]:
    """`markdown` with its LaTeX math replaced by MathML; also the formulas left as they were
    because they could not be converted."""
    if convert is None:
        from latex2mathml.converter import convert
    failed = []

    def replace(match):
        if match["code"]:
            return match[0]
        display = match["display"] is not None or match["bracket"] is not None
        tex = next(g for g in ("display", "bracket", "inline", "paren") if match[g] is not None)
        try:
            mathml = convert(match[tex].strip(), display="block" if display else "inline")
        except Exception:  # latex2mathml raises many kinds of errors on what it cannot read
            failed.append(match[0])
            return match[0]
        mathml = re.sub(
            r">([^<]+)<",
            lambda text: ">" + "".join(_MARKDOWN_SPECIAL.get(ch, ch) for ch in text[1]) + "<",
            mathml.replace("\n", " "),
        )
        return mathml

    return _MATH.sub(replace, markdown), failed


class LatexToMathML(NbGraderPreprocessor):
    """Turn the LaTeX math of markdown cells into MathML, which browsers render by themselves.

    nbgrader's feedback page typesets `$...$` with MathJax loaded from a CDN, so offline (in a
    classroom, an exam room, on a train) a student reads raw LaTeX. Converted when the
    feedback is written (by latex2mathml), the math needs no script and no network. A formula
    that cannot be converted is left as it was, with a warning in the log.
    """

    enabled = Bool(True, help="convert math in markdown cells to MathML").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if not self.enabled or cell.cell_type != "markdown":
            return cell, resources
        if "$" in cell.source or "\\" in cell.source:
            cell.source, failed = latex_to_mathml(cell.source)
            for formula in failed:
                self.log.warning("feedback: formula left as LaTeX (no MathML for it): %s", formula)
        return cell, resources
