"""How far a grading run has got: a plain line per graded submission, and a bar on a terminal.

The lines are what a log or a CI run keeps; the bar is redrawn in place on a terminal only
(`TerminalStatus`), so a log never fills with carriage returns.
"""

import sys
import time
from collections.abc import Callable

from .outcomes import Outcome

BAR_WIDTH = 30


def duration(seconds: float) -> str:
    """`seconds` as a person reads it: "40 s", "3 min 20 s", "2 h 05 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """The run's progress over `total` submissions, its time left estimated from the wall time
    per submission so far (workers in parallel included)."""

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic):
        self.total, self.done, self._clock = total, 0, clock
        self._start = clock()

    def left(self) -> float | None:
        """Seconds left, estimated; None before the first submission is graded."""
        if not self.done:
            return None
        return (self._clock() - self._start) / self.done * (self.total - self.done)

    def _eta(self) -> str:
        left = self.left()
        if self.done >= self.total:
            return f"done in {duration(self._clock() - self._start)}"
        return "" if left is None else f"about {duration(left)} left"

    def line(self, outcome: Outcome) -> str:
        """Count `outcome` as graded; the line that says so."""
        self.done += 1
        score = f"{outcome.score:g}/{outcome.max_score:g} pts"
        status = "" if outcome.status == "graded" else f" ({outcome.status})"
        return (
            f"[{self.done}/{self.total}] {outcome.student} {outcome.assignment} {score} "
            f"{outcome.seconds:.1f} s{status} · {self._eta()}"
        )

    def bar(self) -> str:
        filled = BAR_WIDTH * self.done // max(1, self.total)
        eta = self._eta()
        return f"grading [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total}" + (
            f" · {eta}" if eta else ""
        )


class TerminalStatus:
    """Lines printed as they come, with the progress bar kept as the last line of a terminal
    (of `stream`, standard error by default); anything but a terminal gets the lines only."""

    def __init__(self, stream=None, out=None):
        self.stream = stream or sys.stderr
        self.out = out or sys.stdout
        self.live = self.stream.isatty() and self.out.isatty()
        self._shown = False

    def echo(self, line: str) -> None:
        self._clear()
        print(line, file=self.out, flush=True)

    def status(self, bar: str) -> None:
        if self.live:
            self._clear()
            self.stream.write(bar)
            self.stream.flush()
            self._shown = True

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
