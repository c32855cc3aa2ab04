"""The failure a check raises, and how its message is laid out for a student."""


class CheckFailed(AssertionError):
    """A check found a problem; the message is the student's feedback.

    Subclasses AssertionError so that nbgrader and pytest count it as a failed test.
    """

    def __init__(self, headline: str, details: list[str] | tuple[str, ...] = (), hint: str = ""):
        self.headline = headline
        self.details = list(details)
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        lines = [self.headline]
        lines += [f"  {line}" for line in self.details]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this exception instead of a traceback: only the feedback
        (Jupyter, nbgrader's Validate, the feedback pages and formgrader all show this)."""
        return traceback_lines(str(self))


RED, BOLD, RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"


def traceback_lines(message: str) -> list[str]:
    """A failed check's message as the lines of an error output: the headline in bold red."""
    headline, *rest = message.splitlines() or [""]
    return [f"{BOLD}{RED}{headline}{RESET}", *rest]


def passed(message: str) -> None:
    """Print a one-line success note (shown in the notebook under the test cell)."""
    print(f"OK: {message}")
