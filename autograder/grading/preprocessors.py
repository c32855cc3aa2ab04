"""nbgrader preprocessors that the course's configuration adds to nbgrader's own pipeline."""

import bisect
import re

from nbgrader.preprocessors import LimitOutput, NbGraderPreprocessor
from traitlets import Bool, Integer, List, Unicode

from .safe_html import is_html_block


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


# Markdown that is never math: fenced code blocks (a line starting with ``` or ~~~, to the next
# line starting with the same) and inline code spans (a run of backticks, to the next run of
# as many), kept as they are. Math as Jupyter's markdown knows it: $$...$$ and \[...\]
# (display), $...$ and \(...\) (inline). An inline $ opens only before a non-space and closes
# only after one, not before a digit ("costs $5 and $6" is not math), as in pandoc and Jupyter.
_OPENER = re.compile(r"^```|^~~~|`+|\$\$|\\\[|\\\(|(?<![\\$])\$(?=[^\s$])", re.M)
_FENCE = re.compile(r"^(?:```|~~~)", re.M)
_TICKS = re.compile(r"`+")
_CLOSER = {"$$": "$$", "\\[": "\\]", "\\(": "\\)"}
# Characters of MathML text that markdown would read as emphasis, code or escapes.
_MARKDOWN_SPECIAL = {"_": "&#x5F;", "*": "&#x2A;", "`": "&#x60;", "\\": "&#x5C;", "$": "&#x24;"}


class _Spans:
    """The code spans and formulas of a markdown text, found left to right in linear time.

    Each opener looks for its closer once, forward from itself; a closer that is missing is
    remembered, so no later opener of its kind looks again. (A regular expression with lazy
    `.+?` rescans the rest of the text from every opener: quadratic in a cell of thousands of
    unclosed `\\(`, cubic in one of thousands of backticks.)
    """

    def __init__(self, text: str):
        self.text = text
        self.fences = {"```": [], "~~~": []}
        for match in _FENCE.finditer(text):
            self.fences[match[0]].append(match.start())
        self.run_length, self.next_run, last = {}, {}, {}
        runs = [(m.start(), len(m[0])) for m in _TICKS.finditer(text)]
        for start, length in reversed(runs):
            self.run_length[start] = length
            self.next_run[start] = last.get(length)
            last[length] = start
        self.missing = set()

    def _find(self, needle: str, start: int) -> int:
        if needle in self.missing:
            return -1
        found = self.text.find(needle, start)
        if found < 0:
            self.missing.add(needle)
        return found

    def _fence_end(self, start: int, fence: str) -> int | None:
        positions = self.fences[fence]
        after = bisect.bisect_right(positions, start)
        return positions[after] + len(fence) if after < len(positions) else None

    def _inline_end(self, start: int) -> int | None:
        text = self.text
        close = self._find("$", start + 2)
        if close < 0:
            return None
        if close > start + 2 and (text[close - 1].isspace() or text[close - 1] == "\\"):
            return None
        if close + 1 < len(text) and text[close + 1].isdigit():
            return None
        return close + 1

    def __iter__(self):
        """(start, end, kind, tex) of each span: kind "code", "block" or "inline"."""
        text, position = self.text, 0
        while (match := _OPENER.search(text, position)) is not None:
            start, opener = match.start(), match[0]
            position = start + 1
            if opener in self.fences and (end := self._fence_end(start, opener)):
                yield start, end, "code", ""
                position = end
            elif opener.startswith("`"):
                length = self.run_length[start]
                close = self.next_run[start]
                if close is None:
                    position = start + length
                else:
                    end = close + length
                    yield start, end, "code", ""
                    position = end
            elif opener in _CLOSER:
                closer = _CLOSER[opener]
                close = self._find(closer, start + len(opener) + 1)
                if close >= 0:
                    end = close + len(closer)
                    tex = text[start + len(opener) : close]
                    yield start, end, "inline" if opener == "\\(" else "block", tex
                    position = end
            elif opener == "$" and (end := self._inline_end(start)):
                yield start, end, "inline", text[start + 1 : end - 1]
                position = end


def latex_to_mathml(markdown: str, convert=None) -> tuple[str, list[str]]:
    """`markdown` with its LaTeX math replaced by MathML; also the formulas left as they were
    because they could not be converted. Takes time linear in the length of `markdown`."""
    if convert is None:
        from latex2mathml.converter import convert
    failed, pieces, done = [], [], 0

    def special(text):
        return ">" + "".join(_MARKDOWN_SPECIAL.get(ch, ch) for ch in text[1]) + "<"

    for start, end, kind, tex in _Spans(markdown):
        if kind == "code":
            continue
        pieces.append(markdown[done:start])
        done = end
        try:
            mathml = convert(tex.strip(), display=kind)
        except Exception:  # latex2mathml raises many kinds of errors on what it cannot read
            failed.append(markdown[start:end])
            pieces.append(markdown[start:end])
            continue
        pieces.append(re.sub(r">([^<]+)<", special, mathml.replace("\n", " ")))
    pieces.append(markdown[done:])
    return "".join(pieces), failed


class LatexToMathML(NbGraderPreprocessor):
    """Turn the LaTeX math of markdown cells into MathML, which browsers render by themselves.

    nbgrader's feedback page typesets `$...$` with MathJax loaded from a CDN, so offline (in a
    classroom, an exam room, on a train) a student reads raw LaTeX. Converted when the
    feedback is written (by latex2mathml), the math needs no script and no network. A formula
    that cannot be converted is left as it was, with a warning in the log.
    """

    enabled = Bool(True, help="convert math in markdown cells to MathML").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if not self.enabled or cell.cell_type != "markdown" or is_html_block(cell.source):
            return cell, resources  # a clean HTML block (SanitizeNotebook) has its MathML
        if "$" in cell.source or "\\" in cell.source:
            cell.source, failed = latex_to_mathml(cell.source)
            for formula in failed:
                self.log.warning("feedback: formula left as LaTeX (no MathML for it): %s", formula)
        return cell, resources
