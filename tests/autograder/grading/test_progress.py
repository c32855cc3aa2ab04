"""The progress a grading run shows: plain lines with the time left, a bar on a terminal only."""

import io

from autograder.grading.outcomes import CellScore, Outcome
from autograder.grading.progress import Progress, TerminalStatus, duration


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def _outcome(student, score=12.0, status="graded", seconds=31.25):
    cells = [CellScore("test_conv2d", score, 12.0)]
    return Outcome(student, "02_convolution", status, cells=cells, seconds=seconds)


def test_durations_read_as_a_person_says_them():
    assert [duration(s) for s in (0.4, 59, 60, 200, 3600, 7500)] == [
        "0 s",
        "59 s",
        "1 min 00 s",
        "3 min 20 s",
        "1 h 00 min",
        "2 h 05 min",
    ]


def test_each_line_counts_one_submission_and_estimates_the_time_left():
    clock = Clock()
    progress = Progress(4, clock)
    assert progress.left() is None
    assert progress.bar() == "grading [" + "." * 30 + "] 0/4"
    clock.now += 40
    assert progress.line(_outcome("ana")) == (
        "[1/4] ana 02_convolution 12/12 pts 31.2 s · about 2 min 00 s left"
    )
    clock.now += 40
    line = progress.line(_outcome("bo", score=0.0, status="failed"))
    assert line == "[2/4] bo 02_convolution 0/12 pts 31.2 s (failed) · about 1 min 20 s left"
    assert progress.bar() == "grading [" + "#" * 15 + "." * 15 + "] 2/4 · about 1 min 20 s left"
    clock.now += 10
    progress.line(_outcome("cy"))
    assert progress.line(_outcome("di")).endswith("· done in 1 min 30 s")


def test_the_bar_is_drawn_on_a_terminal_and_cleared_before_every_line():
    err, out = Terminal(tty=True), Terminal(tty=True)
    terminal = TerminalStatus(err, out)
    terminal.echo("grading 2 submissions")
    terminal.status("grading [#...] 1/2")
    terminal.echo("[2/2] bo")
    terminal.close()
    assert out.getvalue() == "grading 2 submissions\n[2/2] bo\n"
    assert err.getvalue() == "grading [#...] 1/2\r\x1b[K"


def test_a_log_or_a_pipe_gets_the_lines_only():
    err, out = Terminal(tty=False), Terminal(tty=False)
    terminal = TerminalStatus(err, out)
    terminal.status("grading [#...] 1/2")
    terminal.echo("[1/2] ana")
    terminal.close()
    assert (out.getvalue(), err.getvalue()) == ("[1/2] ana\n", "")
