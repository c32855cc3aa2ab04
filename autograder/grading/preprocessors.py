"""nbgrader preprocessors that the course's configuration adds to nbgrader's own pipeline."""

from nbgrader.preprocessors import LimitOutput
from traitlets import Integer


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
