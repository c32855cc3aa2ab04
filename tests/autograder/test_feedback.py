"""A check's message reads well at JupyterLab's width: lines broken between words."""

from autograder.feedback import BOLD, RED, RESET, WIDTH, CheckFailed, passed, traceback_lines

LONG = (
    "BatchNormalization in training mode normalizes with the moving statistics instead of the "
    "statistics of the batch it is given"
)


def test_long_lines_are_wrapped_between_words_for_display_and_short_ones_kept():
    failure = CheckFailed(
        LONG,
        ["case: inputs (4, 3, 3, 2)", "stop_gradient " * 12, "a/very/long/path/" * 8],
        "keep the batch statistics in training mode; the moving ones are for inference only, "
        "as the lesson says",
    )
    assert len(str(failure).splitlines()) == 5  # the message itself: one line per part
    lines = [
        line.replace(BOLD + RED, "").replace(RESET, "") for line in failure._render_traceback_()
    ]
    assert lines[2] == "  case: inputs (4, 3, 3, 2)"
    words = " ".join(" ".join(lines).split())
    assert words == " ".join(failure_words(failure)), "no word may be cut or lost"
    for line in lines:
        assert len(line) <= WIDTH or " " not in line.strip(), line
    assert "  " + "a/very/long/path/" * 8 in lines  # one word longer than the width stays whole
    assert lines[-1].startswith("    ") and lines[-2].startswith("  Hint: ")


def failure_words(failure):
    return [
        *failure.headline.split(),
        *(word for detail in failure.details for word in detail.split()),
        "Hint:",
        *failure.hint.split(),
    ]


def test_the_whole_headline_is_bold_red_and_the_details_are_not():
    failure = CheckFailed(LONG, ["case: one"], "a hint")
    shown = failure._render_traceback_()
    assert len(shown) == 4
    assert all(line.startswith(BOLD + RED) and line.endswith(RESET) for line in shown[:2])
    assert shown[2:] == ["  case: one", "  Hint: a hint"]
    assert traceback_lines("one line") == [f"{BOLD}{RED}one line{RESET}"]


def test_success_notes_are_wrapped_too(capsys):
    passed(LONG)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("OK: BatchNormalization") and len(lines) == 2
    assert all(len(line) <= WIDTH for line in lines) and lines[1].startswith("    ")


def test_in_ipython_the_picture_and_then_the_fold_come_under_the_message():
    """As in the student's kernel: the error (headline, numbers, the mistake's name), then the
    picture, then the mistake's explanation and the hint behind a fold, once the cell has run;
    a failure the check caught itself shows nothing."""
    import numpy as np
    from IPython.core.interactiveshell import InteractiveShell

    from autograder.compare import Tolerance, compare
    from autograder.diagnosis import Mistake

    shell = InteractiveShell.instance()
    try:
        shown = []
        shell.display_pub.publish = lambda data, **_: shown.append(("display", data))
        shell._showtraceback = lambda etype, evalue, stb: shown.append(("error", stb))
        expected = np.arange(16.0).reshape(1, 4, 4, 1)
        shell.user_ns["mismatch"] = compare(expected + 1, expected, Tolerance(0, 0))
        shell.user_ns["mistake"] = Mistake("m", "bias added twice", "Yours adds <b> twice.")
        shell.run_cell(
            "from autograder.feedback import CheckFailed, fail\n"
            "try:\n    fail('caught', mismatch)\nexcept CheckFailed:\n    pass\n"
            "fail('It is wrong.', mismatch, mistake, 'add it once', case='a 4x4 image')"
        )
        assert [kind for kind, _ in shown] == ["error", "display", "display"]
        error = [line.replace(BOLD + RED, "").replace(RESET, "") for line in shown[0][1]]
        assert error[:2] == ["It is wrong.", "  case: a 4x4 image"]
        assert error[-1] == "  Likely mistake: bias added twice."
        assert "image/png" in shown[1][1]
        fold = shown[2][1]
        assert fold["text/html"].startswith("<details><summary>Why this mistake, and a hint")
        assert "Yours adds &lt;b&gt; twice." in fold["text/html"]
        assert fold["text/plain"] == (
            "\u25b8 Why this mistake, and a hint\n  Yours adds <b> twice.\n  Hint: add it once"
        )
        shown.clear()
        shell.run_cell("1 + 1")
        assert shown == []  # shown once, under its own cell
        shell.run_cell("from autograder.feedback import fail\nfail('Plain.', ['x'], hint='a hint')")
        assert [kind for kind, _ in shown] == ["error"]  # no wrong answer: the hint stays
        assert shown[0][1][-1] == "  Hint: a hint"
        shown.clear()
        picture = shell.user_ns["mismatch"].picture
        twice = CheckFailed("Asked twice.", [], "a hint", picture, folds=True)
        twice._render_traceback_()  # ipykernel asks more than once for one failure
        twice._render_traceback_()
        shell.events.trigger("post_run_cell", None)
        assert [kind for kind, _ in shown] == ["display", "display"]
    finally:
        InteractiveShell.clear_instance()


def test_outside_ipython_a_failure_renders_without_a_picture():
    import numpy as np

    from autograder.compare import Tolerance, compare

    expected = np.zeros((1, 3, 3, 1))
    failure = CheckFailed(
        "It is wrong.", ["x"], picture=compare(expected + 1, expected, Tolerance(0, 0)).picture
    )
    assert failure._render_traceback_()[1] == "  x"


def test_a_note_names_each_keras_setting_a_notebook_changed_and_nothing_else():
    from autograder.feedback import KERAS_DEFAULTS, with_settings_note

    assert with_settings_note("Wrong.", dict(KERAS_DEFAULTS)) == "Wrong."
    assert with_settings_note("Wrong.", None) == "Wrong."
    assert with_settings_note("Wrong.", ["not", "a", "dict"]) == "Wrong."
    changed = {**KERAS_DEFAULTS, "image_data_format": "channels_first"}
    note = with_settings_note("Wrong.", changed).splitlines()[1]
    assert "keras.config.image_data_format() is 'channels_first', not 'channels_last'" in note
    assert "floatx" not in note.split("(set_floatx")[0]
    # what a kernel answers is only echoed, cut short
    assert len(with_settings_note("Wrong.", {"floatx": "x" * 10_000})) < 500


def test_in_the_students_kernel_a_changed_keras_setting_is_noted_under_the_failure():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shown = []
        shell._showtraceback = lambda etype, evalue, stb: shown.append(stb)
        shell.run_cell(
            "import keras\nkeras.config.set_image_data_format('channels_first')\n"
            "from autograder.feedback import fail\nfail('Plain.', ['x'], hint='a hint')"
        )
        text = " ".join(line.strip() for line in shown[0])
        assert "Hint: a hint Note: your notebook changed Keras's global settings" in text
        assert "image_data_format() is 'channels_first'" in text
    finally:
        import keras

        keras.config.set_image_data_format("channels_last")
        InteractiveShell.clear_instance()
