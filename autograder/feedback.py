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


def passed(message: str) -> None:
    """Print a one-line success note (shown in the notebook under the test cell)."""
    print(f"OK: {message}")
