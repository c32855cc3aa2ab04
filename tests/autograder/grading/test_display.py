from autograder.grading.display import shown


def test_control_and_bidi_characters_are_written_as_escapes():
    hostile = "\x1b[2J\x1b]52;c;aGk=\x07ann\rbob\x9b1m\u202eabc\u2066\x00\x7f"
    assert shown(hostile) == (
        "\\x1b[2J\\x1b]52;c;aGk=\\x07ann\\x0dbob\\x9b1m\\u202eabc\\u2066\\x00\\x7f"
    )
    assert shown("one\ntwo\tthree") == "one\\ntwo\tthree"
    assert shown("plain Ünïcode (1).ipynb") == "plain Ünïcode (1).ipynb"


def test_a_log_keeps_its_lines_and_drops_only_colours():
    traceback = "\x1b[0;31mValueError\x1b[0m: bad\n\x1b]0;title\x07"
    assert shown(traceback, lines=True) == "ValueError: bad\n\\x1b]0;title\\x07"
