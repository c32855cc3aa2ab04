from nbformat.v4 import new_code_cell, new_output

from autograder.grading.preprocessors import IgnoreLogLines, TruncateOutput


def _cell(*outputs):
    return new_code_cell("print('x')", outputs=list(outputs))


def _run(cell, **config):
    preprocessor = TruncateOutput(**config)
    cell, _ = preprocessor.preprocess_cell(cell, {}, 0)
    return cell


def test_one_huge_line_is_cut_to_the_character_limit():
    cell = _run(_cell(new_output("stream", name="stdout", text="x" * 10_000_000)), max_chars=1000)
    (output,) = cell.outputs
    assert len(output.text) < 1300
    assert "Output truncated: 9,999,000 more characters" in output.text


def test_small_output_is_left_alone():
    cell = _run(_cell(new_output("stream", name="stdout", text="OK: fine\n")), max_chars=1000)
    assert cell.outputs[0].text == "OK: fine\n"


def test_outputs_are_cut_but_never_dropped():
    """A stderr output after the budget stays, so nbgrader's grade of the cell is unchanged."""
    cell = _run(
        _cell(
            new_output("stream", name="stdout", text="a" * 5000),
            new_output("stream", name="stderr", text="warning\n"),
            new_output("error", ename="ValueError", evalue="bad", traceback=["ValueError: bad"]),
        ),
        max_chars=100,
    )
    kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
    assert kinds == [("stream", "stdout"), ("stream", "stderr"), ("error", None)]
    assert sum(len(o.text) for o in cell.outputs[:2]) < 300


def test_line_limit_of_nbgrader_still_applies():
    text = "\n".join(str(i) for i in range(5000))
    cell = _run(_cell(new_output("stream", name="stdout", text=text)), max_lines=10)
    assert cell.outputs[0].text.count("\n") <= 11


TF_LINE = (
    "E0000 00:00:1795372891.098672   32126 util.cc:131] oneDNN supports DT_INT32 only on "
    "platforms with AVX-512. Falling back to the default Eigen-based implementation if present.\n"
)


def test_tensorflow_log_lines_are_removed_from_stderr():
    cell = _cell(
        new_output("stream", name="stdout", text="OK: gradients match\n"),
        new_output("stream", name="stderr", text=TF_LINE),
    )
    cell, _ = IgnoreLogLines().preprocess_cell(cell, {}, 0)
    assert [o.name for o in cell.outputs] == ["stdout"]


def test_other_stderr_text_stays_and_still_fails_the_cell():
    cell = _cell(new_output("stream", name="stderr", text=TF_LINE + "UserWarning: careful\n"))
    cell, _ = IgnoreLogLines().preprocess_cell(cell, {}, 0)
    (output,) = cell.outputs
    assert output.text == "UserWarning: careful\n"


def test_startup_banner_lines_are_removed():
    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795369293.860797   16053 port.cc:153] oneDNN custom operations are on.\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
        "TensorFlow with the appropriate compiler flags.\n"
    )
    cell, _ = IgnoreLogLines().preprocess_cell(
        _cell(new_output("stream", name="stderr", text=text)), {}, 0
    )
    assert cell.outputs == []
